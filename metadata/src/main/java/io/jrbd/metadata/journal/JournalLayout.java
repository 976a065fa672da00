package io.jrbd.metadata.journal;

import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Descriptor of the journal file: offsets, sizes and the few pure functions over them.
 *
 * <p>Byte order: every multi-byte field is <b>little-endian</b>. Chronicle Bytes writes in
 * the platform's native order, which is little-endian on every platform jrbd supports
 * (x86-64, aarch64); {@link Journal#open} refuses to run on a big-endian JVM rather than
 * write a file another node could not read.
 *
 * <h2>File</h2>
 * <pre>
 *   0                                   4096                                 4096 + capacity
 *   +-----------------------------------+--------------------------------------+
 *   | header (HEADER_LENGTH bytes)      | ring (capacity bytes)                |
 *   +-----------------------------------+--------------------------------------+
 * </pre>
 *
 * <h2>Header</h2>
 * <pre>
 *   0                   4                   8
 *   +-------------------+-------------------+
 *   |          magic "JRBDJNL1"             |  0
 *   +-------------------+-------------------+
 *   | version (u32)     | salt (u32)        |  8
 *   +-------------------+-------------------+
 *   |          capacity (u64)               |  16  ring bytes, after the header
 *   +---------------------------------------+
 *   |          firstSeq (u64)               |  24  seq of the oldest retained record
 *   +---------------------------------------+
 *   |          firstPosition (u64)          |  32  its ring offset
 *   +-------------------+-------------------+
 *   | headerCrc (u32)   | zero ...          |  40  CRC32C of bytes [0, 40)
 *   +-------------------+-------------------+
 *   |          zero up to 4096              |
 * </pre>
 * The header is rewritten in place (plain stores into the mapping, never fsynced) when the
 * oldest retained record changes: a drop, a release, or a restart of an empty journal.
 *
 * <p>{@code salt} is chosen at random when the file is created or its contents discarded,
 * and incremented when an empty journal restarts at a sequence number that does not follow
 * the last one. Every record checksum is XORed with it, so records left in the ring by an
 * earlier incarnation never pass recovery even if their sequence numbers happen to match.
 *
 * <h2>Record</h2>
 * Records start at 8-byte aligned ring offsets and follow each other without gaps.
 * <pre>
 *   0                   4                   8
 *   +-------------------+-------------------+
 *   | length (u32)      | crc (u32)         |  0   length = align8(40 + dataLength)
 *   +-------------------+-------------------+
 *   |          seq (u64)                    |  8   &lt;- checksummed from here
 *   +---------+---------+-------------------+
 *   |type u16 |flags u16| dataLength (u32)  |  16
 *   +---------+---------+-------------------+
 *   |          offset (u64)                 |  24  device byte offset
 *   +---------------------------------------+
 *   |          opLength (u64)               |  32  bytes affected (= dataLength for WRITE)
 *   +---------------------------------------+
 *   |          data (dataLength bytes)      |  40  &lt;- checksummed up to here
 *   |          ... zero to 7 bytes of slack |      (not checksummed)
 *   +---------------------------------------+
 * </pre>
 * {@code crc = CRC32C(bytes [8, 40 + dataLength)) ^ salt}. The writer stores {@code length}
 * last, with an ordered store.
 *
 * <h2>Padding</h2>
 * A record that does not fit before the end of the ring is written at ring offset 0; the rest
 * of the ring is filled by a padding marker (at least 8 bytes, since offsets are aligned):
 * <pre>
 *   +-------------------+-------------------+- - - - - - - - - - - - -+
 *   | PADDING (-1)      | check (u32)       | ignored up to the end    |
 *   +-------------------+-------------------+- - - - - - - - - - - - -+
 * </pre>
 * {@code check = paddingCheck(seq of the record at offset 0, salt)}, so that recovery does
 * not follow a padding marker left over from an earlier lap.
 */
public final class JournalLayout {
    private JournalLayout() {
    }

    // ---- file and header

    public static final int HEADER_LENGTH = 4096;
    public static final String MAGIC = "JRBDJNL1";
    /** {@link #MAGIC} as the little-endian u64 at offset 0. */
    public static final long MAGIC_VALUE = magicValue();
    public static final int VERSION = 1;

    public static final int MAGIC_OFFSET = 0;
    public static final int VERSION_OFFSET = 8;
    public static final int SALT_OFFSET = 12;
    public static final int CAPACITY_OFFSET = 16;
    public static final int FIRST_SEQ_OFFSET = 24;
    public static final int FIRST_POSITION_OFFSET = 32;
    public static final int HEADER_CRC_OFFSET = 40;
    /** The header checksum covers bytes [0, HEADER_CHECKSUMMED_LENGTH). */
    public static final int HEADER_CHECKSUMMED_LENGTH = HEADER_CRC_OFFSET;

    public static final long MIN_CAPACITY = 1L << 20;
    public static final int CAPACITY_ALIGNMENT = 4096;

    // ---- records

    public static final int ALIGNMENT = 8;
    public static final int LENGTH_OFFSET = 0;
    public static final int CRC_OFFSET = 4;
    public static final int SEQ_OFFSET = 8;
    public static final int TYPE_OFFSET = 16;
    public static final int FLAGS_OFFSET = 18;
    public static final int DATA_LENGTH_OFFSET = 20;
    public static final int OFFSET_OFFSET = 24;
    public static final int OP_LENGTH_OFFSET = 32;
    public static final int RECORD_HEADER_LENGTH = 40;
    /** The record checksum starts here (everything after the crc field). */
    public static final int CHECKSUM_FROM = SEQ_OFFSET;

    /** The length value of a padding marker: never a valid record length (not a multiple of 8). */
    public static final int PADDING = -1;
    public static final int PADDING_CHECK_OFFSET = 4;
    public static final int MIN_PADDING_LENGTH = 8;

    /**
     * The largest record, header included. Far above any NBD request (32 MiB at most in
     * practice); it bounds the direct-buffer windows used for copies and checksums (see
     * {@link RingWindows}). A record must also fit the ring.
     */
    public static final int MAX_RECORD_LENGTH = 1 << 30;

    public static final int TYPE_WRITE = 1;
    public static final int TYPE_TRIM = 2;
    public static final int TYPE_ZEROES = 3;
    public static final int TYPE_FLUSH = 4;

    public static final int MAX_FLAGS = 0xFFFF;

    /** The on-disk length of a record carrying {@code dataLength} bytes of data. */
    public static long recordLength(long dataLength) {
        return align(RECORD_HEADER_LENGTH + dataLength);
    }

    public static long align(long n) {
        return (n + ALIGNMENT - 1) & -ALIGNMENT;
    }

    /** File offset of a ring offset. */
    public static long fileOffset(long ringOffset) {
        return HEADER_LENGTH + ringOffset;
    }

    public static boolean isValidType(int type) {
        return type >= TYPE_WRITE && type <= TYPE_FLUSH;
    }

    public static String typeName(int type) {
        switch (type) {
            case TYPE_WRITE:
                return "WRITE";
            case TYPE_TRIM:
                return "TRIM";
            case TYPE_ZEROES:
                return "ZEROES";
            case TYPE_FLUSH:
                return "FLUSH";
            default:
                return "type " + type;
        }
    }

    /** The checksum stored in a record: CRC32C of the checksummed bytes, salted. */
    public static int storedCrc(long crc32c, int salt) {
        return (int) crc32c ^ salt;
    }

    /** The check word of a padding marker followed (at ring offset 0) by record {@code nextSeq}. */
    public static int paddingCheck(long nextSeq, int salt) {
        return (int) nextSeq ^ (int) (nextSeq >>> 32) ^ salt ^ 0x5A5A5A5A;
    }

    /** Checks a ring capacity; the message names the value and the rule. */
    public static void checkCapacity(long capacity) {
        if (capacity < MIN_CAPACITY || capacity % CAPACITY_ALIGNMENT != 0 || capacity > Long.MAX_VALUE / 2) {
            throw new IllegalArgumentException("journal capacity " + capacity + " bytes is not a multiple of "
                    + CAPACITY_ALIGNMENT + " of at least " + MIN_CAPACITY + " bytes (1 MiB)");
        }
    }

    private static long magicValue() {
        byte[] b = MAGIC.getBytes(StandardCharsets.US_ASCII);
        return java.nio.ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
    }
}
