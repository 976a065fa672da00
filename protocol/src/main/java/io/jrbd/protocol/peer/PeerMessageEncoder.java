package io.jrbd.protocol.peer;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageEncoder;
import java.util.List;

/**
 * Encodes {@link PeerMessage}s into frames (layouts in {@link PeerWire}), one buffer per
 * message so that two frames never interleave on the socket.
 *
 * <pre>
 * before: PeerMessage.Data(seq, offset, flags, data)
 * after:  composite [ | magic | type | flags | length | seq | offset | flags |  (30 bytes, new) ,
 *                     | data |                                                 (the same bytes, retained) ]
 * </pre>
 *
 * <p>DATA is never copied: its bytes join the frame as a retained slice. The message passed to
 * {@code write} is released once encoded (as {@link MessageToMessageEncoder} does), so a
 * {@code Data} written here is owned by the pipeline from then on. Stateless, so one instance
 * may serve every channel.
 */
@Sharable
public final class PeerMessageEncoder extends MessageToMessageEncoder<PeerMessage> {
    public PeerMessageEncoder() {
        super(PeerMessage.class);
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, PeerMessage msg, List<Object> out) {
        out.add(encode(ctx.alloc(), msg));
    }

    /**
     * The whole frame of {@code msg}. Does not release {@code msg}: for DATA the returned buffer
     * holds its own reference to the data.
     */
    public static ByteBuf encode(ByteBufAllocator alloc, PeerMessage msg) {
        if (msg instanceof PeerMessage.Data data) {
            return encodeData(alloc, data);
        }
        if (msg instanceof PeerMessage.Hello hello) {
            byte[] resource = PeerStrings.nameBytes(hello.resource(), "resource name");
            byte[] node = PeerStrings.nameBytes(hello.node(), "node name");
            int length = 2 + PeerWire.STRING_LENGTH_PREFIX + resource.length
                    + PeerWire.STRING_LENGTH_PREFIX + node.length + PeerWire.NONCE_LENGTH;
            ByteBuf buf = header(alloc, msg.type(), length);
            buf.writeShort(hello.protocolVersion());
            buf.writeShort(resource.length).writeBytes(resource);
            buf.writeShort(node.length).writeBytes(node);
            buf.writeBytes(hello.nonce());
            return buf;
        }
        if (msg instanceof PeerMessage.Goodbye goodbye) {
            return encodeReason(alloc, msg.type(), goodbye.reason());
        }
        if (msg instanceof PeerMessage.InvalidateRequest invalidate) {
            return encodeReason(alloc, msg.type(), invalidate.reason());
        }
        if (msg instanceof PeerMessage.OutOfSync oos) {
            long[] runs = oos.runs();
            ByteBuf buf = header(alloc, msg.type(), PeerWire.OUT_OF_SYNC_FIXED_LENGTH + runs.length * 8);
            buf.writeByte(oos.last() ? 1 : 0);
            buf.writeShort(runs.length / 2);
            for (long v : runs) {
                buf.writeLong(v);
            }
            return buf;
        }
        if (msg instanceof PeerMessage.DigestRequest r) {
            byte[] digests = r.digests();
            ByteBuf buf = header(alloc, msg.type(), PeerWire.DIGEST_REQUEST_FIXED_LENGTH + digests.length);
            buf.writeLong(r.id()).writeLong(r.offset()).writeInt(r.length()).writeInt(r.blockSize());
            buf.writeByte(r.digestLength());
            buf.writeBytes(digests);
            return buf;
        }
        if (msg instanceof PeerMessage.DigestReply r) {
            byte[] differ = r.differ();
            ByteBuf buf = header(alloc, msg.type(), PeerWire.DIGEST_REPLY_FIXED_LENGTH + differ.length);
            buf.writeLong(r.id()).writeLong(r.offset()).writeInt(r.length()).writeInt(r.blockSize());
            buf.writeBytes(differ);
            return buf;
        }
        ByteBuf buf = header(alloc, msg.type(), PeerWire.fixedPayloadLength(msg.type()));
        if (msg instanceof PeerMessage.Auth auth) {
            buf.writeBytes(auth.hmac());
        } else if (msg instanceof PeerMessage.AuthOk) {
            // empty payload
        } else if (msg instanceof PeerMessage.State s) {
            buf.writeByte(s.role().code());
            buf.writeByte(s.disk().code());
            buf.writeLong(s.size());
            buf.writeLong(s.appliedSeq());
            buf.writeLong(s.journalFirstSeq());
            buf.writeLong(s.journalLastSeq());
            buf.writeLong(s.currentGeneration());
            buf.writeLong(s.bitmapGeneration());
            for (int i = 0; i < PeerWire.STATE_HISTORY_COUNT; i++) {
                buf.writeLong(s.history(i));
            }
            buf.writeLong(s.outOfSyncBytes());
            buf.writeInt(s.flags());
        } else if (msg instanceof PeerMessage.Trim t) {
            buf.writeLong(t.seq()).writeLong(t.offset()).writeLong(t.length());
        } else if (msg instanceof PeerMessage.Zeroes z) {
            buf.writeLong(z.seq()).writeLong(z.offset()).writeLong(z.length()).writeShort(z.flags());
        } else if (msg instanceof PeerMessage.Flush f) {
            buf.writeLong(f.seq());
        } else if (msg instanceof PeerMessage.RecvAck a) {
            buf.writeLong(a.seq());
        } else if (msg instanceof PeerMessage.WriteAck a) {
            buf.writeLong(a.seq());
        } else if (msg instanceof PeerMessage.SyncAck a) {
            buf.writeLong(a.seq());
            buf.writeLong(a.resyncBytes());
        } else if (msg instanceof PeerMessage.Ping p) {
            buf.writeLong(p.nonce());
        } else if (msg instanceof PeerMessage.PingAck p) {
            buf.writeLong(p.nonce());
        } else if (msg instanceof PeerMessage.SyncStart s) {
            buf.writeLong(s.totalBytes()).writeByte(s.full() ? 1 : 0).writeLong(s.syncGeneration());
        } else if (msg instanceof PeerMessage.SyncDone s) {
            buf.writeLong(s.seq());
        } else {
            buf.release();
            throw new IllegalStateException("no encoder for " + msg.type());
        }
        return buf;
    }

