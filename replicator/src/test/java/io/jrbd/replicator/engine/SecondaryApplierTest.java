package io.jrbd.replicator.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * The secondary's applier against an in-memory disk with a volatile cache: order, cumulative
 * acknowledgements at the end of a batch, when it syncs, resync completion, sticky failure.
 * Every listener call and every disk sync goes into one ordered log so tests can assert the
 * order ("sync" before "synced 3").
 */
final class SecondaryApplierTest {
    private static final int SIZE = 1 << 20;

    private final List<String> events = new ArrayList<>();
    private final SimDisk disk = new SimDisk(SIZE);
    private long now;
    private final SecondaryApplier applier = new SecondaryApplier(disk, new Recorder(), () -> now, 0);

    {
        disk.onSync(() -> events.add("sync"));
    }

    @Test
    void shouldApplyInOrderSoTheLaterOverlappingWriteWins() throws IOException {
        applier.write(1, 0, buf(8192, 1), 0);
        applier.write(2, 4096, buf(8192, 2), 0);
        applier.zeroes(3, 8192, 512, 0);
        applier.trim(4, 0, 512, 0);
        byte[] expected = new byte[SIZE];
        Arrays.fill(expected, 0, 4096, (byte) 1);
        Arrays.fill(expected, 4096, 12288, (byte) 2);
        Arrays.fill(expected, 8192, 8192 + 512, (byte) 0);
        Arrays.fill(expected, 0, 512, (byte) 0);
        assertArrayEquals(expected, disk.image());
        assertEquals(4, applier.appliedSeq());
    }

    @Test
    void shouldAckWrittenCumulativelyOnlyAtEndOfBatch() throws IOException {
        applier.write(1, 0, buf(4096, 1), 0);
        applier.write(2, 4096, buf(4096, 2), 0);
        applier.trim(3, 8192, 4096, 0);
        assertEquals(List.of(), events, "nothing is acknowledged before the end of the batch");
        applier.endOfBatch();
        assertEquals(List.of("written 3"), events, "one cumulative ack, no sync yet (no time has passed)");
        applier.endOfBatch();
        assertEquals(List.of("written 3"), events, "an empty batch repeats nothing");
        applier.write(4, 0, buf(512, 4), 0);
        applier.endOfBatch();
        assertEquals(List.of("written 3", "written 4"), events);
        assertEquals(0, disk.syncs());
        assertEquals(0, applier.syncedSeq());
    }

    @Test
    void shouldSyncAndAckSyncedInTheSameBatchForFlush() throws IOException {
        applier.write(1, 0, buf(4096, 1), 0);
        applier.write(2, 4096, buf(4096, 2), 0);
        applier.flush(3);
        assertEquals(0, disk.syncs(), "the sync waits for the end of the batch (group commit)");
        applier.endOfBatch();
        assertEquals(List.of("written 3", "sync", "synced 3"), events);
        assertArrayEquals(disk.image(), disk.durableImage(), "both writes before the flush are durable");
        assertEquals(3, applier.syncedSeq());
    }

    @Test
    void shouldSyncAndAckSyncedInTheSameBatchForFuaWriteTrimAndZeroes() throws IOException {
        applier.write(1, 0, buf(4096, 1), OpType.FUA);
        applier.endOfBatch();
        applier.trim(2, 0, 512, OpType.FUA);
        applier.endOfBatch();
        applier.zeroes(3, 512, 512, OpType.FUA | OpType.NO_HOLE);
        applier.endOfBatch();
        assertEquals(List.of("written 1", "sync", "synced 1", "written 2", "sync", "synced 2", "written 3", "sync",
                "synced 3"), events);
        assertArrayEquals(disk.image(), disk.durableImage());
    }

