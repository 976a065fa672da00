package io.jrbd.metadata.journal;

import io.netty.buffer.ByteBuf;

/**
 * One record as read by a {@link Reader}: a flyweight over the mapping, reused from record to
 * record, so reading allocates nothing. Valid until the reader's next call to
 * {@link Reader#next}.
 */
public final class RecordView {
    private Reader reader;
    private long recordPosition;
    private long dataRingOffset;
    private long seq;
    private int type;
    private int flags;
    private int dataLength;
    private long offset;
    private long opLength;

    void bind(Reader reader, long recordPosition, long dataRingOffset, long seq, int type, int flags,
            int dataLength, long offset, long opLength) {
        this.reader = reader;
        this.recordPosition = recordPosition;
        this.dataRingOffset = dataRingOffset;
        this.seq = seq;
        this.type = type;
        this.flags = flags;
        this.dataLength = dataLength;
        this.offset = offset;
        this.opLength = opLength;
    }

    public long seq() {
        return seq;
    }

    /** One of {@link JournalLayout#TYPE_WRITE}, {@code TYPE_TRIM}, {@code TYPE_ZEROES}, {@code TYPE_FLUSH}. */
    public int type() {
        return type;
    }

    public int flags() {
        return flags;
    }

    /** Device byte offset. */
    public long offset() {
        return offset;
    }

    /** Device bytes affected. */
    public long opLength() {
        return opLength;
    }

    public int dataLength() {
        return dataLength;
    }

    /**
     * Writes the record's {@link #dataLength()} bytes into {@code dst} at its writer index
     * (growing it if it may), advancing the writer index.
     *
     * @throws JournalOverrunException if the writer reused the record's space during the copy;
     *     what was written into {@code dst} is then garbage
     */
    public void copyData(ByteBuf dst) {
        if (reader == null) {
            throw new IllegalStateException("no record: this view was not filled by Reader.next");
        }
        reader.checkOpen();
        if (dataLength > 0) {
            dst.writeBytes(reader.windows().slice(dataRingOffset, dataLength));
        }
        reader.checkNotOverrun(recordPosition);
    }

    @Override
    public String toString() {
        return "Record[" + seq + " " + JournalLayout.typeName(type) + " offset " + offset + " length " + opLength
                + " data " + dataLength + "]";
    }
}
