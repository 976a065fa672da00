package io.jrbd.metadata.md;

import static io.jrbd.metadata.md.MetadataLayout.AL_OFFSET;
import static io.jrbd.metadata.md.MetadataLayout.AL_OFFSET_FIELD;
import static io.jrbd.metadata.md.MetadataLayout.AL_SIZE;
import static io.jrbd.metadata.md.MetadataLayout.AL_SIZE_FIELD;
import static io.jrbd.metadata.md.MetadataLayout.APPLIED_SEQ_OFFSET;
import static io.jrbd.metadata.md.MetadataLayout.BITMAP_CRC_TABLE_OFFSET_FIELD;
import static io.jrbd.metadata.md.MetadataLayout.BITMAP_GEN_OFFSET;
import static io.jrbd.metadata.md.MetadataLayout.BITMAP_OFFSET_FIELD;
import static io.jrbd.metadata.md.MetadataLayout.BITMAP_PAGES_FIELD;
import static io.jrbd.metadata.md.MetadataLayout.BLOCK_SIZE_OFFSET;
import static io.jrbd.metadata.md.MetadataLayout.CRC_OFFSET;
import static io.jrbd.metadata.md.MetadataLayout.CURRENT_GEN_OFFSET;
import static io.jrbd.metadata.md.MetadataLayout.DEVICE_SIZE_OFFSET;
import static io.jrbd.metadata.md.MetadataLayout.DISK_STATE_OFFSET;
import static io.jrbd.metadata.md.MetadataLayout.FLAGS_OFFSET;
import static io.jrbd.metadata.md.MetadataLayout.FORMAT_VERSION;
import static io.jrbd.metadata.md.MetadataLayout.HEADER_LENGTH_OFFSET;
import static io.jrbd.metadata.md.MetadataLayout.HEADER_LENGTH_V1;
import static io.jrbd.metadata.md.MetadataLayout.HISTORY_COUNT;
import static io.jrbd.metadata.md.MetadataLayout.HISTORY_OFFSET;
import static io.jrbd.metadata.md.MetadataLayout.LAST_PRIMARY_SEQ_OFFSET;
import static io.jrbd.metadata.md.MetadataLayout.MAGIC;
import static io.jrbd.metadata.md.MetadataLayout.MAGIC_OFFSET;
import static io.jrbd.metadata.md.MetadataLayout.MAX_NAME_BYTES;
import static io.jrbd.metadata.md.MetadataLayout.NODE_NAME_LENGTH_OFFSET;
import static io.jrbd.metadata.md.MetadataLayout.NODE_NAME_OFFSET;
import static io.jrbd.metadata.md.MetadataLayout.PLACEMENT_EXTERNAL;
import static io.jrbd.metadata.md.MetadataLayout.PLACEMENT_INTERNAL;
import static io.jrbd.metadata.md.MetadataLayout.PLACEMENT_OFFSET;
import static io.jrbd.metadata.md.MetadataLayout.RESOURCE_NAME_LENGTH_OFFSET;
import static io.jrbd.metadata.md.MetadataLayout.RESOURCE_NAME_OFFSET;
import static io.jrbd.metadata.md.MetadataLayout.SLOT_SIZE;
import static io.jrbd.metadata.md.MetadataLayout.VERSION_OFFSET;
import static io.jrbd.metadata.md.MetadataLayout.WRITE_COUNTER_OFFSET;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/** Encodes and decodes one superblock slot as {@link MetadataLayout} draws it. */
final class SuperblockCodec {
    /**
     * A decoded slot: the superblock, its write counter and the placement it records, or why the
     * slot cannot be used.
     */
    record Slot(Superblock superblock, long counter, int placement, String problem) {
        boolean valid() {
            return superblock != null;
        }

        static Slot invalid(String problem) {
            return new Slot(null, -1, -1, problem);
        }
    }

    private SuperblockCodec() {
    }

    /** {@link #encode(Superblock, long, int)} for external metadata. */
    static ByteBuffer encode(Superblock sb, long counter) {
        return encode(sb, counter, PLACEMENT_EXTERNAL);
    }

