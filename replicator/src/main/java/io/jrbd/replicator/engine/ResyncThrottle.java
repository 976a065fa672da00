package io.jrbd.replicator.engine;

/**
 * Paces resync traffic so that it never starves application writes: the resync driver asks
 * before each piece, and the pipeline reports the application's writes and the peer's
 * progress. Implementations are thread-safe.
 */
public interface ResyncThrottle {
    /** As fast as the window of pieces in flight allows. */
    ResyncThrottle NONE = new ResyncThrottle() {
        @Override
        public long acquire(long bytes) {
            return bytes;
        }
    };

    /**
     * Blocks until resync may be issued (also while the resync is paused); returns how much of
     * {@code bytes} may go now: all of it, or a smaller multiple of 4 KiB when the rate is low.
     * For 0 (a hole, which costs no bandwidth) it only waits out a pause.
     */
    long acquire(long bytes) throws InterruptedException;

    /** The application wrote {@code bytes}: resync backs off while it is busy. */
    default void applicationWrite(long bytes) {
    }

    /** The peer holds {@code bytes} more of resync data durably. */
    default void acknowledged(long bytes) {
    }
}
