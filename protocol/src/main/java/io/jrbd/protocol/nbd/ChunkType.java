package io.jrbd.protocol.nbd;

/** Structured reply chunk types. Error types have bit 15 set. */
public final class ChunkType {
    public static final int NONE = 0;
    public static final int OFFSET_DATA = 1;
    public static final int OFFSET_HOLE = 2;
    public static final int BLOCK_STATUS = 5;
    public static final int ERROR = (1 << 15) + 1;
    public static final int ERROR_OFFSET = (1 << 15) + 2;

    private ChunkType() {
    }
}
