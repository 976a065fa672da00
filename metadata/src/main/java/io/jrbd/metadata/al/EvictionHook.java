package io.jrbd.metadata.al;

import java.io.IOException;

/**
 * Runs before a transaction that takes extents out of the activity log is written. Once that
 * transaction is durable, a crash no longer marks those extents out of sync, so every bit the
 * bitmap holds for them must be on disk first: the hook {@code Metadata} installs flushes the
 * bitmap's dirty pages, as DRBD writes the bitmap pages of an evicted extent before the
 * transaction.
 */
@FunctionalInterface
public interface EvictionHook {
    /** Does nothing: for tests, and for a log whose bitmap is kept elsewhere. */
    EvictionHook NONE = (extents, count) -> { };

    /**
     * Called on the activity log's owner thread with the extents about to leave it,
     * {@code extents[0, count)}; the array is valid only during the call. The hook must not call
     * the activity log back. When it throws, the activity log has changed nothing and the
     * exception reaches the caller of {@code activate} or {@code reset}.
     */
    void beforeEviction(int[] extents, int count) throws IOException;
}
