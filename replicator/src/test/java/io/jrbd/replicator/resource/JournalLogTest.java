package io.jrbd.replicator.resource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.jrbd.metadata.journal.Journal;
import io.jrbd.replicator.engine.OpType;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JournalLogTest {
    @TempDir
    Path dir;

    @Test
    void aWriteLargerThanTheRingEndsTheHistoryInsteadOfFailingTheWrite() throws Exception {
        try (JournalLog log = new JournalLog(Journal.open(dir.resolve("j"), 1 << 20))) {
            log.appendDropping(1, OpType.WRITE, 0, 0, 4096, data(4096));
            log.appendDropping(2, OpType.WRITE, 0, 8192, 4096, data(4096));
            assertEquals(1, log.firstSeq());
            log.appendDropping(3, OpType.WRITE, 0, 0, 4 << 20, data(4 << 20)); // 4 MiB into a 1 MiB ring
            assertNull(log.reader(1, io.netty.buffer.ByteBufAllocator.DEFAULT), "history before the big write is gone");
            log.appendDropping(4, OpType.WRITE, 0, 0, 4096, data(4096));
            assertEquals(4, log.firstSeq(), "the history restarts with the next write");
            assertEquals(4, log.lastSeq());
            assertNotNull(log.reader(4, io.netty.buffer.ByteBufAllocator.DEFAULT));
        }
    }

    private static ByteBuf data(int n) {
        return Unpooled.wrappedBuffer(new byte[n]);
    }
}
