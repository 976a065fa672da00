package io.jrbd.protocol.peer;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;
import java.util.Arrays;

/**
 * One message of the peer protocol. Layouts are in {@link PeerWire}.
 *
 * <p>Every message but {@link Data} is an immutable value. {@link Data} holds the written bytes
 * in a {@link ByteBuf} and is reference counted: whoever holds a {@code Data} releases it (the
 * decoder hands out a retained slice of its input; the encoder releases what it was given).
 * {@link io.netty.util.ReferenceCountUtil#release(Object)} is safe on every message.
 *
 * <p>Constructors check every field against the wire limits and throw
 * {@link IllegalArgumentException} naming the value and the limit, so the encoder can never
 * write a frame the decoder would reject.
 */
public sealed interface PeerMessage {
    PeerMessageType type();

    /** First message of both sides: who I am, which resource, and the nonce the other side must prove over. */
    record Hello(int protocolVersion, String resource, String node, byte[] nonce) implements PeerMessage {
        public Hello {
            if (protocolVersion < 1 || protocolVersion > 0xFFFF) {
                throw new IllegalArgumentException("protocol version " + protocolVersion + " outside 1..65535");
            }
            PeerStrings.nameBytes(resource, "resource name");
            PeerStrings.nameBytes(node, "node name");
            nonce = checkedCopy(nonce, PeerWire.NONCE_LENGTH, "HELLO nonce");
        }

        /** A HELLO of the {@linkplain PeerWire#PROTOCOL_VERSION current version}. */
        public Hello(String resource, String node, byte[] nonce) {
            this(PeerWire.PROTOCOL_VERSION, resource, node, nonce);
        }

        @Override
        public PeerMessageType type() {
            return PeerMessageType.HELLO;
        }

        /** A copy: the message stays immutable. */
        @Override
        public byte[] nonce() {
            return nonce.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Hello h && h.protocolVersion == protocolVersion && h.resource.equals(resource)
                    && h.node.equals(node) && Arrays.equals(h.nonce, nonce);
        }

        @Override
        public int hashCode() {
            return ((protocolVersion * 31 + resource.hashCode()) * 31 + node.hashCode()) * 31 + Arrays.hashCode(nonce);
        }

        @Override
        public String toString() {
            return "HELLO version=" + protocolVersion + " resource=" + resource + " node=" + node;
        }
    }

    /** Proof of the shared secret over the other side's nonce; see {@link PeerAuth#proof}. */
    record Auth(byte[] hmac) implements PeerMessage {
        public Auth {
            hmac = checkedCopy(hmac, PeerWire.HMAC_LENGTH, "AUTH hmac");
        }

        @Override
        public PeerMessageType type() {
            return PeerMessageType.AUTH;
        }

        /** A copy: the message stays immutable. */
        @Override
        public byte[] hmac() {
            return hmac.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Auth a && Arrays.equals(a.hmac, hmac);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(hmac);
        }

        /** Never prints the proof. */
        @Override
        public String toString() {
            return "AUTH";
        }
    }

    /** The other side's AUTH was verified. */
    record AuthOk() implements PeerMessage {
        @Override
        public PeerMessageType type() {
            return PeerMessageType.AUTH_OK;
        }

        @Override
        public String toString() {
            return "AUTH_OK";
        }
    }

    /**
     * A node's view of itself for one resource.
     *
     * @param size              the resource size in bytes
     * @param appliedSeq        the highest write sequence durably applied
     * @param journalFirstSeq   the oldest sequence still in the journal
     * @param journalLastSeq    the newest sequence in the journal
     * @param currentGeneration the current generation identifier
     * @param flags             32 bits the engine defines; the codec passes them through
     */
    record State(PeerRole role, DiskState disk, long size, long appliedSeq, long journalFirstSeq,
                 long journalLastSeq, long currentGeneration, int flags) implements PeerMessage {
        public State {
            if (role == null || disk == null) {
                throw new IllegalArgumentException("STATE role " + role + " and disk " + disk + " must not be null");
            }
            checkNonNegative(size, "STATE size");
        }

        @Override
        public PeerMessageType type() {
            return PeerMessageType.STATE;
        }

        @Override
        public String toString() {
            return "STATE role=" + role + " disk=" + disk + " size=" + size + " appliedSeq=" + appliedSeq
                    + " journal=" + journalFirstSeq + ".." + journalLastSeq
                    + " current=" + Long.toHexString(currentGeneration) + " flags=0x" + Integer.toHexString(flags);
        }
    }

