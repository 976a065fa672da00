package io.jrbd.metadata.al;

import static io.jrbd.metadata.al.ActivityLogLayout.CAPACITY_OFFSET;
import static io.jrbd.metadata.al.ActivityLogLayout.COUNT_OFFSET;
import static io.jrbd.metadata.al.ActivityLogLayout.EXTENTS_OFFSET;
import static io.jrbd.metadata.al.ActivityLogLayout.FORMAT_VERSION;
import static io.jrbd.metadata.al.ActivityLogLayout.HEADER_LENGTH;
import static io.jrbd.metadata.al.ActivityLogLayout.LENGTH_OFFSET;
import static io.jrbd.metadata.al.ActivityLogLayout.MAGIC;
import static io.jrbd.metadata.al.ActivityLogLayout.MAGIC_OFFSET;
import static io.jrbd.metadata.al.ActivityLogLayout.MAX_EXTENTS;
import static io.jrbd.metadata.al.ActivityLogLayout.NUMBER_OFFSET;
import static io.jrbd.metadata.al.ActivityLogLayout.SLOT_OFFSET;
import static io.jrbd.metadata.al.ActivityLogLayout.SLOT_SIZE;
import static io.jrbd.metadata.al.ActivityLogLayout.VERSION_OFFSET;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.zip.CRC32C;

/** Encodes and decodes one activity log transaction as {@link ActivityLogLayout} draws it. */
public final class TransactionCodec {
    /** What one slot holds. */
    public enum SlotState {
        /** All zeroes: never written. */
        EMPTY,
        /** A transaction whose checksum, version and fields hold. */
        VALID,
        /** Anything else: a torn write, or corruption. */
        INVALID
    }

    /**
     * A decoded slot.
     *
     * @param state       what it holds
     * @param transaction the transaction when {@link SlotState#VALID}, else null
     * @param problem     why it is not valid, or null
     */
    public record Slot(SlotState state, Transaction transaction, String problem) {
        static Slot valid(Transaction t) {
            return new Slot(SlotState.VALID, t, null);
        }

        static Slot invalid(String problem) {
            return new Slot(SlotState.INVALID, null, problem);
        }

        /** For {@code dump-md}: "transaction 17, 3 extents", "never written" or "unusable: why". */
        public String describe() {
            return switch (state) {
                case EMPTY -> "never written (all zeroes)";
                case VALID -> "transaction " + Long.toUnsignedString(transaction.number()) + ", "
                        + transaction.count() + " extents";
                case INVALID -> "unusable: " + problem;
            };
        }
    }

    private static final Slot EMPTY = new Slot(SlotState.EMPTY, null, "never written (all zeroes)");

    private TransactionCodec() {
    }

    /**
     * Writes transaction {@code number} of {@code extents[0, count)} at the start of {@code dst}
     * (big-endian, at least {@link ActivityLogLayout#SLOT_SIZE} bytes), zeroes the rest of its last
     * block and leaves {@code dst} flipped: position 0, limit the bytes to write. Allocates
     * nothing.
     */
    public static ByteBuffer encode(ByteBuffer dst, long number, int alExtents, int[] extents, int count) {
        if (count < 0 || count > MAX_EXTENTS) {
            throw new IllegalArgumentException(count + " extents outside [0, " + MAX_EXTENTS + "]");
        }
        if (number == 0) {
            throw new IllegalArgumentException("transaction number 0: numbers start at 1");
        }
        int length = ActivityLogLayout.length(count);
        int written = ActivityLogLayout.writtenSize(count);
        dst.order(ByteOrder.BIG_ENDIAN).clear().limit(written);
        dst.putInt(MAGIC_OFFSET, MAGIC);
        dst.putInt(VERSION_OFFSET, FORMAT_VERSION);
        dst.putLong(NUMBER_OFFSET, number);
        dst.putInt(LENGTH_OFFSET, length);
        dst.putInt(SLOT_OFFSET, ActivityLogLayout.slotOf(number));
        dst.putInt(CAPACITY_OFFSET, alExtents);
        dst.putInt(COUNT_OFFSET, count);
        for (int i = 0; i < count; i++) {
            dst.putInt(EXTENTS_OFFSET + i * Integer.BYTES, extents[i]);
        }
        dst.putInt(length, crc(dst, length));
        for (int i = length + Integer.BYTES; i < written; i++) {
            dst.put(i, (byte) 0);
        }
        return dst;
    }

