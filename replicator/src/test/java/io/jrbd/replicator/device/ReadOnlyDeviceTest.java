package io.jrbd.replicator.device;

import static io.jrbd.replicator.device.DeviceFixtures.KIB;
import static io.jrbd.replicator.device.DeviceFixtures.pattern;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReadOnlyDeviceTest {
    private static final int SIZE = 64 * KIB;

    @TempDir
    Path dir;
    private DeviceHarness h;
    private byte[] contents;

    @BeforeEach
    void open() throws Exception {
        Path path = dir.resolve("ro.img");
        contents = pattern(SIZE, 1);
        Files.write(path, contents);
        h = new DeviceHarness(path, -1, true, 2);
    }

    @AfterEach
    void close() throws Exception {
        h.close();
        assertArrayEquals(contents, Files.readAllBytes(h.path), "a read-only device changes nothing");
    }

    @Test
    void shouldSayItIsReadOnly() {
        assertTrue(h.device.readOnly());
        assertEquals(SIZE, h.device.size());
    }

    @Test
    void shouldReadDescribeAndFlush() {
        assertArrayEquals(contents, h.read(0, SIZE));
        assertEquals("[data " + SIZE + "]", h.describe(0, SIZE, 4));
        h.flush().awaitDone();
    }

    @Test
    void shouldRefuseWriteAndReleaseItsBuffer() {
        ByteBuf data = h.buffer(pattern(4096, 2));
        Completion never = new Completion();

        IllegalStateException e = assertThrows(IllegalStateException.class, () -> h.device.write(0, data, false, never));

        assertTrue(e.getMessage().contains("read-only") && e.getMessage().contains(h.path.toString()), e.getMessage());
        assertEquals(0, data.refCnt());
        assertEquals(0, never.calls());
    }

    @Test
    void shouldRefuseTrimAndWriteZeroes() {
        Completion never = new Completion();

        assertThrows(IllegalStateException.class, () -> h.device.trim(0, 4096, false, never));
        assertThrows(IllegalStateException.class, () -> h.device.writeZeroes(0, 4096, true, false, false, never));
        assertThrows(IllegalStateException.class, () -> h.device.writeZeroes(0, 4096, false, false, true, never));

        assertEquals(0, never.calls());
    }
}
