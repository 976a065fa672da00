package io.jrbd.metadata.md;

/**
 * Where everything lives in a metadata file, format version 1, external placement (a separate
 * file that holds nothing but one resource's metadata on one node). All integers are
 * big-endian; every region starts on a 4 KiB boundary.
 *
 * <pre>
 *  offset                        size                        region
 *  0                             4 KiB                       superblock slot A
 *  4 KiB                         4 KiB                       superblock slot B
 *  8 KiB                         32 KiB                      activity log (reserved: zeroes in v1)
 *  40 KiB                        round_up_4k(4 * pages)      bitmap CRC table: u32 CRC32C per page
 *  40 KiB + crcTableSize         pages * 4 KiB               bitmap pages
 *  fileSize                      (end; a longer file is accepted, the rest is not read)
 *
 *  blocks = ceil(deviceSize / 4096)      one bit per 4 KiB block of the device
 *  pages  = ceil(blocks / 32768)         32768 bits per 4 KiB page: 32 MiB of pages per TiB
 * </pre>
 *
 * <p>Internal placement (metadata at the end of the backing device) will use the same
 * regions, ordered as DRBD does ({@code [data][bitmap][AL][superblock]}), and will record its
 * placement in the superblock's placement byte; v1 only writes {@link #PLACEMENT_EXTERNAL}.
 *
 * <h2>Superblock slot (4 KiB, twice)</h2>
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                     magic "JRBDMD01" (8 bytes)                |  0
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                     format version (u32) = 1                  |  8
 *  +---------------------------------------------------------------+
 *  |             header length (u32): bytes used, 288 in v1        | 12
 *  +---------------------------------------------------------------+
 *  |                     write counter (u64)                       | 16
 *  +---------------------------------------------------------------+
 *  |                     device size, bytes (u64)                  | 24
 *  +---------------------------------------------------------------+
 *  |                     block size (u32) = 4096                   | 32
 *  +---------------+---------------+-------------------------------+
 *  |  placement u8 | disk state u8 |         reserved (u16)        | 36
 *  +---------------+---------------+-------------------------------+
 *  |                     flags (u32)                               | 40
 *  |                     reserved (u32)                            | 44
 *  +---------------------------------------------------------------+
 *  |                     generation: current (u64)                 | 48
 *  |                     generation: bitmap (u64)                  | 56
 *  |                     generation: history[0..3] (4 x u64)       | 64
 *  +---------------------------------------------------------------+
 *  |                     applied sequence (u64)                    | 96
 *  |                     last primary sequence (u64)               | 104
 *  +---------------------------------------------------------------+
 *  |                     activity log offset (u64)                 | 112
 *  |                     activity log size (u32)                   | 120
 *  |                     reserved (u32)                            | 124
 *  |                     bitmap CRC table offset (u64)             | 128
 *  |                     bitmap offset (u64)                       | 136
 *  |                     bitmap pages (u32)                        | 144
 *  |                     reserved (u32)                            | 148
 *  +-------------------------------+-------------------------------+
 *  |   node name length (u16)      |         reserved (u16)        | 152
 *  +-------------------------------+-------------------------------+
 *  |                     node name, UTF-8, zero padded (64)        | 156
 *  +-------------------------------+-------------------------------+
 *  |   resource name length (u16)  |         reserved (u16)        | 220
 *  +-------------------------------+-------------------------------+
 *  |                     resource name, UTF-8, zero padded (64)    | 224
 *  +---------------------------------------------------------------+
 *  |                     zeroes up to 4092                         | 288
 *  +---------------------------------------------------------------+
 *  |                     CRC32C of bytes [0, 4092) (u32)           | 4092
 *  +---------------------------------------------------------------+
 * </pre>
 *
 * <p>Fixed for every future version, so that any reader can tell "not ours", "corrupt" and
 * "too new" apart: the magic at 0, the version at 8, the slot size and the CRC in the slot's
 * last 4 bytes. The region offsets are recorded in the superblock (as DRBD records
 * {@code al_offset} and {@code bm_offset}) and checked against this class at open.
 *
 * <p>Writes alternate slots: the slot with the lower write counter is overwritten, then
 * fdatasync. A torn write leaves the other slot, the previous superblock, intact.
 *
 * <h2>Bitmap</h2>
 * Block {@code b} is bit {@code b % 64} (least significant first) of the big-endian u64 word
 * {@code b / 64}; page {@code p} holds words {@code [512 p, 512 (p + 1))}. Bits past the
 * device's last block are zero. Table entry {@code p} is the CRC32C of page {@code p}'s index
 * (u32) followed by its 4096 bytes, so a page written to the wrong place is caught too.
 */
