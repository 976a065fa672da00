package io.jrbd.metadata.journal;

import static io.jrbd.metadata.journal.JournalLayout.*;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;
import net.openhft.chronicle.bytes.MappedBytesStore;

/**
 * Reads an existing journal file: checks the header, then walks the ring from the oldest
 * retained record while records are whole (checksum and structure) and sequence numbers go up
 * by exactly one. The run found is the content; anything after it is ignored.
 *
 * <p>Outcome: either {@link #discardReason} is non-null (the header cannot be trusted, the
 * caller starts empty), or {@link #head}, {@link #tail}, {@link #firstSeq}, {@link #lastSeq}
 * describe the run of {@link #records} records and {@link #stopReason} says where it ended.
 */
final class JournalRecovery {
    private final MappedBytesStore store;
    private final long capacity;
    private final CRC32C crc = new CRC32C();

    String discardReason;
    int salt;
    long head;
    long tail;
    long firstSeq;
    long lastSeq;
    long records;
    String stopReason;

    private JournalRecovery(MappedBytesStore store, long capacity) {
        this.store = store;
        this.capacity = capacity;
    }

    static JournalRecovery run(MappedBytesStore store, ByteBuffer headerWindow, RingWindows ring, long capacity) {
        JournalRecovery r = new JournalRecovery(store, capacity);
        r.discardReason = r.checkHeader(headerWindow);
        if (r.discardReason == null) {
            r.walk(ring);
        }
        return r;
    }

    private String checkHeader(ByteBuffer headerWindow) {
        long magic = store.readLong(MAGIC_OFFSET);
        if (magic != MAGIC_VALUE) {
            return "bad magic 0x" + Long.toHexString(magic) + " (expected \"" + MAGIC + "\")";
        }
        int version = store.readInt(VERSION_OFFSET);
        if (version != VERSION) {
            return "format version " + Integer.toUnsignedString(version) + " is not supported (expected " + VERSION + ")";
        }
        headerWindow.limit(HEADER_CHECKSUMMED_LENGTH).position(0);
        crc.reset();
        crc.update(headerWindow);
        int expected = (int) crc.getValue();
        int stored = store.readInt(HEADER_CRC_OFFSET);
        if (stored != expected) {
            return "header checksum mismatch (stored 0x" + Integer.toHexString(stored)
                    + ", computed 0x" + Integer.toHexString(expected) + ")";
        }
        long headerCapacity = store.readLong(CAPACITY_OFFSET);
        if (headerCapacity != capacity) {
            return "capacity changed from " + headerCapacity + " to " + capacity + " bytes";
        }
        long firstPosition = store.readLong(FIRST_POSITION_OFFSET);
        if (firstPosition < 0 || firstPosition >= capacity || firstPosition % ALIGNMENT != 0) {
            return "firstPosition " + firstPosition + " is outside the ring of " + capacity + " bytes or unaligned";
        }
        long first = store.readLong(FIRST_SEQ_OFFSET);
        if (first < 0) {
            return "firstSeq " + first + " is negative";
        }
        salt = store.readInt(SALT_OFFSET);
        head = firstPosition;
        firstSeq = first;
        return null;
    }

    private void walk(RingWindows ring) {
        long position = head; // logical position: the first lap starts at ring offset 0
        long expected = firstSeq;
        long used = 0;
        long pendingPadding = 0;
        stopReason = null;
        while (stopReason == null) {
            long off = position % capacity;
            if (used + pendingPadding == capacity) {
                stopReason = "the ring is full";
                break;
            }
            int length = store.readInt(fileOffset(off) + LENGTH_OFFSET);
            if (length == PADDING) {
                if (pendingPadding != 0 || off == 0) {
                    stopReason = "misplaced padding at ring offset " + off;
                } else if (store.readInt(fileOffset(off) + PADDING_CHECK_OFFSET) != paddingCheck(expected, salt)) {
                    stopReason = "stale padding at ring offset " + off;
                } else {
                    pendingPadding = capacity - off;
                    position += pendingPadding;
                }
                continue;
            }
            String bad = checkRecord(ring, off, length, expected, capacity - used - pendingPadding);
            if (bad != null) {
                stopReason = bad + " at ring offset " + off;
                break;
            }
            used += pendingPadding + length;
            pendingPadding = 0;
            position += length;
            expected++;
            records++;
        }
        tail = head + used;
        lastSeq = expected - 1;
    }

    /** Null if the record at {@code off} is whole and is record {@code expectedSeq}, else why not. */
    private String checkRecord(RingWindows ring, long off, int length, long expectedSeq, long room) {
        if (length < RECORD_HEADER_LENGTH || length % ALIGNMENT != 0 || length > MAX_RECORD_LENGTH
                || off + length > capacity || length > room) {
            return length == 0 ? "no record" : "bad record length " + Integer.toUnsignedString(length);
        }
        long base = fileOffset(off);
        int dataLength = store.readInt(base + DATA_LENGTH_OFFSET);
        if (dataLength < 0 || recordLength(dataLength) != length) {
            return "data length " + Integer.toUnsignedString(dataLength) + " does not match record length " + length;
        }
        crc.reset();
        crc.update(ring.slice(off + CHECKSUM_FROM, RECORD_HEADER_LENGTH - CHECKSUM_FROM + dataLength));
        if (store.readInt(base + CRC_OFFSET) != storedCrc(crc.getValue(), salt)) {
            return "checksum mismatch";
        }
        long seq = store.readLong(base + SEQ_OFFSET);
        if (seq != expectedSeq) {
            return "seq " + seq + " does not follow " + (expectedSeq - 1);
        }
        int type = store.readUnsignedShort(base + TYPE_OFFSET);
        if (!isValidType(type)) {
            return "unknown record type " + type;
        }
        return null;
    }
}
