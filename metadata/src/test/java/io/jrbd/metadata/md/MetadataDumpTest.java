package io.jrbd.metadata.md;

import static io.jrbd.metadata.md.MdFixtures.MIB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetadataDumpTest {
    private static final int B = 4096;
    private static final long SIZE = 64 * MIB + 512;

    @TempDir
    Path dir;

    private Path prepare(int ranges) throws Exception {
        Path file = dir.resolve("r0.md");
        try (Metadata md = Metadata.create(file, SIZE, "r0", "alpha", false)) {
            md.writeSuperblock(MdFixtures.everyFieldSet(md.superblock()).withNodeName("alpha").withResourceName("r0"));
            for (int i = 0; i < ranges; i++) {
                md.bitmap().setRange((long) i * 10 * B, 2L * B);  // blocks 10i and 10i+1
            }
        }
        return file;
    }

    @Test
    void shouldShowEveryFieldByName() throws Exception {
        Path file = prepare(3);
        String text = Metadata.dump(file);
        assertTrue(text.startsWith("# jrbd metadata " + file + "\n"), text);
        for (String expected : new String[] {
            "format version:   1 (external)\n",
            "superblock:       slot A, write counter 3\n",
            "slot A:           valid, write counter 3\n",
            "slot B:           valid, write counter 2\n",
            "resource:         r0\n",
            "node:             alpha\n",
            "device size:      67109376 bytes (64.00 MiB)\n",
            "block size:       4096 bytes\n",
            "disk state:       UpToDate\n",
            "flags:            0x00000023 CONSISTENT,WAS_PRIMARY,BITMAP_VALID\n",
            "current gen:      8000000000000001\n",
            "bitmap gen:       0123456789ABCDEF\n",
            "history gens:     FFFFFFFFFFFFFFFF 0000000000000002 0000000000000003 7EADBEEF00000004\n",
            "applied seq:      123456789012\n",
            "last primary seq: 987654321\n",
            "bitmap:           16385 blocks, 6 set (24576 bytes out of sync)\n",
            "set ranges:       3 (offset+length)\n    0+8192\n    40960+8192\n    81920+8192\n",
        }) {
            assertTrue(text.contains(expected), "missing '" + expected.strip() + "' in:\n" + text);
        }
    }

    @Test
    void shouldListOnlyTheFirstTwentyRanges() throws Exception {
        Path file = prepare(25);
        String text = Metadata.dump(file);
        assertTrue(text.contains("set ranges:       25 (first 20 shown as offset+length)\n"), text);
        assertTrue(text.contains("    " + 19 * 10 * B + "+8192\n"), text);
        assertFalse(text.contains("    " + 20 * 10 * B + "+8192\n"), text);
    }

    @Test
    void shouldCutTheLastRangeAtTheEndOfTheDevice() throws Exception {
        Path file = prepare(0);
        try (Metadata md = Metadata.open(file, SIZE)) {
            md.bitmap().setRange(64 * MIB - B, B + 512);  // the last full block and the 512-byte one
            assertEquals(2, md.bitmap().cardinality());
            assertTrue(md.dump().contains("    " + (64 * MIB - B) + "+" + (B + 512) + "\n"), md.dump());
            assertEquals(B + 512, md.bitmap().dirtyBytes());
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void shouldGiveTheSameAsMapsAndListsForJson() throws Exception {
        Path file = prepare(2);
        MdFixtures.flip(file, MetadataLayout.SLOT_B_OFFSET + 300);
        Map<String, Object> json = Metadata.dumpJson(file);
        assertEquals(file.toString(), json.get("file"));
        assertEquals(1, json.get("formatVersion"));
        assertEquals("A", json.get("activeSlot"));
        assertEquals(3L, json.get("writeCounter"));
        Map<String, Object> slots = (Map<String, Object>) json.get("slots");
        assertEquals(Map.of("valid", true, "writeCounter", 3L), slots.get("A"));
        Map<String, Object> slotB = (Map<String, Object>) slots.get("B");
        assertEquals(false, slotB.get("valid"));
        assertTrue(((String) slotB.get("problem")).startsWith("checksum mismatch"));
        assertEquals("r0", json.get("resource"));
        assertEquals("alpha", json.get("node"));
        assertEquals(SIZE, json.get("deviceSize"));
        assertEquals("UpToDate", json.get("diskState"));
        assertEquals(List.of("CONSISTENT", "WAS_PRIMARY", "BITMAP_VALID"), json.get("flags"));
        Map<String, Object> gens = (Map<String, Object>) json.get("generations");
        assertEquals("8000000000000001", gens.get("current"));
        assertEquals(List.of("FFFFFFFFFFFFFFFF", "0000000000000002", "0000000000000003", "7EADBEEF00000004"),
                gens.get("history"));
        assertEquals(123_456_789_012L, json.get("appliedSeq"));
        Map<String, Object> layout = (Map<String, Object>) json.get("layout");
        assertEquals(MetadataLayout.of(SIZE).bitmapOffset(), layout.get("bitmapOffset"));
        Map<String, Object> bitmap = (Map<String, Object>) json.get("bitmap");
        assertEquals(4L, bitmap.get("setBlocks"));
        assertEquals(2L, bitmap.get("rangeCount"));
        assertEquals(List.of(Map.of("offset", 0L, "length", 8192L), Map.of("offset", 40960L, "length", 8192L)),
                bitmap.get("ranges"));
        assertEquals(List.copyOf(json.keySet()).subList(0, 3), List.of("file", "formatVersion", "placement"),
                "keys keep their order");
    }
}
