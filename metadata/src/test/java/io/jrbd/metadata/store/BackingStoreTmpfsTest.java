package io.jrbd.metadata.store;

import static io.jrbd.metadata.store.StoreFixtures.KIB;
import static io.jrbd.metadata.store.StoreFixtures.MIB;
import static io.jrbd.metadata.store.StoreFixtures.pattern;
import static io.jrbd.metadata.store.StoreFixtures.read;
import static io.jrbd.metadata.store.StoreFixtures.runs;
import static io.jrbd.metadata.store.StoreFixtures.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * tmpfs (Linux 6.x, checked with fallocate(1)) punches holes and seeks data and holes, but
 * refuses FALLOC_FL_ZERO_RANGE with EOPNOTSUPP: the store must say so and change nothing.
 */
class BackingStoreTmpfsTest {
    private static final Path SHM = Path.of("/dev/shm");

    private Path dir;
    private BackingStore store;
    private byte[] data;

    @BeforeEach
    void open() throws Exception {
        assumeTrue(Files.isDirectory(SHM) && Files.isWritable(SHM) && StoreFixtures.isTmpfs(SHM), "/dev/shm is no writable tmpfs");
        dir = Files.createTempDirectory(SHM, "jrbd-store-test");
        store = BackingStore.open(dir.resolve("store.img"), MIB, false);
        data = pattern(64 * KIB, 13);
        write(store, 0, data);
    }

    @AfterEach
    void close() throws Exception {
        if (store != null) {
            store.close();
        }
        if (dir != null) {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @Test
    void shouldRefuseZeroRangeOnTmpfsChangingNothing() throws Exception {
        assertFalse(store.zeroRange(16 * KIB, 16 * KIB));
        assertArrayEquals(data, read(store, 0, data.length));
        assertFalse(store.zeroRange(0, 4 * KIB), "once refused, always refused");
        assertArrayEquals(data, read(store, 0, data.length));
    }

    @Test
    void shouldStillZeroFastOnTmpfsByPunchingHoles() throws Exception {
        assertFalse(store.zeroRange(16 * KIB, 16 * KIB));
        assertTrue(store.canZeroFast(), "punching holes still works");

        assertTrue(store.punchHole(16 * KIB, 16 * KIB));

        byte[] expected = data.clone();
        Arrays.fill(expected, 16 * KIB, 32 * KIB, (byte) 0);
        assertArrayEquals(expected, read(store, 0, data.length));
        long[] out = new long[2 * 8];
        assertEquals("[data 16384, hole 16384, data 32768, hole " + (MIB - 64 * KIB) + "]",
                runs(out, store.describe(0, MIB, out, 8)));
    }

    @Test
    void shouldWriteZeroesSlowlyOnTmpfs() throws Exception {
        store.writeZeroes(100, 10_000);

        byte[] expected = data.clone();
        Arrays.fill(expected, 100, 10_100, (byte) 0);
        assertArrayEquals(expected, read(store, 0, data.length));
    }
}
