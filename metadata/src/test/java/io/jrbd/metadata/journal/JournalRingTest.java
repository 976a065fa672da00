package io.jrbd.metadata.journal;

import static io.jrbd.metadata.journal.JournalFixtures.MIB;
import static io.jrbd.metadata.journal.JournalFixtures.assertWrites;
import static io.jrbd.metadata.journal.JournalFixtures.drain;
import static io.jrbd.metadata.journal.JournalFixtures.sizeOf;
import static io.jrbd.metadata.journal.JournalFixtures.tryWrite;
import static io.jrbd.metadata.journal.JournalFixtures.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Space management: wrapping with padding, backpressure, release, dropping. */
class JournalRingTest {
    private static final long CAPACITY = MIB;

    @TempDir
    Path dir;
    private Journal journal;

    @BeforeEach
    void open() throws Exception {
        journal = Journal.open(dir.resolve("journal"), CAPACITY);
    }

    @AfterEach
    void close() {
        journal.close();
    }

    @Test
    void shouldWrapWithPaddingOverSeveralLaps() {
        // A fresh journal is empty at firstSeq 0; starting there means no restart.
        Reader reader = journal.reader(journal.firstSeq());
        long seq = journal.firstSeq();
        long appended = 0;
        long paddingSeen = 0;
        long read = 0;
        // Append until refused, read everything, release all but the last few; again, for 8 laps.
        while (appended < 8 * CAPACITY) {
            long before = journal.usedBytes();
            while (tryWrite(journal, seq, sizeOf(seq))) {
                long length = JournalLayout.recordLength(sizeOf(seq));
                long grew = journal.usedBytes() - before;
                if (grew > length) {
                    paddingSeen++;
                    assertTrue(grew - length >= JournalLayout.MIN_PADDING_LENGTH, "padding is at least 8 bytes");
                }
                before = journal.usedBytes();
                appended += length;
                seq++;
            }
            assertTrue(journal.usedBytes() > CAPACITY - JournalLayout.recordLength(9000) - 9000,
                    "refused only when nearly full: " + journal.usedBytes());
            long from = reader.nextSeq();
            List<JournalFixtures.Read> records = drain(reader);
            assertWrites(records, from, seq - 1, JournalFixtures::sizeOf);
            read += records.size();
            // Keep the newest 20 records, so that the next lap wraps behind retained records.
            journal.release(seq - 21);
            assertEquals(seq - 20, journal.firstSeq());
            assertEquals(seq - 1, journal.lastSeq());
        }
        assertWrites(drain(journal.reader(seq - 20)), seq - 20, seq - 1, JournalFixtures::sizeOf);
        assertEquals(seq, read, "every record read once");
        assertTrue(paddingSeen >= 7, "wrapped with padding on every lap: " + paddingSeen);
    }

    @Test
    void shouldKeepAppendingWhileReleasingBehind() {
        // A sliding window: the reader (and release) trail the writer by ~700 KiB, across many laps.
        Reader reader = journal.reader(journal.firstSeq());
        long next = journal.firstSeq();
        for (int round = 0; round < 2000; round++) {
            while (journal.usedBytes() < 700 * 1024) {
                assertTrue(tryWrite(journal, next, sizeOf(next)), "room for " + next);
                next++;
            }
            RecordView view = new RecordView();
            ByteBuf dst = Unpooled.directBuffer(9000);
            try {
                for (int i = 0; i < 5 && reader.next(view); i++) {
                    dst.clear();
                    view.copyData(dst);
                    assertEquals(JournalFixtures.expectedChecksum(view.seq(), sizeOf(view.seq())), JournalFixtures.checksum(dst));
                }
            } finally {
                dst.release();
            }
            journal.release(reader.nextSeq() - 1);
            assertEquals(reader.nextSeq(), journal.firstSeq());
        }
        assertTrue(next > 2000 * 5, "made progress: " + next);
    }

    @Test
    void shouldKeepACaughtUpReaderGoingWhenAnEmptyJournalWrapsAndRefills() {
        // The padding written when an empty journal wraps is not retained, so the writer may
        // overwrite it before a reader that was caught up gets there: the reader must follow head.
        long seq = journal.firstSeq();
        Reader reader = journal.reader(seq);
        for (int round = 0; round < 6; round++) {
            while (tryWrite(journal, seq, sizeOf(seq))) {
                seq++;
            }
            long from = reader.nextSeq();
            assertWrites(drain(reader), from, seq - 1, JournalFixtures::sizeOf);
            journal.release(seq - 1);
            assertTrue(journal.isEmpty());
        }
    }

