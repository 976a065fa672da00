package io.jrbd.metadata.journal;

/**
 * A {@link Reader} fell behind: the record it was about to read (or had just read) was dropped
 * by the writer and its space reused, or the journal restarted at another sequence number. The
 * reader is unusable afterwards; the records it missed must be covered another way (the bitmap).
 */
public final class JournalOverrunException extends RuntimeException {
    private final long seq;
    private final long firstSeq;

    JournalOverrunException(long seq, long firstSeq, String message) {
        super(message);
        this.seq = seq;
        this.firstSeq = firstSeq;
    }

    /** The sequence number the reader wanted. */
    public long seq() {
        return seq;
    }

    /** The journal's first retained sequence number when the overrun was seen. */
    public long firstSeq() {
        return firstSeq;
    }
}
