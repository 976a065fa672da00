package io.jrbd.replicator.engine;

/** Where the primary records blocks the peer may not have: the dirty bitmap. */
public interface DirtyTracker {
    void markDirty(long offset, long length);

    /** Bytes of the device marked out of sync. */
    long dirtyBytes();

    /** Everything is in sync again (after a completed resync). */
    void clearAll();

    /** The peer holds [offset, offset + length) durably again (a resync piece arrived). */
    default void clearRange(long offset, long length) {
        throw new UnsupportedOperationException(getClass().getName() + " cannot clear ranges");
    }

    /**
     * The byte offset of the first dirty block at or after {@code offset}, or -1. Only
     * trackers that can drive a bitmap resync implement it.
     */
    default long nextDirty(long offset) {
        throw new UnsupportedOperationException(getClass().getName() + " cannot enumerate dirty blocks");
    }

    /** The end (byte offset) of the run of dirty blocks that starts at {@code offset}. */
    default long dirtyRunEnd(long offset) {
        throw new UnsupportedOperationException(getClass().getName() + " cannot enumerate dirty blocks");
    }
}
