package io.jrbd.metadata.journal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;

/** Shared helpers: deterministic record contents derived from the sequence number. */
final class JournalFixtures {
    static final long MIB = 1L << 20;

    private JournalFixtures() {
    }

    /** A direct buffer of {@code length} bytes whose contents depend on {@code seq}. */
    static ByteBuf data(long seq, int length) {
        ByteBuf buf = Unpooled.directBuffer(length);
        fill(buf, seq, length);
        return buf;
    }

    static void fill(ByteBuf buf, long seq, int length) {
        // One bulk write: under the PARANOID leak detector every buffer call records a trace.
        byte[] bytes = new byte[length];
        long x = seq * 0x9E3779B97F4A7C15L + length;
        for (int i = 0; i < length; i++) {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            bytes[i] = (byte) x;
        }
        buf.writeBytes(bytes);
    }

    static long checksum(ByteBuf buf) {
        CRC32 crc = new CRC32();
        crc.update(buf.nioBuffer());
        return crc.getValue();
    }

    static long expectedChecksum(long seq, int length) {
        ByteBuf buf = data(seq, length);
        try {
            return checksum(buf);
        } finally {
            buf.release();
        }
    }

    /** The data length the tests use for record {@code seq} when they want varied sizes. */
    static int sizeOf(long seq) {
        long h = seq * 0xD6E8FEB86659FD93L;
        h ^= h >>> 29;
        return (int) Math.floorMod(h, 9000L); // 0 .. 8999: unaligned, some empty
    }

    /** Appends a WRITE of {@code length} bytes for {@code seq}; returns what tryAppend said. */
    static boolean tryWrite(Journal journal, long seq, int length) {
        ByteBuf buf = data(seq, length);
        try {
            return journal.tryAppend(seq, JournalLayout.TYPE_WRITE, 0, seq * 4096, length, buf);
        } finally {
            buf.release();
        }
    }

    static int write(Journal journal, long seq, int length) {
        ByteBuf buf = data(seq, length);
        try {
            return journal.append(seq, JournalLayout.TYPE_WRITE, 0, seq * 4096, length, buf);
        } finally {
            buf.release();
        }
    }

    /** A record read back: its fields and the checksum of its data. */
    record Read(long seq, int type, int flags, long offset, long opLength, int dataLength, long dataChecksum) {
    }

    /** Reads everything the reader has now. */
    static List<Read> drain(Reader reader) {
        List<Read> out = new ArrayList<>();
        RecordView view = new RecordView();
        ByteBuf dst = Unpooled.directBuffer(16 * 1024);
        try {
            while (reader.next(view)) {
                dst.clear();
                view.copyData(dst);
                assertEquals(view.dataLength(), dst.readableBytes(), "copyData writes dataLength bytes");
                out.add(new Read(view.seq(), view.type(), view.flags(), view.offset(), view.opLength(),
                        view.dataLength(), checksum(dst)));
            }
        } finally {
            dst.release();
        }
        return out;
    }

    /** Asserts that {@code records} are WRITEs seq first..last written by {@link #tryWrite}/{@link #write} with sizes from {@code size}. */
    static void assertWrites(List<Read> records, long first, long last, java.util.function.LongToIntFunction size) {
        assertEquals(last - first + 1, records.size(), "record count");
        for (int i = 0; i < records.size(); i++) {
            Read r = records.get(i);
            long seq = first + i;
            int length = size.applyAsInt(seq);
            assertEquals(seq, r.seq(), "seq at index " + i);
            assertEquals(JournalLayout.TYPE_WRITE, r.type());
            assertEquals(seq * 4096, r.offset(), "offset of " + seq);
            assertEquals(length, r.opLength(), "opLength of " + seq);
            assertEquals(length, r.dataLength(), "dataLength of " + seq);
            assertEquals(expectedChecksum(seq, length), r.dataChecksum(), "data of " + seq);
        }
    }
}
