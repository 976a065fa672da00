package io.jrbd.metadata.md;

import static io.jrbd.metadata.md.MdFixtures.KIB;
import static io.jrbd.metadata.md.MdFixtures.MIB;
import static io.jrbd.metadata.md.MdFixtures.TIB;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrbd.metadata.al.ActivityLogLayout;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class InternalMetadataTest {
    /** Not a multiple of 4 KiB: the metadata starts after 3584 bytes of padding. */
    private static final long SIZE = 64 * MIB + 512;
    private static final long BASE = 64 * MIB + 4 * KIB;
    private static final long NEEDED = BASE + MetadataLayout.of(SIZE).metadataSize();

    @TempDir
    Path dir;

    private Path backingOf(long length) throws Exception {
        Path backing = dir.resolve("disk.img");
        try (RandomAccessFile f = new RandomAccessFile(backing.toFile(), "rw")) {
            f.setLength(length);
        }
        return backing;
    }

    /** Fills the data area's first and last MiB with a pattern and returns it. */
    private static byte[] writeData(Path backing) throws Exception {
        byte[] pattern = new byte[(int) MIB];
        new Random(3).nextBytes(pattern);
        MdFixtures.write(backing, 0, pattern);
        MdFixtures.write(backing, SIZE - MIB, pattern);
        return pattern;
    }

    private static void assertDataIntact(Path backing, byte[] pattern) throws Exception {
        assertArrayEquals(pattern, MdFixtures.read(backing, 0, (int) MIB), "the data's first MiB");
        assertArrayEquals(pattern, MdFixtures.read(backing, SIZE - MIB, (int) MIB), "the data's last MiB");
        assertArrayEquals(new byte[(int) (BASE - SIZE)], MdFixtures.read(backing, SIZE, (int) (BASE - SIZE)),
                "the padding is never written");
    }

    @ParameterizedTest
    @CsvSource({
        // device size,   metadata offset, internal metadata size
        "1048576,         1048576,         49152",          // 1 MiB: 40 KiB + one 4 KiB table block + one page
        "1049088,         1052672,         52736",          // + 512: 3584 bytes of padding first
        "67108864,        67108864,        49152",          // 64 MiB: 16384 blocks, still one page
        "1073741824,      1073741824,      77824",          // 1 GiB: 8 pages
        "1099511627776,   1099511627776,   33628160",       // 1 TiB: 8192 pages (32 MiB), a 32 KiB table, 40 KiB
    })
    void shouldSizeInternalMetadataAfterTheData(long size, long offset, long metadata) {
        assertEquals(offset, MetadataLayout.internalMetadataOffset(size));
        assertEquals(metadata, MetadataLayout.internalMetadataSize(size));
        MetadataLayout layout = MetadataLayout.internal(size);
        assertEquals(size + metadata, layout.fileSize(), "the smallest backing store");
        assertEquals(offset, layout.base());
        assertEquals(offset + MetadataLayout.of(size).metadataSize(), layout.fileSize());
    }

    @Test
    void shouldPlaceTheRegionsInTheExternalOrderFromTheBase() {
        MetadataLayout layout = MetadataLayout.internal(SIZE);
        assertTrue(layout.internal());
        assertEquals(MetadataLayout.PLACEMENT_INTERNAL, layout.placement());
        assertEquals(BASE, layout.superblockOffset(0));
        assertEquals(BASE + 4 * KIB, layout.superblockOffset(1));
        assertEquals(BASE + 8 * KIB, layout.alOffset());
        assertEquals(BASE + 40 * KIB, layout.crcTableOffset());
        assertEquals(BASE + 44 * KIB, layout.bitmapOffset());
        assertEquals(BASE + 44 * KIB + 4 * KIB, layout.pageOffset(1));
        assertEquals(BASE + 40 * KIB + 8, layout.crcEntryOffset(2));
        assertEquals(NEEDED, layout.fileSize());
        assertEquals("internal after " + SIZE + " bytes of data: slot A @" + BASE + ", slot B @" + (BASE + 4096)
                + ", activity log @" + (BASE + 8192) + " (32768 bytes), bitmap CRC table @" + (BASE + 40960)
                + " (4096 bytes), bitmap @" + (BASE + 45056) + " (1 pages), backing store at least " + NEEDED,
                layout.toString());
        MetadataLayout external = MetadataLayout.of(SIZE);
        assertEquals(0, external.base());
        assertEquals(external.metadataSize(), layout.metadataSize());
        assertEquals(external.bitmapOffset() + BASE, layout.bitmapOffset());
    }

    @Test
    void shouldCreateAMissingBackingFileSparseAtTheSizeItNeeds() throws Exception {
        Path backing = dir.resolve("new.img");
        try (Metadata md = Metadata.createInternal(backing, SIZE, "r0", "alpha", false)) {
            assertTrue(md.layout().internal());
            assertEquals(BASE, md.layout().base());
            assertEquals(Superblock.initial(SIZE, "r0", "alpha"), md.superblock());
            assertEquals(1, md.activityLog().transactionNumber());
        }
        assertEquals(SIZE + MetadataLayout.internalMetadataSize(SIZE), Files.size(backing));
        assertEquals(MetadataLayout.PLACEMENT_INTERNAL,
                MdFixtures.read(backing, BASE + MetadataLayout.PLACEMENT_OFFSET, 1)[0]);
        assertArrayEquals(new byte[(int) MIB], MdFixtures.read(backing, 0, (int) MIB), "the data area is a hole");
    }

    @Test
    void shouldKeepTheDataOfABackingStoreLargerThanNeeded() throws Exception {
        long larger = NEEDED + 4 * MIB;  // a logical volume rounded up
        Path backing = backingOf(larger);
        byte[] data = writeData(backing);
        Metadata.createInternal(backing, SIZE, "r0", "alpha", false).close();
        assertDataIntact(backing, data);
        assertEquals(larger, Files.size(backing), "never cut or grown");
        assertArrayEquals(new byte[(int) (4 * MIB)], MdFixtures.read(backing, NEEDED, (int) (4 * MIB)),
                "the metadata is right after the data, not at the very end");
        try (Metadata md = Metadata.openInternal(backing, SIZE)) {
            assertEquals('B', md.activeSlot());
        }
    }

    @Test
    void shouldKeepEveryStructureAcrossCloseAndOpenWithoutTouchingTheData() throws Exception {
        Path backing = backingOf(NEEDED);
        byte[] data = writeData(backing);
        Metadata.createInternal(backing, SIZE, "r0", "alpha", false).close();
        Superblock written;
        try (Metadata md = Metadata.openInternal(backing, SIZE)) {
            written = MdFixtures.everyFieldSet(md.superblock());
            md.writeSuperblock(written);
            md.bitmap().setRange(SIZE - 512, 512);  // the last, partial block
            md.bitmap().setRange(0, 8192);
            md.activityLog().activate(5 * ActivityLogLayout.EXTENT_SIZE, 4096, 1, 0);
            md.activityLog().activate(SIZE - 512, 512, 2, 0);
        }
        assertDataIntact(backing, data);
        try (Metadata md = Metadata.openInternal(backing, SIZE)) {
            assertEquals(written, md.superblock());
            assertEquals(3, md.bitmap().cardinality());
            assertTrue(md.bitmap().isSet(md.bitmap().blocks() - 1));
            assertArrayEquals(new int[] {5, 16}, md.activityLog().hotExtents());
        }
    }

    @Test
    void shouldRefuseABackingStoreTooSmallNamingBothNumbers() throws Exception {
        Path backing = backingOf(NEEDED - 4096);
        String expected = backing + ": is " + (NEEDED - 4096) + " bytes, too small for a " + SIZE + "-byte device"
                + " with internal metadata: that needs at least " + NEEDED + " bytes (" + SIZE + " of data + "
                + (NEEDED - SIZE) + " of metadata)";
        MetadataException e = assertThrows(MetadataException.class,
                () -> Metadata.createInternal(backing, SIZE, "r0", "alpha", false));
        assertEquals(expected, e.getMessage());
        e = assertThrows(MetadataException.class, () -> Metadata.openInternal(backing, SIZE));
        assertEquals(expected, e.getMessage());
        assertEquals(NEEDED - 4096, Files.size(backing), "untouched");
    }

    @Test
    void shouldRefuseToOverwriteValidInternalMetadataWithoutForce() throws Exception {
        Path backing = backingOf(NEEDED);
        byte[] data = writeData(backing);
        Metadata.createInternal(backing, SIZE, "r0", "alpha", false).close();
        MetadataException e = assertThrows(MetadataException.class,
                () -> Metadata.createInternal(backing, SIZE, "r1", "beta", false));
        assertEquals(backing + ": holds valid jrbd metadata for resource r0 (node alpha); use --force to overwrite",
                e.getMessage());
        try (Metadata md = Metadata.openInternal(backing, SIZE)) {
            md.bitmap().setRange(0, 4096);
        }
        try (Metadata md = Metadata.createInternal(backing, SIZE, "r1", "beta", true)) {
            assertEquals("r1", md.superblock().resourceName());
            assertEquals(0, md.bitmap().cardinality(), "fresh");
        }
        assertDataIntact(backing, data);
    }

    @Test
    void shouldTellAWrongSizeFromCorruption() throws Exception {
        Path backing = backingOf(NEEDED + 8 * MIB);
        Metadata.createInternal(backing, SIZE, "r0", "alpha", false).close();
        long wrong = SIZE + MIB;
        MetadataException e = assertThrows(MetadataException.class, () -> Metadata.openInternal(backing, wrong));
        assertEquals(backing + ": superblock: both copies are corrupt (slot A: never written (all zeroes), slot B:"
                + " never written (all zeroes)); internal metadata of a " + wrong + "-byte device starts at "
                + MetadataLayout.internalMetadataOffset(wrong) + ": is the size right, and was it created with"
                + " internal placement?", e.getMessage());
    }

    @Test
    void shouldRefuseMetadataOpenedWithTheOtherPlacement() throws Exception {
        Path backing = backingOf(NEEDED);
        Metadata.createInternal(backing, SIZE, "r0", "alpha", false).close();
        // The metadata region copied to a file of its own, and opened as external metadata.
        Path copy = dir.resolve("copy.md");
        Files.write(copy, MdFixtures.read(backing, BASE, (int) (NEEDED - BASE)));
        MetadataException e = assertThrows(MetadataException.class, () -> Metadata.open(copy, SIZE));
        assertEquals(copy + ": superblock: records internal placement, but was opened as external metadata",
                e.getMessage());
        // And external metadata found where internal metadata should be.
        Path external = dir.resolve("r0.md");
        Metadata.create(external, SIZE, "r0", "alpha", false).close();
        MdFixtures.write(backing, BASE, Files.readAllBytes(external));
        e = assertThrows(MetadataException.class, () -> Metadata.openInternal(backing, SIZE));
        assertEquals(backing + ": superblock: records external placement, but was opened as internal metadata",
                e.getMessage());
    }

    @Test
    void shouldNameTheActivityLogAtItsPlaceInTheBackingStore() throws Exception {
        Path backing = backingOf(NEEDED);
        Metadata.createInternal(backing, SIZE, "r0", "alpha", false).close();
        MdFixtures.flip(backing, BASE + 8 * KIB + 20);  // transaction 1's slot field
        MdFixtures.write(backing, BASE + 8 * KIB + 16 * KIB, new byte[] {1});  // slot 1: garbage
        MetadataException e = assertThrows(MetadataException.class, () -> Metadata.openInternal(backing, SIZE));
        assertEquals("activity log", e.structure());
        assertTrue(e.getMessage().contains("(slot 0 @" + (BASE + 8192) + ": checksum mismatch"), e.getMessage());
        assertTrue(e.getMessage().contains("; slot 1 @" + (BASE + 8192 + 16384) + ": bad magic"), e.getMessage());
    }

    @Test
    void shouldDumpInternalMetadataReadOnly() throws Exception {
        Path backing = backingOf(NEEDED);
        Metadata.createInternal(backing, SIZE, "r0", "alpha", false).close();
        try (Metadata md = Metadata.openInternalReadOnly(backing, SIZE)) {
            assertTrue(md.readOnly());
            String text = md.dump();
            assertTrue(text.contains("format version:   1 (internal: metadata @" + BASE + ", after " + SIZE
                    + " bytes of data)\n"), text);
            assertTrue(text.contains("activity log:     transaction 1 in slot 0, 0 extents hot (al-extents 1237 when"
                    + " written), region @" + (BASE + 8192) + "\n"), text);
            Map<String, Object> json = md.dumpJson();
            assertEquals("internal", json.get("placement"));
            assertEquals(BASE, json.get("metadataOffset"));
            @SuppressWarnings("unchecked")
            Map<String, Object> layout = (Map<String, Object>) json.get("layout");
            assertEquals(BASE, layout.get("slotA"));
            assertEquals(NEEDED, layout.get("fileSize"));
            assertThrows(IllegalStateException.class, () -> md.writeSuperblock(md.superblock()));
        }
        assertFalse(Arrays.equals(new byte[8], MdFixtures.read(backing, BASE, 8)));
    }

    @Test
    void shouldSizeATebibyteDeviceWithoutAllocating() {
        assertEquals(32 * MIB + 72 * KIB, MetadataLayout.internalMetadataSize(TIB));
    }
}
