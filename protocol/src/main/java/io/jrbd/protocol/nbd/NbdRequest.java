package io.jrbd.protocol.nbd;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;
import io.netty.buffer.Unpooled;

/**
 * One transmission request. {@link #content()} is the WRITE payload (empty for every other
 * command); the receiver owns it and releases it. {@link #payloadDropped()} marks a WRITE whose
 * payload was longer than the decoder accepts: its bytes were skipped, not stored, and the
 * server must answer it with an error.
 */
public final class NbdRequest extends DefaultByteBufHolder {
    private final int flags;
    private final int type;
    private final long cookie;
    private final long offset;
    private final long length;
    private final boolean payloadDropped;

    public NbdRequest(int flags, int type, long cookie, long offset, long length, ByteBuf payload, boolean payloadDropped) {
        super(payload);
        this.flags = flags;
        this.type = type;
        this.cookie = cookie;
        this.offset = offset;
        this.length = length;
        this.payloadDropped = payloadDropped;
    }

    public static NbdRequest withoutPayload(int flags, int type, long cookie, long offset, long length) {
        return new NbdRequest(flags, type, cookie, offset, length, Unpooled.EMPTY_BUFFER, false);
    }

    public int flags() {
        return flags;
    }

    public boolean hasFlag(int flag) {
        return (flags & flag) != 0;
    }

    public int type() {
        return type;
    }

    public long cookie() {
        return cookie;
    }

    /** Unsigned on the wire; a value with the top bit set is a (negative) offset past any export. */
    public long offset() {
        return offset;
    }

    /** Unsigned 32-bit length, widened. */
    public long length() {
        return length;
    }

    public boolean payloadDropped() {
        return payloadDropped;
    }

    @Override
    public String toString() {
        return NbdCommand.name(type) + " cookie=" + Long.toUnsignedString(cookie, 16) + " offset="
                + Long.toUnsignedString(offset) + " length=" + length + " flags=0x" + Integer.toHexString(flags);
    }
}