    @Test
    void shouldRefuseAppendWhenFullAndAcceptAfterRelease() {
        long seq = 1;
        while (tryWrite(journal, seq, 4096)) {
            seq++;
        }
        long full = seq;
        long used = journal.usedBytes();
        long last = journal.lastSeq();
        assertEquals(full - 1, last);
        assertFalse(tryWrite(journal, full, 4096), "still full");
        assertEquals(used, journal.usedBytes(), "a refused append changes nothing");
        assertEquals(last, journal.lastSeq());
        assertEquals(1, journal.firstSeq());
        assertEquals(0, journal.droppedRecords());

        journal.release(1);
        assertEquals(2, journal.firstSeq());
        assertTrue(tryWrite(journal, full, 4096), "room after release");
        assertEquals(full, journal.lastSeq());
        assertWrites(drain(journal.reader(2)), 2, full, s -> 4096);
    }

    @Test
    void shouldTreatReleaseBeyondTheEndAsReleaseAllAndBelowTheStartAsNothing() {
        for (long seq = 10; seq < 20; seq++) {
            assertTrue(tryWrite(journal, seq, 100));
        }
        journal.release(5);
        assertEquals(10, journal.firstSeq());
        journal.release(1000);
        assertTrue(journal.isEmpty());
        assertEquals(20, journal.firstSeq());
        assertEquals(19, journal.lastSeq());
        assertTrue(tryWrite(journal, 20, 100), "continues at lastSeq + 1");
    }

    @Test
    void shouldDropTheOldestRecordsToMakeRoom() {
        long seq = 1;
        while (tryWrite(journal, seq, 4096)) {
            seq++;
        }
        long firstBefore = journal.firstSeq();
        Reader lagging = journal.reader(firstBefore);

        int dropped = write(journal, seq, 4096);
        assertEquals(1, dropped, "one 4 KiB record makes room for another");
        assertEquals(firstBefore + 1, journal.firstSeq());
        assertEquals(seq, journal.lastSeq());
        assertEquals(1, journal.droppedRecords());

        // A record the size of 10 small ones drops 10 (or 11 if the end of the ring needs padding).
        int big = 10 * (int) JournalLayout.recordLength(4096) - JournalLayout.RECORD_HEADER_LENGTH;
        int droppedForBig = write(journal, seq + 1, big);
        assertTrue(droppedForBig == 10 || droppedForBig == 11, "dropped " + droppedForBig);
        assertEquals(1 + droppedForBig, journal.droppedRecords());
        assertEquals(firstBefore + 1 + droppedForBig, journal.firstSeq());
        assertTrue(journal.usedBytes() <= CAPACITY);

        assertNull(journal.reader(firstBefore), "dropped records are gone");
        List<JournalFixtures.Read> left = drain(journal.reader(journal.firstSeq()));
        assertEquals(seq + 1, left.get(left.size() - 1).seq());
        assertEquals(JournalFixtures.expectedChecksum(seq + 1, big), left.get(left.size() - 1).dataChecksum());
        assertThrows(JournalOverrunException.class, () -> lagging.next(new RecordView()),
                "the reader at the dropped first record is overrun");
    }

    @Test
    void shouldDropEverythingForARecordAsLargeAsTheRing() {
        for (long seq = 1; seq <= 10; seq++) {
            assertTrue(tryWrite(journal, seq, 5000));
        }
        int largest = (int) CAPACITY - JournalLayout.RECORD_HEADER_LENGTH;
        assertEquals(10, write(journal, 11, largest));
        assertEquals(11, journal.firstSeq());
        assertEquals(11, journal.lastSeq());
        assertEquals(CAPACITY, journal.usedBytes());
        assertWrites(drain(journal.reader(11)), 11, 11, s -> largest);
    }

    @Test
    void shouldNeverDropWithAppendWhenThereIsRoom() {
        for (long seq = 1; seq <= 100; seq++) {
            assertEquals(0, write(journal, seq, sizeOf(seq)));
        }
        assertEquals(0, journal.droppedRecords());
        assertWrites(drain(journal.reader(1)), 1, 100, JournalFixtures::sizeOf);
    }
}
