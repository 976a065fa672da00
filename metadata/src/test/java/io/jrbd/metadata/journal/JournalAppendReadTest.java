package io.jrbd.metadata.journal;

import static io.jrbd.metadata.journal.JournalFixtures.MIB;
import static io.jrbd.metadata.journal.JournalFixtures.assertWrites;
import static io.jrbd.metadata.journal.JournalFixtures.checksum;
import static io.jrbd.metadata.journal.JournalFixtures.data;
import static io.jrbd.metadata.journal.JournalFixtures.drain;
import static io.jrbd.metadata.journal.JournalFixtures.expectedChecksum;
import static io.jrbd.metadata.journal.JournalFixtures.tryWrite;
import static io.jrbd.metadata.journal.JournalLayout.TYPE_FLUSH;
import static io.jrbd.metadata.journal.JournalLayout.TYPE_TRIM;
import static io.jrbd.metadata.journal.JournalLayout.TYPE_WRITE;
import static io.jrbd.metadata.journal.JournalLayout.TYPE_ZEROES;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JournalAppendReadTest {
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
    void shouldStartEmptyWhenCreated() {
        assertTrue(journal.isEmpty());
        assertEquals(0, journal.usedBytes());
        assertEquals(journal.firstSeq() - 1, journal.lastSeq());
        assertEquals(CAPACITY, journal.capacity());
        assertEquals(0, journal.recoveredRecords());
        assertNull(journal.discardedReason());
    }

    @Test
    void shouldReadBackEveryTypeWithItsFields() {
        ByteBuf payload = data(7, 4096);
        int readerIndex = payload.readerIndex();
        try {
            assertTrue(journal.tryAppend(7, TYPE_WRITE, 0x8001, 1 << 20, 4096, payload));
            assertEquals(readerIndex, payload.readerIndex(), "the data's reader index is left alone");
            assertEquals(4096, payload.readableBytes());
        } finally {
            payload.release();
        }
        assertTrue(journal.tryAppend(8, TYPE_TRIM, 0, 8192, 1L << 30, null));
        assertTrue(journal.tryAppend(9, TYPE_ZEROES, 3, 0, 65536, Unpooled.EMPTY_BUFFER));
        assertTrue(journal.tryAppend(10, TYPE_FLUSH, 0, 0, 0, null));

        assertEquals(7, journal.firstSeq());
        assertEquals(10, journal.lastSeq());
        assertFalse(journal.isEmpty());
        assertEquals(JournalLayout.recordLength(4096) + 3L * JournalLayout.RECORD_HEADER_LENGTH, journal.usedBytes());

        List<JournalFixtures.Read> records = drain(journal.reader(7));
        assertEquals(List.of(
                new JournalFixtures.Read(7, TYPE_WRITE, 0x8001, 1 << 20, 4096, 4096, expectedChecksum(7, 4096)),
                new JournalFixtures.Read(8, TYPE_TRIM, 0, 8192, 1L << 30, 0, checksum(Unpooled.EMPTY_BUFFER)),
                new JournalFixtures.Read(9, TYPE_ZEROES, 3, 0, 65536, 0, checksum(Unpooled.EMPTY_BUFFER)),
                new JournalFixtures.Read(10, TYPE_FLUSH, 0, 0, 0, 0, checksum(Unpooled.EMPTY_BUFFER))), records);
    }

    @Test
    void shouldCopyFromAndIntoHeapAndCompositeBuffers() {
        ByteBuf direct = data(1, 3000);
        ByteBuf heap = Unpooled.buffer(3000).writeBytes(direct, 0, 3000);
        CompositeByteBuf composite = Unpooled.compositeBuffer()
                .addComponent(true, Unpooled.buffer().writeBytes(direct, 0, 1000))
                .addComponent(true, Unpooled.directBuffer().writeBytes(direct, 1000, 2000));
        try {
            heap.readerIndex(0);
            assertTrue(journal.tryAppend(1, TYPE_WRITE, 0, 0, 3000, heap));
            assertTrue(journal.tryAppend(2, TYPE_WRITE, 0, 0, 3000, composite));
            assertEquals(0, composite.readerIndex());

            Reader reader = journal.reader(1);
            RecordView view = new RecordView();
            ByteBuf heapDst = Unpooled.buffer(16); // must grow
            CompositeByteBuf compositeDst = Unpooled.compositeBuffer();
            try {
                assertTrue(reader.next(view));
                view.copyData(heapDst);
                assertTrue(reader.next(view));
                view.copyData(compositeDst);
                assertEquals(direct.nioBuffer(), heapDst.nioBuffer(), "heap source, heap destination");
                assertEquals(direct.nioBuffer(), compositeDst.nioBuffer(), "composite source, composite destination");
            } finally {
                heapDst.release();
                compositeDst.release();
            }
        } finally {
            direct.release();
            heap.release();
            composite.release();
        }
    }

    @Test
    void shouldReturnFalseUntilTheWriterAppendsMore() {
        assertTrue(tryWrite(journal, 1, 100));
        Reader reader = journal.reader(1);
        assertEquals(1, drain(reader).size());
        assertEquals(2, reader.nextSeq());
        assertEquals(0, drain(reader).size(), "nothing more yet");

        assertTrue(tryWrite(journal, 2, 200));
        assertTrue(tryWrite(journal, 3, 300));
        assertWrites(drain(reader), 2, 3, seq -> (int) seq * 100);
        assertEquals(0, drain(reader).size());
    }

    @Test
    void shouldStartAReaderAtAnyRetainedSeq() {
        for (long seq = 1; seq <= 20; seq++) {
            assertTrue(tryWrite(journal, seq, (int) seq * 10));
        }
        assertWrites(drain(journal.reader(13)), 13, 20, seq -> (int) seq * 10);
        assertWrites(drain(journal.reader(1)), 1, 20, seq -> (int) seq * 10);
        assertEquals(0, drain(journal.reader(21)).size(), "a reader at lastSeq + 1 waits for the next record");
        assertNull(journal.reader(22), "beyond lastSeq + 1");
        assertNull(journal.reader(0), "before firstSeq");

        journal.release(5);
        assertEquals(6, journal.firstSeq());
        assertNull(journal.reader(5), "released records are gone");
        assertWrites(drain(journal.reader(6)), 6, 20, seq -> (int) seq * 10);
    }

    @Test
    void shouldRejectASeqThatDoesNotFollowTheLast() {
        assertTrue(tryWrite(journal, 5, 10));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tryWrite(journal, 7, 10));
        assertTrue(e.getMessage().contains("seq 7") && e.getMessage().contains("5"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> tryWrite(journal, 5, 10));
        assertEquals(5, journal.lastSeq(), "nothing changed");
    }

    @Test
    void shouldRestartAtAnySeqWhenEmpty() {
        assertTrue(tryWrite(journal, 5, 10));
        assertTrue(tryWrite(journal, 6, 10));
        journal.release(6);
        assertTrue(journal.isEmpty());
        assertEquals(7, journal.firstSeq());

        assertTrue(tryWrite(journal, 1000, 10));
        assertEquals(1000, journal.firstSeq());
        assertEquals(1000, journal.lastSeq());
        assertWrites(drain(journal.reader(1000)), 1000, 1000, seq -> 10);
    }

    @Test
    void shouldTellACaughtUpReaderThatTheJournalRestarted() {
        assertTrue(tryWrite(journal, 1, 10));
        Reader reader = journal.reader(1);
        assertEquals(1, drain(reader).size());
        journal.release(1);

        assertTrue(tryWrite(journal, 50, 10));
        JournalOverrunException e = assertThrows(JournalOverrunException.class, () -> reader.next(new RecordView()));
        assertEquals(2, e.seq());
        assertTrue(e.getMessage().contains("restarted"), e.getMessage());
    }

    @Test
    void shouldRejectARecordLargerThanTheRing() {
        ByteBuf big = Unpooled.directBuffer((int) CAPACITY).writeZero((int) CAPACITY);
        try {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> journal.append(1, TYPE_WRITE, 0, 0, CAPACITY, big));
            assertTrue(e.getMessage().contains(String.valueOf(CAPACITY + JournalLayout.RECORD_HEADER_LENGTH))
                    && e.getMessage().contains("ring of " + CAPACITY), e.getMessage());
            assertTrue(journal.isEmpty());
        } finally {
            big.release();
        }
    }

    @Test
    void shouldAcceptARecordFillingTheWholeRingEvenAfterAWrap() {
        int largest = (int) CAPACITY - JournalLayout.RECORD_HEADER_LENGTH;
        assertTrue(tryWrite(journal, 1, 1000)); // so that the big record needs padding first
        assertFalse(tryWrite(journal, 2, largest), "does not fit beside record 1");
        journal.release(1);

        assertTrue(tryWrite(journal, 2, largest));
        assertEquals(CAPACITY, journal.usedBytes(), "the padding of an empty journal is not retained");
        assertWrites(drain(journal.reader(2)), 2, 2, seq -> largest);
        assertFalse(tryWrite(journal, 3, 0), "full");
    }

    @Test
    void shouldRejectMalformedRecords() {
        ByteBuf four = data(1, 4);
        try {
            assertThrows(IllegalArgumentException.class, () -> journal.tryAppend(1, 0, 0, 0, 4, four), "type 0");
            assertThrows(IllegalArgumentException.class, () -> journal.tryAppend(1, 5, 0, 0, 4, four), "type 5");
            assertThrows(IllegalArgumentException.class, () -> journal.tryAppend(1, TYPE_WRITE, 0x10000, 0, 4, four), "flags");
            assertThrows(IllegalArgumentException.class, () -> journal.tryAppend(1, TYPE_WRITE, 0, -1, 4, four), "offset");
            assertThrows(IllegalArgumentException.class, () -> journal.tryAppend(1, TYPE_WRITE, 0, 0, 8, four), "opLength");
            assertThrows(IllegalArgumentException.class, () -> journal.tryAppend(1, TYPE_WRITE, 0, 0, 4, null), "no data");
            assertThrows(IllegalArgumentException.class, () -> journal.tryAppend(1, TYPE_TRIM, 0, 0, 4, four), "TRIM with data");
            assertThrows(IllegalArgumentException.class, () -> journal.tryAppend(-1, TYPE_FLUSH, 0, 0, 0, null), "seq");
        } finally {
            four.release();
        }
        assertTrue(journal.isEmpty());
    }

    @Test
    void shouldRefuseUseAfterClose() {
        assertTrue(tryWrite(journal, 1, 10));
        Reader reader = journal.reader(1);
        journal.close();
        assertThrows(IllegalStateException.class, () -> tryWrite(journal, 2, 10));
        assertThrows(IllegalStateException.class, () -> reader.next(new RecordView()));
        assertThrows(IllegalStateException.class, () -> journal.reader(1));
        assertNotNull(journal.toString());
    }
}
