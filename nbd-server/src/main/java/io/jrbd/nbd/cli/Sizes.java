package io.jrbd.nbd.cli;

import java.util.Locale;

/** Parses sizes the way DRBD administrators write them: 4096, 512K, 100M, 1G, 2T (powers of 1024). */
public final class Sizes {
    private Sizes() {
    }

    public static long parse(String text) {
        String s = text.trim().toUpperCase(Locale.ROOT);
        if (s.endsWith("IB")) {
            s = s.substring(0, s.length() - 2);
        } else if (s.endsWith("B") && s.length() > 1 && !Character.isDigit(s.charAt(s.length() - 2))) {
            throw invalid(text);
        } else if (s.endsWith("B")) {
            s = s.substring(0, s.length() - 1);
        }
        int shift = 0;
        if (!s.isEmpty()) {
            switch (s.charAt(s.length() - 1)) {
                case 'K' -> shift = 10;
                case 'M' -> shift = 20;
                case 'G' -> shift = 30;
                case 'T' -> shift = 40;
                default -> shift = -1;
            }
        }
        String digits = shift >= 0 ? s.substring(0, s.length() - 1) : s;
        long value;
        try {
            value = Long.parseLong(digits);
        } catch (NumberFormatException e) {
            throw invalid(text);
        }
        int bits = Math.max(shift, 0);
        if (value < 0 || value > (Long.MAX_VALUE >> bits)) {
            throw invalid(text);
        }
        return value << bits;
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
}
