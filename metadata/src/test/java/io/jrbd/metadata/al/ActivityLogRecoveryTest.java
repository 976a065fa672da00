package io.jrbd.metadata.al;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrbd.metadata.al.TransactionCodec.SlotState;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class ActivityLogRecoveryTest {
    private static final int LIMIT = 1000;
    private static final long AT = 8192;

    private final ByteBuffer region = ByteBuffer.allocate(ActivityLogLayout.REGION_SIZE);

    private void put(Transaction t) {
        region.put(ActivityLogLayout.slotOffset(t.slot()), TransactionCodec.encode(t), 0, 4096);
    }

    /** A torn write: only the first sector of {@code t} reached slot {@code t.slot()}. */
    private void putTorn(Transaction t) {
        region.put(ActivityLogLayout.slotOffset(t.slot()), TransactionCodec.encode(t), 0, 512);
    }

    private void flip(int regionOffset) {
        region.put(regionOffset, (byte) ~region.get(regionOffset));
    }

    private ActivityLogRecovery.Result recover() {
        return ActivityLogRecovery.recover(region, LIMIT, AT);
    }

    @Test
    void shouldReadAnAllZeroRegionAsAnEmptyLog() {
        ActivityLogRecovery.Result r = recover();
        assertTrue(r.usable());
        assertNull(r.newest());
        assertEquals(0, r.number());
        assertNull(r.warning());
        assertEquals(SlotState.EMPTY, r.slots()[1].state());
    }

    @Test
    void shouldTakeTheValidTransactionWithTheHighestNumber() {
        put(new Transaction(7, 7, new int[] {1, 2}));
        put(new Transaction(8, 7, new int[] {1, 2, 3}));
        ActivityLogRecovery.Result r = recover();
        assertEquals(8, r.number());
        assertEquals(3, r.newest().count());
        assertNull(r.warning());
    }

    @Test
    void shouldFallBackToThePreviousTransactionWhenTheNewestIsTorn() {
        put(new Transaction(7, 7, new int[] {1, 2}));
        put(new Transaction(8, 7, new int[] {1, 2, 3}));
        put(new Transaction(9, 7, new int[] {1, 2, 3, 4}));
        // Ten names 500 extents (2 KiB): only its first sector lands over eight.
        putTorn(new Transaction(10, 500, range(500)));
        ActivityLogRecovery.Result r = recover();
        assertTrue(r.usable());
        assertEquals(9, r.number(), "ten is torn: nine is the state");
        assertEquals(4, r.newest().count());
        assertTrue(r.warning().startsWith("activity log slot 1 @24576 is unusable (checksum mismatch"), r.warning());
        assertTrue(r.warning().endsWith("taken as the torn write of transaction 10; using transaction 9 in slot 0"),
                r.warning());
    }

    @Test
    void shouldTakeATornFirstTransactionForAnEmptyLog() {
        putTorn(new Transaction(1, 500, range(500)));
        ActivityLogRecovery.Result r = recover();
        assertTrue(r.usable());
        assertNull(r.newest());
        assertTrue(r.warning().startsWith("activity log slot 0 @8192 is unusable (checksum mismatch"), r.warning());
        assertTrue(r.warning().endsWith("taken as the torn write of transaction 1; the activity log is empty"));
    }

    private static int[] range(int n) {
        int[] extents = new int[n];
        for (int i = 0; i < n; i++) {
            extents[i] = i;
        }
        return extents;
    }

    @Test
    void shouldRefuseARegionWhereEverySlotIsCorruptNamingEachSlotAndOffset() {
        put(new Transaction(3, 7, new int[] {1}));
        put(new Transaction(4, 7, new int[] {1, 2}));
        flip(ActivityLogLayout.slotOffset(0) + 33);
        flip(ActivityLogLayout.slotOffset(1) + 1);
        ActivityLogRecovery.Result r = recover();
        assertFalse(r.usable());
        assertTrue(r.problem().matches("no valid transaction in any slot \\(slot 0 @8192: checksum mismatch \\(stored"
                + " 0x[0-9A-F]{8}, computed 0x[0-9A-F]{8}\\); slot 1 @24576: bad magic 0x4AAD414C, expected"
                + " 0x4A52414C \\(\"JRAL\"\\)\\)"), r.problem());
    }

    @Test
    void shouldRefuseALaterSlotWrittenWithoutTheFirst() {
        put(new Transaction(2, 7, new int[] {1}));
        flip(ActivityLogLayout.slotOffset(1) + 33);
        ActivityLogRecovery.Result r = recover();
        assertTrue(r.problem().startsWith("no valid transaction in any slot (slot 0 @8192: never written (all zeroes);"
                + " slot 1 @24576: checksum mismatch"), r.problem());
    }
}
