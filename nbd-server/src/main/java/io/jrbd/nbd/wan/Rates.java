package io.jrbd.nbd.wan;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Bandwidths in bytes per second: 0 (no cap), 65536, 512K, 100M, 1G, optionally followed by B and/or /s.
 * K, M and G are powers of 1024, as for every size jrbd takes (100M = 100 MiB/s = 838.9 Mbit/s).
 */
public final class Rates {
    private static final Pattern RATE = Pattern.compile("(\\d{1,15})\\s*([KMG])?(I?B)?(/S)?", Pattern.CASE_INSENSITIVE);

    private Rates() {
    }

    public static long parse(String text) {
        Matcher m = RATE.matcher(text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("'" + text + "' is not a rate: use bytes per second, with K, M or G (e.g. 100M)");
        }
        int shift = m.group(2) == null ? 0 : switch (m.group(2).toUpperCase(Locale.ROOT)) {
            case "K" -> 10;
            case "M" -> 20;
            default -> 30;
        };
        return Long.parseLong(m.group(1)) << shift;
    }

    /** "unlimited", "100 MiB/s", "1500 bytes/s". */
    public static String format(long bytesPerSecond) {
        if (bytesPerSecond == 0) {
            return "unlimited";
        }
        String[] units = {"GiB", "MiB", "KiB"};
        int[] shifts = {30, 20, 10};
        for (int i = 0; i < units.length; i++) {
            long unit = 1L << shifts[i];
            if (bytesPerSecond >= unit && bytesPerSecond % unit == 0) {
                return (bytesPerSecond >> shifts[i]) + " " + units[i] + "/s";
            }
        }
        return bytesPerSecond + " bytes/s";
    }
}
