package io.jrbd.protocol.peer;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.TooLongFrameException;
import java.util.List;

/**
 * Decodes peer frames into {@link PeerMessage}s.
 *
 * <pre>
 * before: | magic 4 | type 2 | flags 2 | length 4 | payload (length) | magic 4 | type 2 | ...
 *          \____________________ one frame ____________________/
 * after:  PeerMessage (DATA: a Data whose content is a retained slice of the input, no copy)
 * </pre>
 *
 * <p>Nothing is emitted until a whole frame is there. The header is checked as soon as its 12
 * bytes arrive, before any payload is buffered: a wrong magic, an unknown type or non-zero
 * header flags throw {@link CorruptedFrameException}; a length over
 * {@link PeerWire#MAX_PAYLOAD} throws {@link TooLongFrameException}; a length the type cannot
 * have (an ack that is not 8 bytes, a STATE that is not 94, an OUT_OF_SYNC longer than 4096
 * runs) throws {@link CorruptedFrameException}. The payload is then checked field by field:
 * string lengths against the limit and against what is left, strict UTF-8, enum codes, flags,
 * booleans, counts and block sizes before anything is sized by them, and that the fields use
 * exactly the payload; last come the message's own checks (OUT_OF_SYNC runs sorted and not
 * overlapping, say), whose {@link IllegalArgumentException} becomes a
 * {@link CorruptedFrameException} with the same text. Every message names the value and the limit.
 *
 * <p>After the first error the stream cannot be trusted: the decoder discards what it holds
 * and everything that arrives later, and the link is closed by whoever catches the exception.
 */
