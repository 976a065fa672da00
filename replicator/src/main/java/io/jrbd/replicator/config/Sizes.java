package io.jrbd.replicator.config;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses sizes the way DRBD administrators write them: 4096, 512K, 100M, 1G, 2T (powers of 1024);
 * rates are sizes per second, with or without {@code /s}: 250K, 100M/s.
 */
public final class Sizes {
    private Sizes() {
    }

    private static final Pattern SIZE = Pattern.compile("(\\d{1,19})([KMGT])?(I?B)?", Pattern.CASE_INSENSITIVE);

    public static long parse(String text) {
        Matcher m = SIZE.matcher(text.trim());
        if (!m.matches()) {
            throw invalid(text);
        }
        int shift = m.group(2) == null ? 0 : switch (m.group(2).toUpperCase(Locale.ROOT)) {
            case "K" -> 10;
            case "M" -> 20;
            case "G" -> 30;
            default -> 40;
        };
        long value;
        try {
            value = Long.parseLong(m.group(1));
        } catch (NumberFormatException e) {
            throw invalid(text);
        }
        if (value > (Long.MAX_VALUE >> shift)) {
            throw invalid(text);
        }
        return value << shift;
    }

    /** Bytes per second: a size, optionally followed by {@code /s} ("250K", "100M/s"). */
    public static long parseRate(String text) {
        String t = text.trim();
        String size = t.regionMatches(true, Math.max(0, t.length() - 2), "/s", 0, 2) ? t.substring(0, t.length() - 2) : t;
        try {
            return parse(size);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + text
                    + "' is not a rate: use bytes per second or a number with K, M, G or T, optionally followed by /s");
        }
    }

    private static IllegalArgumentException invalid(String text) {
        return new IllegalArgumentException("'" + text + "' is not a size: use bytes or a number with K, M, G or T");
    }

    /** 1073741824 -> "1 GiB"; sizes that are not whole units are shown in bytes. */
    public static String format(long bytes) {
        String[] units = {"TiB", "GiB", "MiB", "KiB"};
        int[] shifts = {40, 30, 20, 10};
        for (int i = 0; i < units.length; i++) {
            if (bytes >= (1L << shifts[i]) && bytes % (1L << shifts[i]) == 0) {
                return (bytes >> shifts[i]) + " " + units[i];
            }
        }
        return bytes + " bytes";
    }

    /** 256000 -> "250 KiB/s". */
    public static String formatRate(long bytesPerSecond) {
        return format(bytesPerSecond) + "/s";
    }
}
