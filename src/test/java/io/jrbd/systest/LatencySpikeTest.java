package io.jrbd.systest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrbd.bench.ReplicationHarness;
import io.jrbd.replicator.config.Protocol;
import io.jrbd.replicator.device.IoCallback;
import io.jrbd.replicator.device.IoError;
import io.netty.buffer.Unpooled;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * One slow stretch of the link must not cost the pair its connection: with DRBD's default
 * timers (ping-interval 10 s, timeout 6 s, ko-count 7) a write whose acknowledgement takes
 * 8 s, longer than one timeout but far from ko-count of them, completes normally with the
 * same peer session, and the next write is fast again.
 * Two real nodes in this JVM, the simulated WAN link between them.
 */
class LatencySpikeTest {
    @Test
    void a_round_trip_longer_than_one_timeout_once_does_not_drop_a_healthy_peer() throws Exception {
        try (ReplicationHarness pair = ReplicationHarness.start(Protocol.C, 0, 2, 1)) {
            pair.wan().setDelay(Duration.ofSeconds(4)); // 8 s round trip from now on: > timeout (6 s)
            long start = System.nanoTime();
            CompletableFuture<String> slow = write(pair, 0);
            boolean alwaysConnected = true;
            while (!slow.isDone()) {
                alwaysConnected &= pair.alpha().connectedToPeer();
                TimeUnit.MILLISECONDS.sleep(50);
            }
            long slowMillis = (System.nanoTime() - start) / 1_000_000;
            assertEquals("done", slow.get(), "the slow write failed");
            assertTrue(slowMillis >= 7_900, "the spike did not happen (" + slowMillis + " ms): the test proves nothing");
            assertTrue(alwaysConnected, "alpha lost bravo during the spike: " + pair.alpha().status());

            pair.wan().setDelay(Duration.ZERO);
            assertEquals("done", write(pair, 4096).get(30, TimeUnit.SECONDS));
            pair.check(); // still Connected, bravo UpToDate: the write was really replicated
            assertEquals("Connected", pair.alpha().connectionState());
        }
    }

    private static CompletableFuture<String> write(ReplicationHarness pair, long offset) {
        CompletableFuture<String> result = new CompletableFuture<>();
        pair.device().write(offset, Unpooled.directBuffer(4096).writeZero(4096), false, new IoCallback() {
            @Override
            public void onDone() {
                result.complete("done");
            }

            @Override
            public void onFailure(IoError error, String detail) {
                result.complete(error + ": " + detail);
            }
        });
        return result;
    }
}