    /**
     * One replicated write (or one block of resync data): {@link #content()} is written at
     * {@link #offset()}. Reference counted; see the interface comment.
     */
    final class Data extends DefaultByteBufHolder implements PeerMessage {
        private final long seq;
        private final long offset;
        private final int flags;

        /**
         * Takes ownership of {@code data} once constructed; if this throws, the caller still owns it.
         *
         * @param flags {@link PeerWire#DATA_FUA}, {@link PeerWire#DATA_RESYNC}
         */
        public Data(long seq, long offset, int flags, ByteBuf data) {
            super(check(offset, flags, data));
            this.seq = seq;
            this.offset = offset;
            this.flags = flags;
        }

        private static ByteBuf check(long offset, int flags, ByteBuf data) {
            if (data == null) {
                throw new IllegalArgumentException("DATA buffer is null");
            }
            if ((flags & ~PeerWire.DATA_KNOWN_FLAGS) != 0) {
                throw new IllegalArgumentException("DATA flags 0x" + Integer.toHexString(flags)
                        + " outside the known flags 0x" + Integer.toHexString(PeerWire.DATA_KNOWN_FLAGS));
            }
            int length = data.readableBytes();
            if (length > PeerWire.MAX_DATA_LENGTH) {
                throw new IllegalArgumentException("DATA of " + length + " bytes exceeds the limit of "
                        + PeerWire.MAX_DATA_LENGTH);
            }
            checkRange(offset, length, "DATA");
            return data;
        }

        @Override
        public PeerMessageType type() {
            return PeerMessageType.DATA;
        }

        public long seq() {
            return seq;
        }

        public long offset() {
            return offset;
        }

        public int flags() {
            return flags;
        }

        public boolean hasFlag(int flag) {
            return (flags & flag) != 0;
        }

        /** The number of bytes written, {@code content().readableBytes()}. */
        public int length() {
            return content().readableBytes();
        }

        @Override
        public Data replace(ByteBuf content) {
            return new Data(seq, offset, flags, content);
        }

        @Override
        public Data copy() {
            return (Data) super.copy();
        }

        @Override
        public Data duplicate() {
            return (Data) super.duplicate();
        }

        @Override
        public Data retainedDuplicate() {
            return (Data) super.retainedDuplicate();
        }

        @Override
        public Data retain() {
            super.retain();
            return this;
        }

        @Override
        public Data retain(int increment) {
            super.retain(increment);
            return this;
        }

        @Override
        public Data touch() {
            super.touch();
            return this;
        }

        @Override
        public Data touch(Object hint) {
            super.touch(hint);
            return this;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Data d && d.seq == seq && d.offset == offset && d.flags == flags && super.equals(o);
        }

        @Override
        public int hashCode() {
            return (Long.hashCode(seq) * 31 + Long.hashCode(offset)) * 31 + flags;
        }

        /** Never dumps the data. */
        @Override
        public String toString() {
            return "DATA seq=" + seq + " offset=" + offset + " length=" + content().readableBytes()
                    + " flags=0x" + Integer.toHexString(flags);
        }
    }

    /** Deallocate (discard) a range on the peer. */
    record Trim(long seq, long offset, long length) implements PeerMessage {
        public Trim {
            checkRange(offset, length, "TRIM");
        }

        @Override
        public PeerMessageType type() {
            return PeerMessageType.TRIM;
        }
    }

    /**
     * Write zeroes over a range on the peer, as an operation rather than as zero data.
     *
     * @param flags {@link PeerWire#ZEROES_NO_HOLE}, {@link PeerWire#ZEROES_MAY_TRIM}
     */
    record Zeroes(long seq, long offset, long length, int flags) implements PeerMessage {
        public Zeroes {
            checkRange(offset, length, "ZEROES");
            if ((flags & ~PeerWire.ZEROES_KNOWN_FLAGS) != 0) {
                throw new IllegalArgumentException("ZEROES flags 0x" + Integer.toHexString(flags)
                        + " outside the known flags 0x" + Integer.toHexString(PeerWire.ZEROES_KNOWN_FLAGS));
            }
        }

