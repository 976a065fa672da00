package io.jrbd.replicator.engine;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * The journal as the pipeline sees it: the recent application writes in sequence order, kept
 * until the peer has them durably, and read back for catch-up after a short disconnect. One
 * thread appends and releases (the sequencer); one other thread at a time reads.
 */
public interface ReplicationLog extends AutoCloseable {
    /** Appends unless that would overwrite records still needed; false (nothing changed) then. */
    boolean tryAppend(long seq, int type, int flags, long offset, long length, ByteBuf data);

    /** Appends, dropping the oldest records as needed (they are in the dirty bitmap by then). */
    void appendDropping(long seq, int type, int flags, long offset, long length, ByteBuf data);

    /** Records up to {@code seq} are no longer needed. */
    void release(long seq);

    long firstSeq();

    long lastSeq();

    /** A reader from {@code seq}, or null when that record is no longer held. */
    Reader reader(long seq, ByteBufAllocator alloc);

    /** Reads records in order; each record's data is a new buffer the caller releases. */
    interface Reader {
        /** Fills {@code into} and returns true, or false when no further record exists yet. */
        boolean next(Record into) throws LogOverrunException;
    }

    /** A record read back. */
    final class Record {
        public long seq;
        public int type;
        public int flags;
        public long offset;
        public long length;
        public ByteBuf data;
    }

    /** The reader fell behind a writer that dropped the records it needed. */
    final class LogOverrunException extends Exception {
        public LogOverrunException(String message) {
            super(message);
        }
    }

    @Override
    void close();

    /** No journal (journal-size 0): nothing is kept, every reconnect resyncs. */
    ReplicationLog NONE = new ReplicationLog() {
        @Override
        public boolean tryAppend(long seq, int type, int flags, long offset, long length, ByteBuf data) {
            return true;
        }

        @Override
        public void appendDropping(long seq, int type, int flags, long offset, long length, ByteBuf data) {
        }

        @Override
        public void release(long seq) {
        }

        @Override
        public long firstSeq() {
            return Long.MAX_VALUE;
        }

        @Override
        public long lastSeq() {
            return -1;
        }

        @Override
        public Reader reader(long seq, ByteBufAllocator alloc) {
            return null;
        }

        @Override
        public void close() {
        }
    };
}
