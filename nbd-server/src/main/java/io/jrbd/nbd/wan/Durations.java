package io.jrbd.nbd.wan;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses and prints the short durations of a WAN link: 100us, 0.5ms, 20ms, 1s (a bare 0 means no delay). */
public final class Durations {
    private static final Pattern DURATION = Pattern.compile("(\\d{1,12}(?:\\.\\d{1,9})?)\\s*(ns|us|µs|ms|s)?",
            Pattern.CASE_INSENSITIVE);

    private Durations() {
    }

    public static Duration parse(String text) {
        Matcher m = DURATION.matcher(text.trim());
        if (!m.matches()) {
            throw invalid(text);
        }
        BigDecimal value = new BigDecimal(m.group(1));
        String unit = m.group(2) == null ? null : m.group(2).toLowerCase(Locale.ROOT);
        if (unit == null && value.signum() != 0) {
            throw invalid(text);
        }
        long nanosPerUnit = unit == null ? 0 : switch (unit) {
            case "ns" -> 1L;
            case "us", "µs" -> 1_000L;
            case "ms" -> 1_000_000L;
            default -> 1_000_000_000L;
        };
        BigDecimal nanos = value.multiply(BigDecimal.valueOf(nanosPerUnit));
        try {
            return Duration.ofNanos(nanos.setScale(0, java.math.RoundingMode.UNNECESSARY).longValueExact());
        } catch (ArithmeticException e) {
            throw invalid(text);
        }
    }

    private static IllegalArgumentException invalid(String text) {
        return new IllegalArgumentException("'" + text + "' is not a duration: use a number with us, ms or s (e.g. 100us, 0.5ms, 20ms)");
    }

    /** 20ms, 100us, 1500us, 2s, 0ms: the largest unit that shows the value exactly. */
    public static String format(Duration d) {
        long nanos = d.toNanos();
        if (nanos == 0) {
            return "0ms";
        }
        if (nanos % 1_000_000_000L == 0) {
            return nanos / 1_000_000_000L + "s";
        }
        if (nanos % 1_000_000L == 0) {
            return nanos / 1_000_000L + "ms";
        }
        if (nanos % 1_000L == 0) {
            return nanos / 1_000L + "us";
        }
        return nanos + "ns";
    }
}
