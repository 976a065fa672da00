package io.jrbd.metadata.md;

import static io.jrbd.metadata.md.MdFixtures.KIB;
import static io.jrbd.metadata.md.MdFixtures.MIB;
import static io.jrbd.metadata.md.MdFixtures.TIB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class MetadataLayoutTest {
    @Test
    void shouldPlaceFixedRegionsAtDocumentedOffsets() {
        MetadataLayout layout = MetadataLayout.of(MIB);
        assertEquals(0, MetadataLayout.slotOffset(0));
        assertEquals(4 * KIB, MetadataLayout.slotOffset(1));
        assertEquals(8 * KIB, MetadataLayout.AL_OFFSET);
        assertEquals(32 * KIB, MetadataLayout.AL_SIZE);
        assertEquals(40 * KIB, layout.crcTableOffset());
        assertEquals(4 * KIB, layout.crcTableSize(), "one page of entries, rounded up to 4 KiB");
        assertEquals(44 * KIB, layout.bitmapOffset());
        assertEquals(256, layout.blocks());
        assertEquals(1, layout.bitmapPages());
        assertEquals(48 * KIB, layout.fileSize());
        assertEquals(44 * KIB, layout.pageOffset(0));
        assertEquals(40 * KIB + 4, layout.crcEntryOffset(1));
    }

    @Test
    void shouldSizeTheBitmapOfOneTebibyteWithoutAllocatingIt() {
        MetadataLayout layout = MetadataLayout.of(TIB);
        assertEquals(1L << 28, layout.blocks(), "2^40 / 4 KiB blocks");
        assertEquals(8192, layout.bitmapPages());
        assertEquals(32 * MIB, layout.bitmapSize(), "1 bit per 4 KiB: 32 MiB per TiB");
        assertEquals(32 * KIB, layout.crcTableSize(), "8192 pages x 4 bytes");
        assertEquals(40 * KIB + 32 * KIB, layout.bitmapOffset());
        assertEquals(40 * KIB + 32 * KIB + 32 * MIB, layout.fileSize());
        assertEquals(layout.fileSize() - 4 * KIB, layout.pageOffset(8191), "the last page ends the file");
    }

    @ParameterizedTest(name = "{0} bytes -> {1} blocks, {2} pages, {3} table bytes")
    @CsvSource({
        "512,            1,      1, 4096",
        "4096,           1,      1, 4096",
        "4608,           2,      1, 4096",
        "134217728,      32768,  1, 4096",
        "134218240,      32769,  2, 4096",
        "137438953472,   33554432, 1024, 4096",
        "137573171200,   33587200, 1025, 8192",
    })
    void shouldRoundBlocksPagesAndTableUp(long deviceSize, long blocks, int pages, long tableBytes) {
        MetadataLayout layout = MetadataLayout.of(deviceSize);
        assertEquals(blocks, layout.blocks());
        assertEquals(pages, layout.bitmapPages());
        assertEquals(tableBytes, layout.crcTableSize());
        assertEquals(layout.crcTableOffset() + tableBytes + pages * 4096L, layout.fileSize());
    }

    @ParameterizedTest
    @ValueSource(longs = {0, -512, 1000, 4097, (256L << 40) + 512})
    void shouldRejectDeviceSizesItCannotHold(long deviceSize) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MetadataLayout.of(deviceSize));
        assertTrue(e.getMessage().contains("device size " + deviceSize), e.getMessage());
    }

    @Test
    void shouldFitTheLargestBitmapInOneJavaArray() {
        MetadataLayout layout = MetadataLayout.of(MetadataLayout.MAX_DEVICE_SIZE);
        long words = (long) layout.bitmapPages() * MetadataLayout.WORDS_PER_PAGE;
        assertTrue(words <= Integer.MAX_VALUE, words + " words");
        assertEquals(8L << 30, layout.bitmapSize(), "256 TiB -> 8 GiB of bitmap");
    }

    @Test
    void shouldKeepSuperblockFieldsInOrderInsideTheSlotBeforeTheChecksum() {
        int[] offsets = {
            MetadataLayout.MAGIC_OFFSET, MetadataLayout.VERSION_OFFSET, MetadataLayout.HEADER_LENGTH_OFFSET,
            MetadataLayout.WRITE_COUNTER_OFFSET, MetadataLayout.DEVICE_SIZE_OFFSET, MetadataLayout.BLOCK_SIZE_OFFSET,
            MetadataLayout.PLACEMENT_OFFSET, MetadataLayout.DISK_STATE_OFFSET, MetadataLayout.FLAGS_OFFSET,
            MetadataLayout.CURRENT_GEN_OFFSET, MetadataLayout.BITMAP_GEN_OFFSET, MetadataLayout.HISTORY_OFFSET,
            MetadataLayout.APPLIED_SEQ_OFFSET, MetadataLayout.LAST_PRIMARY_SEQ_OFFSET, MetadataLayout.AL_OFFSET_FIELD,
            MetadataLayout.AL_SIZE_FIELD, MetadataLayout.BITMAP_CRC_TABLE_OFFSET_FIELD,
            MetadataLayout.BITMAP_OFFSET_FIELD, MetadataLayout.BITMAP_PAGES_FIELD,
            MetadataLayout.NODE_NAME_LENGTH_OFFSET, MetadataLayout.NODE_NAME_OFFSET,
            MetadataLayout.RESOURCE_NAME_LENGTH_OFFSET, MetadataLayout.RESOURCE_NAME_OFFSET,
            MetadataLayout.HEADER_LENGTH_V1, MetadataLayout.CRC_OFFSET,
        };
        for (int i = 1; i < offsets.length; i++) {
            assertTrue(offsets[i] > offsets[i - 1], "field " + i + " at " + offsets[i] + " after " + offsets[i - 1]);
        }
        assertEquals(MetadataLayout.HISTORY_OFFSET + 4 * 8, MetadataLayout.APPLIED_SEQ_OFFSET);
        assertEquals(288, MetadataLayout.HEADER_LENGTH_V1);
        assertEquals(4092, MetadataLayout.CRC_OFFSET);
    }
}
