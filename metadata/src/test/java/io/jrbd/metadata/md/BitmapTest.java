package io.jrbd.metadata.md;

import static io.jrbd.metadata.md.MdFixtures.MIB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class BitmapTest {
    private static final int B = 4096;

    private static Bitmap bitmap(long deviceSize) {
        return new Bitmap(MetadataLayout.of(deviceSize));
    }

    private static List<Long> setBlocks(Bitmap bitmap) {
        List<Long> blocks = new ArrayList<>();
        for (long b = bitmap.nextSetBlock(0); b >= 0; b = b + 1 < bitmap.blocks() ? bitmap.nextSetBlock(b + 1) : -1) {
            blocks.add(b);
        }
        return blocks;
    }

    @ParameterizedTest(name = "setRange({0}, {1}) -> blocks [{2}, {3})")
    @CsvSource({
        "0,      1,     0, 1",
        "0,      4096,  0, 1",
        "0,      4097,  0, 2",
        "4095,   2,     0, 2",
        "4096,   1,     1, 2",
        "8191,   1,     1, 2",
        "100,    12288, 0, 4",
        "262143, 2,     63, 65",
    })
    void shouldSetEveryBlockARangeTouches(long offset, long length, long first, long end) {
        Bitmap bitmap = bitmap(MIB);
        assertEquals(end - first, bitmap.setRange(offset, length));
        List<Long> expected = new ArrayList<>();
        for (long b = first; b < end; b++) {
            expected.add(b);
        }
        assertEquals(expected, setBlocks(bitmap));
        assertEquals(end - first, bitmap.cardinality());
    }

    @ParameterizedTest(name = "clearRange({0}, {1}) -> blocks [{2}, {3}) cleared")
    @CsvSource({
        "0,      4096,  0, 1",
        "0,      4095,  0, 0",
        "1,      4096,  1, 1",
        "100,    12288, 1, 3",
        "4096,   8192,  1, 3",
        "4095,   8194,  1, 3",
        "258048, 8192,  63, 65",
    })
    void shouldClearOnlyTheBlocksARangeCoversWhole(long offset, long length, long first, long end) {
        Bitmap bitmap = bitmap(MIB);
        bitmap.setRange(0, MIB);
        assertEquals(256, bitmap.cardinality());
        assertEquals(end - first, bitmap.clearRange(offset, length));
        for (long b = 0; b < 256; b++) {
            assertEquals(b < first || b >= end, bitmap.isSet(b), "block " + b);
        }
        assertEquals(256 - (end - first), bitmap.cardinality());
    }

    @Test
    void shouldTreatThePartialLastBlockAsWholeAtTheEndOfTheDevice() {
        long size = 10 * B + 512;
        Bitmap bitmap = bitmap(size);
        assertEquals(11, bitmap.blocks());
        bitmap.setRange(size - 1, 1);
        assertTrue(bitmap.isSet(10));
        assertEquals(512, bitmap.dirtyBytes(), "the last block holds only 512 bytes of the device");
        bitmap.setRange(0, B);
        assertEquals(B + 512, bitmap.dirtyBytes());
        assertEquals(1, bitmap.clearRange(10 * B, 512), "reaches the end: the partial block is whole");
        assertFalse(bitmap.isSet(10));
        assertEquals(B, bitmap.dirtyBytes());
    }

    @Test
    void shouldRejectRangesOutsideTheDevice() {
        Bitmap bitmap = bitmap(MIB);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> bitmap.setRange(MIB - 1, 2));
        assertEquals("range 1048575+2 is outside the device (0+1048576)", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> bitmap.setRange(-1, 1));
        assertThrows(IllegalArgumentException.class, () -> bitmap.clearRange(0, -1));
        assertThrows(IllegalArgumentException.class, () -> bitmap.setRange(Long.MAX_VALUE, Long.MAX_VALUE));
        assertThrows(IllegalArgumentException.class, () -> bitmap.isSet(256));
        assertEquals(0, bitmap.setRange(MIB, 0), "an empty range at the end is nothing");
        assertEquals(0, bitmap.cardinality());
    }

    @Test
    void shouldCountAndFindAcrossWordAndPageBoundaries() {
        long size = 3L * 32768 * B;  // three pages
        Bitmap bitmap = bitmap(size);
        assertEquals(3, bitmap.pages());
        assertEquals(-1, bitmap.nextSetBlock(0));
        assertEquals(200, bitmap.setRange(60L * B, 200L * B));
        assertEquals(60, bitmap.nextSetBlock(0));
        assertEquals(64, bitmap.nextSetBlock(64));
        assertEquals(-1, bitmap.nextSetBlock(260));
        assertEquals(260, bitmap.nextClearBlock(60));
        assertEquals(0, bitmap.setRange(100L * B, 10L * B), "already set: nothing new");
        bitmap.setBlocks(32767, 32769);  // straddles pages 0 and 1
        bitmap.setBlocks(3 * 32768 - 1, 3 * 32768);  // the very last block
        assertEquals(203, bitmap.cardinality());
        assertEquals(32767, bitmap.nextSetBlock(260));
        assertEquals(3 * 32768 - 1, bitmap.nextSetBlock(32769));
        assertEquals(-1, bitmap.nextSetBlock(3 * 32768));
        assertEquals(-1, bitmap.nextClearBlock(3 * 32768 - 1));
        assertEquals(203L * B, bitmap.dirtyBytes());
        assertEquals(2, bitmap.clearBlocks(32767, 32769));
        assertEquals(201, bitmap.cardinality());
    }

    @Test
    void shouldAgreeWithABitSetUnderRandomSetsAndClears() {
        long size = 2L * 32768 * B + 3 * 512;
        Bitmap bitmap = bitmap(size);
        BitSet model = new BitSet();
        Random random = new Random(42);
        for (int i = 0; i < 5000; i++) {
            long offset = random.nextInt(8) == 0 ? random.nextLong(size) : random.nextLong(40_000L * B);
            long length = Math.min(size - offset, random.nextInt(4) == 0 ? random.nextInt(3_000_000) : random.nextInt(20_000));
            long end = offset + length;
            if (random.nextBoolean()) {
                long changed = bitmap.setRange(offset, length);
                int before = model.cardinality();
                if (length > 0) {
                    model.set((int) (offset / B), (int) ((end + B - 1) / B));
                }
                assertEquals(model.cardinality() - before, changed);
            } else {
                long changed = bitmap.clearRange(offset, length);
                int before = model.cardinality();
                long first = (offset + B - 1) / B;
                long last = end == size ? bitmap.blocks() : end / B;
                if (first < last) {
                    model.clear((int) first, (int) last);
                }
                assertEquals(before - model.cardinality(), changed);
            }
        }
        assertEquals(model.cardinality(), bitmap.cardinality());
        for (int b = 0; b < bitmap.blocks(); b++) {
            assertEquals(model.get(b), bitmap.isSet(b), "block " + b);
        }
        long from = random.nextInt((int) bitmap.blocks());
        assertEquals(model.nextSetBit((int) from), bitmap.nextSetBlock(from));
    }

    @Test
    void shouldCountExactlyWhenManyThreadsSetOverlappingRanges() throws Exception {
        long size = 4L * 32768 * B;  // four pages, 131072 blocks
        Bitmap bitmap = bitmap(size);
        int threads = 8;
        int rangesPerThread = 20_000;
        BitSet model = new BitSet();
        long[][] ranges = new long[threads][rangesPerThread * 2];
        Random random = new Random(3);
        for (int t = 0; t < threads; t++) {
            for (int i = 0; i < rangesPerThread; i++) {
                // Every thread sets ranges all over the device: they collide on the same words all the time.
                long offset = random.nextLong(size / 4) + (i % 4) * (size / 4) - (i % 4 == 0 ? 0 : 10_000);
                long length = Math.min(size - offset, 1 + random.nextInt(70 * B));
                ranges[t][2 * i] = offset;
                ranges[t][2 * i + 1] = length;
                model.set((int) (offset / B), (int) ((offset + length + B - 1) / B));
            }
        }
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<Long>> results = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                long[] mine = ranges[t];
                results.add(pool.submit(() -> {
                    start.await();
                    long newlySet = 0;
                    for (int i = 0; i < mine.length; i += 2) {
                        newlySet += bitmap.setRange(mine[i], mine[i + 1]);
                    }
                    return newlySet;
                }));
            }
            start.countDown();
            long total = 0;
            for (Future<Long> result : results) {
                total += result.get();
            }
            assertEquals(model.cardinality(), bitmap.cardinality());
            assertEquals(model.cardinality(), total, "each block is counted as newly set exactly once");
            for (int b = 0; b < bitmap.blocks(); b++) {
                assertEquals(model.get(b), bitmap.isSet(b), "block " + b);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void shouldLoseNoBitWhenThreadsSetNeighbouringBitsOfTheSameWords() throws Exception {
        long size = 16L * 32768 * B;  // 524288 blocks
        int threads = 8;
        for (int round = 0; round < 3; round++) {
            Bitmap bitmap = bitmap(size);
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                CountDownLatch start = new CountDownLatch(1);
                List<Future<Long>> results = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    int me = t;
                    results.add(pool.submit(() -> {
                        start.await();
                        long newlySet = 0;
                        // Thread t owns every 8th block: all threads write the same word at once.
                        for (long b = me; b < bitmap.blocks(); b += threads) {
                            newlySet += bitmap.setRange(b * B, 1);
                        }
                        return newlySet;
                    }));
                }
                start.countDown();
                for (Future<Long> result : results) {
                    assertEquals(bitmap.blocks() / threads, result.get());
                }
            } finally {
                pool.shutdownNow();
            }
            assertEquals(bitmap.blocks(), bitmap.cardinality());
            assertEquals(-1, bitmap.nextClearBlock(0), "every bit is set: none was lost to a racing update");
        }
    }

    @Test
    void shouldNeverLetOneThreadsUpdateUndoAnothersInTheSameWord() throws Exception {
        Bitmap bitmap = bitmap(MIB);
        int threads = 8;
        int iterations = 500_000;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<Integer>> results = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                long block = t * 3;  // all in word 0, each thread alone on its bit
                results.add(pool.submit(() -> {
                    start.await();
                    int wrong = 0;
                    for (int i = 0; i < iterations; i++) {
                        bitmap.setRange(block * B, B);
                        wrong += bitmap.isSet(block) ? 0 : 1;
                        bitmap.clearRange(block * B, B);
                        wrong += bitmap.isSet(block) ? 1 : 0;
                    }
                    return wrong;
                }));
            }
            start.countDown();
            for (Future<Integer> result : results) {
                assertEquals(0, result.get(), "times a thread found its own bit changed by another");
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(0, bitmap.cardinality());
        assertEquals(-1, bitmap.nextSetBlock(0));
    }
}
