package io.jrbd.nbd.wan;

import java.time.Duration;
import java.util.concurrent.atomic.LongAccumulator;
import java.util.concurrent.atomic.LongAdder;

/**
 * How late a {@link WanProxy} delivered the chunks it delayed, measured when the event loop writes each one.
 * Recorded by the event loops, read from any thread; the three figures are not a consistent snapshot.
 */
public final class Lateness {
    private final LongAdder chunks = new LongAdder();
    private final LongAdder totalNanos = new LongAdder();
    private final LongAccumulator maxNanos = new LongAccumulator(Math::max, 0);

    void record(long lateNanos) {
        chunks.increment();
        totalNanos.add(lateNanos);
        maxNanos.accumulate(lateNanos);
    }

    /** Chunks that waited in a delay line (not those written at once because nothing delayed them). */
    public long chunks() {
        return chunks.sum();
    }

    public Duration mean() {
        long n = chunks.sum();
        return Duration.ofNanos(n == 0 ? 0 : totalNanos.sum() / n);
    }

    public Duration max() {
        return Duration.ofNanos(maxNanos.get());
    }

    @Override
    public String toString() {
        return String.format("%d chunks late by %.1f us on average, %.1f us at most", chunks(), mean().toNanos() / 1e3,
                max().toNanos() / 1e3);
    }
}