public final class PeerFrameDecoder extends ByteToMessageDecoder {
    private boolean failed;

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (failed) {
            in.skipBytes(in.readableBytes());
            return;
        }
        try {
            decodeFrame(in, out);
        } catch (CorruptedFrameException | TooLongFrameException e) {
            failed = true;
            in.skipBytes(in.readableBytes());
            throw e;
        }
    }

    private static void decodeFrame(ByteBuf in, List<Object> out) {
        if (in.readableBytes() < PeerWire.HEADER_LENGTH) {
            return;
        }
        int start = in.readerIndex();
        int magic = in.getInt(start + PeerWire.MAGIC_OFFSET);
        if (magic != PeerWire.MAGIC) {
            throw new CorruptedFrameException("frame magic 0x" + Integer.toHexString(magic)
                    + ", expected 0x" + Integer.toHexString(PeerWire.MAGIC) + " (\"jRBD\")");
        }
        int code = in.getUnsignedShort(start + PeerWire.TYPE_OFFSET);
        PeerMessageType type = PeerMessageType.ofCode(code);
        if (type == null) {
            throw new CorruptedFrameException("unknown message type " + code);
        }
        int flags = in.getUnsignedShort(start + PeerWire.FLAGS_OFFSET);
        if (flags != 0) {
            throw new CorruptedFrameException(type + " header flags 0x" + Integer.toHexString(flags)
                    + ", no header flags are defined (must be 0)");
        }
        long length = in.getUnsignedInt(start + PeerWire.LENGTH_OFFSET);
        if (length > PeerWire.MAX_PAYLOAD) {
            throw new TooLongFrameException(type + " payload of " + length + " bytes exceeds the limit of "
                    + PeerWire.MAX_PAYLOAD);
        }
        int min = PeerWire.minPayloadLength(type);
        int max = PeerWire.maxPayloadLength(type);
        if (length < min || length > max) {
            throw new CorruptedFrameException(type + " payload of " + length + " bytes, expected "
                    + (min == max ? String.valueOf(min) : min + " to " + max));
        }
        if (in.readableBytes() < PeerWire.HEADER_LENGTH + length) {
            return;
        }
        in.skipBytes(PeerWire.HEADER_LENGTH);
        int end = in.readerIndex() + (int) length;
        PeerMessage msg;
        try {
            msg = decodePayload(type, in, end);
        } catch (IllegalArgumentException e) {
            // A field the wire checks let through but the message refuses (unsorted runs, say):
            // the message's own words, as a corrupt frame.
            throw new CorruptedFrameException(e.getMessage(), e);
        }
        if (in.readerIndex() != end) {
            // Only a later-version HELLO may carry fields this version does not know.
            in.readerIndex(end);
        }
        out.add(msg);
    }

    /**
     * Decodes the payload of {@code type} from {@code in}, which holds all of it up to
     * {@code end}. Fixed-size types had their exact length checked against the header.
     */
    private static PeerMessage decodePayload(PeerMessageType type, ByteBuf in, int end) {
        switch (type) {
            case HELLO:
                return hello(in, end);
            case AUTH: {
                byte[] hmac = new byte[PeerWire.HMAC_LENGTH];
                in.readBytes(hmac);
                return new PeerMessage.Auth(hmac);
            }
            case AUTH_OK:
                return new PeerMessage.AuthOk();
            case STATE:
                return state(in);
            case DATA:
                return data(in, end);
            case TRIM: {
                long seq = in.readLong();
                long offset = in.readLong();
                long length = in.readLong();
                checkRange(type, offset, length);
                return new PeerMessage.Trim(seq, offset, length);
            }
            case ZEROES: {
                long seq = in.readLong();
                long offset = in.readLong();
                long length = in.readLong();
                int flags = in.readUnsignedShort();
                checkRange(type, offset, length);
                checkFlags(type, flags, PeerWire.ZEROES_KNOWN_FLAGS);
                return new PeerMessage.Zeroes(seq, offset, length, flags);
            }
            case FLUSH:
                return new PeerMessage.Flush(in.readLong());
            case RECV_ACK:
                return new PeerMessage.RecvAck(in.readLong());
            case WRITE_ACK:
                return new PeerMessage.WriteAck(in.readLong());
            case SYNC_ACK:
                return new PeerMessage.SyncAck(in.readLong(), in.readLong());
            case PING:
                return new PeerMessage.Ping(in.readLong());
            case PING_ACK:
                return new PeerMessage.PingAck(in.readLong());
            case SYNC_START: {
                long total = in.readLong();
                checkNonNegative(type, "totalBytes", total);
                boolean full = readBoolean(in, type, "full");
                return new PeerMessage.SyncStart(total, full, in.readLong());
            }
            case SYNC_DONE:
                return new PeerMessage.SyncDone(in.readLong());
            case OUT_OF_SYNC:
                return outOfSync(in, end);
            case DIGEST_REQUEST:
                return digestRequest(in, end);
            case DIGEST_REPLY:
                return digestReply(in, end);
            case INVALIDATE_REQUEST: {
                String reason = PeerStrings.read(in, end, PeerWire.MAX_REASON_BYTES, type, "reason");
                checkConsumed(type, in, end);
                return new PeerMessage.InvalidateRequest(reason);
            }
            case GOODBYE: {
                String reason = PeerStrings.read(in, end, PeerWire.MAX_REASON_BYTES, type, "reason");
                checkConsumed(type, in, end);
                return new PeerMessage.Goodbye(reason);
            }
            default:
                throw new IllegalStateException("no decoder for " + type);
        }
    }

    private static PeerMessage hello(ByteBuf in, int end) {
        PeerMessageType type = PeerMessageType.HELLO;
        int version = in.readUnsignedShort();
        if (version == 0) {
            throw new CorruptedFrameException("HELLO protocol version 0, versions start at 1");
        }
        String resource = PeerStrings.readName(in, end, type, "resource name");
        String node = PeerStrings.readName(in, end, type, "node name");
        int left = end - in.readerIndex();
        if (left < PeerWire.NONCE_LENGTH) {
            throw new CorruptedFrameException("HELLO nonce needs " + PeerWire.NONCE_LENGTH + " bytes, "
                    + left + " left in the payload");
        }
        byte[] nonce = new byte[PeerWire.NONCE_LENGTH];
        in.readBytes(nonce);
        if (version <= PeerWire.PROTOCOL_VERSION) {
            checkConsumed(type, in, end);
        }
        return new PeerMessage.Hello(version, resource, node, nonce);
    }

    private static PeerMessage state(ByteBuf in) {
        int roleCode = in.readUnsignedByte();
        PeerRole role = PeerRole.ofCode(roleCode);
        if (role == null) {
            throw new CorruptedFrameException("STATE role code " + roleCode + ", expected 0 (Secondary) or 1 (Primary)");
        }
        int diskCode = in.readUnsignedByte();
        DiskState disk = DiskState.ofCode(diskCode);
        if (disk == null) {
            throw new CorruptedFrameException("STATE disk state code " + diskCode + ", expected 0 to "
                    + (DiskState.values().length - 1));
        }
        long size = in.readLong();
        checkNonNegative(PeerMessageType.STATE, "size", size);
        long appliedSeq = in.readLong();
        long journalFirstSeq = in.readLong();
        long journalLastSeq = in.readLong();
        long currentGeneration = in.readLong();
        long bitmapGeneration = in.readLong();
        long[] history = new long[PeerWire.STATE_HISTORY_COUNT];
        for (int i = 0; i < history.length; i++) {
            history[i] = in.readLong();
        }
        long outOfSyncBytes = in.readLong();
        checkNonNegative(PeerMessageType.STATE, "outOfSyncBytes", outOfSyncBytes);
        int flags = in.readInt();
        checkFlags(PeerMessageType.STATE, flags, PeerMessage.State.KNOWN_FLAGS);
        return new PeerMessage.State(role, disk, size, appliedSeq, journalFirstSeq, journalLastSeq,
                currentGeneration, bitmapGeneration, history, outOfSyncBytes, flags);
    }

    /**
     * OUT_OF_SYNC: the run count is checked against the limit and against the payload length
     * before the runs are read; order and overlap are the message's checks.
     */
    private static PeerMessage outOfSync(ByteBuf in, int end) {
        PeerMessageType type = PeerMessageType.OUT_OF_SYNC;
        boolean last = readBoolean(in, type, "last");
        int count = in.readUnsignedShort();
        if (count > PeerWire.MAX_OUT_OF_SYNC_RUNS) {
            throw new CorruptedFrameException(type + " of " + count + " runs exceeds the limit of "
                    + PeerWire.MAX_OUT_OF_SYNC_RUNS);
        }
        int left = end - in.readerIndex();
        if (left != count * PeerWire.OUT_OF_SYNC_RUN_LENGTH) {
            throw new CorruptedFrameException(type + " of " + count + " runs needs "
                    + count * PeerWire.OUT_OF_SYNC_RUN_LENGTH + " bytes of runs, the payload has " + left);
        }
        long[] runs = new long[count * 2];
        for (int i = 0; i < runs.length; i++) {
            runs[i] = in.readLong();
        }
        for (int i = 0; i < count; i++) {
            checkNonNegative(type, "run " + i + " offset", runs[2 * i]);
            checkNonNegative(type, "run " + i + " length", runs[2 * i + 1]);
        }
        return new PeerMessage.OutOfSync(runs, last);
    }

    private static PeerMessage digestRequest(ByteBuf in, int end) {
        PeerMessageType type = PeerMessageType.DIGEST_REQUEST;
        long id = in.readLong();
        long offset = in.readLong();
        int length = in.readInt();
        int blockSize = in.readInt();
        int blocks = checkBlocks(type, offset, length, blockSize);
        int digestLength = in.readUnsignedByte();
        if (digestLength < 1 || digestLength > PeerWire.MAX_DIGEST_LENGTH) {
            throw new CorruptedFrameException(type + " digest length " + digestLength + ", must be 1 to "
                    + PeerWire.MAX_DIGEST_LENGTH);
        }
        int left = end - in.readerIndex();
        // blocks <= MAX_DIGEST_BLOCKS and digestLength <= 64: the product fits an int.
        int expected = blocks * digestLength;
        if (left != expected) {
            throw new CorruptedFrameException(type + " digests of " + left + " bytes, expected " + expected
                    + " (" + blocks + " blocks x " + digestLength + ")");
        }
        byte[] digests = new byte[expected];
        in.readBytes(digests);
        return new PeerMessage.DigestRequest(id, offset, length, blockSize, digests);
    }

    private static PeerMessage digestReply(ByteBuf in, int end) {
        PeerMessageType type = PeerMessageType.DIGEST_REPLY;
        long id = in.readLong();
        long offset = in.readLong();
        int length = in.readInt();
        int blockSize = in.readInt();
        int blocks = checkBlocks(type, offset, length, blockSize);
        int left = end - in.readerIndex();
        int expected = (blocks + 7) / 8;
        if (left != expected) {
            throw new CorruptedFrameException(type + " differ bits of " + left + " bytes, expected " + expected
                    + " (" + blocks + " blocks)");
        }
        byte[] differ = new byte[expected];
        in.readBytes(differ);
        return new PeerMessage.DigestReply(id, offset, length, blockSize, differ);
    }

    /**
     * The span of a DIGEST_REQUEST or DIGEST_REPLY, checked before anything is sized by it;
     * returns {@code ceil(length / blockSize)}, at most {@link PeerWire#MAX_DIGEST_BLOCKS}.
     */
    private static int checkBlocks(PeerMessageType type, long offset, int length, int blockSize) {
        if (blockSize < PeerWire.MIN_DIGEST_BLOCK_SIZE || blockSize > PeerWire.MAX_DIGEST_BLOCK_SIZE
                || Integer.bitCount(blockSize) != 1) {
            throw new CorruptedFrameException(type + " block size " + Integer.toUnsignedString(blockSize)
                    + ", must be a power of two from " + PeerWire.MIN_DIGEST_BLOCK_SIZE + " to "
                    + PeerWire.MAX_DIGEST_BLOCK_SIZE);
        }
        if (length <= 0 || length > PeerWire.MAX_DIGEST_SPAN) {
            throw new CorruptedFrameException(type + " length " + Integer.toUnsignedString(length)
                    + ", must be 1 to " + PeerWire.MAX_DIGEST_SPAN);
        }
        checkRange(type, offset, length);
        return (length + blockSize - 1) / blockSize;
    }

    private static boolean readBoolean(ByteBuf in, PeerMessageType type, String what) {
        int v = in.readUnsignedByte();
        if (v > 1) {
            throw new CorruptedFrameException(type + " " + what + " byte " + v + ", must be 0 or 1");
        }
        return v == 1;
    }

    private static PeerMessage data(ByteBuf in, int end) {
        PeerMessageType type = PeerMessageType.DATA;
        long seq = in.readLong();
        long offset = in.readLong();
        int flags = in.readUnsignedShort();
        int length = end - in.readerIndex();
        checkRange(type, offset, length);
        checkFlags(type, flags, PeerWire.DATA_KNOWN_FLAGS);
        return new PeerMessage.Data(seq, offset, flags, in.readRetainedSlice(length));
    }

    private static void checkFlags(PeerMessageType type, int flags, int known) {
        if ((flags & ~known) != 0) {
            throw new CorruptedFrameException(type + " flags 0x" + Integer.toHexString(flags)
                    + " outside the known flags 0x" + Integer.toHexString(known));
        }
    }

    private static void checkNonNegative(PeerMessageType type, String what, long value) {
        if (value < 0) {
            throw new CorruptedFrameException(type + " " + what + " " + Long.toUnsignedString(value)
                    + " exceeds the limit of " + Long.MAX_VALUE);
        }
    }

    private static void checkRange(PeerMessageType type, long offset, long length) {
        checkNonNegative(type, "offset", offset);
        checkNonNegative(type, "length", length);
        if (offset > Long.MAX_VALUE - length) {
            throw new CorruptedFrameException(type + " offset " + offset + " + length " + length
                    + " passes " + Long.MAX_VALUE);
        }
    }

    private static void checkConsumed(PeerMessageType type, ByteBuf in, int end) {
        int left = end - in.readerIndex();
        if (left != 0) {
            throw new CorruptedFrameException(type + " payload has " + left + " bytes after its last field");
        }
    }
}
