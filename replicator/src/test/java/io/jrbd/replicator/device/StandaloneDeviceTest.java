package io.jrbd.replicator.device;

import static io.jrbd.replicator.device.DeviceFixtures.KIB;
import static io.jrbd.replicator.device.DeviceFixtures.MIB;
import static io.jrbd.replicator.device.DeviceFixtures.allocatedBlocks;
import static io.jrbd.replicator.device.DeviceFixtures.pattern;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrbd.metadata.store.BackingStore;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** A standalone device over a sparse file on ext4 (which punches holes and zeroes ranges). */
class StandaloneDeviceTest {
    private static final long SIZE = 8L * MIB;

    @TempDir
    Path dir;
    private DeviceHarness h;
    private StandaloneDevice device;

    @BeforeEach
    void open() throws Exception {
        h = new DeviceHarness(dir.resolve("device.img"), SIZE, false, 4);
        device = h.device;
    }

    @AfterEach
    void close() {
        h.close();
    }

    @Test
    void shouldRefuseFewerThanOneIoThread() throws Exception {
        try (BackingStore store = BackingStore.open(dir.resolve("other.img"), MIB, false)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new StandaloneDevice(store, UnpooledByteBufAllocator.DEFAULT, 0));
            assertTrue(e.getMessage().contains("0"), e.getMessage());
        }
    }

    @Test
    void shouldReportSizeAndWritabilityOfItsStore() {
        assertEquals(SIZE, device.size());
        assertFalse(device.readOnly());
    }

    @Test
    void shouldReadZeroesFromNewDevice() {
        assertArrayEquals(new byte[64 * KIB], h.read(SIZE / 2 + 3, 64 * KIB));
    }

    @Test
    void shouldReadBackWhatWasWrittenAtUnalignedOffsets() {
        long[] offsets = {0, 1, 511, 4095, 65_537, SIZE - 1000};
        int[] lengths = {1, 1000, 2, 9000, 128 * KIB + 3, 1000};
        for (int i = 0; i < offsets.length; i++) {
            h.writeAndWait(offsets[i], pattern(lengths[i], i));
        }
        for (int i = 0; i < offsets.length; i++) {
            byte[] expected = pattern(lengths[i], i);
            if (i == 1) {
                expected[510] = pattern(2, 2)[0]; // the write at 511 overlapped this one's last bytes
                expected[511] = pattern(2, 2)[1];
            }
            assertArrayEquals(expected, h.read(offsets[i], lengths[i]), "write " + i + " at " + offsets[i]);
        }
    }

    @Test
    void shouldReadEmptyRange() {
        assertEquals(0, h.read(4096, 0).length);
    }

    @Test
    void shouldReleaseWriteBufferOnceWritten() {
        ByteBuf data = h.buffer(pattern(10_000, 1));
        Completion c = h.completion();

        device.write(3000, data, false, c);
        c.awaitDone();

        assertEquals(0, data.refCnt(), "the device owns the buffer and releases it");
    }

    @Test
    void shouldWriteOnlyTheReadableBytesOfBuffer() {
        byte[] bytes = pattern(1000, 2);
        ByteBuf data = h.alloc.directBuffer(2000);
        data.writeBytes(bytes);
        data.readerIndex(100);
        data.writerIndex(600); // capacity 2000, readable 100..600

        Completion c = h.completion();
        device.write(8192, data, false, c);
        c.awaitDone();

        byte[] back = h.read(8192 - 1, 502);
        assertEquals(0, back[0]);
        assertArrayEquals(Arrays.copyOfRange(bytes, 100, 600), Arrays.copyOfRange(back, 1, 501));
        assertEquals(0, back[501]);
    }

    @Test
    void shouldWriteEveryComponentOfCompositeBufferInOrder() {
        byte[] a = pattern(1000, 3);
        byte[] b = pattern(3000, 4);
        byte[] c = pattern(17, 5);
        CompositeByteBuf data = h.alloc.compositeDirectBuffer();
        data.addComponents(true, h.buffer(a), h.buffer(b), h.alloc.heapBuffer(c.length).writeBytes(c));
        assertTrue(data.nioBufferCount() > 1, "the point is a write of several parts");

        Completion done = h.completion();
        device.write(5555, data, false, done);
        done.awaitDone();

        assertEquals(0, data.refCnt());
        ByteBuffer expected = ByteBuffer.allocate(a.length + b.length + c.length).put(a).put(b).put(c);
        assertArrayEquals(expected.array(), h.read(5555, expected.capacity()));
    }

    @Test
    void shouldWorkWithPooledAllocator() throws Exception {
        try (BackingStore store = BackingStore.open(dir.resolve("pooled.img"), MIB, false);
                StandaloneDevice pooled = new StandaloneDevice(store, PooledByteBufAllocator.DEFAULT, 2)) {
            byte[] bytes = pattern(70_000, 6);
            ByteBuf data = PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length).writeBytes(bytes);
            Completion written = new Completion();
            pooled.write(12_345, data, false, written);
            written.awaitDone();
            assertEquals(0, data.refCnt());

            Completion read = new Completion();
            pooled.read(12_345, bytes.length, read);
            assertArrayEquals(bytes, read.awaitData());
        }
    }

    @Test
    void shouldReadZeroesAfterTrimAndDescribeTheTrimmedRangeAsHole() throws Exception {
        h.writeAndWait(0, pattern(64 * KIB, 7));
        long before = allocatedBlocks(h.path);

        Completion c = h.completion();
        device.trim(16 * KIB, 32 * KIB, false, c);
        c.awaitDone();

        byte[] back = h.read(0, 64 * KIB);
        byte[] expected = pattern(64 * KIB, 7);
        Arrays.fill(expected, 16 * KIB, 48 * KIB, (byte) 0);
        assertArrayEquals(expected, back);
        assertEquals("[data 16384, hole 32768, data 16384]", h.describe(0, 64 * KIB, 8));
        assertEquals(before - 32 * KIB / 512, allocatedBlocks(h.path));
    }

    @Test
    void shouldWriteZeroesByPunchingHoleWhenDeallocationIsAllowed() throws Exception {
        h.writeAndWait(0, pattern(64 * KIB, 8));
        long before = allocatedBlocks(h.path);

        Completion c = h.completion();
        device.writeZeroes(8 * KIB, 16 * KIB, true, true, false, c);
        c.awaitDone();

        byte[] expected = pattern(64 * KIB, 8);
        Arrays.fill(expected, 8 * KIB, 24 * KIB, (byte) 0);
        assertArrayEquals(expected, h.read(0, 64 * KIB));
        assertEquals("[data 8192, hole 16384, data 40960]", h.describe(0, 64 * KIB, 8));
        assertEquals(before - 16 * KIB / 512, allocatedBlocks(h.path));
    }

    @Test
    void shouldWriteZeroesKeepingBlocksAllocatedWhenDeallocationIsNotAllowed() throws Exception {
        h.writeAndWait(0, pattern(64 * KIB, 9));
        h.flush().awaitDone();
        long before = allocatedBlocks(h.path);

        Completion c = h.completion();
        device.writeZeroes(8 * KIB, 16 * KIB, false, true, false, c);
        c.awaitDone();

        byte[] expected = pattern(64 * KIB, 9);
        Arrays.fill(expected, 8 * KIB, 24 * KIB, (byte) 0);
        assertArrayEquals(expected, h.read(0, 64 * KIB));
        assertEquals(before, allocatedBlocks(h.path), "NO_HOLE: the range stays allocated");
    }

    @Test
    void shouldWriteZeroesOverMoreThanOneMebibyteAtUnalignedEdges() {
        h.writeAndWait(0, pattern(4 * MIB, 10));
        long offset = 777;
        int length = 2 * MIB + 12_345;

        Completion c = h.completion();
        device.writeZeroes(offset, length, false, false, false, c);
        c.awaitDone();

        byte[] expected = pattern(4 * MIB, 10);
        Arrays.fill(expected, (int) offset, (int) offset + length, (byte) 0);
        assertArrayEquals(expected, h.read(0, 4 * MIB));
    }

    @Test
    void shouldCompleteFlush() {
        Completion.Outcome outcome = h.flush().awaitDone();

        assertTrue(outcome.syncsAtCompletion() >= 1, "a flush is an fdatasync");
        assertEquals(1, device.flushRequests());
    }

    @Test
    void shouldCompleteFlushOnlyAfterSyncThatEndedAfterItWasAsked() {
        for (int i = 0; i < 20; i++) {
            h.writeAndWait(i * 4096L, pattern(4096, i));
            long syncsBefore = device.syncs();

            Completion.Outcome outcome = h.flush().awaitDone();

            assertTrue(outcome.syncsAtCompletion() > syncsBefore,
                    "flush " + i + " completed with " + outcome.syncsAtCompletion() + " syncs, " + syncsBefore + " before it");
        }
    }

    @Test
    void shouldCoverEveryCompletedWriteWithFlushesFromManyThreadsBatchingThem() throws Exception {
        int threads = 8;
        int rounds = 50;
        int extraFlushes = 2000;
        ExecutorService pool = Executors.newFixedThreadPool(threads + 1);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<List<long[]>>> writers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                writers.add(pool.submit(() -> {
                    start.await();
                    List<long[]> checks = new ArrayList<>(); // {syncs before flush, syncs at completion}
                    for (int r = 0; r < rounds; r++) {
                        h.writeAndWait((thread * rounds + r) * 4096L, pattern(4096, thread * rounds + r));
                        long before = device.syncs();
                        checks.add(new long[] {before, h.flush().awaitDone().syncsAtCompletion()});
                    }
                    return checks;
                }));
            }
            Future<List<Completion>> flusher = pool.submit(() -> {
                start.await();
                List<Completion> flushes = new ArrayList<>();
                for (int i = 0; i < extraFlushes; i++) {
                    flushes.add(h.flush());
                }
                return flushes;
            });
            start.countDown();

            for (Future<List<long[]>> writer : writers) {
                for (long[] check : writer.get(120, TimeUnit.SECONDS)) {
                    assertTrue(check[1] > check[0], "a flush completed with " + check[1] + " syncs, " + check[0] + " before it");
                }
            }
            for (Completion c : flusher.get(120, TimeUnit.SECONDS)) {
                c.awaitDone();
            }
        } finally {
            pool.shutdownNow();
        }

        assertEquals(threads * rounds + extraFlushes, device.flushRequests());
        assertTrue(device.syncs() < device.flushRequests(),
                device.syncs() + " fdatasync calls for " + device.flushRequests() + " flushes: no batching");
        for (int i = 0; i < threads * rounds; i++) {
            assertArrayEquals(pattern(4096, i), h.read(i * 4096L, 4096));
        }
    }

    @Test
    void shouldBatchManyFlushesAskedAtOnce() throws Exception {
        int threads = 4;
        int perThread = 500;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        List<Future<List<Completion>>> submitted = new ArrayList<>();
        CountDownLatch start = new CountDownLatch(1);
        try {
            for (int t = 0; t < threads; t++) {
                submitted.add(pool.submit(() -> {
                    start.await();
                    List<Completion> flushes = new ArrayList<>();
                    for (int i = 0; i < perThread; i++) {
                        flushes.add(h.flush());
                    }
                    return flushes;
                }));
            }
            start.countDown();
            for (Future<List<Completion>> f : submitted) {
                for (Completion c : f.get(120, TimeUnit.SECONDS)) {
                    c.awaitDone();
                }
            }
        } finally {
            pool.shutdownNow();
        }

        assertEquals(threads * perThread, device.flushRequests());
        assertTrue(device.syncs() >= 1);
        assertTrue(device.syncs() < device.flushRequests(),
                device.syncs() + " fdatasync calls for " + device.flushRequests() + " flushes: no batching");
    }

    @Test
    void shouldCompleteFuaWriteThroughGroupCommit() {
        long syncsBefore = device.syncs();

        Completion.Outcome outcome = h.write(4096, pattern(4096, 11), true).awaitDone();

        assertEquals(1, device.flushRequests(), "a FUA write asks for one flush");
        assertTrue(outcome.syncsAtCompletion() > syncsBefore, "a FUA write completes after an fdatasync");
        assertArrayEquals(pattern(4096, 11), h.read(4096, 4096));
    }

    @Test
    void shouldCompleteFuaTrimAndWriteZeroesThroughGroupCommit() {
        h.writeAndWait(0, pattern(64 * KIB, 12));
        long syncsBefore = device.syncs();

        Completion trim = h.completion();
        device.trim(0, 16 * KIB, true, trim);
        Completion zero = h.completion();
        device.writeZeroes(32 * KIB, 16 * KIB, false, false, true, zero);

        assertTrue(trim.awaitDone().syncsAtCompletion() > syncsBefore);
        assertTrue(zero.awaitDone().syncsAtCompletion() > syncsBefore);
        assertEquals(2, device.flushRequests());
        byte[] expected = pattern(64 * KIB, 12);
        Arrays.fill(expected, 0, 16 * KIB, (byte) 0);
        Arrays.fill(expected, 32 * KIB, 48 * KIB, (byte) 0);
        assertArrayEquals(expected, h.read(0, 64 * KIB));
    }

    @Test
    void shouldNotAskForFlushWithoutFua() {
        h.writeAndWait(0, pattern(4096, 13));
        Completion trim = h.completion();
        device.trim(0, 4096, false, trim);
        trim.awaitDone();

        assertEquals(0, device.flushRequests());
        assertEquals(0, device.syncs());
    }

    @Test
    void shouldDescribeMixedRunsAndStopAtMaxRuns() {
        h.writeAndWait(4 * KIB, pattern(4 * KIB, 14));
        h.writeAndWait(16 * KIB, pattern(8 * KIB, 15));

        assertEquals("[hole 4096, data 4096, hole 8192, data 8192, hole " + (SIZE - 24 * KIB) + "]",
                h.describe(0, SIZE, 16));
        assertEquals("[hole 4096]", h.describe(0, SIZE, 1));
        assertEquals("[hole 4096, data 4096, hole 8192]", h.describe(0, SIZE, 3));
        assertEquals("[data 2048, hole 8192, data 2048]", h.describe(6 * KIB, 12 * KIB, 16));
    }

    @Test
    void shouldDescribeWithMoreRunsThanEarlierCallsOnTheSameThread() throws Exception {
        h.close();
        h = new DeviceHarness(dir.resolve("one-thread.img"), MIB, false, 1);
        for (int i = 0; i < 8; i++) {
            h.writeAndWait(i * 8L * KIB, pattern(4 * KIB, i));
        }

        assertEquals("[data 4096]", h.describe(0, MIB, 1));
        String all = h.describe(0, MIB, 64);

        assertEquals(16, all.split(",").length, all);
        assertTrue(all.endsWith("hole " + (MIB - 60 * KIB) + "]"), all);
    }

    @Test
    void shouldCompleteCacheHint() {
        h.writeAndWait(0, pattern(64 * KIB, 16));

        Completion c = h.completion();
        device.cache(0, 64 * KIB, c);

        assertEquals(Completion.Kind.DONE, c.await().kind());
        assertArrayEquals(pattern(64 * KIB, 16), h.read(0, 64 * KIB));
    }

    @Test
    void shouldAcceptRangesEndingExactlyAtTheEnd() {
        h.writeAndWait(SIZE - 1, new byte[] {42});
        assertArrayEquals(new byte[] {0, 42}, h.read(SIZE - 2, 2));
        Completion c = h.completion();
        device.writeZeroes(SIZE - 512, 512, true, false, false, c);
        c.awaitDone();
        assertArrayEquals(new byte[2], h.read(SIZE - 2, 2));
    }

    @Test
    void shouldRefuseOutOfRangeRequestsNamingTheRange() {
        Completion never = new Completion();
        List<Executable> calls = List.of(
                () -> device.read(SIZE, 1, never),
                () -> device.read(SIZE - 1, 2, never),
                () -> device.read(-1, 1, never),
                () -> device.read(0, -1, never),
                () -> device.trim(SIZE - 512, 1024, false, never),
                () -> device.trim(Long.MAX_VALUE, 1, false, never),
                () -> device.trim(1, Long.MAX_VALUE, false, never),
                () -> device.writeZeroes(SIZE, 1, true, false, false, never),
                () -> device.writeZeroes(-512, 512, false, false, false, never),
                () -> device.cache(SIZE + 1, 0, never),
                () -> device.describe(SIZE - 1, 2, 4, never));
        for (Executable call : calls) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
            assertTrue(e.getMessage().contains(String.valueOf(SIZE)), e.getMessage());
        }
        h.flush().awaitDone(); // anything wrongly queued has had time to run
        assertEquals(0, never.calls(), "a refused request completes nothing");
    }

    @Test
    void shouldReleaseBufferOfOutOfRangeWrite() {
        Completion never = new Completion();
        long[][] ranges = {{SIZE - 100, 101}, {SIZE, 1}, {-1, 10}, {Long.MAX_VALUE, 1}};
        for (long[] range : ranges) {
            ByteBuf data = h.buffer(pattern((int) range[1], 17));

            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> device.write(range[0], data, false, never));

            assertTrue(e.getMessage().contains(String.valueOf(range[0])), e.getMessage());
            assertEquals(0, data.refCnt(), "the device took ownership and must release the refused buffer");
        }
        assertEquals(0, never.calls());
        assertArrayEquals(new byte[100], h.read(SIZE - 100, 100));
    }

    @Test
    void shouldWriteFromManyThreadsAndReadEverythingBack() throws Exception {
        int threads = 8;
        int writesPerThread = 100;
        int slot = 8 * KIB;
        byte[] image = new byte[threads * writesPerThread * slot];
        for (int t = 0; t < threads; t++) {
            for (int i = 0; i < writesPerThread; i++) {
                int offset = (t * writesPerThread + i) * slot + (t * 7 + i * 13) % 1024;
                byte[] bytes = pattern(1000 + i * 37 + t, t * 1000 + i);
                System.arraycopy(bytes, 0, image, offset, bytes.length);
            }
        }
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch start = new CountDownLatch(1);
        List<Callable<List<Completion>>> tasks = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int thread = t;
            tasks.add(() -> {
                start.await();
                List<Completion> mine = new ArrayList<>();
                for (int i = 0; i < writesPerThread; i++) { // all in flight at once, some FUA
                    int offset = (thread * writesPerThread + i) * slot + (thread * 7 + i * 13) % 1024;
                    mine.add(h.write(offset, pattern(1000 + i * 37 + thread, thread * 1000 + i), i % 10 == 0));
                }
                return mine;
            });
        }
        try {
            List<Future<List<Completion>>> futures = new ArrayList<>();
            for (Callable<List<Completion>> task : tasks) {
                futures.add(pool.submit(task));
            }
            start.countDown();
            for (Future<List<Completion>> f : futures) {
                for (Completion c : f.get(120, TimeUnit.SECONDS)) {
                    c.awaitDone();
                }
            }
        } finally {
            pool.shutdownNow();
        }

        for (int offset = 0; offset < image.length; offset += MIB) {
            int length = Math.min(MIB, image.length - offset);
            assertArrayEquals(Arrays.copyOfRange(image, offset, offset + length), h.read(offset, length),
                    "the MiB at " + offset);
        }
    }

    @Test
    void shouldCompleteEverythingInFlightBeforeCloseReturnsAndKeepIt() throws Exception {
        List<Completion> inFlight = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            inFlight.add(h.write(i * 4096L, pattern(4096, i), i % 3 == 0));
            if (i % 50 == 0) {
                inFlight.add(h.flush());
            }
        }

        h.close();

        for (Completion c : inFlight) {
            assertTrue(c.isDone(), "close returned before an operation completed");
            assertEquals(Completion.Kind.DONE, c.await().kind());
        }
        try (BackingStore store = BackingStore.open(h.path, -1, true)) {
            for (int i = 0; i < 200; i++) {
                ByteBuffer back = ByteBuffer.allocate(4096);
                store.read(back, i * 4096L);
                assertArrayEquals(pattern(4096, i), back.array(), "block " + i + " after reopening");
            }
        }
    }
}
