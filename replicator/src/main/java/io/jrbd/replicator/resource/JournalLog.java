package io.jrbd.replicator.resource;

import io.jrbd.metadata.journal.Journal;
import io.jrbd.metadata.journal.JournalOverrunException;
import io.jrbd.metadata.journal.RecordView;
import io.jrbd.replicator.engine.ReplicationLog;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/** The pipeline's {@link ReplicationLog} over the memory-mapped {@link Journal}. */
final class JournalLog implements ReplicationLog {
    private final Journal journal;

    JournalLog(Journal journal) {
        this.journal = journal;
    }

    Journal journal() {
        return journal;
    }

    @Override
    public boolean tryAppend(long seq, int type, int flags, long offset, long length, ByteBuf data) {
        return journal.tryAppend(seq, type, flags, offset, length, data);
    }

    @Override
    public void appendDropping(long seq, int type, int flags, long offset, long length, ByteBuf data) {
        long dataLength = data == null ? 0 : data.readableBytes();
        if (io.jrbd.metadata.journal.JournalLayout.recordLength(dataLength) > journal.capacity()) {
            // Larger than the whole ring: no catch-up can span it, so the history ends here and
            // restarts with the next write (a peer that missed this one is resynced from the bitmap).
            journal.release(Long.MAX_VALUE);
            return;
        }
        journal.append(seq, type, flags, offset, length, data);
    }

    @Override
    public void release(long seq) {
        journal.release(seq);
    }

    @Override
    public long firstSeq() {
        return journal.firstSeq();
    }

    @Override
    public long lastSeq() {
        return journal.lastSeq();
    }

    @Override
    public Reader reader(long seq, ByteBufAllocator alloc) {
        io.jrbd.metadata.journal.Reader reader = journal.reader(seq);
        if (reader == null) {
            return null;
        }
        RecordView view = new RecordView();
        return into -> {
            try {
                if (!reader.next(view)) {
                    return false;
                }
            } catch (JournalOverrunException e) {
                throw new LogOverrunException(e.getMessage());
            }
            into.seq = view.seq();
            into.type = view.type();
            into.flags = view.flags();
            into.offset = view.offset();
            into.length = view.opLength();
            into.data = null;
            if (view.dataLength() > 0) {
                ByteBuf data = alloc.directBuffer(view.dataLength(), view.dataLength());
                view.copyData(data);
                into.data = data;
            }
            return true;
        };
    }

    @Override
    public void close() {
        journal.close();
    }
}