public final class MetadataLayout {
    public static final int FORMAT_VERSION = 1;
    /** "JRBDMD01" as a big-endian u64. */
    public static final long MAGIC = 0x4A5242444D443031L;
    public static final int PLACEMENT_EXTERNAL = 0;

    /** Device sizes are whole sectors, as {@code BackingStore} requires. */
    public static final int SECTOR = 512;
    /** Bytes covered by one bitmap bit. */
    public static final int BLOCK_SIZE = 4096;
    public static final int BLOCK_SHIFT = 12;
    public static final int PAGE_SIZE = 4096;
    public static final int BITS_PER_PAGE = PAGE_SIZE * 8;
    public static final int WORDS_PER_PAGE = PAGE_SIZE / Long.BYTES;
    public static final int CRC_ENTRY_SIZE = Integer.BYTES;
    public static final int CRC_ENTRIES_PER_PAGE = PAGE_SIZE / CRC_ENTRY_SIZE;
    /**
     * The in-memory bitmap is one {@code long} array (8 GiB of words at this size); DRBD's
     * 1 PiB limit would need more than {@code Integer.MAX_VALUE} words.
     */
    public static final long MAX_DEVICE_SIZE = 256L << 40;

    public static final int SLOT_SIZE = 4096;
    public static final long SLOT_A_OFFSET = 0;
    public static final long SLOT_B_OFFSET = SLOT_SIZE;
    public static final long AL_OFFSET = 2L * SLOT_SIZE;
    public static final int AL_SIZE = 32 * 1024;
    public static final long BITMAP_CRC_TABLE_OFFSET = AL_OFFSET + AL_SIZE;

    // Superblock fields: offsets inside a slot.
    public static final int MAGIC_OFFSET = 0;
    public static final int VERSION_OFFSET = 8;
    public static final int HEADER_LENGTH_OFFSET = 12;
    public static final int WRITE_COUNTER_OFFSET = 16;
    public static final int DEVICE_SIZE_OFFSET = 24;
    public static final int BLOCK_SIZE_OFFSET = 32;
    public static final int PLACEMENT_OFFSET = 36;
    public static final int DISK_STATE_OFFSET = 37;
    public static final int FLAGS_OFFSET = 40;
    public static final int CURRENT_GEN_OFFSET = 48;
    public static final int BITMAP_GEN_OFFSET = 56;
    public static final int HISTORY_OFFSET = 64;
    public static final int HISTORY_COUNT = 4;
    public static final int APPLIED_SEQ_OFFSET = 96;
    public static final int LAST_PRIMARY_SEQ_OFFSET = 104;
    public static final int AL_OFFSET_FIELD = 112;
    public static final int AL_SIZE_FIELD = 120;
    public static final int BITMAP_CRC_TABLE_OFFSET_FIELD = 128;
    public static final int BITMAP_OFFSET_FIELD = 136;
    public static final int BITMAP_PAGES_FIELD = 144;
    public static final int NODE_NAME_LENGTH_OFFSET = 152;
    public static final int NODE_NAME_OFFSET = 156;
    public static final int RESOURCE_NAME_LENGTH_OFFSET = 220;
    public static final int RESOURCE_NAME_OFFSET = 224;
    public static final int MAX_NAME_BYTES = 64;
    public static final int HEADER_LENGTH_V1 = RESOURCE_NAME_OFFSET + MAX_NAME_BYTES;
    public static final int CRC_OFFSET = SLOT_SIZE - Integer.BYTES;

