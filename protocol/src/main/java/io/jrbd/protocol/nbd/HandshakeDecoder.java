package io.jrbd.protocol.nbd;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.TooLongFrameException;
import java.util.List;

/**
 * Decodes what a client sends during the handshake: first its 32-bit flags, then options.
 *
 * <pre>
 * client flags          option (repeated)
 * +----------+          +----------------+---------+---------+------------+
 * | flags 4  |          | IHAVEOPT 8     | code 4  | len 4   | data (len) |
 * +----------+          +----------------+---------+---------+------------+
 *   emits ClientFlags     emits OptionRequest(code, data) once all of data is there
 * </pre>
 *
 * <p>A wrong option magic throws {@link CorruptedFrameException}; a length over
 * {@link #MAX_OPTION_LENGTH} throws {@link TooLongFrameException} before anything is
 * allocated. Either way the stream cannot be trusted any more, so the server closes the
 * connection. The handler that takes the messages replaces this decoder when transmission
 * starts; bytes already received then pass on to the next decoder.
 */
public final class HandshakeDecoder extends ByteToMessageDecoder {
    /** No legitimate option comes near this: export names are at most 4 KiB. */
    public static final int MAX_OPTION_LENGTH = 64 * 1024;
    static final int OPTION_HEADER_LENGTH = 16;

    private boolean clientFlagsRead;

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (!clientFlagsRead) {
            if (in.readableBytes() < 4) {
                return;
            }
            clientFlagsRead = true;
            out.add(new ClientFlags(in.readInt()));
            return;
        }
        if (in.readableBytes() < OPTION_HEADER_LENGTH) {
            return;
        }
        int start = in.readerIndex();
        long magic = in.getLong(start);
        if (magic != NbdMagic.IHAVEOPT) {
            in.skipBytes(in.readableBytes());
            throw new CorruptedFrameException(
                    "option magic 0x" + Long.toHexString(magic) + ", expected IHAVEOPT 0x" + Long.toHexString(NbdMagic.IHAVEOPT));
        }
        int option = in.getInt(start + 8);
        long length = Integer.toUnsignedLong(in.getInt(start + 12));
        if (length > MAX_OPTION_LENGTH) {
            in.skipBytes(in.readableBytes());
            throw new TooLongFrameException(
                    NbdOption.name(option) + " payload of " + length + " bytes exceeds the limit of " + MAX_OPTION_LENGTH);
        }
        if (in.readableBytes() < OPTION_HEADER_LENGTH + length) {
            return;
        }
        in.skipBytes(OPTION_HEADER_LENGTH);
        out.add(new OptionRequest(option, in.readRetainedSlice((int) length)));
    }
}
