package io.jrbd.protocol.nbd;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;

/** Byte helpers shared by the tests: hand-written hex in, released bytes out. */
public class TestBytes {
    protected TestBytes() {
    }

    /** Bytes from hex digits; spaces, underscores and '|' separators are ignored. */
    public static byte[] hex(String digits) {
        return ByteBufUtil.decodeHexDump(digits.replaceAll("[\\s_|]", ""));
    }

    public static ByteBuf buf(byte[]... parts) {
        return Unpooled.wrappedBuffer(concat(parts));
    }

    public static ByteBuf hexBuf(String digits) {
        return Unpooled.wrappedBuffer(hex(digits));
    }

    public static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] all = new byte[n];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, all, at, p.length);
            at += p.length;
        }
        return all;
    }

    public static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    public static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    public static byte[] filled(int length, int value) {
        byte[] b = new byte[length];
        java.util.Arrays.fill(b, (byte) value);
        return b;
    }

    /** A recognisable pattern, so a shifted or truncated payload cannot compare equal. */
    public static byte[] pattern(int length) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (i * 31 + 7);
        }
        return b;
    }

    public static byte[] int32(int v) {
        return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
    }

    public static byte[] int16(int v) {
        return new byte[] {(byte) (v >>> 8), (byte) v};
    }

    public static byte[] int64(long v) {
        byte[] b = new byte[8];
        for (int i = 0; i < 8; i++) {
            b[i] = (byte) (v >>> (56 - 8 * i));
        }
        return b;
    }

    /** The readable bytes of {@code buf}; releases it, so the test cannot leak it. */
    public static byte[] drain(ByteBuf buf) {
        try {
            return ByteBufUtil.getBytes(buf);
        } finally {
            buf.release();
        }
    }

    public static String hexOf(byte[] bytes) {
        return ByteBufUtil.hexDump(bytes);
    }
}
