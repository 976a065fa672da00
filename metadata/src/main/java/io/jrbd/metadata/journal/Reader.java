package io.jrbd.metadata.journal;

import static io.jrbd.metadata.journal.JournalLayout.*;

import java.lang.invoke.VarHandle;
import net.openhft.chronicle.bytes.MappedBytesStore;

/**
 * Reads a {@link Journal}'s records in sequence order, concurrently with its writer. Made by
 * {@link Journal#reader(long)}; used by one thread at a time.
 *
 * <p>{@link #next} returns false when no further record is available yet; a later call returns
 * what the writer appended meanwhile. If the writer drops a record before this reader got to it
 * (or while it was reading it), {@link #next} or {@link RecordView#copyData} throws
 * {@link JournalOverrunException}, and the reader is finished. A record is never returned torn:
 * see {@link Journal} for the ordering that guarantees it.
 */
public final class Reader {
    private final Journal journal;
    private final MappedBytesStore store;
    private final RingWindows windows;
    private final long capacity;
    private long position;
    private long nextSeq;
    private boolean failed;
    private final Journal.Positions published = new Journal.Positions();

    Reader(Journal journal, RingWindows windows, long position, long nextSeq) {
        this.journal = journal;
        this.store = journal.store();
        this.windows = windows;
        this.capacity = journal.capacityInternal();
        this.position = position;
        this.nextSeq = nextSeq;
    }

    /** The sequence number the next call to {@link #next} returns. */
    public long nextSeq() {
        return nextSeq;
    }

    /**
     * Fills {@code view} with the next record and returns true, or returns false if the writer
     * has not appended it yet. The view stays valid until the next call; its data must be
     * copied with {@link RecordView#copyData} before that.
     *
     * @throws JournalOverrunException if the record was dropped by the writer before it was read
     */
    public boolean next(RecordView view) {
        journal.checkOpen();
        if (failed) {
            throw new IllegalStateException("this reader was overrun at seq " + nextSeq + "; make a new one");
        }
        for (;;) {
            journal.load(published);
            if (!catchUpWithHead()) {
                continue;
            }
            if (position == published.tail) {
                return false;
            }
            long off = position % capacity;
            long base = fileOffset(off);
            int length = store.readInt(base + LENGTH_OFFSET);
            if (length == PADDING) {
                // Not trusted yet: the next round checks head against the position after it, and a
                // marker read from overwritten bytes leads to a record with the wrong seq.
                position += capacity - off;
                continue;
            }
            boolean plausible = length >= RECORD_HEADER_LENGTH && length % ALIGNMENT == 0 && off + length <= capacity;
            long seq = 0;
            int type = 0;
            int flags = 0;
            int dataLength = 0;
            long offset = 0;
            long opLength = 0;
            if (plausible) {
                seq = store.readLong(base + SEQ_OFFSET);
                type = store.readUnsignedShort(base + TYPE_OFFSET);
                flags = store.readUnsignedShort(base + FLAGS_OFFSET);
                dataLength = store.readInt(base + DATA_LENGTH_OFFSET);
                offset = store.readLong(base + OFFSET_OFFSET);
                opLength = store.readLong(base + OP_LENGTH_OFFSET);
                plausible = dataLength >= 0 && recordLength(dataLength) == length;
            }
            VarHandle.loadLoadFence(); // the record's bytes are read before head is
            journal.load(published);
            if (!catchUpWithHead()) {
                continue; // what was read may be torn: read again at head
            }
            if (!plausible) {
                throw new IllegalStateException("journal " + journal.file() + ": record " + nextSeq
                        + " at ring offset " + off + " is corrupt (length " + length + ")");
            }
            if (seq != nextSeq) {
                throw overrun("expected record " + nextSeq + " but found " + seq + " (the journal restarted)");
            }
            view.bind(this, position, off + RECORD_HEADER_LENGTH, seq, type, flags, dataLength, offset, opLength);
            position += length;
            nextSeq++;
            return true;
        }
    }

    /**
     * Compares this reader's position with the published head. Returns true if the position is
     * still retained. If head has passed it, either the journal was empty when this reader
     * caught up and the writer has since moved its start (over padding, or to a restart): then
     * the record wanted is at head, the position moves there and this returns false; or the
     * records this reader wanted were dropped: then it throws.
     */
    private boolean catchUpWithHead() {
        if (published.head <= position) {
            return true;
        }
        if (nextSeq == published.firstSeq) {
            position = published.head;
            return false;
        }
        throw overrun(nextSeq < published.firstSeq
                ? "fell behind; the writer dropped records and the journal now starts at " + published.firstSeq
                : "expected record " + nextSeq + " but the journal restarted at " + published.firstSeq);
    }

    private JournalOverrunException overrun(String why) {
        failed = true;
        return new JournalOverrunException(nextSeq, published.firstSeq, "journal " + journal.file()
                + ": reader at record " + nextSeq + ": " + why);
    }

    RingWindows windows() {
        return windows;
    }

    /**
     * Throws if the writer has dropped the record at {@code recordPosition}: called after the
     * record's bytes were read, so what was read was whole if this returns.
     */
    void checkNotOverrun(long recordPosition) {
        VarHandle.loadLoadFence(); // the record's bytes are read before head is
        journal.load(published);
        if (published.head > recordPosition) {
            throw overrun("the writer dropped the record being copied (head " + published.head
                    + " passed its position " + recordPosition + ")");
        }
    }

    void checkOpen() {
        journal.checkOpen();
    }
}
