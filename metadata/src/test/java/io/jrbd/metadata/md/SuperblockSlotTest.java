package io.jrbd.metadata.md;

import static io.jrbd.metadata.md.MdFixtures.MIB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SuperblockSlotTest {
    private static final long SIZE = 16 * MIB;

    @TempDir
    Path dir;

    private Path file;

    @BeforeEach
    void createMetadata() throws Exception {
        file = dir.resolve("r0.md");
        Metadata.create(file, SIZE, "r0", "alpha", false).close();
    }

    @Test
    void shouldAlternateSlotsOverwritingTheLowerCounter() throws Exception {
        try (Metadata md = Metadata.open(file, SIZE)) {
            assertEquals('B', md.activeSlot());
            for (int i = 1; i <= 5; i++) {
                long aBefore = MdFixtures.rawCounter(file, 0);
                long bBefore = MdFixtures.rawCounter(file, 1);
                md.writeSuperblock(md.superblock().withCurrentGen(i));
                long expected = 2 + i;
                assertEquals(expected, md.writeCounter());
                char slot = md.activeSlot();
                assertEquals(i % 2 == 1 ? 'A' : 'B', slot);
                int index = slot - 'A';
                assertEquals(expected, MdFixtures.rawCounter(file, index), "written where the counter was lower");
                assertEquals(Math.min(aBefore, bBefore), index == 0 ? aBefore : bBefore);
                assertEquals(expected - 1, MdFixtures.rawCounter(file, 1 - index), "the other slot is untouched");
                assertEquals(i, MdFixtures.rawSlot(file, index).superblock().currentGen());
            }
            assertEquals(5, md.superblockWrites());
        }
        try (Metadata md = Metadata.open(file, SIZE)) {
            assertEquals(7, md.writeCounter());
            assertEquals(5, md.superblock().currentGen());
        }
    }

    @Test
    void shouldUseSlotBWhenSlotAIsCorrupt() throws Exception {
        try (Metadata md = Metadata.open(file, SIZE)) {
            md.writeSuperblock(md.superblock().withCurrentGen(0xA));  // slot A, counter 3
        }
        MdFixtures.flip(file, MetadataLayout.SLOT_A_OFFSET + MetadataLayout.CURRENT_GEN_OFFSET);
        try (Metadata md = Metadata.open(file, SIZE)) {
            assertEquals('B', md.activeSlot());
            assertEquals(2, md.writeCounter());
            assertEquals(0, md.superblock().currentGen(), "the previous superblock");
            assertTrue(md.slotProblem('A').startsWith("checksum mismatch"), md.slotProblem('A'));
            assertNull(md.slotProblem('B'));
            assertTrue(md.dump().contains("slot A:           unusable: checksum mismatch"), md.dump());
        }
    }

    @Test
    void shouldUseSlotAWhenSlotBIsCorrupt() throws Exception {
        try (Metadata md = Metadata.open(file, SIZE)) {
            md.writeSuperblock(md.superblock().withCurrentGen(0xA));  // slot A, counter 3
            md.writeSuperblock(md.superblock().withCurrentGen(0xB));  // slot B, counter 4
        }
        MdFixtures.flip(file, MetadataLayout.SLOT_B_OFFSET + 4000);  // padding: covered by the checksum too
        try (Metadata md = Metadata.open(file, SIZE)) {
            assertEquals('A', md.activeSlot());
            assertEquals(3, md.writeCounter());
            assertEquals(0xA, md.superblock().currentGen());
            assertTrue(md.slotProblem('B').startsWith("checksum mismatch"), md.slotProblem('B'));
            assertEquals(3, md.slotCounter('A'));
            assertEquals(-1, md.slotCounter('B'));
        }
    }

    @Test
    void shouldNameBothSlotsWhenBothAreCorrupt() throws Exception {
        MdFixtures.flip(file, MetadataLayout.SLOT_A_OFFSET + 50);
        MdFixtures.flip(file, MetadataLayout.SLOT_B_OFFSET + MetadataLayout.MAGIC_OFFSET + 1);
        MetadataException e = assertThrows(MetadataException.class, () -> Metadata.open(file, SIZE));
        assertTrue(e.getMessage().matches(".*: superblock: both copies are corrupt \\(slot A: checksum mismatch"
                + " \\(stored 0x[0-9A-F]{8}, computed 0x[0-9A-F]{8}\\), slot B: bad magic 0x4AAD42444D443031,"
                + " expected \"JRBDMD01\"\\)"), e.getMessage());
        assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
    }

    @Test
    void shouldKeepThePreviousSuperblockAfterATornWrite() throws Exception {
        Superblock previous;
        try (Metadata md = Metadata.open(file, SIZE)) {
            md.writeSuperblock(md.superblock().withCurrentGen(0x1111));  // A, 3
            md.writeSuperblock(md.superblock().withCurrentGen(0x2222));  // B, 4
            previous = md.superblock();
        }
        // The next write would go to slot A with counter 5; only its first sector reaches the disk.
        ByteBuffer next = SuperblockCodec.encode(previous.withCurrentGen(0x3333).withDiskState(DiskState.UP_TO_DATE), 5);
        MdFixtures.write(file, MetadataLayout.SLOT_A_OFFSET, Arrays.copyOf(next.array(), 512));
        assertEquals(-1, MdFixtures.rawCounter(file, 0), "slot A is torn");
        try (Metadata md = Metadata.open(file, SIZE)) {
            assertEquals(previous, md.superblock());
            assertEquals('B', md.activeSlot());
            assertEquals(4, md.writeCounter());
            // The next write goes over the torn slot and both are valid again.
            md.writeSuperblock(md.superblock().withCurrentGen(0x4444));
            assertEquals('A', md.activeSlot());
            assertNull(md.slotProblem('A'));
            assertNull(md.slotProblem('B'));
        }
        assertEquals(5, MdFixtures.rawCounter(file, 0));
        assertEquals(4, MdFixtures.rawCounter(file, 1));
        try (Metadata md = Metadata.open(file, SIZE)) {
            assertEquals(0x4444, md.superblock().currentGen());
        }
    }

    @Test
    void shouldIgnoreATornWriteOfTheSecondHalfOfASlot() throws Exception {
        Superblock previous;
        try (Metadata md = Metadata.open(file, SIZE)) {
            previous = md.superblock();
        }
        // Slot A (counter 1) is next; its last half, holding the new checksum, lands but not its start.
        ByteBuffer next = SuperblockCodec.encode(previous.withCurrentGen(0x5555), 3);
        MdFixtures.write(file, MetadataLayout.SLOT_A_OFFSET + 2048, Arrays.copyOfRange(next.array(), 2048, 4096));
        try (Metadata md = Metadata.open(file, SIZE)) {
            assertEquals(previous, md.superblock());
            assertEquals('B', md.activeSlot());
        }
    }

    @Test
    void shouldRefuseToChangeTheDeviceSizeThroughTheSuperblock() throws Exception {
        try (Metadata md = Metadata.open(file, SIZE)) {
            Superblock bigger = new Superblock(2 * SIZE, 4096, "alpha", "r0", DiskState.INCONSISTENT, 0, 0, 0,
                    new long[4], 0, 0);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> md.writeSuperblock(bigger));
            assertTrue(e.getMessage().contains("device size " + 2 * SIZE + " != " + SIZE), e.getMessage());
            assertEquals(2, md.writeCounter(), "nothing written");
        }
    }

    @Test
    void shouldRefuseWritesAfterClose() throws Exception {
        Metadata md = Metadata.open(file, SIZE);
        md.close();
        md.close();
        assertThrows(IllegalStateException.class, () -> md.writeSuperblock(md.superblock()));
    }
}
