package io.jrbd.metadata.md;

/**
 * The state of a node's local disk for one resource, spelled as DRBD spells it. The code is
 * what the superblock stores (u8); it never changes for a state once released.
 */
public enum DiskState {
    DISKLESS(0, "Diskless"),
    ATTACHING(1, "Attaching"),
    /** Mid-resync: the data is not usable. */
    INCONSISTENT(2, "Inconsistent"),
    /** Consistent, but known to be older than a peer's. */
    OUTDATED(3, "Outdated"),
    /** Consistent; whether it is the newest is not known. */
    CONSISTENT(4, "Consistent"),
    UP_TO_DATE(5, "UpToDate");

    private static final DiskState[] BY_CODE = values();

    private final int code;
    private final String drbdName;

    DiskState(int code, String drbdName) {
        this.code = code;
        this.drbdName = drbdName;
    }

    public int code() {
        return code;
    }

    /** The name administrators know: {@code UpToDate}, {@code Inconsistent}, ... */
    public String drbdName() {
        return drbdName;
    }

    /** Returns the state stored as {@code code}, or null if no state has that code. */
    public static DiskState fromCode(int code) {
        return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }

    /** Parses a DRBD spelling ({@code UpToDate}), ignoring case. */
    public static DiskState parse(String name) {
        for (DiskState state : BY_CODE) {
            if (state.drbdName.equalsIgnoreCase(name)) {
                return state;
            }
        }
        throw new IllegalArgumentException("unknown disk state '" + name + "' (expected one of Diskless, Attaching,"
                + " Inconsistent, Outdated, Consistent, UpToDate)");
    }

    @Override
    public String toString() {
        return drbdName;
    }
}
