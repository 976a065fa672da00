package io.jrbd.replicator.engine;

import java.io.IOException;

/**
 * Checksum-based resync ({@code csums-alg}): before a piece of data is shipped, the peer is
 * asked which of its blocks differ, and only those travel. Called by the resync driver thread.
 */
public interface ResyncFilter {
    /**
     * The runs (offset, length pairs, block-aligned, ascending) of [offset, offset + length) whose
     * content differs on the peer.
     *
     * @throws IOException when the peer session ended or the exchange failed: the resync stops
     */
    long[] differingRuns(long offset, int length) throws IOException, InterruptedException;
}
