package io.jrbd.replicator.resource;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The text of one {@code jrbdadm events} line, as {@code drbdsetup events2} prints it: a verb, an
 * object and its fields, separated by single spaces.
 *
 * <pre>
 *   change peer-device name:r0 peer-node:bravo replication:SyncSource peer-disk:Inconsistent done:42.17
 *   '----' '---------' '--------------------' '------------------------------------------------------'
 *    verb    object          identity                  the fields that changed (key:value)
 * </pre>
 *
 * <p>A key never contains a space nor a colon; a value is split from its key at the first colon. So
 * that a shell's {@code read} splits a line correctly, every byte of a value's UTF-8 form outside
 * printable ASCII ({@code 0x21..0x7e}), and {@code %} itself, is written {@code %XX} (two upper-case
 * hex digits): a value never contains a space, a tab or a line break. A value without such bytes,
 * which is every state name and number jrbd prints, is written as it is. Bash decodes one with
 * {@code printf '%b' "${v//%/\\x}"}.
 */
public final class StateEventFormat {
    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    private StateEventFormat() {
    }

    /** {@code verb object key:value ...}, every value escaped; {@code fields} in their iteration order. */
    public static String line(String verb, String object, Map<String, String> fields) {
        StringBuilder b = new StringBuilder(96).append(verb).append(' ').append(object);
        for (Map.Entry<String, String> f : fields.entrySet()) {
            b.append(' ').append(key(f.getKey())).append(':');
            escapeTo(f.getValue(), b);
        }
        return b.toString();
    }

    /** The value as an events line carries it: printable ASCII other than {@code %} as is, the rest {@code %XX}. */
    public static String escape(String value) {
        return escapeTo(value, new StringBuilder(value.length())).toString();
    }

    private static StringBuilder escapeTo(String value, StringBuilder b) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c > 0x20 && c < 0x7f && c != '%') {
                b.append(c);
                continue;
            }
            int end = i + 1;
            if (Character.isHighSurrogate(c) && end < value.length() && Character.isLowSurrogate(value.charAt(end))) {
                end++;
            }
            for (byte x : value.substring(i, end).getBytes(StandardCharsets.UTF_8)) {
                b.append('%').append(HEX[(x >> 4) & 0xf]).append(HEX[x & 0xf]);
            }
            i = end - 1;
        }
        return b;
    }

    /**
     * The value an escaped one stands for.
     *
     * @throws IllegalArgumentException naming the value and the position of a {@code %} not followed by two hex digits
     */
    public static String unescape(String escaped) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(escaped.length());
        for (int i = 0; i < escaped.length(); i++) {
            char c = escaped.charAt(i);
            if (c != '%') {
                out.writeBytes(String.valueOf(c).getBytes(StandardCharsets.UTF_8));
                continue;
            }
            int hi = i + 2 < escaped.length() ? Character.digit(escaped.charAt(i + 1), 16) : -1;
            int lo = hi < 0 ? -1 : Character.digit(escaped.charAt(i + 2), 16);
            if (lo < 0) {
                throw new IllegalArgumentException("'" + escaped + "': '%' at " + i + " is not followed by two hex digits");
            }
            out.write(hi << 4 | lo);
            i += 2;
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private static String key(String key) {
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            if (c <= 0x20 || c >= 0x7f || c == ':') {
                throw new IllegalArgumentException("events key '" + key + "' has a character a key may not have at " + i);
            }
        }
        return key;
    }
}
