package io.jrbd.replicator.engine;

import io.netty.buffer.ByteBuf;

/**
 * What the primary's pipeline needs from the link to its peer. Calls come from the pipeline's
 * peer-sender thread only. A session is one authenticated connection: writes are stamped with
 * the session they were sequenced in, and sent only on that same session, so a reconnect
 * never receives half of an old stream (catch-up covers it instead).
 */
public interface PeerOutbound {
    /** The current session, or -1 when no peer is attached. */
    long session();

    /** Blocks until the session can take more data; false if the session ended meanwhile. */
    boolean awaitWritable(long session);

    /** Sends a write; takes ownership of {@code data}. */
    void write(long session, long seq, long offset, ByteBuf data, int flags, boolean resync);

    void trim(long session, long seq, long offset, long length, int flags);

    void zeroes(long session, long seq, long offset, long length, int flags, boolean resync);

    void flush(long session, long seq);

    /** A resync of {@code totalBytes} begins ({@code full}: every block), syncing {@code syncGeneration}. */
    void syncStart(long session, long totalBytes, boolean full, long syncGeneration);

    void syncDone(long session, long seq);

    /** Bytes handed to the session's connection and not yet written to its socket (0 if unknown). */
    default long pendingBytes(long session) {
        return 0;
    }

    /** Whether the session's connection takes more data without blocking (below its send buffer). */
    default boolean writable(long session) {
        return true;
    }

    /** Pushes out what the calls above buffered. */
    void endOfBatch(long session);
}
