package io.jrbd.metadata.md;

import static io.jrbd.metadata.md.MdFixtures.MIB;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BitmapPersistenceTest {
    private static final int B = 4096;
    private static final long PAGE_COVERS = 32768L * B;  // 128 MiB of device per bitmap page
    private static final long SIZE = 8 * PAGE_COVERS;   // eight pages

    @TempDir
    Path dir;

    private Path file;
    private MetadataLayout layout;

    @BeforeEach
    void createMetadata() throws Exception {
        file = dir.resolve("r0.md");
        Metadata.create(file, SIZE, "r0", "alpha", false).close();
        layout = MetadataLayout.of(SIZE);
    }

    @Test
    void shouldKeepSetBlocksAcrossCloseAndOpen() throws Exception {
        try (Metadata md = Metadata.open(file, SIZE)) {
            md.bitmap().setRange(5000, 10_000);           // blocks 1..3
            md.bitmap().setRange(3 * PAGE_COVERS - 1, 2); // blocks at the end of page 2 and start of page 3
            md.bitmap().setRange(SIZE - 1, 1);            // the last block
            assertEquals(4, md.flushBitmap(), "pages 0, 2, 3 and 7, nothing else");
        }
        try (Metadata md = Metadata.open(file, SIZE)) {
            Bitmap bitmap = md.bitmap();
            assertEquals(6, bitmap.cardinality());
            assertEquals(1, bitmap.nextSetBlock(0));
            assertTrue(bitmap.isSet(3));
            assertFalse(bitmap.isSet(4));
            assertEquals(3 * 32768 - 1, bitmap.nextSetBlock(4));
            assertTrue(bitmap.isSet(3 * 32768));
            assertEquals(bitmap.blocks() - 1, bitmap.nextSetBlock(3 * 32768 + 1));
            assertEquals(0, bitmap.dirtyPages(), "a loaded bitmap has nothing to write");
        }
    }

    @Test
    void shouldWriteDirtyPagesAtCloseWithoutAnExplicitFlush() throws Exception {
        try (Metadata md = Metadata.open(file, SIZE)) {
            md.bitmap().setRange(7 * PAGE_COVERS, B);
        }
        try (Metadata md = Metadata.open(file, SIZE)) {
            assertEquals(1, md.bitmap().cardinality());
            assertTrue(md.bitmap().isSet(7 * 32768));
        }
    }

    @Test
    void shouldWriteOnlyThePagesThatChanged() throws Exception {
        try (Metadata md = Metadata.open(file, SIZE)) {
            Bitmap bitmap = md.bitmap();
            bitmap.setRange(PAGE_COVERS + 123, 1);
            bitmap.setRange(5 * PAGE_COVERS, 100 * B);
            assertEquals(2, bitmap.dirtyPages());
            byte[] before = Files.readAllBytes(file);
            assertEquals(2, md.flushBitmap());
            assertEquals(2, md.bitmapPagesWritten());
            byte[] after = Files.readAllBytes(file);
            for (int p = 0; p < layout.bitmapPages(); p++) {
                int from = (int) layout.pageOffset(p);
                boolean changed = !Arrays.equals(before, from, from + B, after, from, from + B);
                assertEquals(p == 1 || p == 5, changed, "page " + p);
            }
            assertArrayEquals(Arrays.copyOf(before, (int) layout.crcTableOffset()),
                    Arrays.copyOf(after, (int) layout.crcTableOffset()), "superblocks and activity log untouched");

            assertEquals(0, md.flushBitmap(), "nothing changed since");
            assertEquals(0, bitmap.setRange(PAGE_COVERS, B), "already set");
            assertEquals(0, md.flushBitmap(), "setting a set block dirties nothing");
            assertEquals(0, bitmap.clearRange(2 * PAGE_COVERS, B), "already clear");
            assertEquals(0, md.flushBitmap());

            bitmap.clearRange(5 * PAGE_COVERS, B);
            assertEquals(1, md.flushBitmap());
            assertEquals(3, md.bitmapPagesWritten());
        }
        try (Metadata md = Metadata.open(file, SIZE)) {
            assertEquals(100, md.bitmap().cardinality(), "1 + 100 - 1");
        }
    }

    @Test
    void shouldNameTheBitmapPageWhoseChecksumFails() throws Exception {
        try (Metadata md = Metadata.open(file, SIZE)) {
            md.bitmap().setRange(3 * PAGE_COVERS, 10 * B);
        }
        MdFixtures.flip(file, layout.pageOffset(3) + 1);
        MetadataException e = assertThrows(MetadataException.class, () -> Metadata.open(file, SIZE));
        assertEquals("bitmap page 3", e.structure());
        assertTrue(e.getMessage().matches(".*: bitmap page 3: checksum mismatch \\(stored 0x[0-9A-F]{8},"
                + " computed 0x[0-9A-F]{8}\\)"), e.getMessage());
    }

    @Test
    void shouldCountATornPageOutOfSyncWhenTheNodeDidNotStopCleanly() throws Exception {
        try (Metadata md = Metadata.open(file, SIZE)) {
            md.bitmap().setRange(3 * PAGE_COVERS, 10 * B);
            md.flushBitmap();
            md.writeSuperblock(md.superblock().without(SuperblockFlag.BITMAP_VALID)); // running, as up does
        }
        MdFixtures.flip(file, layout.pageOffset(3) + 1); // a crash between the page and its checksum
        try (Metadata md = Metadata.open(file, SIZE)) {
            assertEquals(32768, md.bitmap().cardinality(), "every block of page 3 is out of sync");
            assertTrue(md.bitmap().isSet(3 * 32768L) && md.bitmap().isSet(4 * 32768L - 1));
            assertEquals(1, md.flushBitmap(), "the page is rewritten with a good checksum");
        }
        try (Metadata md = Metadata.open(file, SIZE)) {
            assertEquals(32768, md.bitmap().cardinality());
        }
    }

    @Test
    void shouldNameThePageWhoseTableEntryIsCorrupt() throws Exception {
        MdFixtures.flip(file, layout.crcEntryOffset(6) + 3);
        MetadataException e = assertThrows(MetadataException.class, () -> Metadata.open(file, SIZE));
        assertEquals("bitmap page 6", e.structure());
        assertTrue(e.getMessage().startsWith(file + ": bitmap page 6: checksum mismatch"), e.getMessage());
    }

    @Test
    void shouldCatchAPageWrittenInThePlaceOfAnother() throws Exception {
        try (Metadata md = Metadata.open(file, SIZE)) {
            md.bitmap().setRange(2 * PAGE_COVERS, 7 * B);
        }
        // Page 2 and its checksum copied over page 4 and its entry: each is valid, but not there.
        MdFixtures.write(file, layout.pageOffset(4), MdFixtures.read(file, layout.pageOffset(2), B));
        MdFixtures.write(file, layout.crcEntryOffset(4), MdFixtures.read(file, layout.crcEntryOffset(2), 4));
        MetadataException e = assertThrows(MetadataException.class, () -> Metadata.open(file, SIZE));
        assertEquals("bitmap page 4", e.structure());
    }

    @Test
    void shouldRefuseBitsPastTheLastBlock() throws Exception {
        long size = 100 * B;
        Path small = dir.resolve("small.md");
        Metadata.create(small, size, "r0", "alpha", false).close();
        MetadataLayout smallLayout = MetadataLayout.of(size);
        ByteBuffer page = ByteBuffer.allocate(B);
        page.putLong(8, 1L << 40);  // block 104, past the 100 the device has
        MdFixtures.write(small, smallLayout.pageOffset(0), page.array());
        MdFixtures.write(small, smallLayout.crcEntryOffset(0),
                ByteBuffer.allocate(4).putInt(0, Metadata.pageCrc(0, page.clear())).array());
        MetadataException e = assertThrows(MetadataException.class, () -> Metadata.open(small, size));
        assertEquals(small + ": bitmap page 0: block 104 is set but the device has only 100 blocks", e.getMessage());
    }

    @Test
    void shouldLoseNoBitSetWhileAFlushRuns() throws Exception {
        long blocks;
        try (Metadata md = Metadata.open(file, SIZE)) {
            Bitmap bitmap = md.bitmap();
            blocks = bitmap.blocks();
            AtomicBoolean done = new AtomicBoolean();
            Thread setter = new Thread(() -> {
                for (long b = 0; b < blocks; b += 97) {
                    bitmap.setBlocks(b, b + 1);
                }
                done.set(true);
            });
            setter.start();
            do {
                md.flushBitmap(); // at least once while the setter may still run
            } while (!done.get());
            setter.join();
            md.flushBitmap();
        }
        long expected = (blocks + 96) / 97;
        try (Metadata md = Metadata.openReadOnly(file)) {
            assertEquals(expected, md.bitmap().cardinality());
        }
    }
}
