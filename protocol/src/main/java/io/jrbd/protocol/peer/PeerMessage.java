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
     * A node's view of itself for one resource: sent once the link is authenticated, and again
     * whenever it changes. What the connect decision (who syncs from whom, split brain) needs.
     *
     * @param size              the resource size in bytes
     * @param appliedSeq        the highest write sequence durably applied
     * @param journalFirstSeq   the oldest sequence still in the journal
     * @param journalLastSeq    the newest sequence in the journal
     * @param currentGeneration the current generation identifier
     * @param bitmapGeneration  the generation the bitmap counts changes from; 0 when none
     * @param history           the {@value PeerWire#STATE_HISTORY_COUNT} previous generations, newest first
     * @param outOfSyncBytes    the bytes this node's bitmap marks as changed since {@code bitmapGeneration}
     * @param flags             {@link #FLAG_CRASHED_PRIMARY}, {@link #FLAG_DISCARD_MY_DATA},
     *                          {@link #FLAG_PRIMARY_AT_SPLIT}, {@link #FLAG_JUST_CREATED}
     */
    record State(PeerRole role, DiskState disk, long size, long appliedSeq, long journalFirstSeq,
                 long journalLastSeq, long currentGeneration, long bitmapGeneration, long[] history,
                 long outOfSyncBytes, int flags) implements PeerMessage {
        /** The node crashed while Primary and has not resynced since. */
        public static final int FLAG_CRASHED_PRIMARY = 1;
        /** The node connects with --discard-my-data: it gives up its data if the two disagree. */
        public static final int FLAG_DISCARD_MY_DATA = 2;
        /** The node was Primary when it lost its peer: the "older primary" for discard-younger-primary. */
        public static final int FLAG_PRIMARY_AT_SPLIT = 4;
        /** The metadata is fresh: every generation is zero. */
        public static final int FLAG_JUST_CREATED = 8;
        /**
         * The Primary is Ahead (on-congestion pull-ahead): it stopped shipping writes and tracks
         * them in its bitmap; the receiving Secondary is Behind and its data Outdated until the
         * resync that follows.
         */
        public static final int FLAG_AHEAD = 16;
        public static final int KNOWN_FLAGS = FLAG_CRASHED_PRIMARY | FLAG_DISCARD_MY_DATA | FLAG_PRIMARY_AT_SPLIT
                | FLAG_JUST_CREATED | FLAG_AHEAD;

        public State {
            if (role == null || disk == null) {
                throw new IllegalArgumentException("STATE role " + role + " and disk " + disk + " must not be null");
            }
            checkNonNegative(size, "STATE size");
            if (history == null || history.length != PeerWire.STATE_HISTORY_COUNT) {
                throw new IllegalArgumentException("STATE history is "
                        + (history == null ? "null" : history.length + " generations")
                        + ", must be exactly " + PeerWire.STATE_HISTORY_COUNT);
            }
            history = history.clone();
            checkNonNegative(outOfSyncBytes, "STATE outOfSyncBytes");
            if ((flags & ~KNOWN_FLAGS) != 0) {
                throw new IllegalArgumentException("STATE flags 0x" + Integer.toHexString(flags)
                        + " outside the known flags 0x" + Integer.toHexString(KNOWN_FLAGS));
            }
            if ((flags & FLAG_JUST_CREATED) != 0 && (currentGeneration != 0 || bitmapGeneration != 0
                    || history[0] != 0 || history[1] != 0 || history[2] != 0 || history[3] != 0)) {
                throw new IllegalArgumentException("STATE flag JUST_CREATED with generations "
                        + generations(currentGeneration, bitmapGeneration, history) + ", must all be zero");
            }
        }

        @Override
        public PeerMessageType type() {
            return PeerMessageType.STATE;
        }

        /** A copy, newest first: the message stays immutable. */
        @Override
        public long[] history() {
            return history.clone();
        }

        /** The {@code i}th previous generation, 0 the newest. */
        public long history(int i) {
            return history[i];
        }

        public boolean hasFlag(int flag) {
            return (flags & flag) != 0;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof State s && s.role == role && s.disk == disk && s.size == size
                    && s.appliedSeq == appliedSeq && s.journalFirstSeq == journalFirstSeq
                    && s.journalLastSeq == journalLastSeq && s.currentGeneration == currentGeneration
                    && s.bitmapGeneration == bitmapGeneration && Arrays.equals(s.history, history)
                    && s.outOfSyncBytes == outOfSyncBytes && s.flags == flags;
        }

        @Override
        public int hashCode() {
            int h = role.hashCode() * 31 + disk.hashCode();
            for (long v : new long[] {size, appliedSeq, journalFirstSeq, journalLastSeq, currentGeneration,
                    bitmapGeneration, outOfSyncBytes}) {
                h = h * 31 + Long.hashCode(v);
            }
            return (h * 31 + Arrays.hashCode(history)) * 31 + flags;
        }

        /** Generations as DRBD prints them: {@code CUR:BM:H1:H2:H3:H4}, 16 hex digits each. */
        @Override
        public String toString() {
            return "STATE role=" + role + " disk=" + disk + " size=" + size + " appliedSeq=" + appliedSeq
                    + " journal=" + journalFirstSeq + ".." + journalLastSeq
                    + " generations=" + generations(currentGeneration, bitmapGeneration, history)
                    + " outOfSync=" + outOfSyncBytes + " flags=0x" + Integer.toHexString(flags);
        }

        private static String generations(long current, long bitmap, long[] history) {
            StringBuilder b = new StringBuilder(String.format("%016X:%016X", current, bitmap));
            for (long h : history) {
                b.append(String.format(":%016X", h));
            }
            return b.toString();
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

    /**
     * Cumulative: every write up to and including {@code seq} was made durable, and so were the
     * first {@code resyncBytes} bytes of resync data of the current resync, counted in the
     * order they were sent since its SYNC_START (0 when none).
     */
    record SyncAck(long seq, long resyncBytes) implements PeerMessage {
        public SyncAck {
            checkNonNegative(resyncBytes, "SYNC_ACK resyncBytes");
        }

        /** An acknowledgement of writes only. */
        public SyncAck(long seq) {
            this(seq, 0);
        }

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

    /**
     * A resync of {@code totalBytes} begins; the receiver becomes Inconsistent.
     *
     * @param full           true: every block is sent; false: only the blocks the bitmaps mark
     * @param syncGeneration the generation the source is syncing, which the target records; may be 0
     */
    record SyncStart(long totalBytes, boolean full, long syncGeneration) implements PeerMessage {
        public SyncStart {
            checkNonNegative(totalBytes, "SYNC_START totalBytes");
        }

        @Override
        public PeerMessageType type() {
            return PeerMessageType.SYNC_START;
        }

        @Override
        public String toString() {
            return "SYNC_START totalBytes=" + totalBytes + (full ? " full" : " bitmap")
                    + " syncGeneration=" + String.format("%016X", syncGeneration);
        }
    }

    /** Everything up to {@code seq} is synced; the receiver may become UpToDate once it is durable. */
    record SyncDone(long seq) implements PeerMessage {
        @Override
        public PeerMessageType type() {
            return PeerMessageType.SYNC_DONE;
        }
    }

    /**
     * Byte ranges the sender marks out of sync: at connect a SyncTarget tells the source which
     * blocks it changed (the bitmap exchange, ended by a message with {@code last} set); online
     * verify marks the blocks that differ on the peer.
     *
     * @param runs flattened (offset, length) pairs: sorted by offset, non-overlapping (they may
     *             touch), every length &gt; 0, at most {@value PeerWire#MAX_OUT_OF_SYNC_RUNS} pairs
     * @param last the end of the exchange; a message with no runs must have it set
     */
    record OutOfSync(long[] runs, boolean last) implements PeerMessage {
        public OutOfSync {
            runs = checkRuns(runs, last);
        }

        @Override
        public PeerMessageType type() {
            return PeerMessageType.OUT_OF_SYNC;
        }

        /** A copy of the flattened pairs: the message stays immutable. */
        @Override
        public long[] runs() {
            return runs.clone();
        }

        /** The number of (offset, length) pairs. */
        public int runCount() {
            return runs.length / 2;
        }

        public long offset(int run) {
            return runs[checkIndex(run, runCount(), "OUT_OF_SYNC run") * 2];
        }

        public long length(int run) {
            return runs[checkIndex(run, runCount(), "OUT_OF_SYNC run") * 2 + 1];
        }

        /** The sum of the run lengths. */
        public long totalBytes() {
            long n = 0;
            for (int i = 1; i < runs.length; i += 2) {
                n += runs[i];
            }
            return n;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof OutOfSync m && m.last == last && Arrays.equals(m.runs, runs);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(runs) * 31 + Boolean.hashCode(last);
        }

        /** Counts and bounds, never every run. */
        @Override
        public String toString() {
            String span = runs.length == 0 ? "" : " span=" + runs[0] + ".." + (runs[runs.length - 2] + runs[runs.length - 1]);
            return "OUT_OF_SYNC runs=" + runCount() + " bytes=" + totalBytes() + span + (last ? " last" : "");
        }

        private static long[] checkRuns(long[] runs, boolean last) {
            if (runs == null) {
                throw new IllegalArgumentException("OUT_OF_SYNC runs is null");
            }
            if ((runs.length & 1) != 0) {
                throw new IllegalArgumentException("OUT_OF_SYNC runs has " + runs.length
                        + " values, must be (offset, length) pairs");
            }
            int count = runs.length / 2;
            if (count > PeerWire.MAX_OUT_OF_SYNC_RUNS) {
                throw new IllegalArgumentException("OUT_OF_SYNC of " + count + " runs exceeds the limit of "
                        + PeerWire.MAX_OUT_OF_SYNC_RUNS);
            }
            if (count == 0 && !last) {
                throw new IllegalArgumentException("OUT_OF_SYNC with no runs must be the last");
            }
            runs = runs.clone();
            long end = 0;
            for (int i = 0; i < count; i++) {
                long offset = runs[2 * i];
                long length = runs[2 * i + 1];
                String what = "OUT_OF_SYNC run " + i;
                if (length <= 0) {
                    throw new IllegalArgumentException(what + " at offset " + offset + " has length " + length
                            + ", must be > 0");
                }
                checkRange(offset, length, what);
                if (offset < end) {
                    throw new IllegalArgumentException(what + " at offset " + offset + " starts before the end "
                            + end + " of run " + (i - 1) + ": runs must be sorted and must not overlap");
                }
                end = offset + length;
            }
            return runs;
        }
    }

    /**
     * "Here are my digests of each {@code blockSize} block of {@code [offset, offset + length)}":
     * online verify and checksum-based resync. The receiver digests the same blocks with the same
     * algorithm and answers with a {@link DigestReply} of the same {@code id}.
     *
     * @param length  1 to {@value PeerWire#MAX_DIGEST_SPAN}; a multiple of {@code blockSize}
     *                except at the end of the device, where the last block may be partial
     * @param digests {@code blocks() * digestLength()} bytes, block after block; the digest
     *                length (1 to {@value PeerWire#MAX_DIGEST_LENGTH}) is what divides evenly
     */
    record DigestRequest(long id, long offset, int length, int blockSize, byte[] digests) implements PeerMessage {
        public DigestRequest {
            int blocks = checkBlocks(offset, length, blockSize, "DIGEST_REQUEST");
            if (digests == null) {
                throw new IllegalArgumentException("DIGEST_REQUEST digests is null");
            }
            if (digests.length % blocks != 0 || digests.length / blocks < 1
                    || digests.length / blocks > PeerWire.MAX_DIGEST_LENGTH) {
                throw new IllegalArgumentException("DIGEST_REQUEST digests of " + digests.length + " bytes for "
                        + blocks + " blocks, must be " + blocks + " x a digest length of 1 to "
                        + PeerWire.MAX_DIGEST_LENGTH);
            }
            digests = digests.clone();
        }

        @Override
        public PeerMessageType type() {
            return PeerMessageType.DIGEST_REQUEST;
        }

        /** The number of blocks: {@code ceil(length / blockSize)}. */
        public int blocks() {
            return blockCount(length, blockSize);
        }

        /** The bytes of one block's digest, 1 to {@value PeerWire#MAX_DIGEST_LENGTH}. */
        public int digestLength() {
            return digests.length / blocks();
        }

        /** A copy of every digest, block after block: the message stays immutable. */
        @Override
        public byte[] digests() {
            return digests.clone();
        }

        /** A copy of the digest of block {@code block}, 0 the block at {@code offset}. */
        public byte[] digest(int block) {
            int n = digestLength();
            int from = checkIndex(block, blocks(), "DIGEST_REQUEST block") * n;
            return Arrays.copyOfRange(digests, from, from + n);
        }

        /** True if block {@code block}'s digest equals {@code digest}, without copying. */
        public boolean digestEquals(int block, byte[] digest) {
            int n = digestLength();
            int from = checkIndex(block, blocks(), "DIGEST_REQUEST block") * n;
            return Arrays.equals(digests, from, from + n, digest, 0, digest.length);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof DigestRequest r && r.id == id && r.offset == offset && r.length == length
                    && r.blockSize == blockSize && Arrays.equals(r.digests, digests);
        }

        @Override
        public int hashCode() {
            return (((Long.hashCode(id) * 31 + Long.hashCode(offset)) * 31 + length) * 31 + blockSize) * 31
                    + Arrays.hashCode(digests);
        }

        /** Never dumps the digests. */
        @Override
        public String toString() {
            return "DIGEST_REQUEST id=" + id + " offset=" + offset + " length=" + length + " blockSize=" + blockSize
                    + " blocks=" + blocks() + " digestLength=" + digestLength();
        }
    }

    /**
     * The answer to the {@link DigestRequest} of the same {@code id}: one bit per block, set
     * where the receiver's block differs.
     *
     * @param differ {@code ceil(blocks / 8)} bytes; bit {@code i % 8} (LSB first) of byte
     *               {@code i / 8} is block {@code i}; bits past the last block are 0
     */
    record DigestReply(long id, long offset, int length, int blockSize, byte[] differ) implements PeerMessage {
        public DigestReply {
            int blocks = checkBlocks(offset, length, blockSize, "DIGEST_REPLY");
            int bytes = (blocks + 7) / 8;
            if (differ == null || differ.length != bytes) {
                throw new IllegalArgumentException("DIGEST_REPLY differ is "
                        + (differ == null ? "null" : differ.length + " bytes") + ", must be exactly " + bytes
                        + " for " + blocks + " blocks");
            }
            int unused = differ[bytes - 1] & 0xFF & ~((1 << (blocks - (bytes - 1) * 8)) - 1);
            if (unused != 0) {
                throw new IllegalArgumentException("DIGEST_REPLY differ has bits 0x" + Integer.toHexString(unused)
                        + " set past block " + (blocks - 1) + " in its last byte, must be 0");
            }
            differ = differ.clone();
        }

        /** A reply with bit {@code i} set for every {@code i} in {@code differing}. */
        public static DigestReply of(long id, long offset, int length, int blockSize, java.util.BitSet differing) {
            int blocks = checkBlocks(offset, length, blockSize, "DIGEST_REPLY");
            if (differing.length() > blocks) {
                throw new IllegalArgumentException("DIGEST_REPLY block " + (differing.length() - 1)
                        + " marked differing, outside 0.." + (blocks - 1));
            }
            byte[] bits = new byte[(blocks + 7) / 8];
            byte[] set = differing.toByteArray();
            System.arraycopy(set, 0, bits, 0, Math.min(set.length, bits.length));
            return new DigestReply(id, offset, length, blockSize, bits);
        }

        @Override
        public PeerMessageType type() {
            return PeerMessageType.DIGEST_REPLY;
        }

        /** The number of blocks: {@code ceil(length / blockSize)}. */
        public int blocks() {
            return blockCount(length, blockSize);
        }

        /** A copy of the bits: the message stays immutable. */
        @Override
        public byte[] differ() {
            return differ.clone();
        }

        /** True if block {@code block} (0 the block at {@code offset}) differs on the receiver. */
        public boolean differs(int block) {
            checkIndex(block, blocks(), "DIGEST_REPLY block");
            return (differ[block >>> 3] & (1 << (block & 7))) != 0;
        }

        /** How many blocks differ. */
        public int differingBlocks() {
            int n = 0;
            for (byte b : differ) {
                n += Integer.bitCount(b & 0xFF);
            }
            return n;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof DigestReply r && r.id == id && r.offset == offset && r.length == length
                    && r.blockSize == blockSize && Arrays.equals(r.differ, differ);
        }

        @Override
        public int hashCode() {
            return (((Long.hashCode(id) * 31 + Long.hashCode(offset)) * 31 + length) * 31 + blockSize) * 31
                    + Arrays.hashCode(differ);
        }

        @Override
        public String toString() {
            return "DIGEST_REPLY id=" + id + " offset=" + offset + " length=" + length + " blockSize=" + blockSize
                    + " differing=" + differingBlocks() + "/" + blocks();
        }
    }

    /** "Discard your data; take a full sync from me" (jrbdadm invalidate-remote), and why. */
    record InvalidateRequest(String reason) implements PeerMessage {
        public InvalidateRequest {
            checkReason(reason, "INVALIDATE_REQUEST", "InvalidateRequest");
        }

        /** An INVALIDATE_REQUEST with {@code reason} cut to the limit at a character boundary. */
        public static InvalidateRequest truncating(String reason) {
            return new InvalidateRequest(PeerStrings.truncate(String.valueOf(reason), PeerWire.MAX_REASON_BYTES));
        }

        @Override
        public PeerMessageType type() {
            return PeerMessageType.INVALIDATE_REQUEST;
        }
    }

    /** The sender is closing the link, and why; valid at any time, also before authentication. */
    record Goodbye(String reason) implements PeerMessage {
        public Goodbye {
            checkReason(reason, "GOODBYE", "Goodbye");
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

    private static void checkReason(String reason, String what, String recordName) {
        if (reason == null) {
            throw new IllegalArgumentException(what + " reason is null");
        }
        int n = PeerStrings.utf8(reason, what + " reason").length;
        if (n > PeerWire.MAX_REASON_BYTES) {
            throw new IllegalArgumentException(what + " reason of " + n + " bytes exceeds the limit of "
                    + PeerWire.MAX_REASON_BYTES + "; use " + recordName + ".truncating");
        }
    }

    /** ceil(length / blockSize) for values {@link #checkBlocks} accepted. */
    private static int blockCount(int length, int blockSize) {
        return (int) (((long) length + blockSize - 1) / blockSize);
    }

    /**
     * Checks the span of a DIGEST_REQUEST or DIGEST_REPLY: a power-of-two block size in range,
     * a length of 1 to {@link PeerWire#MAX_DIGEST_SPAN}, an offset range inside a long.
     * Returns the number of blocks.
     */
    private static int checkBlocks(long offset, int length, int blockSize, String what) {
        if (blockSize < PeerWire.MIN_DIGEST_BLOCK_SIZE || blockSize > PeerWire.MAX_DIGEST_BLOCK_SIZE
                || Integer.bitCount(blockSize) != 1) {
            throw new IllegalArgumentException(what + " block size " + Integer.toUnsignedString(blockSize)
                    + ", must be a power of two from " + PeerWire.MIN_DIGEST_BLOCK_SIZE + " to "
                    + PeerWire.MAX_DIGEST_BLOCK_SIZE);
        }
        if (length <= 0 || length > PeerWire.MAX_DIGEST_SPAN) {
            throw new IllegalArgumentException(what + " length " + Integer.toUnsignedString(length)
                    + ", must be 1 to " + PeerWire.MAX_DIGEST_SPAN);
        }
        checkRange(offset, length, what);
        return blockCount(length, blockSize);
    }

    private static int checkIndex(int index, int count, String what) {
        if (index < 0 || index >= count) {
            throw new IndexOutOfBoundsException(what + " " + index + " outside 0.." + (count - 1));
        }
        return index;
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
