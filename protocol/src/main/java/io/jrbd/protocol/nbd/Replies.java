package io.jrbd.protocol.nbd;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * Builds transmission replies, each one whole message: a caller writes it with a single
 * {@code write}, so bytes of two replies never interleave on the socket.
 *
 * <pre>
 * simple reply:      | 0x67446698 4 | error 4 | cookie 8 | READ data, only on success |
 * structured chunk:  | 0x668e33ef 4 | flags 2 | type 2 | cookie 8 | length 4 | payload |
 *   OFFSET_DATA   payload: | offset 8 | data |
 *   OFFSET_HOLE   payload: | offset 8 | hole size 4 |
 *   BLOCK_STATUS  payload: | context id 4 | n x (extent length 4 | status flags 4) |
 *   ERROR         payload: | error 4 | message length 2 | message |
 * </pre>
 *
 * <p>Methods that take a data buffer take ownership of it: it is released with the reply.
 */
public final class Replies {
    public static final int SIMPLE_HEADER_LENGTH = 16;
    public static final int CHUNK_HEADER_LENGTH = 20;
    /** Error messages are capped so that a reply stays small whatever the cause. */
    static final int MAX_ERROR_MESSAGE = 1024;

    private Replies() {
    }

    public static ByteBuf simple(ByteBufAllocator alloc, long cookie, int error) {
        ByteBuf buf = alloc.buffer(SIMPLE_HEADER_LENGTH);
        writeSimpleHeader(buf, cookie, error);
        return buf;
    }

    /** A successful simple reply to READ: the header, then {@code data} (owned). */
    public static ByteBuf simpleRead(ByteBufAllocator alloc, long cookie, ByteBuf data) {
        ByteBuf header = alloc.buffer(SIMPLE_HEADER_LENGTH);
        writeSimpleHeader(header, cookie, NbdError.OK);
        return join(alloc, header, data);
    }

    /** An OFFSET_DATA chunk carrying {@code data} (owned). */
    public static ByteBuf offsetData(ByteBufAllocator alloc, long cookie, boolean done, long offset, ByteBuf data) {
        ByteBuf header = alloc.buffer(CHUNK_HEADER_LENGTH + 8);
        writeChunkHeader(header, cookie, done, ChunkType.OFFSET_DATA, 8 + data.readableBytes());
        header.writeLong(offset);
        return join(alloc, header, data);
    }

    public static ByteBuf offsetHole(ByteBufAllocator alloc, long cookie, boolean done, long offset, int holeSize) {
        ByteBuf buf = alloc.buffer(CHUNK_HEADER_LENGTH + 12);
        writeChunkHeader(buf, cookie, done, ChunkType.OFFSET_HOLE, 12);
        buf.writeLong(offset);
        buf.writeInt(holeSize);
        return buf;
    }

    public static ByteBuf none(ByteBufAllocator alloc, long cookie) {
        ByteBuf buf = alloc.buffer(CHUNK_HEADER_LENGTH);
        writeChunkHeader(buf, cookie, true, ChunkType.NONE, 0);
        return buf;
    }

    public static ByteBuf errorChunk(ByteBufAllocator alloc, long cookie, int error, String message) {
        byte[] text = message.getBytes(StandardCharsets.UTF_8);
        int n = Math.min(text.length, MAX_ERROR_MESSAGE);
        // Cut at a character boundary: never send the first bytes of a multi-byte character.
        while (n > 0 && n < text.length && (text[n] & 0xC0) == 0x80) {
            n--;
        }
        ByteBuf buf = alloc.buffer(CHUNK_HEADER_LENGTH + 6 + n);
        writeChunkHeader(buf, cookie, true, ChunkType.ERROR, 6 + n);
        buf.writeInt(error);
        buf.writeShort(n);
        buf.writeBytes(text, 0, n);
        return buf;
    }

    /**
     * A BLOCK_STATUS chunk. {@code extents} holds pairs: length, status flags, length, ...;
     * only the first {@code count} pairs are sent.
     */
    public static ByteBuf blockStatus(ByteBufAllocator alloc, long cookie, boolean done, int contextId, int[] extents, int count) {
        if (count < 0 || count > extents.length / 2) {
            throw new IllegalArgumentException("extent count " + count + " outside 0.." + extents.length / 2
                    + " (" + extents.length + " ints of length/status pairs)");
        }
        int payload = 4 + count * 8;
        ByteBuf buf = alloc.buffer(CHUNK_HEADER_LENGTH + payload);
        writeChunkHeader(buf, cookie, done, ChunkType.BLOCK_STATUS, payload);
        buf.writeInt(contextId);
        for (int i = 0; i < count * 2; i++) {
            buf.writeInt(extents[i]);
        }
        return buf;
    }

    private static void writeSimpleHeader(ByteBuf buf, long cookie, int error) {
        buf.writeInt(NbdMagic.SIMPLE_REPLY);
        buf.writeInt(error);
        buf.writeLong(cookie);
    }

    private static void writeChunkHeader(ByteBuf buf, long cookie, boolean done, int type, int length) {
        buf.writeInt(NbdMagic.STRUCTURED_REPLY);
        buf.writeShort(done ? NbdFlags.REPLY_DONE : 0);
        buf.writeShort(type);
        buf.writeLong(cookie);
        buf.writeInt(length);
    }

    private static ByteBuf join(ByteBufAllocator alloc, ByteBuf header, ByteBuf data) {
        CompositeByteBuf whole = alloc.compositeBuffer(2);
        whole.addComponents(true, header, data);
        return whole;
    }
}
