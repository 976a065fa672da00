package io.jrbd.replicator.verify;

import io.jrbd.protocol.peer.PeerWire;
import io.jrbd.resync.BlockDigests;

/**
 * What one online verify compares and how: the algorithm, the span of the device, and the
 * sizes of its pieces. Checked when built; the span is checked against the device when the
 * verify is made.
 *
 * <pre>
 * field       default      allowed
 * algorithm   (verify-alg) a name BlockDigests knows
 * start       0            a multiple of blockSize (DRBD's verify --start, in bytes)
 * stop        -1 (the end) past start, or -1; the device end cuts it
 * chunkSize   1 MiB        a multiple of blockSize, at most PeerWire.MAX_DIGEST_SPAN
 * blockSize   4096         a power of two, PeerWire.MIN_ to MAX_DIGEST_BLOCK_SIZE
 * inFlight    4            chunks asked about and not yet answered, at least 1
 * </pre>
 */
public record VerifyOptions(String algorithm, long start, long stop, int chunkSize, int blockSize, int inFlight) {
    public static final int DEFAULT_CHUNK_SIZE = 1 << 20;
    public static final int DEFAULT_BLOCK_SIZE = 4096;
    public static final int DEFAULT_IN_FLIGHT = 4;
    /** {@link #stop} of "the end of the device". */
    public static final long TO_END = -1;

    public VerifyOptions {
        BlockDigests.forName(algorithm); // names the known ones if not
        if (blockSize < PeerWire.MIN_DIGEST_BLOCK_SIZE || blockSize > PeerWire.MAX_DIGEST_BLOCK_SIZE
                || Integer.bitCount(blockSize) != 1) {
            throw new IllegalArgumentException("verify block size " + blockSize + ", must be a power of two from "
                    + PeerWire.MIN_DIGEST_BLOCK_SIZE + " to " + PeerWire.MAX_DIGEST_BLOCK_SIZE);
        }
        if (chunkSize <= 0 || chunkSize % blockSize != 0 || chunkSize > PeerWire.MAX_DIGEST_SPAN) {
            throw new IllegalArgumentException("verify chunk size " + chunkSize + ", must be a multiple of the block"
                    + " size " + blockSize + " up to " + PeerWire.MAX_DIGEST_SPAN);
        }
        if (start < 0 || start % blockSize != 0) {
            throw new IllegalArgumentException("verify start " + start + ", must be a multiple of the block size "
                    + blockSize + " and not negative");
        }
        if (stop != TO_END && stop <= start) {
            throw new IllegalArgumentException("verify stop " + stop + ", must be past the start " + start
                    + " (or " + TO_END + " for the end of the device)");
        }
        if (inFlight < 1) {
            throw new IllegalArgumentException("verify chunks in flight " + inFlight + ", must be >= 1");
        }
    }

    /** The whole device with {@code algorithm} and the default sizes. */
    public static VerifyOptions of(String algorithm) {
        return new VerifyOptions(algorithm, 0, TO_END, DEFAULT_CHUNK_SIZE, DEFAULT_BLOCK_SIZE, DEFAULT_IN_FLIGHT);
    }

    /** These options over {@code [start, stop)} instead ({@code jrbdadm verify --start --stop}). */
    public VerifyOptions range(long start, long stop) {
        return new VerifyOptions(algorithm, start, stop, chunkSize, blockSize, inFlight);
    }

    /** These options with chunks of {@code chunkSize} bytes. */
    public VerifyOptions chunks(int chunkSize) {
        return new VerifyOptions(algorithm, start, stop, chunkSize, blockSize, inFlight);
    }

    /** These options with {@code inFlight} chunks asked about at once. */
    public VerifyOptions window(int inFlight) {
        return new VerifyOptions(algorithm, start, stop, chunkSize, blockSize, inFlight);
    }

    /** The end of the span on a device of {@code deviceSize} bytes. */
    long end(long deviceSize) {
        return stop == TO_END ? deviceSize : Math.min(stop, deviceSize);
    }
}
