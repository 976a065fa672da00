package io.jrbd.metadata.store;

import static io.jrbd.metadata.store.StoreFixtures.KIB;
import static io.jrbd.metadata.store.StoreFixtures.MIB;
import static io.jrbd.metadata.store.StoreFixtures.pattern;
import static io.jrbd.metadata.store.StoreFixtures.runs;
import static io.jrbd.metadata.store.StoreFixtures.write;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * describe() on ext4, whose blocks are 4 KiB: data written in whole aligned blocks shows as
 * data runs of exactly those lengths, and everything else as holes.
 *
 * <pre>
 *   0    4K   8K       16K      24K              40K  44K           1M-4K  1M
 *   |hole|data|  hole   |  data  |      hole       |data|    hole    ...|data|
 * </pre>
 */
class BackingStoreDescribeTest {
    private static final long SIZE = MIB;

    @TempDir
    Path dir;
    private BackingStore store;

    @BeforeEach
    void layOut() throws Exception {
        store = BackingStore.open(dir.resolve("store.img"), SIZE, false);
        write(store, 4 * KIB, pattern(4 * KIB, 1));
        write(store, 16 * KIB, pattern(8 * KIB, 2));
        write(store, 40 * KIB, pattern(4 * KIB, 3));
        write(store, SIZE - 4 * KIB, pattern(4 * KIB, 4));
    }

    @AfterEach
    void close() throws Exception {
        store.close();
    }

    @Test
    void shouldDescribeMixedDataAndHolesWithExactRunLengths() {
        long[] out = new long[2 * 16];
        int count = store.describe(0, SIZE, out, 16);
        assertEquals("[hole 4096, data 4096, hole 8192, data 8192, hole 16384, data 4096, hole "
                + (SIZE - 48 * KIB) + ", data 4096]", runs(out, count));
    }

    @Test
    void shouldCoverTheWholeRangeWithRunsThatAddUp() {
        long[] out = new long[2 * 16];
        int count = store.describe(0, SIZE, out, 16);
        long total = 0;
        for (int i = 0; i < count; i++) {
            total += out[i * 2];
        }
        assertEquals(SIZE, total);
    }

    @Test
    void shouldClipFirstAndLastRunsToTheRange() {
        long[] out = new long[2 * 16];
        int count = store.describe(6 * KIB, 12 * KIB, out, 16);
        assertEquals("[data 2048, hole 8192, data 2048]", runs(out, count));
    }

    @Test
    void shouldStartInsideHoleAndEndInsideHole() {
        long[] out = new long[2 * 16];
        int count = store.describe(10 * KIB, 20 * KIB, out, 16);
        assertEquals("[hole 6144, data 8192, hole 6144]", runs(out, count));
    }

    @Test
    void shouldStopAtMaxRunsWithoutWritingPastThem() {
        long[] out = new long[2 * 3]; // exactly maxRuns pairs: one more would not fit
        int count = store.describe(0, SIZE, out, 3);
        assertEquals("[hole 4096, data 4096, hole 8192]", runs(out, count));
    }

    @Test
    void shouldReturnOnlyTheFirstRunWhenOneIsAskedFor() {
        long[] out = new long[2];
        assertEquals("[data 8192]", runs(out, store.describe(16 * KIB, 100 * KIB, out, 1)));
        assertEquals("[hole 12288]", runs(out, store.describe(44 * KIB, 12 * KIB, out, 1)));
    }

    @Test
    void shouldDescribeDataRunThatEndsAtTheEndOfTheFile() {
        long[] out = new long[2 * 4];
        int count = store.describe(SIZE - 8 * KIB, 8 * KIB, out, 4);
        assertEquals("[hole 4096, data 4096]", runs(out, count));
    }

    @Test
    void shouldDescribeTrailingHoleWhenNoDataFollows() throws Exception {
        try (BackingStore other = BackingStore.open(dir.resolve("head.img"), SIZE, false)) {
            write(other, 0, pattern(4 * KIB, 5));
            long[] out = new long[2 * 4];
            assertEquals("[data 4096, hole " + (SIZE - 4 * KIB) + "]", runs(out, other.describe(0, SIZE, out, 4)));
            assertEquals("[hole 8192]", runs(out, other.describe(8 * KIB, 8 * KIB, out, 4)));
        }
    }

    @Test
    void shouldDescribeNothingForEmptyRange() {
        long[] out = new long[2 * 4];
        assertEquals(0, store.describe(4 * KIB, 0, out, 4));
    }

    @Test
    void shouldReportWholeFileSystemBlockAsDataAfterWritingOneByteInIt() throws Exception {
        long block = Files.getFileStore(dir).getBlockSize();
        try (BackingStore other = BackingStore.open(dir.resolve("byte.img"), SIZE, false)) {
            write(other, block + 5, new byte[] {42});
            long[] out = new long[2 * 4];
            int count = other.describe(0, 4 * block, out, 4);
            assertEquals("[hole " + block + ", data " + block + ", hole " + 2 * block + "]", runs(out, count));
        }
    }
}
