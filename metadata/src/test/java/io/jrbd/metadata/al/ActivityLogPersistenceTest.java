package io.jrbd.metadata.al;

import static io.jrbd.metadata.al.AlFixtures.EXTENT;
import static io.jrbd.metadata.al.AlFixtures.GIB;
import static io.jrbd.metadata.al.AlFixtures.MIB;
import static io.jrbd.metadata.al.AlFixtures.at;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrbd.metadata.al.ActivityLog.Activation;
import io.jrbd.metadata.md.Bitmap;
import io.jrbd.metadata.md.Metadata;
import io.jrbd.metadata.md.MetadataException;
import io.jrbd.metadata.md.MetadataLayout;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ActivityLogPersistenceTest {
    private static final int B = 4096;
    /** Ten extents and a 512-byte tail: extent 10 is partial. */
    private static final long SIZE = 10 * EXTENT + 512;
    private static final long SLOT0 = MetadataLayout.AL_OFFSET;
    private static final long SLOT1 = MetadataLayout.AL_OFFSET + ActivityLogLayout.SLOT_SIZE;

    @TempDir
    Path dir;

    private Path file;

    @BeforeEach
    void createMetadata() throws Exception {
        file = dir.resolve("r0.md");
        Metadata.create(file, SIZE, "r0", "alpha", false).close();
    }

    private static byte[] read(Path file, long offset, int length) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer dst = ByteBuffer.allocate(length);
            while (dst.hasRemaining() && ch.read(dst, offset + dst.position()) >= 0) {
                // keep reading
            }
            return dst.array();
        }
    }

    private static void write(Path file, long offset, byte[] bytes, int length) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ByteBuffer src = ByteBuffer.wrap(bytes, 0, length);
            while (src.hasRemaining()) {
                ch.write(src, offset + src.position());
            }
        }
    }

    private static void flip(Path file, long offset) throws IOException {
        byte[] b = read(file, offset, 1);
        b[0] = (byte) ~b[0];
        write(file, offset, b, 1);
    }

    @Test
    void shouldStartEmptyAtTransactionOneAfterCreate() throws Exception {
        try (Metadata md = Metadata.open(file, SIZE)) {
            ActivityLog al = md.activityLog();
            assertEquals(1, al.transactionNumber());
            assertEquals(0, al.hotExtents().length);
            assertEquals(0, al.transactionsWritten());
            assertEquals(ActivityLogLayout.DEFAULT_EXTENTS, al.capacity());
            assertEquals("never written (all zeroes)", al.slot(1).describe());
        }
    }

    @Test
    void shouldSeeTheSameHotSetAfterOpeningAgain() throws Exception {
        try (Metadata md = Metadata.open(file, SIZE)) {
            ActivityLog al = md.activityLog();
            al.setCapacity(7);
            for (int e : new int[] {9, 2, 4, 10, 0, 2}) {
                al.activate(at(e), 512, 1, 0);
            }
            assertEquals(5, al.transactionsWritten());
            assertEquals(5, md.activityLog().lruOrder().length);
        }
        try (Metadata md = Metadata.open(file, SIZE)) {
            ActivityLog al = md.activityLog();
            assertArrayEquals(new int[] {0, 2, 4, 9, 10}, al.hotExtents());
            assertArrayEquals(new int[] {9, 2, 4, 10, 0}, al.lruOrder(),
                    "in the order of the last transaction: touching a hot extent writes nothing");
            assertEquals(6, al.transactionNumber());
            assertEquals(Activation.ALREADY_HOT, al.activate(at(4), B, 1, 0));
        }
    }

    @Test
    void shouldFallBackToThePreviousTransactionWhenTheNewestIsTorn() throws Exception {
        int[] before;
        try (Metadata md = Metadata.open(file, SIZE)) {
            md.activityLog().activate(at(3), B, 1, 0);  // transaction 2, slot 1
            before = md.activityLog().hotExtents();
        }
        // Transaction 3 (slot 0) is on its way: a snapshot spanning several sectors, of which only the first
        // reaches the disk. (Its extents are made up: it is never read whole.)
        int[] many = new int[400];
        for (int i = 0; i < many.length; i++) {
            many[i] = i;
        }
        ByteBuffer torn = TransactionCodec.encode(ByteBuffer.allocate(ActivityLogLayout.SLOT_SIZE), 3, 7, many, 400);
        write(file, SLOT0, torn.array(), 512);
        try (Metadata md = Metadata.open(file, SIZE)) {
            ActivityLog al = md.activityLog();
            assertArrayEquals(before, al.hotExtents());
            assertEquals(2, al.transactionNumber());
            assertTrue(al.slot(0).describe().startsWith("unusable: checksum mismatch"), al.slot(0).describe());
            // The next transaction goes over the torn slot.
            al.activate(at(5), B, 1, 0);
            assertEquals(3, al.lastTransaction().number());
            assertEquals(0, al.lastTransaction().slot());
        }
        try (Metadata md = Metadata.open(file, SIZE)) {
            assertArrayEquals(new int[] {3, 5}, md.activityLog().hotExtents());
            assertEquals("transaction 3, 2 extents", md.activityLog().slot(0).describe());
            assertEquals("transaction 2, 1 extents", md.activityLog().slot(1).describe());
        }
    }

    @Test
    void shouldRefuseMetadataWhoseActivityLogSlotsAreAllCorrupt() throws Exception {
        try (Metadata md = Metadata.open(file, SIZE)) {
            md.activityLog().activate(at(1), B, 1, 0);
        }
        flip(file, SLOT0 + ActivityLogLayout.EXTENTS_OFFSET - 1);  // the count of transaction 1
        flip(file, SLOT1 + ActivityLogLayout.EXTENTS_OFFSET);      // the extent of transaction 2
        MetadataException e = assertThrows(MetadataException.class, () -> Metadata.open(file, SIZE));
        assertEquals("activity log", e.structure());
        assertTrue(e.getMessage().startsWith(file + ": activity log: no valid transaction in any slot (slot 0 @8192:"
                + " checksum mismatch"), e.getMessage());
        assertTrue(e.getMessage().contains("; slot 1 @24576: checksum mismatch"), e.getMessage());
        assertThrows(MetadataException.class, () -> Metadata.openReadOnly(file), "dump-md refuses it too");
    }

    @Test
    void shouldReadAnAllZeroRegionAsAnEmptyLogAndWriteFromTransactionOne() throws Exception {
        // Metadata written before the activity log existed: the region is reserved and zero.
        write(file, SLOT0, new byte[MetadataLayout.AL_SIZE], MetadataLayout.AL_SIZE);
        try (Metadata md = Metadata.open(file, SIZE)) {
            ActivityLog al = md.activityLog();
            assertEquals(0, al.transactionNumber());
            assertNull(al.lastTransaction());
            al.activate(at(7), B, 1, 0);
            assertEquals(1, al.lastTransaction().number());
        }
        try (Metadata md = Metadata.open(file, SIZE)) {
            assertArrayEquals(new int[] {7}, md.activityLog().hotExtents());
        }
    }

    @Test
    void shouldFlushTheBitmapBeforeATransactionThatEvicts() throws Exception {
        try (Metadata md = Metadata.open(file, SIZE)) {
            ActivityLog al = md.activityLog();
            al.setCapacity(7);
            for (int e = 0; e < 7; e++) {
                al.activate(at(e), B, e + 1, 0);
            }
            md.bitmap().setRange(at(0), B);  // the peer missed the write to extent 0
            assertEquals(1, md.bitmap().dirtyPages());
            assertEquals(0, md.bitmapPagesWritten());
            assertEquals(Activation.ACTIVATED, al.activate(at(8), B, 8, 1));  // evicts extent 0
            assertFalse(al.isHot(0));
            assertEquals(0, md.bitmap().dirtyPages(), "written before extent 0 left the log");
            assertEquals(1, md.bitmapPagesWritten());
        }
    }

    @Test
    void shouldMarkExactlyTheBlocksOfTheHotExtentsInTheBitmap() throws Exception {
        try (Metadata md = Metadata.open(file, SIZE)) {
            md.activityLog().activate(at(2), EXTENT + B, 1, 0);  // extents 2 and 3
            md.activityLog().activate(at(10), 512, 2, 0);        // the partial last extent
        }
        try (Metadata md = Metadata.open(file, SIZE)) {
            Bitmap bitmap = md.bitmap();
            bitmap.setRange(at(3) + B, B);  // already set: not counted again
            assertEquals(2 * 1024 + 1 - 1, md.activityLog().markHotInBitmap(bitmap));
            assertEquals(2 * 1024 + 1, bitmap.cardinality());
            assertEquals(2 * 1024, bitmap.nextSetBlock(0));
            assertEquals(4 * 1024, bitmap.nextClearBlock(2 * 1024));
            assertEquals(10 * 1024, bitmap.nextSetBlock(4 * 1024), "and the 512 bytes of extent 10");
            assertEquals(bitmap.blocks() - 1, 10 * 1024);
        }
    }

    @Test
    void shouldRefuseToActivateOnReadOnlyMetadata() throws Exception {
        try (Metadata md = Metadata.openReadOnly(file)) {
            assertThrows(IllegalStateException.class, () -> md.activityLog().activate(0, B, 1, 0));
        }
    }

    @Test
    void shouldShowTheActivityLogInDumpMd() throws Exception {
        try (Metadata md = Metadata.open(file, SIZE)) {
            for (int e : new int[] {0, 1, 2, 5, 10}) {
                md.activityLog().activate(at(e), 512, 1, 0);
            }
        }
        String text = Metadata.dump(file);
        for (String expected : new String[] {
            "activity log:     transaction 6 in slot 1, 5 extents hot (al-extents 1237 when written), region @8192\n",
            "al slot 0:        transaction 5, 4 extents\n",
            "al slot 1:        transaction 6, 5 extents\n",
            "hot extents:      3 ranges (extents, then offset+length)\n",
            "    0-2             0+12582912\n",
            "    5               20971520+4194304\n",
            "    10              41943040+512\n",
        }) {
            assertTrue(text.contains(expected), "missing '" + expected.strip() + "' in:\n" + text);
        }
        Map<String, Object> json = Metadata.dumpJson(file);
        @SuppressWarnings("unchecked")
        Map<String, Object> al = (Map<String, Object>) json.get("activityLog");
        assertEquals(6L, al.get("transaction"));
        assertEquals(1, al.get("slot"));
        assertEquals(1237, al.get("alExtents"));
        assertEquals(5, al.get("hotExtents"));
        assertEquals(8192L, al.get("offset"));
        assertEquals(List.of(
                Map.of("firstExtent", 0, "lastExtent", 2, "offset", 0L, "length", 3 * EXTENT),
                Map.of("firstExtent", 5, "lastExtent", 5, "offset", 5 * EXTENT, "length", EXTENT),
                Map.of("firstExtent", 10, "lastExtent", 10, "offset", 10 * EXTENT, "length", 512L)), al.get("ranges"));
    }

    @Test
    void shouldWriteFewerThanOneTransactionPerThousandWritesToRealMetadataOnceWarm() throws Exception {
        // 100,000 random 4 KiB writes over 200 extents of an 8 GiB device, al-extents 1237: one
        // transaction (pwrite + fdatasync) per extent while warming up, none after.
        long size = 8 * GIB;
        Path big = dir.resolve("big.md");
        Random random = new Random(1);
        List<Long> perTenThousand = new ArrayList<>();
        try (Metadata md = Metadata.create(big, size, "r0", "alpha", false)) {
            ActivityLog al = md.activityLog();
            long mark = 0;
            for (int i = 1; i <= 100_000; i++) {
                long offset = at(random.nextInt(200) * 10) + (long) random.nextInt((int) (EXTENT / B)) * B;
                al.activate(offset, B, i, i - 1);
                if (i % 10_000 == 0) {
                    perTenThousand.add(al.transactionsWritten() - mark);
                    mark = al.transactionsWritten();
                }
            }
            assertEquals(200, al.transactionsWritten());
        }
        assertEquals(List.of(200L, 0L, 0L, 0L, 0L, 0L, 0L, 0L, 0L, 0L), perTenThousand);
        try (Metadata md = Metadata.open(big, size)) {
            assertEquals(200, md.activityLog().hotExtents().length);
        }
    }

    @Test
    void shouldKeepAMegabyteWriteInTwoExtentsAtMost() {
        assertEquals(2, ActivityLogLayout.extentsTouched(at(1) - 512, MIB));
        assertEquals(1, ActivityLogLayout.extentsTouched(at(1), MIB));
        assertEquals(0, ActivityLogLayout.extentsTouched(at(1), 0));
        assertEquals(11, ActivityLogLayout.extents(SIZE));
    }
}