    @Test
    void shouldSyncOnlyOnceTheIntervalHasPassed() throws IOException {
        now = 1_000;
        SecondaryApplier a = new SecondaryApplier(disk, new Recorder(), () -> now, 0);
        a.write(1, 0, buf(4096, 1), 0);
        now += SecondaryApplier.SYNC_INTERVAL_NANOS - 1;
        a.endOfBatch();
        assertEquals(List.of("written 1"), events, "one nanosecond short of the interval: no sync");
        a.write(2, 0, buf(4096, 2), 0);
        now += 1;
        a.endOfBatch();
        assertEquals(List.of("written 1", "written 2", "sync", "synced 2"), events);
        // The interval restarts at the sync.
        a.write(3, 0, buf(4096, 3), 0);
        now += SecondaryApplier.SYNC_INTERVAL_NANOS - 1;
        a.endOfBatch();
        assertEquals(1, disk.syncs());
        now += 1;
        a.endOfBatch();
        assertEquals(2, disk.syncs());
        assertEquals(3, a.syncedSeq());
    }

    @Test
    void shouldNotSyncForTimeAloneWhenNothingIsUnsynced() throws IOException {
        applier.write(1, 0, buf(4096, 1), OpType.FUA);
        applier.endOfBatch();
        now += 10 * SecondaryApplier.SYNC_INTERVAL_NANOS;
        applier.endOfBatch();
        assertEquals(1, disk.syncs());
    }

    @Test
    void shouldSyncOnceEnoughBytesPiledUp() throws IOException {
        int chunk = 1 << 20;
        long seq = 0;
        long written = 0;
        while (written + chunk <= SecondaryApplier.SYNC_BYTES - 512) {
            applier.write(++seq, 0, buf(chunk, (int) seq), 0);
            written += chunk;
        }
        int rest = (int) (SecondaryApplier.SYNC_BYTES - 512 - written);
        if (rest > 0) {
            applier.write(++seq, 0, buf(rest, 7), 0);
        }
        applier.endOfBatch();
        assertEquals(0, disk.syncs(), "512 bytes short of SYNC_BYTES: no sync");
        applier.write(++seq, 0, buf(512, 9), 0);
        applier.endOfBatch();
        assertEquals(1, disk.syncs(), "at SYNC_BYTES: one sync");
        assertEquals(seq, applier.syncedSeq());
        applier.write(++seq, 0, buf(512, 9), 0);
        applier.endOfBatch();
        assertEquals(1, disk.syncs(), "the byte count restarts at the sync");
    }

    @Test
    void shouldMakePendingWritesDurableWhenIdle() throws IOException {
        applier.write(1, 0, buf(4096, 1), 0);
        applier.write(2, 8192, buf(4096, 2), 0);
        applier.idle();
        assertTrue(events.containsAll(List.of("written 2", "synced 2")), events.toString());
        assertTrue(events.indexOf("written 2") < events.indexOf("sync"), events.toString());
        assertTrue(events.indexOf("sync") < events.indexOf("synced 2"), events.toString());
        assertArrayEquals(disk.image(), disk.durableImage());
        assertEquals(2, applier.syncedSeq());
        int syncs = disk.syncs();
        events.clear();
        applier.idle();
        assertEquals(List.of(), events, "idle with nothing pending does nothing");
        assertEquals(syncs, disk.syncs());
    }

    @Test
    void shouldReportSyncStartedAtOnceAndSyncCompletedOnlyAfterTheSyncThatCoversIt() throws IOException {
        applier.syncStart(SIZE, true, 7);
        assertEquals(List.of("syncStarted " + SIZE), events);
        applier.write(0, 0, buf(4096, 1), 0); // resync data carries the last application seq
        applier.write(0, 4096, buf(4096, 1), 0);
        applier.syncDone(0);
        assertEquals(List.of("syncStarted " + SIZE), events, "not before the batch ends and the disk is synced");
        applier.endOfBatch();
        assertEquals(List.of("syncStarted " + SIZE, "sync", "synced 0", "syncCompleted 0"), events);
    }

    @Test
    void shouldAcknowledgeResyncBytesOnlyOnceASyncCoversThemCountingFromEachSyncStart() throws IOException {
        applier.syncStart(SIZE, false, 9);
        applier.write(0, 0, buf(4096, 1), 0);
        applier.resyncApplied(4096);
        applier.zeroes(0, 8192, 8192, 0);
        applier.resyncApplied(8192);
        assertEquals(List.of("syncStarted " + SIZE + " bitmap gen 9"), events, "nothing durable yet");
        applier.idle();
        assertEquals(List.of("syncStarted " + SIZE + " bitmap gen 9", "sync", "synced 0 resync 12288"), events,
                "resync data alone (no new sequence number) still gets a sync and an acknowledgement");
        events.clear();
        applier.syncStart(SIZE, false, 9);
        applier.write(0, 0, buf(4096, 2), 0);
        applier.resyncApplied(4096);
        applier.idle();
        assertEquals(List.of("syncStarted " + SIZE + " bitmap gen 9", "sync", "synced 0 resync 4096"), events,
                "a new SYNC_START counts from zero, as the source's ledger does");
    }

