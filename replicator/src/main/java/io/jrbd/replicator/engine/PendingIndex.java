package io.jrbd.replicator.engine;

/**
 * The ranges of writes sent to the peer and not yet durable there, oldest first, so that the
 * sequencer can mark exactly those dirty when the peer is lost. A growable ring of primitive
 * triples: nothing is allocated per write once it has grown to the working size.
 */
final class PendingIndex {
    private long[] entries = new long[3 * 1024];
    private int head;
    private int size;

    void add(long seq, long offset, long length) {
        if (size * 3 == entries.length) {
            grow();
        }
        int at = ((head + size) * 3) % entries.length;
        entries[at] = seq;
        entries[at + 1] = offset;
        entries[at + 2] = length;
        size++;
    }

    /** Forgets entries with seq at or below {@code seq}. */
    void releaseUpTo(long seq) {
        while (size > 0 && entries[head * 3] <= seq) {
            head = (head + 1) % (entries.length / 3);
            size--;
        }
    }

    /** Hands every entry to {@code tracker} and forgets them all. */
    void markAllDirty(DirtyTracker tracker) {
        for (int i = 0; i < size; i++) {
            int at = ((head + i) * 3) % entries.length;
            tracker.markDirty(entries[at + 1], entries[at + 2]);
        }
        head = 0;
        size = 0;
    }

    int size() {
        return size;
    }

    private void grow() {
        long[] bigger = new long[entries.length * 2];
        for (int i = 0; i < size; i++) {
            System.arraycopy(entries, ((head + i) * 3) % entries.length, bigger, i * 3, 3);
        }
        entries = bigger;
        head = 0;
    }
}
