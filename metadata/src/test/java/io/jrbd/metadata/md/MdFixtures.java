package io.jrbd.metadata.md;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** What the metadata tests share: raw reads and writes that go around {@link Metadata}. */
final class MdFixtures {
    static final long KIB = 1024;
    static final long MIB = 1024 * KIB;
    static final long GIB = 1024 * MIB;
    static final long TIB = 1024 * GIB;

    private MdFixtures() {
    }

    static byte[] read(Path file, long offset, int length) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer dst = ByteBuffer.allocate(length);
            while (dst.hasRemaining()) {
                if (ch.read(dst, offset + dst.position()) < 0) {
                    break;
                }
            }
            return dst.array();
        }
    }

    static void write(Path file, long offset, byte[] bytes) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            Metadata.writeFully(ch, ByteBuffer.wrap(bytes), offset);
        }
    }

    /** Inverts one byte, as a bit rot or a stray write would. */
    static void flip(Path file, long offset) throws IOException {
        byte[] b = read(file, offset, 1);
        b[0] = (byte) ~b[0];
        write(file, offset, b);
    }

    /** The write counter stored in a slot, read raw: -1 unless the slot decodes. */
    static long rawCounter(Path file, int slot) throws IOException {
        SuperblockCodec.Slot s = rawSlot(file, slot);
        return s.valid() ? s.counter() : -1;
    }

    static SuperblockCodec.Slot rawSlot(Path file, int slot) throws IOException {
        byte[] bytes = read(file, MetadataLayout.slotOffset(slot), MetadataLayout.SLOT_SIZE);
        return SuperblockCodec.decode(ByteBuffer.wrap(bytes));
    }

    /** A superblock with every field away from its default, so a field lost in a round trip shows. */
    static Superblock everyFieldSet(Superblock sb) {
        return sb.withDiskState(DiskState.UP_TO_DATE)
                .with(SuperblockFlag.CONSISTENT)
                .with(SuperblockFlag.WAS_PRIMARY)
                .with(SuperblockFlag.BITMAP_VALID)
                .withGenerations(0x8000_0000_0000_0001L, 0x0123_4567_89AB_CDEFL,
                        0xFFFF_FFFF_FFFF_FFFFL, 2, 3, 0x7EAD_BEEF_0000_0004L)
                .withAppliedSeq(123_456_789_012L)
                .withLastPrimarySeq(987_654_321L)
                .withNodeName("nöde-β")
                .withResourceName("r0-data");
    }
}
