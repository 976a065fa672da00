package io.jrbd.replicator.engine;

/** Where the primary records blocks the peer may not have: the dirty bitmap. */
public interface DirtyTracker {
    void markDirty(long offset, long length);

    /** Bytes of the device marked out of sync. */
    long dirtyBytes();

    /** Everything is in sync again (after a completed resync). */
    void clearAll();
}
