package io.jrbd.replicator.engine;

import java.io.IOException;
import java.util.function.LongSupplier;

/**
 * The activity log as the pipeline sees it: before a write reaches the local disk, the
 * extents it touches must be recorded as hot, durably, so that after a crash of this Primary
 * only those extents need a resync. Called by the sequencer thread only, in write order.
 */
public interface ActivityLogHook {
    /** No activity log: every crash of a Primary costs a resync of what its bitmap names. */
    ActivityLogHook NONE = (offset, length, seq, settledSeq) -> {
    };

    /**
     * Returns once [offset, offset + length) is covered by durable hot extents. May write (and
     * sync) a metadata transaction; may wait while every hot extent still has writes that are
     * not settled.
     *
     * @param seq        the write's sequence number
     * @param settledSeq the highest sequence number whose writes need no activity log cover any
     *                   more (durable on the peer, or recorded in the bitmap); read again while
     *                   waiting
     * @throws IOException if the metadata could not be written: the write must not proceed
     */
    void activate(long offset, long length, long seq, LongSupplier settledSeq) throws IOException, InterruptedException;
}
