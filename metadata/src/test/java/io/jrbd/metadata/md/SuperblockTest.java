package io.jrbd.metadata.md;

import static io.jrbd.metadata.md.MdFixtures.MIB;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class SuperblockTest {
    private final Superblock initial = Superblock.initial(MIB, "r0", "alpha");

    @Test
    void shouldStartInconsistentWithGenerationZeroAndOnlyAValidBitmap() {
        assertEquals(DiskState.INCONSISTENT, initial.diskState());
        assertEquals(0, initial.currentGen());
        assertEquals(0, initial.bitmapGen());
        assertArrayEquals(new long[4], initial.historyGens());
        assertEquals(SuperblockFlag.BITMAP_VALID.mask(), initial.flags());
        assertEquals(4096, initial.blockSize());
    }

    @Test
    void shouldChangeOnlyTheNamedFieldInEachCopy() {
        Superblock sb = initial.withCurrentGen(7);
        assertEquals(7, sb.currentGen());
        assertEquals(initial.withCurrentGen(0), initial);
        assertEquals(initial, sb.withCurrentGen(0));
        assertEquals(initial, initial.withBitmapGen(9).withBitmapGen(0));
        assertEquals(5, initial.withAppliedSeq(5).appliedSeq());
        assertEquals(6, initial.withLastPrimarySeq(6).lastPrimarySeq());
        assertEquals(DiskState.OUTDATED, initial.withDiskState(DiskState.OUTDATED).diskState());
        assertEquals("beta", initial.withNodeName("beta").nodeName());
        assertEquals("r1", initial.withResourceName("r1").resourceName());
        assertEquals(0, initial.currentGen(), "the original is unchanged");
        Superblock gens = initial.withGenerations(1, 2, 3, 4, 5, 6);
        assertEquals(1, gens.currentGen());
        assertEquals(2, gens.bitmapGen());
        assertArrayEquals(new long[] {3, 4, 5, 6}, gens.historyGens());
    }

    @Test
    void shouldSetAndClearFlagsOneAtATime() {
        Superblock sb = initial.withFlags(0).with(SuperblockFlag.CONSISTENT).with(SuperblockFlag.CRASHED_PRIMARY);
        assertTrue(sb.has(SuperblockFlag.CONSISTENT));
        assertTrue(sb.has(SuperblockFlag.CRASHED_PRIMARY));
        assertFalse(sb.has(SuperblockFlag.WAS_PRIMARY));
        assertEquals(0b101, sb.flags());
        Superblock cleared = sb.without(SuperblockFlag.CRASHED_PRIMARY);
        assertEquals(0b1, cleared.flags());
        assertEquals(sb, cleared.withFlag(SuperblockFlag.CRASHED_PRIMARY, true));
        assertEquals(List.of("CONSISTENT", "CRASHED_PRIMARY"), SuperblockFlag.names(sb.flags()));
    }

    @Test
    void shouldUseTheDocumentedFlagBits() {
        assertEquals(1, SuperblockFlag.CONSISTENT.mask());
        assertEquals(2, SuperblockFlag.WAS_PRIMARY.mask());
        assertEquals(4, SuperblockFlag.CRASHED_PRIMARY.mask());
        assertEquals(8, SuperblockFlag.PEER_OUTDATED.mask());
        assertEquals(16, SuperblockFlag.FULL_SYNC_NEEDED.mask());
        assertEquals(32, SuperblockFlag.BITMAP_VALID.mask());
        assertEquals(List.of("BITMAP_VALID", "bit7"), SuperblockFlag.names(0x80 | 0x20));
    }

    @Test
    void shouldNeverShareItsHistoryArray() {
        long[] history = {1, 2, 3, 4};
        Superblock sb = initial.withHistoryGens(history);
        history[0] = 99;
        assertEquals(1, sb.historyGen(0), "a copy was taken on the way in");
        sb.historyGens()[1] = 99;
        assertEquals(2, sb.historyGen(1), "a copy is handed out");
        assertEquals(sb, initial.withHistoryGens(1, 2, 3, 4), "equal by content");
        assertEquals(sb.hashCode(), initial.withHistoryGens(1, 2, 3, 4).hashCode());
        assertNotEquals(sb, initial.withHistoryGens(1, 2, 3, 5));
    }

    @Test
    void shouldRejectNamesThatDoNotFitAndOtherBadFields() {
        String tooLong = "x".repeat(65);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> initial.withNodeName(tooLong));
        assertTrue(e.getMessage().contains("node name") && e.getMessage().contains("65 bytes"), e.getMessage());
        assertEquals(64, initial.withNodeName("x".repeat(64)).nodeName().length());
        // 33 two-byte characters are 66 bytes: the limit is bytes, not characters.
        assertThrows(IllegalArgumentException.class, () -> initial.withResourceName("é".repeat(33)));
        assertThrows(IllegalArgumentException.class, () -> initial.withResourceName(""));
        assertThrows(IllegalArgumentException.class, () -> initial.withResourceName("r\n0"));
        assertThrows(IllegalArgumentException.class, () -> initial.withHistoryGens(1, 2, 3));
        e = assertThrows(IllegalArgumentException.class, () -> new Superblock(MIB, 512, "a", "r", DiskState.DISKLESS, 0,
                0, 0, new long[4], 0, 0));
        assertTrue(e.getMessage().contains("block size 512"), e.getMessage());
    }

    @ParameterizedTest
    @EnumSource(DiskState.class)
    void shouldKeepDiskStateCodesAndDrbdSpellings(DiskState state) {
        assertEquals(state, DiskState.fromCode(state.code()));
        assertEquals(state, DiskState.parse(state.drbdName().toLowerCase()));
        assertEquals(state.drbdName(), state.toString());
    }

    @Test
    void shouldSpellDiskStatesAsDrbdDoes() {
        assertEquals("UpToDate", DiskState.UP_TO_DATE.drbdName());
        assertEquals(5, DiskState.UP_TO_DATE.code());
        assertEquals("Diskless", DiskState.DISKLESS.drbdName());
        assertEquals(0, DiskState.DISKLESS.code());
        assertNull(DiskState.fromCode(6));
        assertThrows(IllegalArgumentException.class, () -> DiskState.parse("Up-To-Date"));
    }

    @Test
    void shouldEncodeAndDecodeEveryFieldAndTheCounter() {
        Superblock sb = MdFixtures.everyFieldSet(initial);
        ByteBuffer slot = SuperblockCodec.encode(sb, 42);
        assertEquals(MetadataLayout.SLOT_SIZE, slot.remaining());
        assertEquals(MetadataLayout.MAGIC, slot.getLong(0));
        assertEquals("JRBDMD01", new String(slot.array(), 0, 8, java.nio.charset.StandardCharsets.US_ASCII));
        assertEquals(1, slot.getInt(MetadataLayout.VERSION_OFFSET));
        SuperblockCodec.Slot decoded = SuperblockCodec.decode(slot);
        assertNull(decoded.problem());
        assertEquals(sb, decoded.superblock());
        assertEquals(42, decoded.counter());
        assertEquals(MetadataLayout.PLACEMENT_EXTERNAL, decoded.placement());
    }

    @Test
    void shouldRecordThePlacementAndTheSameRelativeOffsetsForInternalMetadata() {
        ByteBuffer external = SuperblockCodec.encode(initial, 7);
        ByteBuffer internal = SuperblockCodec.encode(initial, 7, MetadataLayout.PLACEMENT_INTERNAL);
        assertEquals(1, internal.get(MetadataLayout.PLACEMENT_OFFSET));
        assertEquals(MetadataLayout.PLACEMENT_INTERNAL, SuperblockCodec.decode(internal).placement());
        assertEquals(initial, SuperblockCodec.decode(internal).superblock());
        for (int field : new int[] {MetadataLayout.AL_OFFSET_FIELD, MetadataLayout.BITMAP_CRC_TABLE_OFFSET_FIELD,
                MetadataLayout.BITMAP_OFFSET_FIELD}) {
            assertEquals(external.getLong(field), internal.getLong(field), "relative to the metadata's start");
        }
    }

    @Test
    void shouldNameWhatIsWrongWithASlot() {
        assertEquals("never written (all zeroes)", SuperblockCodec.decode(ByteBuffer.allocate(4096)).problem());

        ByteBuffer slot = SuperblockCodec.encode(initial, 1);
        slot.put(0, (byte) 'X');
        assertEquals("bad magic \"XRBDMD01\", expected \"JRBDMD01\"", SuperblockCodec.decode(slot).problem());

        slot = SuperblockCodec.encode(initial, 1);
        slot.put(2000, (byte) 1);
        assertTrue(SuperblockCodec.decode(slot).problem().startsWith("checksum mismatch (stored 0x"));

        slot = SuperblockCodec.encode(initial, 1);
        slot.putInt(MetadataLayout.VERSION_OFFSET, 2);
        slot.putInt(MetadataLayout.CRC_OFFSET, SuperblockCodec.crc(slot));
        assertEquals("unsupported version 2 (this jrbd reads 1)", SuperblockCodec.decode(slot).problem());

        slot = SuperblockCodec.encode(initial, 1);
        slot.put(MetadataLayout.DISK_STATE_OFFSET, (byte) 9);
        slot.putInt(MetadataLayout.CRC_OFFSET, SuperblockCodec.crc(slot));
        assertEquals("unknown disk state code 9", SuperblockCodec.decode(slot).problem());

        slot = SuperblockCodec.encode(initial, 1);
        slot.putLong(MetadataLayout.BITMAP_OFFSET_FIELD, 12345);
        slot.putInt(MetadataLayout.CRC_OFFSET, SuperblockCodec.crc(slot));
        assertTrue(SuperblockCodec.decode(slot).problem().startsWith("recorded layout"),
                SuperblockCodec.decode(slot).problem());

        slot = SuperblockCodec.encode(initial, 1);
        slot.putShort(MetadataLayout.NODE_NAME_LENGTH_OFFSET, (short) 65);
        slot.putInt(MetadataLayout.CRC_OFFSET, SuperblockCodec.crc(slot));
        assertEquals("node name length 65 > 64", SuperblockCodec.decode(slot).problem());

        slot = SuperblockCodec.encode(initial, 1);
        slot.put(MetadataLayout.PLACEMENT_OFFSET, (byte) 2);
        slot.putInt(MetadataLayout.CRC_OFFSET, SuperblockCodec.crc(slot));
        assertEquals("unsupported placement 2 (external is 0, internal 1)", SuperblockCodec.decode(slot).problem());

        slot = SuperblockCodec.encode(initial, 1);
        slot.putLong(0, 0x0102030405060708L);
        assertEquals("bad magic 0x0102030405060708, expected \"JRBDMD01\"", SuperblockCodec.decode(slot).problem());
    }
}
