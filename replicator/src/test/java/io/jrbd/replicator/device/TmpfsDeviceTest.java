package io.jrbd.replicator.device;

import static io.jrbd.replicator.device.DeviceFixtures.KIB;
import static io.jrbd.replicator.device.DeviceFixtures.MIB;
import static io.jrbd.replicator.device.DeviceFixtures.allocatedBlocks;
import static io.jrbd.replicator.device.DeviceFixtures.pattern;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
 * Zeroing on tmpfs, which (Linux 6.x, checked with fallocate(1)) punches holes but refuses
 * FALLOC_FL_ZERO_RANGE: zeroing without deallocating has only the slow way there.
 */
class TmpfsDeviceTest {
    private static final Path SHM = Path.of("/dev/shm");
    private static final int SIZE = 4 * MIB;

    private Path dir;
    private DeviceHarness h;
    private byte[] contents;

    @BeforeEach
    void open() throws Exception {
        assumeTrue(Files.isDirectory(SHM) && Files.isWritable(SHM) && DeviceFixtures.isTmpfs(SHM), "/dev/shm is no writable tmpfs");
        dir = Files.createTempDirectory(SHM, "jrbd-device-test");
        h = new DeviceHarness(dir.resolve("device.img"), SIZE, false, 2);
        contents = pattern(SIZE, 1);
        h.writeAndWait(0, contents);
    }

    @AfterEach
    void close() throws Exception {
        if (h != null) {
            h.close();
        }
        if (dir != null) {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private byte[] zeroed(int from, int to) {
        byte[] expected = contents.clone();
        Arrays.fill(expected, from, to, (byte) 0);
        return expected;
    }

    @Test
    void shouldFailFastOnlyZeroingWithoutDeallocationAsNotSupportedChangingNothing() {
        Completion c = h.completion();
        h.device.writeZeroes(64 * KIB, 64 * KIB, false, true, false, c);

        Completion.Outcome outcome = c.awaitFailure();

        assertEquals(IoError.ENOTSUP, outcome.error());
        assertTrue(outcome.detail().contains(h.path.toString()), outcome.detail());
        assertArrayEquals(contents, h.read(0, SIZE));
    }

    @Test
    void shouldWriteZeroesSlowlyWhenDeallocationIsNotAllowed() throws Exception {
        long before = allocatedBlocks(h.path);
        Completion c = h.completion();
        h.device.writeZeroes(1000, 2 * MIB + 3, false, false, false, c);

        c.awaitDone();

        assertArrayEquals(zeroed(1000, 1000 + 2 * MIB + 3), h.read(0, SIZE));
        assertEquals(before, allocatedBlocks(h.path), "zeroes were written, nothing deallocated");
    }

    @Test
    void shouldZeroFastByPunchingHoleWhenDeallocationIsAllowed() throws Exception {
        long before = allocatedBlocks(h.path);
        Completion c = h.completion();
        h.device.writeZeroes(64 * KIB, 64 * KIB, true, true, false, c);

        c.awaitDone();

        assertArrayEquals(zeroed(64 * KIB, 128 * KIB), h.read(0, SIZE));
        assertEquals("[data 65536, hole 65536, data " + (SIZE - 128 * KIB) + "]", h.describe(0, SIZE, 8));
        assertEquals(before - 64 * KIB / 512, allocatedBlocks(h.path));
    }
}
