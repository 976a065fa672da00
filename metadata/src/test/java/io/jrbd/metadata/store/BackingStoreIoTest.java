package io.jrbd.metadata.store;

import static io.jrbd.metadata.store.StoreFixtures.KIB;
import static io.jrbd.metadata.store.StoreFixtures.MIB;
import static io.jrbd.metadata.store.StoreFixtures.filled;
import static io.jrbd.metadata.store.StoreFixtures.pattern;
import static io.jrbd.metadata.store.StoreFixtures.read;
import static io.jrbd.metadata.store.StoreFixtures.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class BackingStoreIoTest {
    private static final long SIZE = 4L * MIB;

    @TempDir
    Path dir;
    private Path path;
    private BackingStore store;

    @BeforeEach
    void open() throws Exception {
        path = dir.resolve("store.img");
        store = BackingStore.open(path, SIZE, false);
    }

    @AfterEach
    void close() throws Exception {
        store.close();
    }

    @ParameterizedTest(name = "{1} bytes at {0}")
    @CsvSource({
        "0, 1",
        "511, 1",
        "511, 2",
        "4095, 3",
        "12345, 10000",
        "1000001, 65537",
        "4193303, 1001", // ends 1 byte before the end of the store
        "4194303, 1"     // the last byte
    })
    void shouldReadBackWhatWasWrittenAtUnalignedOffsets(long offset, int length) throws Exception {
        byte[] data = pattern(length, (int) offset);
        write(store, offset, data);

        assertArrayEquals(data, read(store, offset, length));
        // The neighbours are untouched.
        if (offset > 0) {
            assertArrayEquals(new byte[1], read(store, offset - 1, 1));
        }
        if (offset + length < SIZE) {
            assertArrayEquals(new byte[1], read(store, offset + length, 1));
        }
    }

    @Test
    void shouldWriteFromPositionToLimitOfHeapBuffer() throws Exception {
        byte[] backing = pattern(1000, 5);
        ByteBuffer src = ByteBuffer.wrap(backing);
        src.position(100).limit(300);

        store.write(src, 7000);

        assertEquals(300, src.position(), "the whole remaining buffer is consumed");
        assertArrayEquals(Arrays.copyOfRange(backing, 100, 300), read(store, 7000, 200));
        assertArrayEquals(new byte[1], read(store, 7200, 1));
    }

    @Test
    void shouldFillReadBufferOnlyFromPositionToLimit() throws Exception {
        byte[] data = pattern(500, 9);
        write(store, 9000, data);
        ByteBuffer dst = ByteBuffer.allocateDirect(1000);
        for (int i = 0; i < 1000; i++) {
            dst.put(i, (byte) 0x5A);
        }
        dst.position(200).limit(700);

        store.read(dst, 9000);

        assertEquals(700, dst.position());
        byte[] all = new byte[1000];
        dst.clear();
        dst.get(all);
        assertArrayEquals(filled(200, 0x5A), Arrays.copyOfRange(all, 0, 200));
        assertArrayEquals(data, Arrays.copyOfRange(all, 200, 700));
        assertArrayEquals(filled(300, 0x5A), Arrays.copyOfRange(all, 700, 1000));
    }

    @Test
    void shouldOverwriteOnlyTheBytesWritten() throws Exception {
        byte[] first = pattern(8 * KIB, 1);
        byte[] second = pattern(100, 2);
        write(store, 0, first);
        write(store, 4050, second);

        byte[] expected = first.clone();
        System.arraycopy(second, 0, expected, 4050, second.length);
        assertArrayEquals(expected, read(store, 0, 8 * KIB));
    }

    @Test
    void shouldKeepDataAcrossSyncCloseAndReopen() throws Exception {
        byte[] data = pattern(3 * MIB + 17, 4);
        write(store, 123, data);
        store.sync();
        store.close();

        store = BackingStore.open(path, -1, false);
        assertEquals(SIZE, store.size());
        assertArrayEquals(data, read(store, 123, data.length));
    }

    @Test
    void shouldReadZeroesPastTheEndOfFileThatShrankUnderIt() throws Exception {
        byte[] data = pattern(8 * KIB, 6);
        write(store, 0, data);
        try (FileChannel other = FileChannel.open(path, StandardOpenOption.WRITE)) {
            other.truncate(4 * KIB);
        }

        byte[] back = read(store, 0, 8 * KIB);

        assertArrayEquals(Arrays.copyOf(data, 4 * KIB), Arrays.copyOfRange(back, 0, 4 * KIB));
        assertArrayEquals(new byte[4 * KIB], Arrays.copyOfRange(back, 4 * KIB, 8 * KIB));
    }

    @Test
    void shouldWriteZeroesOverMoreThanOneMebibyteLeavingTheNeighboursAlone() throws Exception {
        byte[] ones = filled((int) SIZE, 0xAB);
        write(store, 0, ones);
        long offset = 1001;
        long length = 2L * MIB + 777; // three chunks of the 1 MiB zero buffer, the last partial

        store.writeZeroes(offset, length);

        byte[] back = Files.readAllBytes(path);
        assertEquals(SIZE, back.length);
        for (int i = 0; i < back.length; i++) {
            byte expected = i >= offset && i < offset + length ? 0 : (byte) 0xAB;
            if (back[i] != expected) {
                throw new AssertionError("byte " + i + " is " + back[i] + ", expected " + expected);
            }
        }
    }

    @Test
    void shouldWriteZeroesOfExactlyOneChunkAndOfNothing() throws Exception {
        write(store, 0, filled(2 * MIB, 0x11));

        store.writeZeroes(MIB / 2, MIB);
        store.writeZeroes(100, 0);

        byte[] back = read(store, 0, 2 * MIB);
        assertEquals(0x11, back[100]);
        assertEquals(0x11, back[MIB / 2 - 1]);
        assertArrayEquals(new byte[MIB], Arrays.copyOfRange(back, MIB / 2, MIB / 2 + MIB));
        assertEquals(0x11, back[MIB / 2 + MIB]);
    }
}
