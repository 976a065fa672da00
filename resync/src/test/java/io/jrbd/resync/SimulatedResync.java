package io.jrbd.resync;

import java.time.Duration;
import java.util.ArrayDeque;

/**
 * A resync loop against a simulated peer, in 1 ms turns: each turn the peer acknowledges what
 * it has finished, the application does its I/O, and the loop issues blocks of {@code grain}
 * while the controller permits a whole one. The peer finishes a request {@code latency} after
 * it was issued, and if {@code peerRate} is set, no faster than that, one request after another.
 */
final class SimulatedResync {
    static final long TURN = Duration.ofMillis(1).toNanos();

    final FakeClock clock;
    final ResyncRateController controller;
    private final long grain;
    private final long latencyNanos;
    private final long peerRate;
    private final ArrayDeque<long[]> pending = new ArrayDeque<>();
    private long peerFreeAt;
    private long applicationBytesPerTurn;
    private long issuedTotal;
    private long inFlightSum;
    private long inFlightSamples;

    SimulatedResync(ResyncRates rates, long grain, Duration latency, long peerRate) {
        this.clock = new FakeClock(7_000_000_000L);
        this.controller = new ResyncRateController(rates, clock);
        this.grain = grain;
        this.latencyNanos = latency.toNanos();
        this.peerRate = peerRate;
        this.peerFreeAt = clock.nanos();
    }

    void applicationBytesPerTurn(long bytes) {
        applicationBytesPerTurn = bytes;
    }

    /** Runs for {@code duration}; returns the bytes issued in it. */
    long run(Duration duration) {
        long before = issuedTotal;
        inFlightSum = 0;
        inFlightSamples = 0;
        for (long t = 0; t < duration.toNanos(); t += TURN) {
            turn();
            clock.advance(TURN);
        }
        return issuedTotal - before;
    }

    /** In-flight bytes averaged over the turns of the last {@link #run}. */
    long averageInFlight() {
        return inFlightSamples == 0 ? 0 : inFlightSum / inFlightSamples;
    }

    private void turn() {
        long now = clock.nanos();
        while (!pending.isEmpty() && pending.peekFirst()[0] <= now) {
            controller.acknowledged(pending.pollFirst()[1]);
        }
        if (applicationBytesPerTurn > 0) {
            controller.applicationIo(applicationBytesPerTurn, now);
        }
        while (controller.permit(grain, now) == grain) {
            controller.issued(grain);
            issuedTotal += grain;
            long done;
            if (peerRate > 0) {
                long start = Math.max(now, peerFreeAt);
                peerFreeAt = start + grain * 1_000_000_000L / peerRate;
                done = peerFreeAt + latencyNanos;
            } else {
                done = now + latencyNanos;
            }
            pending.addLast(new long[] {done, grain});
        }
        inFlightSum += controller.inFlight();
        inFlightSamples++;
    }
}
