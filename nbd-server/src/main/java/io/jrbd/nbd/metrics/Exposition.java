package io.jrbd.nbd.metrics;

/**
 * A writer of the Prometheus text exposition format, version 0.0.4: one family at a time, its
 * {@code # HELP} and {@code # TYPE} lines first, then its samples, each on one line.
 *
 * <pre>
 * # HELP jrbd_up Whether the resource is up (attached) on this node.
 * # TYPE jrbd_up gauge
 * jrbd_up{resource="r0"} 1
 * </pre>
 *
 * <p>Label values are escaped (backslash, double quote, line feed), help texts too (backslash,
 * line feed). Names are the caller's constants and are checked, so a typo fails the first scrape
 * of any test rather than the operator's Prometheus.
 */
final class Exposition {
    static final String GAUGE = "gauge";
    static final String COUNTER = "counter";
    static final String HISTOGRAM = "histogram";

    private final StringBuilder out = new StringBuilder(8192);

    /** Starts a family: every sample of {@code name} must follow before the next family. */
    Exposition family(String name, String type, String help) {
        checkName(name, "metric");
        out.append("# HELP ").append(name).append(' ');
        for (int i = 0; i < help.length(); i++) {
            char c = help.charAt(i);
            switch (c) {
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                default -> out.append(c);
            }
        }
        out.append("\n# TYPE ").append(name).append(' ').append(type).append('\n');
        return this;
    }

    /** One sample; {@code labels} alternate name and value. */
    Exposition sample(String name, long value, String... labels) {
        return sample(name, Long.toString(value), labels);
    }

    Exposition sample(String name, double value, String... labels) {
        return sample(name, number(value), labels);
    }

    private Exposition sample(String name, String value, String... labels) {
        if (labels.length % 2 != 0) {
            throw new IllegalArgumentException("labels of " + name + " come in name/value pairs, got " + labels.length);
        }
        checkName(name, "metric");
        out.append(name);
        if (labels.length > 0) {
            out.append('{');
            for (int i = 0; i < labels.length; i += 2) {
                checkName(labels[i], "label");
                if (i > 0) {
                    out.append(',');
                }
                out.append(labels[i]).append("=\"");
                escapeLabelValue(labels[i + 1]);
                out.append('"');
            }
            out.append('}');
        }
        out.append(' ').append(value).append('\n');
        return this;
    }

    private void escapeLabelValue(String v) {
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            switch (c) {
                case '\\' -> out.append("\\\\");
                case '"' -> out.append("\\\"");
                case '\n' -> out.append("\\n");
                default -> out.append(c);
            }
        }
    }

    /** A sample value as Prometheus parses it: integers without a fraction, {@code +Inf}, {@code NaN}. */
    static String number(double v) {
        if (Double.isNaN(v)) {
            return "NaN";
        }
        if (Double.isInfinite(v)) {
            return v > 0 ? "+Inf" : "-Inf";
        }
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return Double.toString(v);
    }

    private static void checkName(String name, String what) {
        boolean ok = !name.isEmpty();
        for (int i = 0; ok && i < name.length(); i++) {
            char c = name.charAt(i);
            ok = c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9')
                    || (c == ':' && what.equals("metric"));
        }
        if (!ok) {
            throw new IllegalArgumentException("'" + name + "' is not a valid Prometheus " + what + " name");
        }
    }

    String text() {
        return out.toString();
    }
}