    /** A fresh heap buffer holding {@code t}, ready to write. */
    public static ByteBuffer encode(Transaction t) {
        int[] extents = t.extents();
        return encode(ByteBuffer.allocate(SLOT_SIZE), t.number(), t.alExtents(), extents, extents.length);
    }

    /** CRC32C of {@code b}'s bytes {@code [0, length)}. */
    static int crc(ByteBuffer b, int length) {
        CRC32C crc = new CRC32C();
        crc.update(b.duplicate().limit(length).position(0));
        return (int) crc.getValue();
    }

    /**
     * Decodes the {@link ActivityLogLayout#SLOT_SIZE} bytes of slot {@code slot}. Checks, in this
     * order: all zeroes, magic, length (before anything is read by it), checksum, version, slot,
     * number, count, then every extent: below {@code extentLimit} (the device's extent count)
     * and listed once. The first failure is the problem reported.
     */
    public static Slot decode(ByteBuffer bytes, int slot, int extentLimit) {
        ByteBuffer b = bytes.duplicate().order(ByteOrder.BIG_ENDIAN).position(0);
        if (b.limit() < SLOT_SIZE) {
            return Slot.invalid("truncated: " + b.limit() + " of " + SLOT_SIZE + " bytes");
        }
        if (allZero(b)) {
            return EMPTY;
        }
        int magic = b.getInt(MAGIC_OFFSET);
        if (magic != MAGIC) {
            return Slot.invalid(String.format("bad magic 0x%08X, expected 0x%08X (\"JRAL\")", magic, MAGIC));
        }
        int length = b.getInt(LENGTH_OFFSET);
        int maxLength = ActivityLogLayout.length(MAX_EXTENTS);
        if (length < HEADER_LENGTH || length > maxLength || (length - HEADER_LENGTH) % Integer.BYTES != 0) {
            return Slot.invalid("length " + Integer.toUnsignedString(length) + " is not 32 + 4 n within ["
                    + HEADER_LENGTH + ", " + maxLength + "]");
        }
        int stored = b.getInt(length);
        int computed = crc(b, length);
        if (stored != computed) {
            return Slot.invalid(String.format("checksum mismatch (stored 0x%08X, computed 0x%08X)", stored, computed));
        }
        int version = b.getInt(VERSION_OFFSET);
        if (version != FORMAT_VERSION) {
            return Slot.invalid("unsupported version " + Integer.toUnsignedString(version) + " (this jrbd reads "
                    + FORMAT_VERSION + ")");
        }
        long number = b.getLong(NUMBER_OFFSET);
        int recordedSlot = b.getInt(SLOT_OFFSET);
        if (recordedSlot != slot) {
            return Slot.invalid("holds a transaction for slot " + Integer.toUnsignedString(recordedSlot)
                    + " (misdirected write)");
        }
        if (number == 0 || ActivityLogLayout.slotOf(number) != slot) {
            return Slot.invalid("transaction number " + Long.toUnsignedString(number) + " does not belong in slot "
                    + slot);
        }
        int count = b.getInt(COUNT_OFFSET);
        if (ActivityLogLayout.length(count) != length || count < 0) {
            return Slot.invalid("extent count " + Integer.toUnsignedString(count) + " does not match length "
                    + length);
        }
        int[] extents = new int[count];
        for (int i = 0; i < count; i++) {
            int e = b.getInt(EXTENTS_OFFSET + i * Integer.BYTES);
            if (e < 0 || e >= extentLimit) {
                return Slot.invalid("extent " + Integer.toUnsignedString(e) + " (entry " + i
                        + ") is past the device's last extent " + (extentLimit - 1));
            }
            extents[i] = e;
        }
        int[] sorted = extents.clone();
        Arrays.sort(sorted);
        for (int i = 1; i < sorted.length; i++) {
            if (sorted[i] == sorted[i - 1]) {
                return Slot.invalid("extent " + sorted[i] + " is listed twice");
            }
        }
        return Slot.valid(new Transaction(number, b.getInt(ActivityLogLayout.CAPACITY_OFFSET), extents));
    }

    private static boolean allZero(ByteBuffer b) {
        for (int i = 0; i < SLOT_SIZE; i += Long.BYTES) {
            if (b.getLong(i) != 0) {
                return false;
            }
        }
        return true;
    }
}
