package io.jrbd.protocol.peer;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.CorruptedFrameException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** Strict UTF-8 both ways: malformed input and unpaired surrogates are errors, never replaced. */
final class PeerStrings {
    private PeerStrings() {
    }

    /** The UTF-8 bytes of a name; throws if it is empty, too long, or holds NUL or a lone surrogate. */
    static byte[] nameBytes(String name, String what) {
        if (name == null) {
            throw new IllegalArgumentException(what + " is null");
        }
        byte[] bytes = utf8(name, what);
        if (bytes.length == 0 || bytes.length > PeerWire.MAX_NAME_BYTES) {
            throw new IllegalArgumentException(what + " \"" + name + "\" is " + bytes.length
                    + " bytes of UTF-8, must be 1 to " + PeerWire.MAX_NAME_BYTES);
        }
        if (name.indexOf('\0') >= 0) {
            throw new IllegalArgumentException(what + " \"" + name.replace('\0', '?') + "\" contains NUL");
        }
        return bytes;
    }

    static byte[] utf8(String s, String what) {
        try {
            ByteBuffer b = StandardCharsets.UTF_8.newEncoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .encode(CharBuffer.wrap(s));
            byte[] bytes = new byte[b.remaining()];
            b.get(bytes);
            return bytes;
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(what + " is not encodable as UTF-8 (unpaired surrogate)", e);
        }
    }

    /**
     * Reads a string from {@code in}: u16 byte length, then that many bytes of UTF-8. The length
     * is checked against {@code maxBytes} and against what is left of the payload before
     * anything is read.
     */
    static String read(ByteBuf in, int payloadEnd, int maxBytes, PeerMessageType type, String what) {
        int left = payloadEnd - in.readerIndex();
        if (left < PeerWire.STRING_LENGTH_PREFIX) {
            throw new CorruptedFrameException(type + " " + what + ": length prefix needs 2 bytes, "
                    + left + " left in the payload");
        }
        int length = in.readUnsignedShort();
        left -= PeerWire.STRING_LENGTH_PREFIX;
        if (length > maxBytes) {
            throw new CorruptedFrameException(type + " " + what + " of " + length
                    + " bytes exceeds the limit of " + maxBytes);
        }
        if (length > left) {
            throw new CorruptedFrameException(type + " " + what + " of " + length
                    + " bytes runs past the payload (" + left + " bytes left)");
        }
        String s;
        try {
            s = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(in.nioBuffer(in.readerIndex(), length))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new CorruptedFrameException(type + " " + what + " of " + length + " bytes is not valid UTF-8", e);
        }
        in.skipBytes(length);
        return s;
    }

    /** Reads a name: as {@link #read}, and it must be non-empty and free of NUL. */
    static String readName(ByteBuf in, int payloadEnd, PeerMessageType type, String what) {
        String name = read(in, payloadEnd, PeerWire.MAX_NAME_BYTES, type, what);
        if (name.isEmpty()) {
            throw new CorruptedFrameException(type + " " + what + " is empty");
        }
        if (name.indexOf('\0') >= 0) {
            throw new CorruptedFrameException(type + " " + what + " contains NUL");
        }
        return name;
    }

    /**
     * {@code s} cut to at most {@code maxBytes} of UTF-8, never inside a character; unpaired
     * surrogates become '?', so the result always encodes.
     */
    static String truncate(String s, int maxBytes) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        int n = Math.min(bytes.length, maxBytes);
        while (n > 0 && n < bytes.length && (bytes[n] & 0xC0) == 0x80) {
            n--;
        }
        return new String(bytes, 0, n, StandardCharsets.UTF_8);
    }
}
