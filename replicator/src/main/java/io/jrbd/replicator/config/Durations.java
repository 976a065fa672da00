package io.jrbd.replicator.config;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses durations as they are written in resource files: {@code 500ms}, {@code 10s}, {@code 2m}.
 * A unit is required: DRBD counts some timeouts in tenths of a second, so a bare {@code 60} would be
 * read differently by different people. Zero alone ({@code 0}) needs none.
 */
public final class Durations {
    private Durations() {
    }

    private static final Pattern DURATION = Pattern.compile("(\\d{1,9})(ms|s|m)", Pattern.CASE_INSENSITIVE);

    /** "500ms", "10s", "2m" or "0"; anything else throws {@link IllegalArgumentException} naming the text. */
    public static Duration parse(String text) {
        if (text.trim().equals("0")) {
            return Duration.ZERO;
        }
        Matcher m = DURATION.matcher(text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("'" + text + "' is not a duration (use ms, s or m)");
        }
        long value = Long.parseLong(m.group(1));
        return switch (m.group(2).toLowerCase(Locale.ROOT)) {
            case "ms" -> Duration.ofMillis(value);
            case "s" -> Duration.ofSeconds(value);
            default -> Duration.ofMinutes(value);
        };
    }

    /** The shortest exact spelling that {@link #parse} reads back: 10s, 500ms, 2m, 1500ms. */
    public static String format(Duration d) {
        long ms = d.toMillis();
        if (ms != 0 && ms % 60_000 == 0) {
            return ms / 60_000 + "m";
        }
        if (ms != 0 && ms % 1000 == 0) {
            return ms / 1000 + "s";
        }
        return ms + "ms";
    }
}
