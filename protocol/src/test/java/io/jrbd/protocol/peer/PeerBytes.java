package io.jrbd.protocol.peer;

import io.jrbd.protocol.nbd.TestBytes;

/** Byte helpers for the peer protocol tests: frames and strings, on top of the shared ones. */
final class PeerBytes extends TestBytes {
    private PeerBytes() {
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
}
