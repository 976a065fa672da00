package io.jrbd.metadata.al;

import io.jrbd.metadata.md.MetadataLayout;

/**
 * The activity log region of the metadata, format version 1: {@value MetadataLayout#AL_SIZE}
 * bytes at {@link MetadataLayout#AL_OFFSET} of the metadata (wherever the metadata itself is),
 * split into two slots. All integers are big-endian.
 *
 * <pre>
 *  region offset   size     slot
 *  0               16 KiB   0: transactions 1, 3, 5, ...
 *  16 KiB          16 KiB   1: transactions 2, 4, 6, ...
 * </pre>
 *
 * <p>Every transaction is a whole snapshot of the hot set, so the newest valid one alone is the
 * state; the previous one stays intact in the other slot while the next is written, and a torn
 * write can only ever hurt the slot being written. A transaction starts at its slot's first
 * byte; only the 4 KiB blocks it occupies are written (two for DRBD's default of 1237
 * extents), the bytes after its checksum are zero up to the block's end and anything further in
 * the slot is stale and never read.
 *
 * <h2>Transaction</h2>
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                     magic "JRAL" (u32)                        |  0
 *  +---------------------------------------------------------------+
 *  |                     format version (u32) = 1                  |  4
 *  +---------------------------------------------------------------+
 *  |                     transaction number (u64), from 1          |  8
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |            length (u32): bytes before the CRC, 32 + 4 n       | 16
 *  +---------------------------------------------------------------+
 *  |            slot (u32) = (transaction number - 1) % 2          | 20
 *  +---------------------------------------------------------------+
 *  |            al-extents in force when written (u32)             | 24
 *  +---------------------------------------------------------------+
 *  |            extent count n (u32)                               | 28
 *  +---------------------------------------------------------------+
 *  |            n x extent number (u32), least recently used first | 32
 *  |                              ...                              |
 *  +---------------------------------------------------------------+
 *  |            CRC32C of bytes [0, length) (u32)                  | length
 *  +---------------------------------------------------------------+
 * </pre>
 *
 * <p>Extent {@code e} is bytes {@code [e << 22, (e + 1) << 22)} of the device: 4 MiB, 1024
 * bitmap blocks. Fixed for every future version: the magic at 0, the version at 4, the length at
 * 16 and the CRC right after {@code length} bytes. The slot number is inside the checksum, so a
 * transaction written to the wrong slot is caught, as a bitmap page written in the place of
 * another is.
 */
public final class ActivityLogLayout {
    public static final int FORMAT_VERSION = 1;
    /** "JRAL" as a big-endian u32. */
    public static final int MAGIC = 0x4A52414C;

    /** Bytes of device per extent: 4 MiB, as DRBD's {@code AL_EXTENT_SHIFT}. */
    public static final int EXTENT_SHIFT = 22;
    public static final long EXTENT_SIZE = 1L << EXTENT_SHIFT;

    public static final int REGION_SIZE = MetadataLayout.AL_SIZE;
    public static final int SLOTS = 2;
    public static final int SLOT_SIZE = REGION_SIZE / SLOTS;
    /** Transactions are written in whole blocks of this size. */
    public static final int BLOCK_SIZE = 4096;

    public static final int MAGIC_OFFSET = 0;
    public static final int VERSION_OFFSET = 4;
    public static final int NUMBER_OFFSET = 8;
    public static final int LENGTH_OFFSET = 16;
    public static final int SLOT_OFFSET = 20;
    public static final int CAPACITY_OFFSET = 24;
    public static final int COUNT_OFFSET = 28;
    public static final int EXTENTS_OFFSET = 32;
    public static final int HEADER_LENGTH = EXTENTS_OFFSET;
    public static final int CRC_SIZE = Integer.BYTES;

    /** The most extents one transaction holds: what fits in a slot, (16384 - 32 - 4) / 4. */
    public static final int MAX_EXTENTS = (SLOT_SIZE - HEADER_LENGTH - CRC_SIZE) / Integer.BYTES;
    /** The fewest hot extents allowed, as DRBD's man page says. */
    public static final int MIN_EXTENTS = 7;
    /** DRBD's default {@code al-extents}: about 4.8 GiB hot. */
    public static final int DEFAULT_EXTENTS = 1237;

    private ActivityLogLayout() {
    }

    /** The region offset of slot {@code slot}. */
    public static int slotOffset(int slot) {
        return slot * SLOT_SIZE;
    }

    /** The slot transaction {@code number} (from 1) is written to. */
    public static int slotOf(long number) {
        return (int) Long.remainderUnsigned(number - 1, SLOTS);
    }

    /** Bytes covered by the CRC for {@code count} extents. */
    public static int length(int count) {
        return HEADER_LENGTH + count * Integer.BYTES;
    }

    /** Bytes written for {@code count} extents: the transaction and its CRC, in whole blocks. */
    public static int writtenSize(int count) {
        int bytes = length(count) + CRC_SIZE;
        return (bytes + BLOCK_SIZE - 1) / BLOCK_SIZE * BLOCK_SIZE;
    }

    /** The extent holding byte {@code offset} of the device. */
    public static int extentOf(long offset) {
        return (int) (offset >>> EXTENT_SHIFT);
    }

    /** Extents of a device of {@code deviceSize} bytes, the last maybe partial. */
    public static int extents(long deviceSize) {
        return (int) ((deviceSize + EXTENT_SIZE - 1) >>> EXTENT_SHIFT);
    }

    /** How many extents {@code [offset, offset + length)} touches; 0 when length is 0. */
    public static int extentsTouched(long offset, long length) {
        return length == 0 ? 0 : extentOf(offset + length - 1) - extentOf(offset) + 1;
    }

    /**
     * Throws, naming the value and both limits, unless {@code alExtents} is a number of hot
     * extents the format holds.
     */
    public static void checkCapacity(int alExtents) {
        if (alExtents < MIN_EXTENTS || alExtents > MAX_EXTENTS) {
            throw new IllegalArgumentException("al-extents " + alExtents + " is outside [" + MIN_EXTENTS + ", "
                    + MAX_EXTENTS + "] (at least " + MIN_EXTENTS + ", as DRBD; at most " + MAX_EXTENTS
                    + ", what one transaction in a " + SLOT_SIZE + "-byte slot of the " + REGION_SIZE
                    + "-byte activity log holds)");
        }
    }
}
