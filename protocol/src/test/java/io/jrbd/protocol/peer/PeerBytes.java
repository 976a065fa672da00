package io.jrbd.protocol.peer;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;

/** Byte helpers for the peer protocol tests: hand-written frames in, released bytes out. */
final class PeerBytes {
    private PeerBytes() {
    }

    /** Bytes from hex digits; spaces, underscores and '|' separators are ignored. */
    static byte[] hex(String digits) {
        return ByteBufUtil.decodeHexDump(digits.replaceAll("[\\s_|]", ""));
    }

    static ByteBuf buf(byte[]... parts) {
        return Unpooled.wrappedBuffer(concat(parts));
    }

    static byte[] concat(byte[]... parts) {
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

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** A recognisable pattern, so a shifted or truncated payload cannot compare equal. */
    static byte[] pattern(int length) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (i * 31 + 7);
        }
        return b;
    }

    /** 0x00, 0x01, ... : a nonce that is easy to write out by hand. */
    static byte[] counting(int length) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) i;
        }
        return b;
    }

    static byte[] int8(int v) {
        return new byte[] {(byte) v};
    }

    static byte[] int16(int v) {
        return new byte[] {(byte) (v >>> 8), (byte) v};
    }

    static byte[] int32(int v) {
        return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
    }

    static byte[] int64(long v) {
        byte[] b = new byte[8];
        for (int i = 0; i < 8; i++) {
            b[i] = (byte) (v >>> (56 - 8 * i));
        }
        return b;
    }

    /** A frame header: magic, type code, flags 0, payload length. */
    static byte[] header(int type, long payloadLength) {
        return concat(int32(PeerWire.MAGIC), int16(type), int16(0), int32((int) payloadLength));
    }

    /** A whole frame: header then payload. */
    static byte[] frame(int type, byte[]... payload) {
        byte[] p = concat(payload);
        return concat(header(type, p.length), p);
    }

    /** A wire string: u16 byte length then the bytes. */
    static byte[] string(byte[] bytes) {
        return concat(int16(bytes.length), bytes);
    }

    static byte[] string(String s) {
        return string(utf8(s));
    }

    /** The readable bytes of {@code buf}; releases it, so the test cannot leak it. */
    static byte[] drain(ByteBuf buf) {
        try {
            return ByteBufUtil.getBytes(buf);
        } finally {
            buf.release();
        }
    }
}