    private static ByteBuf encodeReason(ByteBufAllocator alloc, PeerMessageType type, String reason) {
        byte[] bytes = PeerStrings.utf8(reason, type + " reason");
        ByteBuf buf = header(alloc, type, PeerWire.STRING_LENGTH_PREFIX + bytes.length);
        buf.writeShort(bytes.length).writeBytes(bytes);
        return buf;
    }

    private static ByteBuf encodeData(ByteBufAllocator alloc, PeerMessage.Data data) {
        ByteBuf content = data.content();
        int length = content.readableBytes();
        ByteBuf header = header(alloc, PeerMessageType.DATA, PeerWire.DATA_FIXED_LENGTH + length);
        header.writeLong(data.seq()).writeLong(data.offset()).writeShort(data.flags());
        if (length == 0) {
            return header;
        }
        CompositeByteBuf frame = alloc.compositeBuffer(2);
        frame.addComponent(true, header);
        frame.addComponent(true, content.retainedSlice());
        return frame;
    }

    /** A buffer with the frame header written, sized for the whole frame (for DATA: header and fixed part). */
    private static ByteBuf header(ByteBufAllocator alloc, PeerMessageType type, int payloadLength) {
        int capacity = PeerWire.HEADER_LENGTH + (type == PeerMessageType.DATA ? PeerWire.DATA_FIXED_LENGTH : payloadLength);
        ByteBuf buf = alloc.ioBuffer(capacity, capacity);
        buf.writeInt(PeerWire.MAGIC);
        buf.writeShort(type.code());
        buf.writeShort(0);
        buf.writeInt(payloadLength);
        return buf;
    }
}
