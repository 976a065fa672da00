package io.jrbd.protocol.peer;

/**
 * A node's disk state for one resource, as STATE carries it; names are spelled as DRBD spells
 * them, so logs and status read as administrators expect.
 */
public enum DiskState {
    /** No backing store attached. */
    Diskless(0),
    /** The backing store and metadata are being opened and checked. */
    Attaching(1),
    /** Mid-resync: the data is not usable. */
    Inconsistent(2),
    /** Consistent, but known to be older than the peer's. */
    Outdated(3),
    /** Consistent; whether it is the newest is not known. */
    Consistent(4),
    /** Consistent and current. */
    UpToDate(5);

    private static final DiskState[] BY_CODE = values();

    private final int code;

    DiskState(int code) {
        this.code = code;
    }

    /** The u8 written on the wire. */
    public int code() {
        return code;
    }

    /** The disk state with wire code {@code code}, or {@code null} if none has it. */
    public static DiskState ofCode(int code) {
        if (code < 0 || code >= BY_CODE.length) {
            return null;
        }
        DiskState s = BY_CODE[code];
        return s.code == code ? s : null;
    }
}
