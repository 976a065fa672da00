package io.jrbd.protocol.nbd;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.CorruptedFrameException;
import java.util.List;

/**
 * Decodes transmission requests.
 *
 * <pre>
 * +--------------+----------+---------+-----------+-----------+----------+----------------------+
 * | 0x25609513 4 | flags 2  | type 2  | cookie 8  | offset 8  | length 4 | WRITE only: payload  |
 * +--------------+----------+---------+-----------+-----------+----------+----------------------+
 * </pre>
 *
 * <p>A WRITE is emitted once its whole payload has arrived. A WRITE longer than
 * {@code maxPayload} is emitted at once with {@link NbdRequest#payloadDropped()} set and its
 * payload is then skipped as it streams in, never buffered: the client gets an error and the
 * connection stays in sync. A wrong magic throws {@link CorruptedFrameException}, after which
 * nothing on the connection can be trusted.
 */
public final class RequestDecoder extends ByteToMessageDecoder {
    public static final int HEADER_LENGTH = 28;

    private final int maxPayload;
    private long skipRemaining;

    public RequestDecoder(int maxPayload) {
        this.maxPayload = maxPayload;
        // WRITE payloads are handed on as slices of what arrived: composing the received
        // buffers instead of merging them saves a copy of every payload byte.
        setCumulator(COMPOSITE_CUMULATOR);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (skipRemaining > 0) {
            int n = (int) Math.min(skipRemaining, in.readableBytes());
            in.skipBytes(n);
            skipRemaining -= n;
            if (skipRemaining > 0) {
                return;
            }
        }
        if (in.readableBytes() < HEADER_LENGTH) {
            return;
        }
        int start = in.readerIndex();
        int magic = in.getInt(start);
        if (magic != NbdMagic.REQUEST) {
            in.skipBytes(in.readableBytes());
            throw new CorruptedFrameException("request magic 0x" + Integer.toHexString(magic)
                    + ", expected 0x" + Integer.toHexString(NbdMagic.REQUEST));
        }
        int flags = in.getUnsignedShort(start + 4);
        int type = in.getUnsignedShort(start + 6);
        long cookie = in.getLong(start + 8);
        long offset = in.getLong(start + 16);
        long length = in.getUnsignedInt(start + 24);
        if (type != NbdCommand.WRITE) {
            in.skipBytes(HEADER_LENGTH);
            out.add(NbdRequest.withoutPayload(flags, type, cookie, offset, length));
            return;
        }
        if (length > maxPayload) {
            in.skipBytes(HEADER_LENGTH);
            skipRemaining = length;
            out.add(new NbdRequest(flags, type, cookie, offset, length, Unpooled.EMPTY_BUFFER, true));
            return;
        }
        if (in.readableBytes() < HEADER_LENGTH + length) {
            return;
        }
        in.skipBytes(HEADER_LENGTH);
        out.add(new NbdRequest(flags, type, cookie, offset, length, in.readRetainedSlice((int) length), false));
    }
}