    private final long deviceSize;
    private final long blocks;
    private final int bitmapPages;
    private final long crcTableSize;
    private final long bitmapOffset;
    private final long fileSize;

    private MetadataLayout(long deviceSize) {
        this.deviceSize = deviceSize;
        this.blocks = blocks(deviceSize);
        this.bitmapPages = bitmapPages(deviceSize);
        this.crcTableSize = crcTableSize(bitmapPages);
        this.bitmapOffset = BITMAP_CRC_TABLE_OFFSET + crcTableSize;
        this.fileSize = bitmapOffset + (long) bitmapPages * PAGE_SIZE;
    }

    /** The layout for a device of {@code deviceSize} bytes; computes, allocates nothing. */
    public static MetadataLayout of(long deviceSize) {
        checkDeviceSize(deviceSize);
        return new MetadataLayout(deviceSize);
    }

    /** Throws, naming the value and the limit, unless {@code deviceSize} is one jrbd supports. */
    public static void checkDeviceSize(long deviceSize) {
        if (deviceSize <= 0 || deviceSize % SECTOR != 0 || deviceSize > MAX_DEVICE_SIZE) {
            throw new IllegalArgumentException("device size " + deviceSize
                    + " is not a positive multiple of " + SECTOR + " bytes up to " + MAX_DEVICE_SIZE);
        }
    }

    /** Blocks (bitmap bits) for a device: the last one may be partial. */
    public static long blocks(long deviceSize) {
        return (deviceSize + BLOCK_SIZE - 1) >>> BLOCK_SHIFT;
    }

    public static int bitmapPages(long deviceSize) {
        return (int) ((blocks(deviceSize) + BITS_PER_PAGE - 1) / BITS_PER_PAGE);
    }

    /** Bytes of the CRC table region: one u32 per page, rounded up to 4 KiB. */
    public static long crcTableSize(int bitmapPages) {
        long bytes = (long) bitmapPages * CRC_ENTRY_SIZE;
        return (bytes + PAGE_SIZE - 1) / PAGE_SIZE * PAGE_SIZE;
    }

    public static long slotOffset(int slot) {
        return slot == 0 ? SLOT_A_OFFSET : SLOT_B_OFFSET;
    }

    public static String slotName(int slot) {
        return slot == 0 ? "A" : "B";
    }

    public long deviceSize() {
        return deviceSize;
    }

    public long blocks() {
        return blocks;
    }

    public int bitmapPages() {
        return bitmapPages;
    }

    public long crcTableOffset() {
        return BITMAP_CRC_TABLE_OFFSET;
    }

    public long crcTableSize() {
        return crcTableSize;
    }

    public long bitmapOffset() {
        return bitmapOffset;
    }

    /** Bytes of bitmap pages: 32 MiB per TiB of device. */
    public long bitmapSize() {
        return (long) bitmapPages * PAGE_SIZE;
    }

    /** The smallest file that holds this layout. */
    public long fileSize() {
        return fileSize;
    }

    public long pageOffset(int page) {
        return bitmapOffset + (long) page * PAGE_SIZE;
    }

    /** Where page {@code page}'s CRC is in the file. */
    public long crcEntryOffset(int page) {
        return BITMAP_CRC_TABLE_OFFSET + (long) page * CRC_ENTRY_SIZE;
    }

    @Override
    public String toString() {
        return "slot A @" + SLOT_A_OFFSET + ", slot B @" + SLOT_B_OFFSET
                + ", activity log @" + AL_OFFSET + " (" + AL_SIZE + " bytes, reserved)"
                + ", bitmap CRC table @" + BITMAP_CRC_TABLE_OFFSET + " (" + crcTableSize + " bytes)"
                + ", bitmap @" + bitmapOffset + " (" + bitmapPages + " pages), file size " + fileSize;
    }
}
