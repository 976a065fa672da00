package io.jrbd.replicator.verify;

import io.jrbd.metadata.store.BackingStore;
import io.jrbd.metadata.store.StoreException;
import io.jrbd.protocol.peer.PeerMessage;
import io.jrbd.protocol.peer.PeerWire;
import io.jrbd.resync.BlockDigests;
import io.jrbd.resync.ByteRanges;
import java.io.IOException;
import java.util.Objects;
import java.util.concurrent.ExecutionException;

/**
 * The digest step of a checksum-based resync ({@code csums-alg}): before shipping a piece, the
 * resync driver asks which of its blocks differ on the peer, and ships only those.
 *
 * <pre>
 *   differingRuns(offset, length):
 *     read + digest [offset, offset + length)   DIGEST_REQUEST --&gt; peer's DigestResponder
 *     wait for DIGEST_REPLY                      differing blocks -&gt; merged (offset, length) runs
 * </pre>
 *
 * <p>Threading: blocking; one probe per driver thread (it holds a read buffer and a digest of
 * its own). Requests go through the session's {@link DigestExchange}, which bounds how many are
 * outstanding over all its users.
 */
public final class ChecksumProbe {
    private final BackingStore store;
    private final DigestExchange exchange;
    private final DigestReader reader;
    private final int blockSize;
    private long probedBytes;
    private long differingBytes;

    /**
     * @param algorithm csums-alg ({@link BlockDigests#forName}); the peer's responder must know it
     * @param blockSize the unit compared, a power of two from {@link PeerWire#MIN_DIGEST_BLOCK_SIZE}
     *                  to {@link PeerWire#MAX_DIGEST_BLOCK_SIZE}; 4096, the bitmap's block, as a rule
     */
    public ChecksumProbe(BackingStore store, DigestExchange exchange, String algorithm, int blockSize) {
        this.store = Objects.requireNonNull(store, "store");
        this.exchange = Objects.requireNonNull(exchange, "exchange");
        if (blockSize < PeerWire.MIN_DIGEST_BLOCK_SIZE || blockSize > PeerWire.MAX_DIGEST_BLOCK_SIZE
                || Integer.bitCount(blockSize) != 1) {
            throw new IllegalArgumentException("checksum probe block size " + blockSize + ", must be a power of two"
                    + " from " + PeerWire.MIN_DIGEST_BLOCK_SIZE + " to " + PeerWire.MAX_DIGEST_BLOCK_SIZE);
        }
        this.blockSize = blockSize;
        this.reader = new DigestReader(store, BlockDigests.forName(algorithm));
    }

    /**
     * The parts of {@code [offset, offset + length)} whose blocks differ on the peer, as
     * flattened (offset, length) pairs: sorted, merged, block-aligned except that the last may
     * end at the device's end; empty if the peer has it all.
     *
     * @param offset a multiple of the block size
     * @param length 1 to {@link PeerWire#MAX_DIGEST_SPAN}, inside the device; a multiple of the
     *               block size unless the piece ends at the device's end
     * @throws SessionEndedException the peer session ended: stop the resync, nothing was decided
     * @throws StoreException        reading this node's store failed
     * @throws IOException           the exchange failed otherwise (a protocol error)
     * @throws InterruptedException  interrupted while waiting for a slot or the reply
     */
    public long[] differingRuns(long offset, int length) throws IOException, InterruptedException {
        long size = store.size();
        if (offset < 0 || offset % blockSize != 0 || length <= 0 || length > PeerWire.MAX_DIGEST_SPAN
                || offset + length > size || (length % blockSize != 0 && offset + length != size)) {
            throw new IllegalArgumentException("checksum probe of " + offset + "+" + length + " on a device of " + size
                    + " bytes: must start on a " + blockSize + "-byte block, be 1 to " + PeerWire.MAX_DIGEST_SPAN
                    + " bytes of whole blocks (the last may end at the device end) and lie inside the device");
        }
        byte[] digests = reader.digest(offset, length, blockSize);
        PeerMessage.DigestReply reply;
        try {
            reply = exchange.request(offset, length, blockSize, digests).get();
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IOException io) {
                throw io;
            }
            throw new IOException("checksum probe of " + offset + "+" + length + " failed: " + cause, cause);
        }
        probedBytes += length;
        if (reply.differingBlocks() == 0) {
            return new long[0];
        }
        ByteRanges runs = ByteRanges.fromBits(offset, blockSize, reply.differ(), reply.blocks(), offset + length);
        differingBytes += runs.totalBytes();
        return runs.flatten();
    }

    /** Bytes asked about so far. */
    public long probedBytes() {
        return probedBytes;
    }

    /** Bytes found different so far: what was left to ship. */
    public long differingBytes() {
        return differingBytes;
    }
}
