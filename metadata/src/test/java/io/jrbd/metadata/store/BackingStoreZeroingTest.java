package io.jrbd.metadata.store;

import static io.jrbd.metadata.store.StoreFixtures.KIB;
import static io.jrbd.metadata.store.StoreFixtures.MIB;
import static io.jrbd.metadata.store.StoreFixtures.allocatedBlocks;
import static io.jrbd.metadata.store.StoreFixtures.pattern;
import static io.jrbd.metadata.store.StoreFixtures.read;
import static io.jrbd.metadata.store.StoreFixtures.runs;
import static io.jrbd.metadata.store.StoreFixtures.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** punchHole and zeroRange on ext4, which supports both. */
class BackingStoreZeroingTest {
    private static final long SIZE = MIB;

    @TempDir
    Path dir;
    private Path path;
    private BackingStore store;
    private byte[] data;

    @BeforeEach
    void open() throws Exception {
        path = dir.resolve("store.img");
        store = BackingStore.open(path, SIZE, false);
        data = pattern(64 * KIB, 11);
        write(store, 0, data);
        store.sync();
    }

    @AfterEach
    void close() throws Exception {
        store.close();
    }

    private byte[] expectedWithZeroes(int from, int to) {
        byte[] expected = data.clone();
        Arrays.fill(expected, from, to, (byte) 0);
        return expected;
    }

    @Test
    void shouldReadZeroesAfterPunchingHole() throws Exception {
        assertTrue(store.punchHole(16 * KIB, 16 * KIB));

        assertArrayEquals(expectedWithZeroes(16 * KIB, 32 * KIB), read(store, 0, data.length));
    }

    @Test
    void shouldDescribePunchedRangeAsHoleAndFreeItsBlocks() throws Exception {
        long before = allocatedBlocks(path);

        assertTrue(store.punchHole(16 * KIB, 16 * KIB));

        long[] out = new long[2 * 8];
        int count = store.describe(0, 64 * KIB, out, 8);
        assertEquals("[data 16384, hole 16384, data 32768]", runs(out, count));
        assertEquals(before - 16 * KIB / 512, allocatedBlocks(path), "16 KiB of blocks freed");
    }

    @Test
    void shouldZeroUnalignedPunchedRangeExactly() throws Exception {
        assertTrue(store.punchHole(1000, 5000));

        assertArrayEquals(expectedWithZeroes(1000, 6000), read(store, 0, data.length));
    }

    @Test
    void shouldPunchHoleInRangeThatIsAlreadyHole() throws Exception {
        assertTrue(store.punchHole(512 * KIB, 128 * KIB));

        assertArrayEquals(new byte[128 * KIB], read(store, 512 * KIB, 128 * KIB));
        assertArrayEquals(data, read(store, 0, data.length));
    }

    @Test
    void shouldTreatEmptyPunchAsDone() throws Exception {
        assertTrue(store.punchHole(4 * KIB, 0));
        assertArrayEquals(data, read(store, 0, data.length));
    }

    @Test
    void shouldReadZeroesAfterZeroingRangeAndKeepItsBlocksAllocated() throws Exception {
        long before = allocatedBlocks(path);

        assertTrue(store.zeroRange(16 * KIB, 16 * KIB));

        assertArrayEquals(expectedWithZeroes(16 * KIB, 32 * KIB), read(store, 0, data.length));
        assertEquals(before, allocatedBlocks(path), "zeroRange must not deallocate");
    }

    @Test
    void shouldKeepZeroesOfZeroedRangeAcrossReopen() throws Exception {
        assertTrue(store.zeroRange(3 * KIB, 9 * KIB + 7));
        store.sync();
        store.close();

        store = BackingStore.open(path, -1, false);
        assertArrayEquals(expectedWithZeroes(3 * KIB, 12 * KIB + 7), read(store, 0, data.length));
    }

    @Test
    void shouldSayItCanZeroFastWhereFileSystemSupportsIt() {
        assertTrue(store.canZeroFast());
    }
}
