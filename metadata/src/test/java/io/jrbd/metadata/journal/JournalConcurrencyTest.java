package io.jrbd.metadata.journal;

import static io.jrbd.metadata.journal.JournalFixtures.MIB;
import static io.jrbd.metadata.journal.JournalFixtures.sizeOf;
import static io.jrbd.metadata.journal.JournalFixtures.tryWrite;
import static io.jrbd.metadata.journal.JournalFixtures.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A reader thread running against the writer thread; overruns. */
class JournalConcurrencyTest {
    private static final int RECORDS = 100_000;
    private static final int POOL = 61;

    @TempDir
    Path dir;
    private Journal journal;
    private ByteBuf[] pool;
    private ExecutorService writerThread;

    @BeforeEach
    void open() throws Exception {
        journal = Journal.open(dir.resolve("journal"), MIB);
        pool = new ByteBuf[POOL];
        for (int i = 0; i < POOL; i++) {
            pool[i] = JournalFixtures.data(i, 9000);
        }
        writerThread = Executors.newSingleThreadExecutor(r -> new Thread(r, "journal-writer"));
    }

    @AfterEach
    void close() throws Exception {
        writerThread.shutdownNow();
        assertTrue(writerThread.awaitTermination(10, TimeUnit.SECONDS));
        journal.close();
        for (ByteBuf b : pool) {
            b.release();
        }
    }

    // Buffers are compared as NIO buffers: under the PARANOID leak detector every ByteBuf call
    // records a stack trace, and ByteBuf.equals makes one call per 8 bytes.

    /** Record {@code seq}'s data: a slice of a pooled buffer (no copy, no generation cost). */
    private ByteBuf dataOf(long seq) {
        return pool[(int) (seq % POOL)].slice(0, sizeOf(seq));
    }

    private int typeOf(long seq) {
        return seq % 17 == 0 ? JournalLayout.TYPE_TRIM : JournalLayout.TYPE_WRITE;
    }

    @Test
    @Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void shouldDeliverEverySeqOnceInOrderToAConcurrentReader() throws Exception {
        long first = journal.firstSeq();
        Reader reader = journal.reader(first);
        AtomicLong readUpTo = new AtomicLong(first - 1);
        AtomicBoolean stop = new AtomicBoolean();
        Future<Long> writer = writerThread.submit(() -> {
            long refusals = 0;
            for (long seq = first; seq < first + RECORDS && !stop.get(); seq++) {
                int type = typeOf(seq);
                ByteBuf data = type == JournalLayout.TYPE_WRITE ? dataOf(seq) : null;
                long opLength = data == null ? 12345 : data.readableBytes();
                while (!journal.tryAppend(seq, type, (int) (seq & 0xFFFF), seq * 512, opLength, data)) {
                    refusals++;
                    journal.release(readUpTo.get()); // the writer owns release; the reader says how far it got
                    Thread.onSpinWait();
                }
            }
            return refusals;
        });

        RecordView view = new RecordView();
        ByteBuf dst = Unpooled.directBuffer(9000);
        long expected = first;
        try {
            while (expected < first + RECORDS) {
                if (!reader.next(view)) {
                    assertFalse(writer.isDone() && expected <= journal.lastSeq(), "a published record was not returned");
                    if (writer.isDone()) {
                        writer.get(); // rethrows what failed the writer
                    }
                    Thread.onSpinWait();
                    continue;
                }
                assertEquals(expected, view.seq(), "in order, each once");
                assertEquals(typeOf(expected), view.type());
                assertEquals((int) (expected & 0xFFFF), view.flags());
                assertEquals(expected * 512, view.offset());
                dst.clear();
                view.copyData(dst);
                if (view.type() == JournalLayout.TYPE_WRITE) {
                    assertEquals(dataOf(expected).nioBuffer(), dst.nioBuffer(), "data of record " + expected);
                    assertEquals(sizeOf(expected), view.opLength());
                } else {
                    assertEquals(0, dst.readableBytes());
                    assertEquals(12345, view.opLength());
                }
                readUpTo.lazySet(expected);
                expected++;
            }
        } finally {
            stop.set(true);
            dst.release();
        }
        long refusals = writer.get(30, TimeUnit.SECONDS);
        assertEquals(first + RECORDS - 1, journal.lastSeq());
        assertFalse(reader.next(view), "nothing beyond the last record");
        assertTrue(refusals > 0, "the ring (1 MiB for ~450 MB of records) filled up and backpressure was exercised");
    }

