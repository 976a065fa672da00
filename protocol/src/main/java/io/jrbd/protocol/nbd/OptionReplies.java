package io.jrbd.protocol.nbd;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import java.nio.charset.StandardCharsets;

/**
 * Builds what the server sends during the handshake. Each method returns one whole message,
 * so a caller writes it with a single {@code write} and replies never interleave.
 *
 * <pre>
 * option reply:  | 0x0003e889045565a9 8 | option 4 | reply type 4 | length 4 | data |
 * greeting:      | NBDMAGIC 8 | IHAVEOPT 8 | handshake flags 2 |
 * EXPORT_NAME:   | size 8 | transmission flags 2 | 124 zero bytes unless NO_ZEROES |
 * </pre>
 */
public final class OptionReplies {
    static final int REPLY_HEADER_LENGTH = 20;
    private static final int EXPORT_NAME_ZEROES = 124;

    private OptionReplies() {
    }

    public static ByteBuf greeting(ByteBufAllocator alloc) {
        ByteBuf buf = alloc.buffer(18);
        buf.writeLong(NbdMagic.NBDMAGIC);
        buf.writeLong(NbdMagic.IHAVEOPT);
        buf.writeShort(NbdFlags.FIXED_NEWSTYLE | NbdFlags.NO_ZEROES);
        return buf;
    }

    public static ByteBuf ack(ByteBufAllocator alloc, int option) {
        return header(alloc, option, NbdOptionReply.ACK, 0);
    }

    /** An error reply carrying a message for the client's log (the spec allows UTF-8 text). */
    public static ByteBuf error(ByteBufAllocator alloc, int option, int errorType, String message) {
        byte[] text = message.getBytes(StandardCharsets.UTF_8);
        ByteBuf buf = header(alloc, option, errorType, text.length);
        buf.writeBytes(text);
        return buf;
    }

    /** One NBD_REP_SERVER entry of a LIST reply. */
    public static ByteBuf server(ByteBufAllocator alloc, int option, String name, String description) {
        byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
        byte[] descBytes = description.getBytes(StandardCharsets.UTF_8);
        ByteBuf buf = header(alloc, option, NbdOptionReply.SERVER, 4 + nameBytes.length + descBytes.length);
        buf.writeInt(nameBytes.length);
        buf.writeBytes(nameBytes);
        buf.writeBytes(descBytes);
        return buf;
    }

    public static ByteBuf infoExport(ByteBufAllocator alloc, int option, long size, int transmissionFlags) {
        ByteBuf buf = header(alloc, option, NbdOptionReply.INFO, 12);
        buf.writeShort(NbdOption.INFO_EXPORT);
        buf.writeLong(size);
        buf.writeShort(transmissionFlags);
        return buf;
    }

    /** NBD_INFO_NAME or NBD_INFO_DESCRIPTION: an info type followed by text. */
    public static ByteBuf infoText(ByteBufAllocator alloc, int option, int infoType, String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        ByteBuf buf = header(alloc, option, NbdOptionReply.INFO, 2 + bytes.length);
        buf.writeShort(infoType);
        buf.writeBytes(bytes);
        return buf;
    }

    public static ByteBuf infoBlockSize(ByteBufAllocator alloc, int option, int minimum, int preferred, int maximumPayload) {
        ByteBuf buf = header(alloc, option, NbdOptionReply.INFO, 14);
        buf.writeShort(NbdOption.INFO_BLOCK_SIZE);
        buf.writeInt(minimum);
        buf.writeInt(preferred);
        buf.writeInt(maximumPayload);
        return buf;
    }

    public static ByteBuf metaContext(ByteBufAllocator alloc, int option, int contextId, String name) {
        byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
        ByteBuf buf = header(alloc, option, NbdOptionReply.META_CONTEXT, 4 + bytes.length);
        buf.writeInt(contextId);
        buf.writeBytes(bytes);
        return buf;
    }

    /** The reply to NBD_OPT_EXPORT_NAME, which is not an option reply at all. */
    public static ByteBuf exportName(ByteBufAllocator alloc, long size, int transmissionFlags, boolean noZeroes) {
        ByteBuf buf = alloc.buffer(noZeroes ? 10 : 10 + EXPORT_NAME_ZEROES);
        buf.writeLong(size);
        buf.writeShort(transmissionFlags);
        if (!noZeroes) {
            buf.writeZero(EXPORT_NAME_ZEROES);
        }
        return buf;
    }

    private static ByteBuf header(ByteBufAllocator alloc, int option, int type, int length) {
        ByteBuf buf = alloc.buffer(REPLY_HEADER_LENGTH + length);
        buf.writeLong(NbdMagic.OPTION_REPLY);
        buf.writeInt(option);
        buf.writeInt(type);
        buf.writeInt(length);
        return buf;
    }

    /** For log lines: the printable start of a payload that made no sense. */
    public static String preview(ByteBuf data) {
        int n = Math.min(data.readableBytes(), 32);
        return ByteBufUtil.hexDump(data, data.readerIndex(), n) + (n < data.readableBytes() ? "..." : "");
    }
}
