package io.jrbd.metadata.al;

import static io.jrbd.metadata.al.AlFixtures.EXTENT;
import static io.jrbd.metadata.al.AlFixtures.GIB;
import static io.jrbd.metadata.al.AlFixtures.MIB;
import static io.jrbd.metadata.al.AlFixtures.at;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrbd.metadata.al.ActivityLog.Activation;
import io.jrbd.metadata.al.AlFixtures.MemorySink;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ActivityLogTest {
    private static final long SIZE = 64 * GIB;
    private static final int B = 4096;

    private MemorySink sink;
    private ActivityLog al;
    private long seq;

    @BeforeEach
    void emptyLog() {
        sink = new MemorySink();
        al = new ActivityLog(SIZE, sink);
        al.setCapacity(7);
    }

    /** A 4 KiB write at the start of extent {@code e}, settled up to {@code settled}. */
    private Activation write(int e, long settled) throws IOException {
        return al.activate(at(e), B, ++seq, settled);
    }

    private Activation write(int e) throws IOException {
        return write(e, Long.MAX_VALUE);
    }

    @Test
    void shouldWriteOneTransactionForAColdExtentAndNoneWhileItIsHot() throws IOException {
        assertEquals(Activation.ACTIVATED, write(3));
        assertEquals(1, al.transactionsWritten());
        for (int i = 0; i < 100; i++) {
            assertEquals(Activation.ALREADY_HOT, al.activate(at(3) + i * B, B, ++seq, 0));
        }
        assertEquals(1, al.transactionsWritten());
        assertEquals(List.of("tx 1"), sink.events);
        assertArrayEquals(new int[] {3}, al.hotExtents());
        assertEquals(seq, al.lastSeq(3), "the last writer is recorded without I/O");
    }

    @Test
    void shouldActivateEveryExtentARangeTouchesInOneTransaction() throws IOException {
        assertEquals(Activation.ACTIVATED, al.activate(at(5) - B, 2 * B, 1, 0));  // the end of 4, the start of 5
        assertArrayEquals(new int[] {4, 5}, al.hotExtents());
        assertEquals(1, al.transactionsWritten());
        assertEquals(Activation.ACTIVATED, al.activate(at(5), 3 * EXTENT, 2, 0));  // 5 hot, 6 and 7 cold
        assertArrayEquals(new int[] {4, 5, 6, 7}, al.hotExtents());
        assertEquals(2, al.transactionsWritten());
        assertEquals(Activation.ALREADY_HOT, al.activate(at(4), 4 * EXTENT, 3, 0));
        assertEquals(Activation.ALREADY_HOT, al.activate(at(9), 0, 4, 0), "an empty range touches nothing");
        assertFalse(al.isHot(9));
    }

    @Test
    void shouldEvictTheLeastRecentlyUsedExtent() throws IOException {
        for (int e = 0; e < 7; e++) {
            write(e);
        }
        write(0);  // 0 becomes the most recently used
        write(2);
        assertArrayEquals(new int[] {1, 3, 4, 5, 6, 0, 2}, al.lruOrder());
        assertEquals(Activation.ACTIVATED, write(10));
        assertArrayEquals(new int[] {3, 4, 5, 6, 0, 2, 10}, al.lruOrder(), "1 was the least recently used");
        assertEquals(Activation.ACTIVATED, write(11));
        assertArrayEquals(new int[] {4, 5, 6, 0, 2, 10, 11}, al.lruOrder());
        assertEquals(2, al.evictions());
        assertEquals(9, al.transactionsWritten());
    }

    @Test
    void shouldNeverEvictAnExtentWhoseLastWriteIsNotSettled() throws IOException {
        for (int e = 0; e < 7; e++) {
            write(e);  // extent e last written by seq e + 1
        }
        // Settled up to 2: extents 0 and 1 may go, 2.. may not.
        assertEquals(Activation.ACTIVATED, write(20, 2));
        assertEquals(Activation.ACTIVATED, write(21, 2));
        assertArrayEquals(new int[] {2, 3, 4, 5, 6, 20, 21}, al.lruOrder());
        long before = al.transactionsWritten();
        assertEquals(Activation.NO_EVICTABLE_EXTENT, write(22, 2));
        assertEquals(3, al.blockedUntilSeq(), "extent 2's writer, seq 3, must settle first");
        assertEquals(before, al.transactionsWritten(), "nothing written");
        assertArrayEquals(new int[] {2, 3, 4, 5, 6, 20, 21}, al.lruOrder(), "nothing changed");
        assertEquals(1, al.waits());
        // Extent 2 is rewritten meanwhile: now 3 is the oldest and its writer (seq 4) is settled next.
        assertEquals(Activation.ALREADY_HOT, write(2, 2));
        assertEquals(Activation.NO_EVICTABLE_EXTENT, al.activate(at(22), B, 100, 3));
        assertEquals(4, al.blockedUntilSeq());
        assertEquals(Activation.ACTIVATED, al.activate(at(22), B, 100, 4));
        assertFalse(al.isHot(3));
        assertTrue(al.isHot(2) && al.isHot(22));
        assertEquals(Long.MAX_VALUE, al.blockedUntilSeq());
    }

    @Test
    void shouldSkipAnUnsettledOldExtentAndEvictANewerSettledOne() throws IOException {
        for (int e = 0; e < 7; e++) {
            al.activate(at(e), B, e == 0 ? 1000 : e, Long.MAX_VALUE);  // extent 0 oldest but written last
        }
        assertEquals(Activation.ACTIVATED, al.activate(at(9), B, 1001, 999));
        assertArrayEquals(new int[] {0, 2, 3, 4, 5, 6, 9}, al.lruOrder());
    }

    @Test
    void shouldCallTheEvictionHookBeforeTheTransactionThatEvicts() throws IOException {
        List<String> hookCalls = new ArrayList<>();
        al.onEviction((extents, count) -> {
            hookCalls.add(Arrays.toString(Arrays.copyOf(extents, count)));
            sink.events.add("hook " + Arrays.toString(Arrays.copyOf(extents, count)));
        });
        for (int e = 0; e < 7; e++) {
            write(e);
        }
        assertTrue(hookCalls.isEmpty(), "no eviction, no hook");
        al.activate(at(7), 2 * EXTENT, ++seq, Long.MAX_VALUE);  // 7 and 8: evicts 0 and 1
        assertEquals(List.of("[0, 1]"), hookCalls);
        assertEquals(List.of("tx 7", "hook [0, 1]", "tx 8"), sink.events.subList(6, 9));
        al.reset();
        assertEquals(List.of("hook [2, 3, 4, 5, 6, 7, 8]", "tx 9"), sink.events.subList(9, 11));
    }

    @Test
    void shouldChangeNothingWhenTheEvictionHookFails() throws IOException {
        for (int e = 0; e < 7; e++) {
            write(e);
        }
        IOException bitmapFailure = new IOException("bitmap flush failed");
        al.onEviction((extents, count) -> {
            throw bitmapFailure;
        });
        IOException e = assertThrows(IOException.class, () -> write(7));
        assertSame(bitmapFailure, e);
        assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 6}, al.lruOrder());
        assertEquals(7, al.transactionsWritten());
        al.onEviction(EvictionHook.NONE);
        assertEquals(Activation.ACTIVATED, write(7), "not sticky: the hook's owner decides");
    }

    @Test
    void shouldFailEveryLaterCallOnceATransactionFails() throws IOException {
        write(1);
        sink.failNext = new IOException("EIO");
        IOException first = assertThrows(IOException.class, () -> write(2));
        assertEquals("EIO", first.getMessage());
        IOException later = assertThrows(IOException.class, () -> write(1));
        assertTrue(later.getMessage().startsWith("activity log: transaction 2 failed to be written (EIO)"),
                later.getMessage());
        assertThrows(IOException.class, () -> al.reset());
        assertEquals(1, al.transactionNumber(), "the durable state is the last written");
    }

    @Test
    void shouldKeepEveryExtentFoundOnDiskUntilItIsEvicted() throws IOException {
        int[] twenty = new int[20];
        for (int i = 0; i < 20; i++) {
            twenty[i] = 100 + i;
        }
        MemorySink disk = new MemorySink();
        disk.writeAndSync(TransactionCodec.encode(new Transaction(5, 1237, twenty)), 0);
        ActivityLog loaded = new ActivityLog(SIZE, disk.recover(SIZE), disk);
        loaded.setCapacity(7);
        assertArrayEquals(twenty, loaded.lruOrder(), "all 20, in their order, though the capacity is 7");
        assertEquals(ActivityLog.LOADED_SEQ, loaded.lastSeq(100));
        assertEquals(Activation.ALREADY_HOT, loaded.activate(at(110), B, 1, 0));
        assertEquals(Activation.NO_EVICTABLE_EXTENT, loaded.activate(at(1), B, 2, -1), "nothing settled yet");
        assertEquals(ActivityLog.LOADED_SEQ, loaded.blockedUntilSeq());
        assertEquals(Activation.ACTIVATED, loaded.activate(at(1), B, 2, 0));
        assertArrayEquals(new int[] {116, 117, 118, 119, 110, 1}, Arrays.copyOfRange(loaded.lruOrder(), 1, 7));
        assertEquals(7, loaded.lruOrder().length, "down to the capacity in one transaction");
        assertEquals(6, loaded.transactionNumber(), "numbering goes on from the disk's");
        assertEquals(1, loaded.slot(1).transaction().slot());
    }

    @Test
    void shouldShrinkLazilyWhenTheCapacityIsLowered() throws IOException {
        al.setCapacity(20);
        for (int e = 0; e < 20; e++) {
            write(e);
        }
        long written = al.transactionsWritten();
        al.setCapacity(10);
        assertEquals(20, al.lruOrder().length, "no I/O at the change");
        assertEquals(written, al.transactionsWritten());
        write(30);
        assertEquals(10, al.lruOrder().length);
        assertEquals(11, al.evictions());
    }

    @Test
    void shouldHoldARangeWiderThanTheCapacityAlone() throws IOException {
        for (int e = 0; e < 7; e++) {
            write(e);
        }
        // A 32 MiB write that is not aligned touches 9 extents, more than al-extents 7.
        assertEquals(Activation.ACTIVATED, al.activate(at(50) + B, 32 * MIB, ++seq, Long.MAX_VALUE));
        assertArrayEquals(new int[] {50, 51, 52, 53, 54, 55, 56, 57, 58}, al.lruOrder());
        assertEquals(Activation.ACTIVATED, write(60));
        assertEquals(7, al.lruOrder().length, "back to the capacity");
    }

    @Test
    void shouldRejectRangesOutsideTheDeviceOrWiderThanATransaction() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> al.activate(SIZE - B, 2 * B, 1, 0));
        assertEquals("range " + (SIZE - B) + "+" + 2 * B + " is outside the " + SIZE + "-byte device", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> al.activate(-1, B, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> al.activate(0, -1, 1, 0));
        e = assertThrows(IllegalArgumentException.class, () -> al.activate(0, 4088 * EXTENT, 1, 0));
        assertEquals("range 0+" + 4088 * EXTENT + " touches 4088 extents; one activity log transaction holds at most"
                + " 4087: split it", e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(ints = {Integer.MIN_VALUE, -1, 0, 6, 4088, Integer.MAX_VALUE})
    void shouldRejectCapacitiesOutsideTheLimitsNamingThem(int alExtents) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> al.setCapacity(alExtents));
        assertEquals("al-extents " + alExtents + " is outside [7, 4087] (at least 7, as DRBD; at most 4087, what one"
                + " transaction in a 16384-byte slot of the 32768-byte activity log holds)", e.getMessage());
        assertEquals(7, al.capacity(), "unchanged");
    }

    @ParameterizedTest
    @ValueSource(ints = {7, 1237, 4087})
    void shouldAcceptCapacitiesWithinTheLimits(int alExtents) throws IOException {
        al.setCapacity(alExtents);
        assertEquals(alExtents, al.capacity());
        for (int e = 0; e < alExtents + 3; e++) {
            write(e);
        }
        assertEquals(alExtents, al.hotExtents().length);
        assertEquals(alExtents, sink.recover(SIZE).newest().count(), "the whole set fits one transaction");
    }

    @Test
    void shouldStartWithDrbdsDefaultCapacity() {
        assertEquals(1237, new ActivityLog(SIZE, new MemorySink()).capacity());
    }

    @Test
    void shouldResetToAnEmptyTransactionOnlyWhenSomethingIsHot() throws IOException {
        assertFalse(al.reset(), "empty already: no I/O");
        assertEquals(0, al.transactionsWritten());
        write(1);
        write(2);
        assertTrue(al.reset());
        assertEquals(0, al.hotExtents().length);
        assertEquals(0, al.lruOrder().length);
        assertEquals(3, al.transactionNumber());
        assertEquals(0, sink.recover(SIZE).newest().count());
        assertEquals(Activation.ACTIVATED, write(1), "cold again");
    }

    @Test
    void shouldAlternateSlotsWithEveryTransaction() throws IOException {
        for (int e = 0; e < 5; e++) {
            write(e);
            Transaction t = al.lastTransaction();
            assertEquals(e + 1, t.number());
            assertEquals(e % 2, t.slot());
            assertEquals(t, al.slot(e % 2).transaction());
            assertEquals(t, sink.recover(SIZE).newest(), "what is on disk is what is in memory");
        }
        assertEquals(4, al.slot(1).transaction().number(), "the previous transaction is kept in the other slot");
    }

    @Test
    void shouldWriteFewerThanOneTransactionPerThousandWritesOnceTheWorkingSetIsHot() throws IOException {
        // 100,000 random 4 KiB writes over 1,000 extents (about 4 GiB) with DRBD's default capacity of 1,237.
        ActivityLog log = new ActivityLog(SIZE, sink);
        Random random = new Random(42);
        int workingSet = 1000;
        long warmUp = 0;
        for (int i = 1; i <= 100_000; i++) {
            long offset = at(random.nextInt(workingSet)) + (long) random.nextInt((int) (EXTENT / B)) * B;
            log.activate(offset, B, i, i - 64);  // the peer settles writes 64 behind
            if (i == 20_000) {
                warmUp = log.transactionsWritten();
            }
        }
        assertEquals(1000, warmUp, "one transaction per extent of the working set while it warms up");
        assertEquals(1000, log.transactionsWritten(), "none in the 80,000 writes after warm-up");
        assertEquals(0, log.evictions());
    }
}