    @Test
    @Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void shouldDetectOverrunByADroppingWriterAndNeverReturnATornRecord() throws Exception {
        long first = journal.firstSeq();
        AtomicBoolean stop = new AtomicBoolean();
        Future<Long> writer = writerThread.submit(() -> {
            long seq = first;
            while (!stop.get()) {
                journal.append(seq, JournalLayout.TYPE_WRITE, 0, seq, sizeOf(seq), dataOf(seq));
                seq++;
            }
            return seq;
        });

        RecordView view = new RecordView();
        ByteBuf dst = Unpooled.directBuffer(9000);
        long verified = 0;
        long overruns = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
        try {
            // Readers start near the tail, read at a varying pace, and are overrun again and again.
            while (System.nanoTime() < deadline && (verified < 200_000 || overruns < 100)) {
                Reader reader = journal.reader(Math.max(journal.firstSeq(), journal.lastSeq() - 100));
                if (reader == null) {
                    continue;
                }
                long expected = reader.nextSeq();
                try {
                    for (;;) {
                        if (!reader.next(view)) {
                            continue;
                        }
                        assertEquals(expected, view.seq(), "in order until overrun");
                        dst.clear();
                        view.copyData(dst);
                        assertEquals(dataOf(expected).nioBuffer(), dst.nioBuffer(),
                                "record " + expected + " copied without an exception is whole");
                        verified++;
                        expected++;
                        for (int spin = (int) (expected % 200); spin > 0; spin--) {
                            Thread.onSpinWait(); // a pace that sometimes keeps up and sometimes does not
                        }
                    }
                } catch (JournalOverrunException e) {
                    overruns++;
                    assertTrue(e.seq() == expected || e.seq() == expected + 1, "overrun at the record being read");
                    assertThrows(IllegalStateException.class, () -> reader.next(view), "an overrun reader stays failed");
                }
            }
        } finally {
            stop.set(true);
            dst.release();
        }
        writer.get(30, TimeUnit.SECONDS);
        assertTrue(overruns > 0, "overruns seen: " + overruns);
        assertTrue(verified > 1000, "records verified: " + verified);
        assertTrue(journal.droppedRecords() > 0);
    }

    @Test
    void shouldDetectThatTheRecordBeingCopiedWasOverwritten() {
        long seq = journal.firstSeq();
        while (tryWrite(journal, seq, 4000)) {
            seq++;
        }
        Reader reader = journal.reader(journal.firstSeq());
        RecordView view = new RecordView();
        assertTrue(reader.next(view));
        write(journal, seq, 4000); // drops the record the view shows, and reuses its space

        ByteBuf dst = Unpooled.directBuffer(4000);
        try {
            assertThrows(JournalOverrunException.class, () -> view.copyData(dst));
        } finally {
            dst.release();
        }
    }

    @Test
    void shouldStartAConcurrentReaderWhileTheWriterDrops() throws Exception {
        long first = journal.firstSeq();
        AtomicBoolean stop = new AtomicBoolean();
        Future<?> writer = writerThread.submit(() -> {
            long seq = first;
            while (!stop.get()) {
                journal.append(seq, JournalLayout.TYPE_WRITE, 0, seq, sizeOf(seq), dataOf(seq));
                seq++;
            }
        });
        try {
            int made = 0;
            for (int i = 0; i < 2000; i++) {
                long from = Math.max(journal.firstSeq(), journal.lastSeq() - 50);
                Reader reader = journal.reader(from);
                if (reader == null) {
                    continue; // dropped meanwhile: null is the right answer
                }
                made++;
                assertEquals(from, reader.nextSeq());
                RecordView view = new RecordView();
                try {
                    if (reader.next(view)) {
                        assertEquals(from, view.seq(), "a new reader starts at the record asked for");
                    }
                } catch (JournalOverrunException e) {
                    assertEquals(from, e.seq());
                }
            }
            assertTrue(made > 0);
        } finally {
            stop.set(true);
            writer.get(30, TimeUnit.SECONDS);
        }
    }
}
