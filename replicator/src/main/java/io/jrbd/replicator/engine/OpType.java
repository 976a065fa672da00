package io.jrbd.replicator.engine;

/** What a pipeline event or a journal record does. Values match the journal's record types. */
public final class OpType {
    public static final int WRITE = 1;
    public static final int TRIM = 2;
    public static final int ZEROES = 3;
    public static final int FLUSH = 4;
    /** Resync: the local writer reads the range, the peer sender ships it. */
    public static final int RESYNC_DATA = 10;
    /** Resync of a hole: the peer zeroes the range (and may deallocate it). */
    public static final int RESYNC_ZEROES = 11;
    /** End of a full resync. */
    public static final int SYNC_DONE = 12;

    /** Op flags. */
    public static final int FUA = 1;
    public static final int NO_HOLE = 2;

    private OpType() {
    }

    public static boolean isApplication(int type) {
        return type >= WRITE && type <= FLUSH;
    }

    public static String name(int type) {
        return switch (type) {
            case WRITE -> "WRITE";
            case TRIM -> "TRIM";
            case ZEROES -> "ZEROES";
            case FLUSH -> "FLUSH";
            case RESYNC_DATA -> "RESYNC_DATA";
            case RESYNC_ZEROES -> "RESYNC_ZEROES";
            case SYNC_DONE -> "SYNC_DONE";
            default -> "op " + type;
        };
    }
}
