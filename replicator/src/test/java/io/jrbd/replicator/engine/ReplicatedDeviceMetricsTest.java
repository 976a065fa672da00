package io.jrbd.replicator.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrbd.metadata.store.BackingStore;
import io.jrbd.replicator.config.Protocol;
import io.jrbd.replicator.device.IoCallback;
import io.jrbd.replicator.device.IoError;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a Primary's device counts for the metrics: each write's latency, each failure by kind. */
class ReplicatedDeviceMetricsTest {
    private static final long SIZE = 1 << 20;

    @TempDir
    Path dir;

    /** No peer: writes complete once local (and durable, for FUA and flushes). */
    private static final PeerOutbound NO_PEER = new PeerOutbound() {
        @Override
        public long session() {
            return -1;
        }

        @Override
        public boolean awaitWritable(long session) {
            return false;
        }

        @Override
        public void write(long session, long seq, long offset, ByteBuf data, int flags, boolean resync) {
            data.release();
        }

        @Override
        public void trim(long session, long seq, long offset, long length, int flags) {
        }

        @Override
        public void zeroes(long session, long seq, long offset, long length, int flags, boolean resync) {
        }

        @Override
        public void flush(long session, long seq) {
        }

        @Override
        public void syncStart(long session, long totalBytes, boolean full, long syncGeneration) {
        }

        @Override
        public void syncDone(long session, long seq) {
        }

        @Override
        public void endOfBatch(long session) {
        }
    };

    private static final DirtyTracker DIRTY = new DirtyTracker() {
        @Override
        public void markDirty(long offset, long length) {
        }

        @Override
        public long dirtyBytes() {
            return 0;
        }

        @Override
        public void clearAll() {
        }
    };

    /** Completes with null on success, with the error otherwise. */
    private static final class Outcome extends CompletableFuture<IoError> implements IoCallback {
        @Override
        public void onDone() {
            complete(null);
        }

        @Override
        public void onFailure(IoError error, String detail) {
            complete(error);
        }
    }

    @Test
    void shouldRecordTheLatencyOfEveryWriteThatSucceededButNotOfFlushes() throws Exception {
        try (BackingStore store = BackingStore.open(dir.resolve("data.img"), SIZE, false)) {
            ReplicatedDevice device = new ReplicatedDevice(Protocol.C, store, ReplicationLog.NONE, DIRTY, NO_PEER,
                    UnpooledByteBufAllocator.DEFAULT, new ReplicatedDevice.Listener() { }, -1, 64, 1);
            try {
                for (int i = 0; i < 3; i++) {
                    Outcome done = new Outcome();
                    device.write(i * 4096L, UnpooledByteBufAllocator.DEFAULT.buffer(4096).writeZero(4096), i == 2, done);
                    assertEquals(null, done.get(10, TimeUnit.SECONDS));
                }
                Outcome trimmed = new Outcome();
                device.trim(0, 4096, false, trimmed);
                assertEquals(null, trimmed.get(10, TimeUnit.SECONDS));
                Outcome flushed = new Outcome();
                device.flush(flushed);
                assertEquals(null, flushed.get(10, TimeUnit.SECONDS));

                LatencyHistogram.Snapshot s = device.writeLatency().snapshot();
                assertEquals(4, s.count(), s.toString());
                assertTrue(s.sumNanos() > 0, s.toString());
                for (ReplicatedDevice.WriteError kind : ReplicatedDevice.WriteError.values()) {
                    assertEquals(0, device.writeErrors(kind), kind.label());
                }
            } finally {
                device.close();
            }
        }
    }

    @Test
    void shouldCountWritesRefusedWhileShuttingDownAsShutdownErrors() throws Exception {
        try (BackingStore store = BackingStore.open(dir.resolve("data.img"), SIZE, false)) {
            ReplicatedDevice device = new ReplicatedDevice(Protocol.C, store, ReplicationLog.NONE, DIRTY, NO_PEER,
                    UnpooledByteBufAllocator.DEFAULT, new ReplicatedDevice.Listener() { }, -1, 64, 1);
            device.close();
            Outcome refused = new Outcome();
            device.write(0, UnpooledByteBufAllocator.DEFAULT.buffer(512).writeZero(512), false, refused);
            assertEquals(IoError.ESHUTDOWN, refused.get(10, TimeUnit.SECONDS));
            Outcome flushRefused = new Outcome();
            device.flush(flushRefused);
            assertEquals(IoError.ESHUTDOWN, flushRefused.get(10, TimeUnit.SECONDS));
            assertEquals(2, device.writeErrors(ReplicatedDevice.WriteError.SHUTDOWN));
            assertEquals(0, device.writeErrors(ReplicatedDevice.WriteError.IO));
            assertEquals(0, device.writeLatency().snapshot().count());
            assertEquals("no_space", ReplicatedDevice.WriteError.NO_SPACE.label());
        }
    }
}
