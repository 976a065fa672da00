package io.jrbd.nbd.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checks a page against the text exposition format 0.0.4 as Prometheus parses it: every line a
 * HELP, a TYPE or a sample; each family's HELP and TYPE once, before its samples, its samples
 * together; histogram buckets cumulative up to {@code +Inf}, which equals {@code _count}.
 */
final class ExpositionFormat {
    private static final String NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
    private static final String LABEL = "[a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\\\\n]|\\\\[\\\\\"n])*\"";
    private static final String VALUE = "(?:[+-]?(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]Inf|NaN)";
    static final Pattern SAMPLE = Pattern.compile("(" + NAME + ")(\\{(?:" + LABEL + "(?:," + LABEL + ")*)?})? (" + VALUE
            + ")(?: -?[0-9]+)?");
    private static final Pattern HELP = Pattern.compile("# HELP (" + NAME + ") .*");
    private static final Pattern TYPE = Pattern.compile("# TYPE (" + NAME + ") (counter|gauge|histogram|summary|untyped)");
    private static final Pattern LE = Pattern.compile("le=\"([^\"]*)\"");

    private ExpositionFormat() {
    }

    /** Asserts the page is well formed; returns its samples, "name{labels}" to value. */
    static Map<String, Double> parse(String page) {
        assertTrue(page.endsWith("\n"), "the page must end with a line feed");
        Map<String, Double> samples = new LinkedHashMap<>();
        Map<String, String> types = new LinkedHashMap<>();
        Set<String> helped = new HashSet<>();
        Set<String> closed = new HashSet<>();
        String family = null;
        String bucketSeries = null;
        double lastLe = Double.NEGATIVE_INFINITY;
        double lastBucket = 0;
        for (String line : page.split("\n", -1)) {
            if (line.isEmpty()) {
                continue;
            }
            Matcher m;
            if ((m = HELP.matcher(line)).matches()) {
                assertTrue(helped.add(m.group(1)), "second HELP for " + m.group(1));
            } else if ((m = TYPE.matcher(line)).matches()) {
                assertFalse(types.containsKey(m.group(1)), "second TYPE for " + m.group(1));
                assertTrue(helped.contains(m.group(1)), "TYPE before HELP for " + m.group(1));
                if (family != null) {
                    closed.add(family);
                }
                family = m.group(1);
                types.put(family, m.group(2));
            } else if ((m = SAMPLE.matcher(line)).matches()) {
                String name = m.group(1);
                String base = types.get(family) != null && types.get(family).equals("histogram")
                        ? name.replaceAll("_(bucket|sum|count)$", "") : name;
                assertEquals(family, base, "sample outside its family (or before its TYPE): " + line);
                assertFalse(closed.contains(base), "family " + base + " split: " + line);
                String key = name + (m.group(2) == null ? "" : m.group(2));
                assertFalse(samples.containsKey(key), "sample twice: " + line);
                double value = value(m.group(3));
                samples.put(key, value);
                if (name.endsWith("_bucket")) {
                    Matcher le = LE.matcher(m.group(2));
                    assertTrue(le.find(), "bucket without le: " + line);
                    String series = m.group(2).replace(le.group(), "");
                    double bound = value(le.group(1));
                    if (series.equals(bucketSeries)) {
                        assertTrue(bound > lastLe, "le not ascending: " + line);
                        assertTrue(value >= lastBucket, "buckets not cumulative: " + line);
                    }
                    bucketSeries = series;
                    lastLe = bound;
                    lastBucket = value;
                } else if (name.endsWith("_count") && bucketSeries != null) {
                    assertEquals(Double.POSITIVE_INFINITY, lastLe, "the last bucket must be +Inf: " + line);
                    assertEquals(lastBucket, value, "_count differs from the +Inf bucket: " + line);
                    bucketSeries = null;
                }
            } else {
                fail("not a line of the text format 0.0.4: '" + line + "'");
            }
        }
        return samples;
    }

    private static double value(String text) {
        return switch (text) {
            case "+Inf" -> Double.POSITIVE_INFINITY;
            case "-Inf" -> Double.NEGATIVE_INFINITY;
            case "NaN" -> Double.NaN;
            default -> Double.parseDouble(text);
        };
    }
}
