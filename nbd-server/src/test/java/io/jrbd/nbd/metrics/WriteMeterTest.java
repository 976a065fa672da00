package io.jrbd.nbd.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.jrbd.metadata.store.BackingStore;
import io.jrbd.replicator.config.Protocol;
import io.jrbd.replicator.device.BlockDevice;
import io.jrbd.replicator.device.IoCallback;
import io.jrbd.replicator.device.IoError;
import io.jrbd.replicator.engine.DirtyTracker;
import io.jrbd.replicator.engine.PeerOutbound;
import io.jrbd.replicator.engine.ReplicatedDevice;
import io.jrbd.replicator.engine.ReplicationLog;
import io.jrbd.replicator.resource.ExportControl;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The counts outlive each device: a resource's histogram only grows across promotions and up/down. */
class WriteMeterTest {
    @TempDir
    Path dir;

    /** An export that records what the resource did to it. */
    private static final class RecordingExport implements ExportControl {
        final List<String> calls = new ArrayList<>();

        @Override
        public void offer(BlockDevice device) {
            calls.add("offer");
        }

        @Override
        public void withdraw(String why) {
            calls.add("withdraw " + why);
        }

        @Override
        public int clients() {
            return 3;
        }

        @Override
        public String uri() {
            return "nbd://127.0.0.1:1/r0";
        }
    }

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

    private static ReplicatedDevice device(BackingStore store) {
        PeerOutbound noPeer = new PeerOutbound() {
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
        DirtyTracker dirty = new DirtyTracker() {
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
        return new ReplicatedDevice(Protocol.C, store, ReplicationLog.NONE, dirty, noPeer, UnpooledByteBufAllocator.DEFAULT,
                new ReplicatedDevice.Listener() { }, -1, 64, 1);
    }

    private static void write(ReplicatedDevice d, int times) throws Exception {
        for (int i = 0; i < times; i++) {
            Outcome o = new Outcome();
            d.write(i * 4096L, UnpooledByteBufAllocator.DEFAULT.buffer(4096).writeZero(4096), false, o);
            assertEquals(null, o.get(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void shouldAddEachRetiredDevicesCountsToTheCurrentOnes() throws Exception {
        NodeMetrics metrics = new NodeMetrics();
        RecordingExport inner = new RecordingExport();
        ExportControl export = metrics.export("r0", inner);
        try (BackingStore store = BackingStore.open(dir.resolve("data.img"), 1 << 20, false)) {
            ReplicatedDevice first = device(store);
            export.offer(first);
            write(first, 2);
            export.withdraw("demoted");
            first.close();
            Outcome refused = new Outcome();
            first.write(0, UnpooledByteBufAllocator.DEFAULT.buffer(512).writeZero(512), false, refused);
            assertEquals(IoError.ESHUTDOWN, refused.get(10, TimeUnit.SECONDS));

            ReplicatedDevice second = device(store);
            export.offer(second);
            export.offer(second); // offered again (a promotion that kept its device): not counted twice
            write(second, 3);
            assertEquals(List.of("offer", "withdraw demoted", "offer", "offer"), inner.calls);
            assertEquals(3, export.clients());
            assertEquals("nbd://127.0.0.1:1/r0", export.uri());

            Map<String, Double> s = ExpositionFormat.parse(metrics.render(List.of(status("r0"))));
            assertEquals(5.0, s.get("jrbd_write_latency_seconds_count{resource=\"r0\",protocol=\"C\"}"));
            assertEquals(1.0, s.get("jrbd_write_errors_total{resource=\"r0\",kind=\"shutdown\"}"));

            second.close();
            metrics.retire("r0"); // down: the device goes, its counts stay; and a new up continues from them
            ExportControl again = metrics.export("r0", new RecordingExport());
            ReplicatedDevice third = device(store);
            again.offer(third);
            write(third, 1);
            s = ExpositionFormat.parse(metrics.render(List.of(status("r0"), status("r1"))));
            assertEquals(6.0, s.get("jrbd_write_latency_seconds_count{resource=\"r0\",protocol=\"C\"}"));
            assertEquals(0.0, s.get("jrbd_write_latency_seconds_count{resource=\"r1\",protocol=\"C\"}"));
            third.close();
        }
    }

    @Test
    void shouldIgnoreDevicesThatAreNotReplicated() {
        WriteMeter meter = new WriteMeter();
        meter.offered(null);
        assertSame(io.jrbd.replicator.engine.LatencyHistogram.Snapshot.EMPTY, meter.latency());
        assertEquals(Map.of("io", 0L, "sync", 0L, "no_space", 0L, "shutdown", 0L), meter.errors());
    }

    private static Map<String, Object> status(String resource) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("resource", resource);
        m.put("up", true);
        m.put("role", "Primary");
        m.put("protocol", "C");
        m.put("disk", "UpToDate");
        m.put("connection", "StandAlone");
        m.put("peer", Map.of("node", "bravo", "role", "Unknown", "disk", "DUnknown"));
        return m;
    }
}