    /** A 4 KiB big-endian heap buffer holding {@code sb} with {@code counter}, ready to write. */
    static ByteBuffer encode(Superblock sb, long counter, int placement) {
        // Offsets are recorded relative to the metadata's start: the external layout's are those.
        MetadataLayout layout = MetadataLayout.of(sb.deviceSize());
        if (placement != PLACEMENT_EXTERNAL && placement != PLACEMENT_INTERNAL) {
            throw new IllegalArgumentException("placement " + placement);
        }
        ByteBuffer b = ByteBuffer.allocate(SLOT_SIZE).order(ByteOrder.BIG_ENDIAN);
        b.putLong(MAGIC_OFFSET, MAGIC);
        b.putInt(VERSION_OFFSET, FORMAT_VERSION);
        b.putInt(HEADER_LENGTH_OFFSET, HEADER_LENGTH_V1);
        b.putLong(WRITE_COUNTER_OFFSET, counter);
        b.putLong(DEVICE_SIZE_OFFSET, sb.deviceSize());
        b.putInt(BLOCK_SIZE_OFFSET, sb.blockSize());
        b.put(PLACEMENT_OFFSET, (byte) placement);
        b.put(DISK_STATE_OFFSET, (byte) sb.diskState().code());
        b.putInt(FLAGS_OFFSET, sb.flags());
        b.putLong(CURRENT_GEN_OFFSET, sb.currentGen());
        b.putLong(BITMAP_GEN_OFFSET, sb.bitmapGen());
        for (int i = 0; i < HISTORY_COUNT; i++) {
            b.putLong(HISTORY_OFFSET + i * Long.BYTES, sb.historyGen(i));
        }
        b.putLong(APPLIED_SEQ_OFFSET, sb.appliedSeq());
        b.putLong(LAST_PRIMARY_SEQ_OFFSET, sb.lastPrimarySeq());
        b.putLong(AL_OFFSET_FIELD, AL_OFFSET);
        b.putInt(AL_SIZE_FIELD, AL_SIZE);
        b.putLong(BITMAP_CRC_TABLE_OFFSET_FIELD, layout.crcTableOffset());
        b.putLong(BITMAP_OFFSET_FIELD, layout.bitmapOffset());
        b.putInt(BITMAP_PAGES_FIELD, layout.bitmapPages());
        putName(b, NODE_NAME_LENGTH_OFFSET, NODE_NAME_OFFSET, sb.nodeName());
        putName(b, RESOURCE_NAME_LENGTH_OFFSET, RESOURCE_NAME_OFFSET, sb.resourceName());
        b.putInt(CRC_OFFSET, crc(b));
        return b;
    }

    private static void putName(ByteBuffer b, int lengthOffset, int offset, String name) {
        byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
        b.putShort(lengthOffset, (short) bytes.length);
        b.put(offset, bytes);
    }

    /** CRC32C of the slot's bytes before the CRC field. */
    static int crc(ByteBuffer slot) {
        CRC32C crc = new CRC32C();
        crc.update(slot.duplicate().position(0).limit(CRC_OFFSET));
        return (int) crc.getValue();
    }

