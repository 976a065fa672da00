package io.jrbd.metadata.al;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrbd.metadata.al.TransactionCodec.Slot;
import io.jrbd.metadata.al.TransactionCodec.SlotState;
import java.nio.ByteBuffer;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class TransactionCodecTest {
    private static final int LIMIT = 1000;  // extents of the device

    private static ByteBuffer slotBytes(Transaction t) {
        ByteBuffer b = ByteBuffer.allocate(ActivityLogLayout.SLOT_SIZE);
        b.put(TransactionCodec.encode(t));
        return b.clear();
    }

    /** A slot holding {@code t}, changed by {@code change}, with its CRC made right again. */
    private static ByteBuffer resealed(Transaction t, Consumer<ByteBuffer> change) {
        ByteBuffer b = slotBytes(t);
        change.accept(b);
        int length = b.getInt(ActivityLogLayout.LENGTH_OFFSET);
        b.putInt(length, TransactionCodec.crc(b, length));
        return b;
    }

    @Test
    void shouldRoundTripEveryField() {
        Transaction t = new Transaction(0x1_0000_0003L, 1237, new int[] {999, 0, 17, 4});
        Slot slot = TransactionCodec.decode(slotBytes(t), 0, LIMIT);
        assertEquals(SlotState.VALID, slot.state());
        assertEquals(t, slot.transaction());
        assertArrayEquals(new int[] {999, 0, 17, 4}, slot.transaction().extents(), "the order is kept");
        assertNull(slot.problem());
        assertEquals("transaction 4294967299, 4 extents", slot.describe());
    }

    @Test
    void shouldLayOutTheHeaderAsDrawn() {
        ByteBuffer b = TransactionCodec.encode(new Transaction(2, 7, new int[] {5, 6}));
        assertEquals(4096, b.remaining(), "whole blocks");
        assertEquals(0x4A52414C, b.getInt(0));
        assertEquals(1, b.getInt(4));
        assertEquals(2, b.getLong(8));
        assertEquals(40, b.getInt(16));
        assertEquals(1, b.getInt(20), "slot");
        assertEquals(7, b.getInt(24));
        assertEquals(2, b.getInt(28));
        assertEquals(5, b.getInt(32));
        assertEquals(6, b.getInt(36));
        assertEquals(TransactionCodec.crc(b, 40), b.getInt(40));
        assertEquals(0, b.getInt(44), "zero after the CRC");
    }

    @ParameterizedTest
    @CsvSource({"0, 4096", "1015, 4096", "1016, 8192", "1237, 8192", "4087, 16384"})
    void shouldWriteWholeBlocks(int count, int bytes) {
        assertEquals(bytes, ActivityLogLayout.writtenSize(count));
    }

    @Test
    void shouldHoldAtMost4087Extents() {
        assertEquals(4087, ActivityLogLayout.MAX_EXTENTS);
        int[] max = new int[4087];
        for (int i = 0; i < max.length; i++) {
            max[i] = i;
        }
        Slot slot = TransactionCodec.decode(slotBytes(new Transaction(1, 4087, max)), 0, 5000);
        assertEquals(4087, slot.transaction().count());
        assertThrows(IllegalArgumentException.class, () -> new Transaction(1, 7, new int[4088]));
    }

    @Test
    void shouldTellANeverWrittenSlot() {
        Slot slot = TransactionCodec.decode(ByteBuffer.allocate(ActivityLogLayout.SLOT_SIZE), 1, LIMIT);
        assertEquals(SlotState.EMPTY, slot.state());
        assertEquals("never written (all zeroes)", slot.describe());
    }

    @Test
    void shouldNameWhatIsWrongWithASlot() {
        Transaction t = new Transaction(3, 7, new int[] {1, 2, 3});
        assertProblem("bad magic 0x12345678, expected 0x4A52414C (\"JRAL\")",
                with(slotBytes(t), b -> b.putInt(0, 0x12345678)), 0);
        assertProblem("bad magic 0x00000000, expected 0x4A52414C (\"JRAL\")",
                with(slotBytes(t), b -> b.put(ActivityLogLayout.SLOT_SIZE - 1, (byte) 1).putInt(0, 0)), 0);
        ByteBuffer flipped = slotBytes(t);
        flipped.put(33, (byte) (flipped.get(33) ^ 0x10));
        assertTrue(TransactionCodec.decode(flipped, 0, LIMIT).problem()
                .matches("checksum mismatch \\(stored 0x[0-9A-F]{8}, computed 0x[0-9A-F]{8}\\)"));
        assertProblem("length 99999 is not 32 + 4 n within [32, 16380]",
                with(slotBytes(t), b -> b.putInt(ActivityLogLayout.LENGTH_OFFSET, 99999)), 0);
        assertProblem("length 34 is not 32 + 4 n within [32, 16380]",
                with(slotBytes(t), b -> b.putInt(ActivityLogLayout.LENGTH_OFFSET, 34)), 0);
        assertProblem("unsupported version 2 (this jrbd reads 1)",
                resealed(t, b -> b.putInt(ActivityLogLayout.VERSION_OFFSET, 2)), 0);
        assertProblem("holds a transaction for slot 0 (misdirected write)", slotBytes(t), 1);
        assertProblem("transaction number 4 does not belong in slot 0",
                resealed(t, b -> b.putLong(ActivityLogLayout.NUMBER_OFFSET, 4)), 0);
        assertProblem("extent count 4 does not match length 44",
                resealed(t, b -> b.putInt(ActivityLogLayout.COUNT_OFFSET, 4)), 0);
        assertProblem("extent 1000 (entry 2) is past the device's last extent 999",
                resealed(t, b -> b.putInt(ActivityLogLayout.EXTENTS_OFFSET + 8, 1000)), 0);
        assertProblem("extent 1 is listed twice",
                resealed(t, b -> b.putInt(ActivityLogLayout.EXTENTS_OFFSET + 8, 1)), 0);
        assertProblem("truncated: 100 of 16384 bytes", ByteBuffer.allocate(100), 0);
    }

    private static ByteBuffer with(ByteBuffer b, Consumer<ByteBuffer> change) {
        change.accept(b);
        return b;
    }

    private static void assertProblem(String expected, ByteBuffer bytes, int slot) {
        Slot decoded = TransactionCodec.decode(bytes, slot, LIMIT);
        assertEquals(SlotState.INVALID, decoded.state());
        assertEquals(expected, decoded.problem());
        assertEquals("unusable: " + expected, decoded.describe());
    }
}
