package io.jrbd.replicator.engine;

import java.util.ArrayDeque;

/**
 * The resync pieces handed to the peer, in order, until it holds them durably: then, and only
 * then, their blocks leave the bitmap. So a resync cut short by a crash of either node resumes
 * with exactly the blocks the target may still lack. The target counts the resync bytes it made
 * durable in the same order the source sent them, which is all an acknowledgement needs to say.
 */
final class ResyncLedger {
    private record Piece(long end, long offset, long length) {
    }

    private final ArrayDeque<Piece> pieces = new ArrayDeque<>();
    private long session = -1;
    private long sent;
    private long acknowledged;

    /** A new resync to {@code session} starts counting from zero. */
    synchronized void start(long newSession) {
        pieces.clear();
        session = newSession;
        sent = 0;
        acknowledged = 0;
    }

    synchronized void sent(long s, long offset, long length) {
        if (s != session) {
            return;
        }
        sent += length;
        pieces.addLast(new Piece(sent, offset, length));
    }

    /**
     * The peer of {@code s} holds the first {@code durableBytes} of resync data durably: clears
     * the blocks of every piece that lies within them. Returns how many bytes that newly covers.
     */
    synchronized long durable(long s, long durableBytes, DirtyTracker dirty) {
        if (s != session || durableBytes <= acknowledged) {
            return 0;
        }
        long before = acknowledged;
        acknowledged = Math.min(durableBytes, sent);
        while (!pieces.isEmpty() && pieces.peekFirst().end() <= acknowledged) {
            Piece p = pieces.pollFirst();
            dirty.clearRange(p.offset(), p.length());
        }
        return acknowledged - before;
    }
}