    /**
     * Decodes a 4 KiB slot. Checks, in this order: all zeroes, magic, checksum, version, header
     * length, then every field; the first failure is the problem reported.
     */
    static Slot decode(ByteBuffer slot) {
        ByteBuffer b = slot.duplicate().order(ByteOrder.BIG_ENDIAN).position(0);
        if (b.limit() < SLOT_SIZE) {
            return Slot.invalid("truncated: " + b.limit() + " of " + SLOT_SIZE + " bytes");
        }
        if (allZero(b)) {
            return Slot.invalid("never written (all zeroes)");
        }
        long magic = b.getLong(MAGIC_OFFSET);
        if (magic != MAGIC) {
            return Slot.invalid("bad magic " + describeMagic(magic) + ", expected \"JRBDMD01\"");
        }
        int stored = b.getInt(CRC_OFFSET);
        int computed = crc(b);
        if (stored != computed) {
            return Slot.invalid(String.format("checksum mismatch (stored 0x%08X, computed 0x%08X)", stored, computed));
        }
        int version = b.getInt(VERSION_OFFSET);
        if (version != FORMAT_VERSION) {
            return Slot.invalid("unsupported version " + Integer.toUnsignedString(version) + " (this jrbd reads "
                    + FORMAT_VERSION + ")");
        }
        int headerLength = b.getInt(HEADER_LENGTH_OFFSET);
        if (headerLength < HEADER_LENGTH_V1 || headerLength > CRC_OFFSET) {
            return Slot.invalid("header length " + Integer.toUnsignedString(headerLength) + " outside ["
                    + HEADER_LENGTH_V1 + ", " + CRC_OFFSET + "]");
        }
        int placement = b.get(PLACEMENT_OFFSET) & 0xFF;
        if (placement != PLACEMENT_EXTERNAL && placement != PLACEMENT_INTERNAL) {
            return Slot.invalid("unsupported placement " + placement + " (external is " + PLACEMENT_EXTERNAL
                    + ", internal " + PLACEMENT_INTERNAL + ")");
        }
        int stateCode = b.get(DISK_STATE_OFFSET) & 0xFF;
        DiskState state = DiskState.fromCode(stateCode);
        if (state == null) {
            return Slot.invalid("unknown disk state code " + stateCode);
        }
        long deviceSize = b.getLong(DEVICE_SIZE_OFFSET);
        try {
            MetadataLayout layout = MetadataLayout.of(deviceSize);
            String layoutProblem = checkLayout(b, layout);
            if (layoutProblem != null) {
                return Slot.invalid(layoutProblem);
            }
            String node = getName(b, NODE_NAME_LENGTH_OFFSET, NODE_NAME_OFFSET, "node name");
            String resource = getName(b, RESOURCE_NAME_LENGTH_OFFSET, RESOURCE_NAME_OFFSET, "resource name");
            long[] history = new long[HISTORY_COUNT];
            for (int i = 0; i < HISTORY_COUNT; i++) {
                history[i] = b.getLong(HISTORY_OFFSET + i * Long.BYTES);
            }
            Superblock sb = new Superblock(deviceSize, b.getInt(BLOCK_SIZE_OFFSET), node, resource, state,
                    b.getInt(FLAGS_OFFSET), b.getLong(CURRENT_GEN_OFFSET), b.getLong(BITMAP_GEN_OFFSET), history,
                    b.getLong(APPLIED_SEQ_OFFSET), b.getLong(LAST_PRIMARY_SEQ_OFFSET));
            return new Slot(sb, b.getLong(WRITE_COUNTER_OFFSET), placement, null);
        } catch (IllegalArgumentException e) {
            return Slot.invalid(e.getMessage());
        }
    }

    private static String checkLayout(ByteBuffer b, MetadataLayout layout) {
        long alOffset = b.getLong(AL_OFFSET_FIELD);
        long alSize = Integer.toUnsignedLong(b.getInt(AL_SIZE_FIELD));
        long crcTable = b.getLong(BITMAP_CRC_TABLE_OFFSET_FIELD);
        long bitmap = b.getLong(BITMAP_OFFSET_FIELD);
        long pages = Integer.toUnsignedLong(b.getInt(BITMAP_PAGES_FIELD));
        if (alOffset != AL_OFFSET || alSize != AL_SIZE || crcTable != layout.crcTableOffset()
                || bitmap != layout.bitmapOffset() || pages != layout.bitmapPages()) {
            return "recorded layout (activity log @" + alOffset + " " + alSize + " bytes, bitmap CRC table @" + crcTable
                    + ", bitmap @" + bitmap + " " + pages + " pages) differs from the v1 layout of a "
                    + layout.deviceSize() + "-byte device (" + layout + ")";
        }
        return null;
    }

    private static String getName(ByteBuffer b, int lengthOffset, int offset, String what) {
        int length = b.getShort(lengthOffset) & 0xFFFF;
        if (length > MAX_NAME_BYTES) {
            throw new IllegalArgumentException(what + " length " + length + " > " + MAX_NAME_BYTES);
        }
        byte[] bytes = new byte[length];
        b.get(offset, bytes);
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(what + " is not valid UTF-8", e);
        }
    }

    private static boolean allZero(ByteBuffer b) {
        for (int i = 0; i < SLOT_SIZE; i += Long.BYTES) {
            if (b.getLong(i) != 0) {
                return false;
            }
        }
        return true;
    }

    /** The magic as text when it is printable, else as hex: what an operator can recognise. */
    private static String describeMagic(long magic) {
        StringBuilder text = new StringBuilder("\"");
        for (int shift = 56; shift >= 0; shift -= 8) {
            int c = (int) (magic >>> shift) & 0xFF;
            if (c < 0x20 || c > 0x7E) {
                return String.format("0x%016X", magic);
            }
            text.append((char) c);
        }
        return text.append('"').toString();
    }
}