        public boolean hasFlag(int flag) {
            return (flags & flag) != 0;
        }

        @Override
        public PeerMessageType type() {
            return PeerMessageType.ZEROES;
        }
    }

    /** Every write before {@code seq} must be durable before the flush is acknowledged. */
    record Flush(long seq) implements PeerMessage {
        @Override
        public PeerMessageType type() {
            return PeerMessageType.FLUSH;
        }
    }

    /** Cumulative: every write up to and including {@code seq} was received. */
    record RecvAck(long seq) implements PeerMessage {
        @Override
        public PeerMessageType type() {
            return PeerMessageType.RECV_ACK;
        }
    }

    /** Cumulative: every write up to and including {@code seq} was written. */
    record WriteAck(long seq) implements PeerMessage {
        @Override
        public PeerMessageType type() {
            return PeerMessageType.WRITE_ACK;
        }
    }

    /** Cumulative: every write up to and including {@code seq} was made durable. */
    record SyncAck(long seq) implements PeerMessage {
        @Override
        public PeerMessageType type() {
            return PeerMessageType.SYNC_ACK;
        }
    }

    /** Liveness probe; the other side answers with a {@link PingAck} carrying the same nonce. */
    record Ping(long nonce) implements PeerMessage {
        @Override
        public PeerMessageType type() {
            return PeerMessageType.PING;
        }
    }

    record PingAck(long nonce) implements PeerMessage {
        @Override
        public PeerMessageType type() {
            return PeerMessageType.PING_ACK;
        }
    }

    /** A full resync of {@code totalBytes} begins; the receiver becomes Inconsistent. */
    record SyncStart(long totalBytes) implements PeerMessage {
        public SyncStart {
            checkNonNegative(totalBytes, "SYNC_START totalBytes");
        }

        @Override
        public PeerMessageType type() {
            return PeerMessageType.SYNC_START;
        }
    }

    /** Everything up to {@code seq} is synced; the receiver may become UpToDate once it is durable. */
    record SyncDone(long seq) implements PeerMessage {
        @Override
        public PeerMessageType type() {
            return PeerMessageType.SYNC_DONE;
        }
    }

    /** The sender is closing the link, and why; valid at any time, also before authentication. */
    record Goodbye(String reason) implements PeerMessage {
        public Goodbye {
            if (reason == null) {
                throw new IllegalArgumentException("GOODBYE reason is null");
            }
            int n = PeerStrings.utf8(reason, "GOODBYE reason").length;
            if (n > PeerWire.MAX_REASON_BYTES) {
                throw new IllegalArgumentException("GOODBYE reason of " + n + " bytes exceeds the limit of "
                        + PeerWire.MAX_REASON_BYTES + "; use Goodbye.truncating");
            }
        }

        /** A GOODBYE with {@code reason} cut to the limit at a character boundary (for exception messages). */
        public static Goodbye truncating(String reason) {
            return new Goodbye(PeerStrings.truncate(String.valueOf(reason), PeerWire.MAX_REASON_BYTES));
        }

        @Override
        public PeerMessageType type() {
            return PeerMessageType.GOODBYE;
        }
    }

    private static byte[] checkedCopy(byte[] bytes, int length, String what) {
        if (bytes == null || bytes.length != length) {
            throw new IllegalArgumentException(what + " is " + (bytes == null ? "null" : bytes.length + " bytes")
                    + ", must be exactly " + length);
        }
        return bytes.clone();
    }

    private static void checkNonNegative(long value, String what) {
        if (value < 0) {
            throw new IllegalArgumentException(what + " " + Long.toUnsignedString(value)
                    + " exceeds the limit of " + Long.MAX_VALUE);
        }
    }

    private static void checkRange(long offset, long length, String what) {
        checkNonNegative(offset, what + " offset");
        checkNonNegative(length, what + " length");
        if (offset > Long.MAX_VALUE - length) {
            throw new IllegalArgumentException(what + " offset " + offset + " + length " + length
                    + " passes " + Long.MAX_VALUE);
        }
    }
}
