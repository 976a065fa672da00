package io.jrbd.metadata.journal;

import static io.jrbd.metadata.journal.JournalFixtures.MIB;
import static io.jrbd.metadata.journal.JournalFixtures.assertWrites;
import static io.jrbd.metadata.journal.JournalFixtures.drain;
import static io.jrbd.metadata.journal.JournalFixtures.sizeOf;
import static io.jrbd.metadata.journal.JournalFixtures.tryWrite;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Reopening: clean, after simulated crashes (corrupt bytes), and with bad headers. */
class JournalRecoveryTest {
    private static final long CAPACITY = MIB;
    private static final int SIZE = 1000;
    private static final long RECORD = JournalLayout.recordLength(SIZE);

    @TempDir
    Path dir;

    private Path file() {
        return dir.resolve("journal");
    }

    /** A fresh journal holding WRITEs seq 0..count-1 of SIZE bytes, at ring offsets k * RECORD; closed. */
    private void writeRecords(int count) throws IOException {
        try (Journal journal = Journal.open(file(), CAPACITY)) {
            for (long seq = 0; seq < count; seq++) {
                assertTrue(tryWrite(journal, seq, SIZE));
            }
        }
    }

    private ByteBuffer readAt(long fileOffset, int length) throws IOException {
        try (FileChannel ch = FileChannel.open(file(), StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(b, fileOffset);
            return b.flip();
        }
    }

    private void writeAt(long fileOffset, ByteBuffer bytes) throws IOException {
        try (FileChannel ch = FileChannel.open(file(), StandardOpenOption.WRITE)) {
            ch.write(bytes, fileOffset);
        }
    }

    private void flipByte(long fileOffset) throws IOException {
        ByteBuffer b = readAt(fileOffset, 1);
        writeAt(fileOffset, ByteBuffer.wrap(new byte[] {(byte) ~b.get(0)}));
    }

    @Test
    void shouldRecoverTheSameContentAfterCloseAndReopen() throws IOException {
        long first;
        long last;
        long used;
        try (Journal journal = Journal.open(file(), CAPACITY)) {
            long seq = 0;
            // Wrap a few times with records retained, so that firstPosition is not 0 and content wraps.
            for (int lap = 0; lap < 5; lap++) {
                while (tryWrite(journal, seq, sizeOf(seq))) {
                    seq++;
                }
                journal.release(seq - 40);
            }
            while (tryWrite(journal, seq, sizeOf(seq))) {
                seq++;
            }
            first = journal.firstSeq();
            last = journal.lastSeq();
            used = journal.usedBytes();
        }
        try (Journal journal = Journal.open(file(), CAPACITY)) {
            assertNull(journal.discardedReason());
            assertEquals(first, journal.firstSeq());
            assertEquals(last, journal.lastSeq());
            assertEquals(used, journal.usedBytes());
            assertEquals(last - first + 1, journal.recoveredRecords());
            assertWrites(drain(journal.reader(first)), first, last, JournalFixtures::sizeOf);

            journal.release(last - 3);
            assertTrue(tryWrite(journal, last + 1, 100), "appends go on after recovery");
        }
        try (Journal journal = Journal.open(file(), CAPACITY)) {
            assertEquals(last - 2, journal.firstSeq(), "release is persisted in the header");
            assertEquals(last + 1, journal.lastSeq());
            assertEquals(4, journal.recoveredRecords());
        }
    }

    @Test
    void shouldRecoverAnEmptyJournalAtItsNextSeq() throws IOException {
        try (Journal journal = Journal.open(file(), CAPACITY)) {
            assertTrue(tryWrite(journal, 41, 10));
            journal.release(41);
        }
        try (Journal journal = Journal.open(file(), CAPACITY)) {
            assertTrue(journal.isEmpty());
            assertEquals(42, journal.firstSeq());
            assertEquals(41, journal.lastSeq());
            assertNull(journal.discardedReason());
        }
    }

    @Test
    void shouldKeepOnlyThePrefixBeforeACorruptRecord() throws IOException {
        writeRecords(10);
        flipByte(JournalLayout.fileOffset(5 * RECORD) + JournalLayout.RECORD_HEADER_LENGTH + 333);

        try (Journal journal = Journal.open(file(), CAPACITY)) {
            assertNull(journal.discardedReason(), "the header is fine");
            assertEquals(0, journal.firstSeq());
            assertEquals(4, journal.lastSeq());
            assertEquals(5, journal.recoveredRecords());
            assertEquals(5 * RECORD, journal.usedBytes());
            assertWrites(drain(journal.reader(0)), 0, 4, s -> SIZE);
            assertTrue(tryWrite(journal, 5, SIZE), "the next append overwrites the corrupt record");
        }
    }

    @Test
    void shouldKeepOnlyThePrefixBeforeACorruptRecordHeader() throws IOException {
        writeRecords(10);
        flipByte(JournalLayout.fileOffset(7 * RECORD) + JournalLayout.OFFSET_OFFSET);

        try (Journal journal = Journal.open(file(), CAPACITY)) {
            assertEquals(6, journal.lastSeq());
            assertWrites(drain(journal.reader(0)), 0, 6, s -> SIZE);
        }
    }

    @Test
    void shouldStopRecoveryAtASeqDiscontinuity() throws IOException {
        writeRecords(10);
        // Make record 6 a whole, correctly checksummed record with seq 60.
        int salt = readAt(JournalLayout.SALT_OFFSET, 4).getInt(0);
        long base = JournalLayout.fileOffset(6 * RECORD);
        ByteBuffer record = readAt(base, (int) RECORD);
        record.putLong(JournalLayout.SEQ_OFFSET, 60);
        CRC32C crc = new CRC32C();
        crc.update(record.duplicate().position(JournalLayout.CHECKSUM_FROM).limit(JournalLayout.RECORD_HEADER_LENGTH + SIZE));
        record.putInt(JournalLayout.CRC_OFFSET, JournalLayout.storedCrc(crc.getValue(), salt));
        writeAt(base, record);

        try (Journal journal = Journal.open(file(), CAPACITY)) {
            assertNull(journal.discardedReason());
            assertEquals(0, journal.firstSeq());
            assertEquals(5, journal.lastSeq());
            assertWrites(drain(journal.reader(0)), 0, 5, s -> SIZE);
        }
    }

    @Test
    void shouldDiscardEverythingWhenTheHeaderIsGarbage() throws IOException {
        writeRecords(10);
        writeAt(0, ByteBuffer.wrap("this is not a journal header at all".getBytes()));

        try (Journal journal = Journal.open(file(), CAPACITY)) {
            assertTrue(journal.isEmpty());
            assertEquals(0, journal.recoveredRecords());
            assertTrue(journal.discardedReason().contains("magic"), journal.discardedReason());
            assertTrue(tryWrite(journal, 100, SIZE), "usable after discarding");
        }
        try (Journal journal = Journal.open(file(), CAPACITY)) {
            assertNull(journal.discardedReason(), "the header was rewritten");
            assertEquals(100, journal.firstSeq());
            assertEquals(100, journal.lastSeq());
        }
    }

    @Test
    void shouldNotReviveRecordsOfADiscardedJournal() throws IOException {
        writeRecords(10); // seq 0..9 at ring offset 0..
        flipByte(JournalLayout.MAGIC_OFFSET);
        try (Journal journal = Journal.open(file(), CAPACITY)) {
            assertTrue(journal.isEmpty());
            assertEquals(0, journal.firstSeq(), "a fresh header says firstSeq 0 at ring offset 0, like the old one");
        }
        try (Journal journal = Journal.open(file(), CAPACITY)) {
            assertNull(journal.discardedReason());
            assertEquals(0, journal.recoveredRecords(), "the old records carry the old salt and stay dead");
            assertTrue(journal.isEmpty());
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {JournalLayout.FIRST_SEQ_OFFSET, JournalLayout.FIRST_POSITION_OFFSET, JournalLayout.HEADER_CRC_OFFSET})
    void shouldDiscardEverythingWhenTheHeaderChecksumFails(int offset) throws IOException {
        writeRecords(10);
        flipByte(offset + 1);

        try (Journal journal = Journal.open(file(), CAPACITY)) {
            assertTrue(journal.isEmpty());
            assertEquals(0, journal.recoveredRecords());
            assertTrue(journal.discardedReason().contains("checksum"), journal.discardedReason());
        }
    }

    @Test
    void shouldDiscardEverythingWhenTheFileIsTruncated() throws IOException {
        writeRecords(10);
        try (FileChannel ch = FileChannel.open(file(), StandardOpenOption.WRITE)) {
            ch.truncate(20);
        }
        try (Journal journal = Journal.open(file(), CAPACITY)) {
            assertTrue(journal.isEmpty());
            assertTrue(journal.discardedReason().contains("20 bytes"), journal.discardedReason());
            assertEquals(JournalLayout.HEADER_LENGTH + CAPACITY, Files.size(file()), "resized");
            assertTrue(tryWrite(journal, 1, SIZE));
        }
    }

    @Test
    void shouldDiscardEverythingWhenTheCapacityChanged() throws IOException {
        writeRecords(10);
        try (Journal journal = Journal.open(file(), 2 * CAPACITY)) {
            assertTrue(journal.isEmpty());
            assertEquals(2 * CAPACITY, journal.capacity());
            assertTrue(journal.discardedReason().contains("capacity changed from " + CAPACITY + " to " + 2 * CAPACITY),
                    journal.discardedReason());
        }
    }

    @Test
    void shouldRecoverAFullRing() throws IOException {
        long last;
        try (Journal journal = Journal.open(file(), CAPACITY)) {
            long seq = 0;
            while (tryWrite(journal, seq, 4096 - JournalLayout.RECORD_HEADER_LENGTH)) {
                seq++;
            }
            assertEquals(CAPACITY, journal.usedBytes(), "4 KiB records fill the ring exactly");
            last = journal.lastSeq();
        }
        try (Journal journal = Journal.open(file(), CAPACITY)) {
            assertEquals(0, journal.firstSeq());
            assertEquals(last, journal.lastSeq());
            assertEquals(CAPACITY, journal.usedBytes());
        }
    }

    @ParameterizedTest
    @ValueSource(longs = {0, 4096, MIB - 4096, MIB + 1, MIB + 2048, -MIB})
    void shouldRejectABadCapacity(long capacity) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Journal.open(file(), capacity));
        assertTrue(e.getMessage().contains(String.valueOf(capacity)), e.getMessage());
        assertTrue(Files.notExists(file()), "nothing created");
    }

    @Test
    void shouldRefuseToOpenAJournalTwice() throws IOException {
        try (Journal journal = Journal.open(file(), CAPACITY)) {
            IOException e = assertThrows(IOException.class, () -> Journal.open(file(), CAPACITY));
            assertTrue(e.getMessage().contains("already open"), e.getMessage());
            assertTrue(tryWrite(journal, 1, 10), "the first one is unaffected");
        }
        try (Journal journal = Journal.open(file(), CAPACITY)) {
            assertEquals(1, journal.lastSeq(), "and can be opened again once closed");
        }
    }
}
