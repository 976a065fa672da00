package io.jrbd.replicator.engine;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A latency histogram with fixed buckets from 50 µs to 10 s, in the shape Prometheus expects:
 * bucket {@code i} counts the latencies {@code <= upperBoundNanos(i)}, the last bucket
 * everything above 10 s ({@code +Inf}).
 *
 * <pre>
 *  bucket:  0      1       2       3       4    5      6    7     ...  16    17
 *  le:      50us   100us   250us   500us   1ms  2.5ms  5ms  10ms  ...  10s   +Inf
 * </pre>
 *
 * <p>{@link #record} allocates nothing and takes no lock (one binary search over 17 bounds,
 * two atomic adds), so it may run on the completion path. Any number of threads may record;
 * {@link #snapshot} may run on any thread at any time. A snapshot taken while writes complete
 * may see a latency in its bucket and not yet in the sum (or the reverse): each count it shows
 * is one that happened, and counts only grow.
 */
public final class LatencyHistogram {
    private static final long MICROS = 1_000L;
    private static final long MILLIS = 1_000_000L;
    private static final long SECONDS = 1_000_000_000L;
    private static final long[] BOUNDS = {
        50 * MICROS, 100 * MICROS, 250 * MICROS, 500 * MICROS,
        1 * MILLIS, 2_500 * MICROS, 5 * MILLIS, 10 * MILLIS, 25 * MILLIS, 50 * MILLIS, 100 * MILLIS, 250 * MILLIS,
        500 * MILLIS, 1 * SECONDS, 2_500 * MILLIS, 5 * SECONDS, 10 * SECONDS,
    };

    private final AtomicLongArray counts = new AtomicLongArray(BOUNDS.length + 1);
    private final AtomicLong sumNanos = new AtomicLong();

    /** Buckets, the {@code +Inf} one included. */
    public static int buckets() {
        return BOUNDS.length + 1;
    }

    /** The upper bound of bucket {@code i} in nanoseconds, {@link Long#MAX_VALUE} for the last ({@code +Inf}). */
    public static long upperBoundNanos(int i) {
        if (i < 0 || i > BOUNDS.length) {
            throw new IndexOutOfBoundsException("bucket " + i + " is not in 0.." + BOUNDS.length);
        }
        return i == BOUNDS.length ? Long.MAX_VALUE : BOUNDS[i];
    }

    /** The bucket a latency of {@code nanos} falls in; negative latencies (a clock step) count as 0. */
    static int bucketOf(long nanos) {
        int i = Arrays.binarySearch(BOUNDS, Math.max(0, nanos));
        return i >= 0 ? i : -i - 1;
    }

    /** Counts one latency. Lock-free, allocation-free. */
    public void record(long nanos) {
        long n = Math.max(0, nanos);
        counts.incrementAndGet(bucketOf(n));
        sumNanos.addAndGet(n);
    }

    /** The counts so far. */
    public Snapshot snapshot() {
        long[] c = new long[counts.length()];
        for (int i = 0; i < c.length; i++) {
            c[i] = counts.get(i);
        }
        return new Snapshot(c, sumNanos.get());
    }

    /** Counts at one moment; immutable. */
    public static final class Snapshot {
        /** No latency recorded. */
        public static final Snapshot EMPTY = new Snapshot(new long[BOUNDS.length + 1], 0);

        private final long[] counts;
        private final long sumNanos;

        private Snapshot(long[] counts, long sumNanos) {
            this.counts = counts;
            this.sumNanos = sumNanos;
        }

        /** Latencies in bucket {@code i} alone. */
        public long bucketCount(int i) {
            return counts[i];
        }

        /** Latencies {@code <= upperBoundNanos(i)}: what Prometheus calls the bucket {@code le}. */
        public long cumulativeCount(int i) {
            long n = 0;
            for (int b = 0; b <= i; b++) {
                n += counts[b];
            }
            return n;
        }

        /** Latencies recorded (the {@code +Inf} bucket's cumulative count). */
        public long count() {
            return cumulativeCount(counts.length - 1);
        }

        public long sumNanos() {
            return sumNanos;
        }

        /** Both histograms' counts together (e.g. an earlier device's and the current one's). */
        public Snapshot plus(Snapshot other) {
            long[] c = counts.clone();
            for (int i = 0; i < c.length; i++) {
                c[i] += other.counts[i];
            }
            return new Snapshot(c, sumNanos + other.sumNanos);
        }

        @Override
        public String toString() {
            return "count " + count() + ", sum " + sumNanos + " ns, buckets " + Arrays.toString(counts);
        }
    }
}
