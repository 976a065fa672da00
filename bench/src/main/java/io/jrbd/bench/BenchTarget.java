package io.jrbd.bench;

import io.jrbd.replicator.device.BlockDevice;

/**
 * What a write benchmark drives: a {@link BlockDevice} of {@link #SIZE} bytes, ready for
 * writes, and everything behind it (stores, nodes, the WAN link), torn down by {@link #close()}.
 */
public interface BenchTarget extends AutoCloseable {
    /** Device size: 256 MiB, 65,536 blocks of 4 KiB. */
    long SIZE = 256L << 20;

    int BLOCK = 4096;

    BlockDevice device();

    /**
     * Throws {@link IllegalStateException} naming what went wrong if the target no longer
     * measures what it claims to (e.g. the peer disconnected and writes completed degraded).
     */
    void check();

    /** A line for the benchmark log: which nodes, protocol, link. */
    String describe();

    @Override
    void close();
}