    @Test
    void shouldNotReportSyncCompletedWhenTheCoveringSyncFails() throws IOException {
        applier.syncStart(SIZE, true, 7);
        applier.write(1, 0, buf(4096, 1), 0);
        applier.syncDone(1);
        disk.failNext("sync", "EIO on fdatasync");
        IOException e = assertThrows(IOException.class, applier::endOfBatch);
        assertEquals("EIO on fdatasync", e.getMessage());
        assertEquals(List.of("syncStarted " + SIZE, "written 1"), events);
        assertThrows(IOException.class, applier::idle);
        assertEquals(List.of("syncStarted " + SIZE, "written 1"), events, "never UpToDate after a failed sync");
    }

    @Test
    void shouldFailEveryLaterCallNamingTheFirstError() throws IOException {
        applier.write(1, 0, buf(4096, 1), 0);
        disk.failNext("write", "EIO at offset 4096");
        IOException first = assertThrows(IOException.class, () -> applier.write(2, 4096, buf(4096, 2), 0));
        assertEquals("EIO at offset 4096", first.getMessage());
        byte[] before = disk.image().clone();
        List<Executable> later = List.of(
                () -> applier.write(3, 8192, buf(4096, 3), 0),
                () -> applier.trim(4, 0, 4096, 0),
                () -> applier.zeroes(5, 0, 4096, 0),
                () -> applier.flush(6),
                applier::endOfBatch,
                applier::idle,
                () -> applier.syncStart(SIZE, true, 7),
                () -> applier.syncDone(7));
        for (Executable call : later) {
            IOException e = assertThrows(IOException.class, call);
            assertTrue(e.getMessage().contains("EIO at offset 4096"), e.getMessage());
            assertEquals(first, e.getCause());
        }
        assertArrayEquals(before, disk.image(), "nothing is written past the gap");
        assertEquals(List.of(), events, "no ack after the failure, not even for seq 1");
        assertEquals(1, applier.appliedSeq());
        assertEquals(0, disk.syncs());
    }

    @Test
    void shouldKeepTheFirstErrorWhenALaterCallWouldFailDifferently() throws IOException {
        disk.failNext("zero", "EIO zeroing");
        assertThrows(IOException.class, () -> applier.zeroes(1, 0, 4096, 0));
        disk.failNext("sync", "a second, different error");
        IOException e = assertThrows(IOException.class, applier::idle);
        assertTrue(e.getMessage().contains("EIO zeroing"), e.getMessage());
    }

    @Test
    void shouldStartFromTheGivenSequenceWithoutAcking() throws IOException {
        SecondaryApplier a = new SecondaryApplier(disk, new Recorder(), () -> now, 41);
        a.endOfBatch();
        a.idle();
        assertEquals(List.of(), events);
        a.write(42, 0, buf(512, 1), 0);
        a.endOfBatch();
        assertEquals(List.of("written 42"), events);
        assertEquals(41, a.syncedSeq());
    }

    private static ByteBuf buf(int length, int fill) {
        byte[] b = new byte[length];
        Arrays.fill(b, (byte) fill);
        return Unpooled.wrappedBuffer(b);
    }

    private final class Recorder implements SecondaryApplier.Listener {
        @Override
        public void written(long seq) {
            events.add("written " + seq);
        }

        @Override
        public void synced(long seq, long resyncBytes) {
            events.add("synced " + seq + (resyncBytes > 0 ? " resync " + resyncBytes : ""));
        }

        @Override
        public void syncStarted(long totalBytes, boolean full, long syncGeneration) {
            events.add("syncStarted " + totalBytes + (full ? "" : " bitmap") + (syncGeneration == 7 ? "" : " gen " + syncGeneration));
        }

        @Override
        public void syncCompleted(long seq) {
            events.add("syncCompleted " + seq);
        }
    }
}
