package io.jrbd.metadata.store;

import static io.jrbd.metadata.store.StoreFixtures.MIB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A backing store whose first bytes are the data and whose rest holds internal metadata. */
class BackingStorePrefixTest {
    @TempDir
    Path dir;

    private Path fileOf(long length) throws Exception {
        Path path = dir.resolve("disk.img");
        try (RandomAccessFile f = new RandomAccessFile(path.toFile(), "rw")) {
            f.setLength(length);
        }
        return path;
    }

    @Test
    void shouldServeOnlyTheDataOfALargerStore() throws Exception {
        Path path = fileOf(64L * MIB + 52 * 1024);
        try (BackingStore store = BackingStore.openPrefix(path, 64L * MIB, false)) {
            assertEquals(64L * MIB, store.size());
        }
        try (BackingStore store = BackingStore.openPrefix(path, 64L * MIB + 52 * 1024, true)) {
            assertEquals(64L * MIB + 52 * 1024, store.size(), "exactly the size is a prefix too");
        }
        assertEquals(64L * MIB + 52 * 1024, Files.size(path), "never cut or grown");
    }

    @Test
    void shouldRefuseAStoreSmallerThanTheDataAndNeverCreateOne() throws Exception {
        Path path = fileOf(MIB);
        StoreException e = assertThrows(StoreException.class, () -> BackingStore.openPrefix(path, 2L * MIB, false));
        assertEquals(path + ": it is " + MIB + " bytes, fewer than the " + 2 * MIB + " bytes of data asked for",
                e.getMessage());
        Path missing = dir.resolve("missing.img");
        e = assertThrows(StoreException.class, () -> BackingStore.openPrefix(missing, MIB, false));
        assertEquals(missing + ": no such file (a backing store with internal metadata is never created here;"
                + " create-md makes it)", e.getMessage());
        assertFalse(Files.exists(missing));
        assertThrows(StoreException.class, () -> BackingStore.openPrefix(path, 1000, false), "not whole sectors");
    }

    @Test
    void shouldTellTheSizeOfAFile() throws Exception {
        assertEquals(3 * MIB + 512, BackingStore.sizeOf(fileOf(3 * MIB + 512)));
        assertThrows(StoreException.class, () -> BackingStore.sizeOf(dir.resolve("missing.img")));
    }
}
