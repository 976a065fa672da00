package io.jrbd.metadata.md;

/**
 * Where everything lives in a metadata file, format version 1. External placement: a separate
 * file that holds nothing but one resource's metadata on one node, drawn first; internal
 * placement: the same regions at the end of the backing store, after the data (below). All
 * integers are big-endian; every region starts on a 4 KiB boundary.
 *
 * <pre>
 *  offset                        size                        region
 *  0                             4 KiB                       superblock slot A
 *  4 KiB                         4 KiB                       superblock slot B
 *  8 KiB                         32 KiB                      activity log: two 16 KiB transaction slots
 *  40 KiB                        round_up_4k(4 * pages)      bitmap CRC table: u32 CRC32C per page
 *  40 KiB + crcTableSize         pages * 4 KiB               bitmap pages
 *  fileSize                      (end; a longer file is accepted, the rest is not read)
 *
 *  blocks = ceil(deviceSize / 4096)      one bit per 4 KiB block of the device
 *  pages  = ceil(blocks / 32768)         32768 bits per 4 KiB page: 32 MiB of pages per TiB
 * </pre>
 *
 * <p>The activity log region holds two slots of checksummed transactions, each a snapshot of
 * the hot extents; {@link io.jrbd.metadata.al.ActivityLogLayout} draws them. An all-zero region
 * (metadata written before the activity log existed) is an empty activity log.
 *
 * <h2>Internal placement</h2>
 * The same regions in the same order, inside the backing store right after the data; every
 * offset above moves by {@code base}:
 * <pre>
 *  backing store offset              size                  region
 *  0                                 deviceSize            data (what the device exports)
 *  deviceSize                        0 to 3584 bytes       padding (never written) up to 4 KiB
 *  base = round_up_4k(deviceSize)    metadataSize          slots A and B, activity log, CRC table, bitmap
 *  base + metadataSize               (end; a larger backing store is accepted, the rest unused)
 *
 *  internalMetadataSize(deviceSize) = base - deviceSize + metadataSize
 *                                   = padding + 40 KiB + round_up_4k(4 * pages) + 4 KiB * pages
 * </pre>
 * The superblock's placement byte is {@link #PLACEMENT_INTERNAL} (1); the region offsets it
 * records are relative to {@code base}, so they are the same numbers as for external metadata.
 *
 * <p>Unlike DRBD, which puts the superblock in the last 4 KiB of the device and everything
 * else before it, the metadata's place depends only on the exported size, never on the backing
 * store's: a backing store larger than needed (a logical volume rounded up to its extent size)
 * is fine, and growing it moves nothing. The price is that finding the metadata needs the size,
 * which every command has from the configuration; a wrong size finds no superblock at
 * {@code base} (or one recording another size) and is refused.
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
 *  |  placement u8 | disk state u8 |         reserved (u16)        | 36   placement: 0 external, 1 internal
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
    public static final int PLACEMENT_INTERNAL = 1;

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
    private final int placement;
    private final long base;
    private final long blocks;
    private final int bitmapPages;
    private final long crcTableSize;
    private final long metadataSize;

    private MetadataLayout(long deviceSize, int placement) {
        this.deviceSize = deviceSize;
        this.placement = placement;
        this.base = placement == PLACEMENT_INTERNAL ? internalMetadataOffset(deviceSize) : 0;
        this.blocks = blocks(deviceSize);
        this.bitmapPages = bitmapPages(deviceSize);
        this.crcTableSize = crcTableSize(bitmapPages);
        this.metadataSize = BITMAP_CRC_TABLE_OFFSET + crcTableSize + (long) bitmapPages * PAGE_SIZE;
    }

    /** The external layout (a file of its own) for a device of {@code deviceSize} bytes; allocates nothing. */
    public static MetadataLayout of(long deviceSize) {
        return of(deviceSize, PLACEMENT_EXTERNAL);
    }

    /** The internal layout (at the end of the backing store) for a device of {@code deviceSize} bytes. */
    public static MetadataLayout internal(long deviceSize) {
        return of(deviceSize, PLACEMENT_INTERNAL);
    }

    public static MetadataLayout of(long deviceSize, int placement) {
        checkDeviceSize(deviceSize);
        if (placement != PLACEMENT_EXTERNAL && placement != PLACEMENT_INTERNAL) {
            throw new IllegalArgumentException("placement " + placement + " is neither external ("
                    + PLACEMENT_EXTERNAL + ") nor internal (" + PLACEMENT_INTERNAL + ")");
        }
        return new MetadataLayout(deviceSize, placement);
    }

    /**
     * Where internal metadata starts in the backing store of a {@code deviceSize}-byte device:
     * right after the data, rounded up to 4 KiB.
     */
    public static long internalMetadataOffset(long deviceSize) {
        checkDeviceSize(deviceSize);
        return (deviceSize + PAGE_SIZE - 1) / PAGE_SIZE * PAGE_SIZE;
    }

    /**
     * Bytes the backing store needs beyond the {@code deviceSize} bytes of data to hold internal
     * metadata: the padding up to 4 KiB, the superblock slots and the activity log (40 KiB), the
     * bitmap CRC table and the bitmap (32 MiB per TiB; 1 GiB needs 77,824 bytes in all, 1 TiB
     * 33,628,160). A backing store of at least
     * {@code deviceSize + internalMetadataSize(deviceSize)} bytes holds both.
     */
    public static long internalMetadataSize(long deviceSize) {
        return internal(deviceSize).fileSize() - deviceSize;
    }

    /** "external" or "internal". */
    public static String placementName(int placement) {
        return switch (placement) {
            case PLACEMENT_EXTERNAL -> "external";
            case PLACEMENT_INTERNAL -> "internal";
            default -> "unknown (" + placement + ")";
        };
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

    /** {@link #PLACEMENT_EXTERNAL} or {@link #PLACEMENT_INTERNAL}. */
    public int placement() {
        return placement;
    }

    public boolean internal() {
        return placement == PLACEMENT_INTERNAL;
    }

    /**
     * Where the metadata starts in its file: 0 for external placement, right after the data
     * (rounded up to 4 KiB) for internal. Every offset below includes it; the offsets the
     * superblock records and the static constants of this class do not.
     */
    public long base() {
        return base;
    }

    /** Bytes of metadata from {@link #base()}: slots, activity log, CRC table, bitmap. */
    public long metadataSize() {
        return metadataSize;
    }

    /** Where superblock slot 0 (A) or 1 (B) is in the file. */
    public long superblockOffset(int slot) {
        return base + slotOffset(slot);
    }

    public long blocks() {
        return blocks;
    }

    public int bitmapPages() {
        return bitmapPages;
    }

    /** Where the activity log region ({@value #AL_SIZE} bytes) is in the file. */
    public long alOffset() {
        return base + AL_OFFSET;
    }

    public long crcTableOffset() {
        return base + BITMAP_CRC_TABLE_OFFSET;
    }

    public long crcTableSize() {
        return crcTableSize;
    }

    public long bitmapOffset() {
        return base + BITMAP_CRC_TABLE_OFFSET + crcTableSize;
    }

    /** Bytes of bitmap pages: 32 MiB per TiB of device. */
    public long bitmapSize() {
        return (long) bitmapPages * PAGE_SIZE;
    }

    /**
     * The smallest file that holds this layout: for internal placement, the smallest backing
     * store (data, padding to 4 KiB, metadata).
     */
    public long fileSize() {
        return base + metadataSize;
    }

    public long pageOffset(int page) {
        return bitmapOffset() + (long) page * PAGE_SIZE;
    }

    /** Where page {@code page}'s CRC is in the file. */
    public long crcEntryOffset(int page) {
        return crcTableOffset() + (long) page * CRC_ENTRY_SIZE;
    }

    @Override
    public String toString() {
        return (internal() ? "internal after " + deviceSize + " bytes of data: " : "")
                + "slot A @" + superblockOffset(0) + ", slot B @" + superblockOffset(1)
                + ", activity log @" + alOffset() + " (" + AL_SIZE + " bytes)"
                + ", bitmap CRC table @" + crcTableOffset() + " (" + crcTableSize + " bytes)"
                + ", bitmap @" + bitmapOffset() + " (" + bitmapPages + " pages), "
                + (internal() ? "backing store at least " : "file size ") + fileSize();
    }
}
