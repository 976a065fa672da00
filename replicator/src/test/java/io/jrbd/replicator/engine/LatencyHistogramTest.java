package io.jrbd.replicator.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class LatencyHistogramTest {
    private static final long US = 1_000;
    private static final long MS = 1_000_000;
    private static final long S = 1_000_000_000;

    @Test
    void shouldSpanFiftyMicrosecondsToTenSecondsThenInfinity() {
        assertEquals(18, LatencyHistogram.buckets());
        assertEquals(50 * US, LatencyHistogram.upperBoundNanos(0));
        assertEquals(10 * S, LatencyHistogram.upperBoundNanos(16));
        assertEquals(Long.MAX_VALUE, LatencyHistogram.upperBoundNanos(17));
        for (int i = 1; i < LatencyHistogram.buckets(); i++) {
            assertTrue(LatencyHistogram.upperBoundNanos(i) > LatencyHistogram.upperBoundNanos(i - 1), "bound " + i);
        }
        IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class, () -> LatencyHistogram.upperBoundNanos(18));
        assertTrue(e.getMessage().contains("18"), e.getMessage());
    }

    @Test
    void shouldPutEachLatencyInTheFirstBucketWhoseBoundIsNotBelowIt() {
        long[][] table = {
            // nanos, bucket
            {0, 0}, {-5, 0}, {1, 0}, {50 * US, 0}, {50 * US + 1, 1}, {100 * US, 1}, {300 * US, 3},
            {1 * MS, 4}, {2 * MS, 5}, {7 * MS, 7}, {999 * MS, 13}, {1 * S, 13}, {10 * S, 16}, {10 * S + 1, 17},
            {Long.MAX_VALUE, 17},
        };
        for (long[] row : table) {
            assertEquals((int) row[1], LatencyHistogram.bucketOf(row[0]), "latency " + row[0] + " ns");
        }
    }

    @Test
    void shouldCountSumAndAccumulateBuckets() {
        LatencyHistogram h = new LatencyHistogram();
        h.record(40 * US);
        h.record(40 * US);
        h.record(3 * MS);
        h.record(20 * S);
        h.record(-1); // a clock step counts as 0 ns
        LatencyHistogram.Snapshot s = h.snapshot();
        assertEquals(5, s.count());
        assertEquals(80 * US + 3 * MS + 20 * S, s.sumNanos());
        assertEquals(3, s.bucketCount(0));
        assertEquals(3, s.cumulativeCount(5));
        assertEquals(4, s.cumulativeCount(6));
        assertEquals(4, s.cumulativeCount(16));
        assertEquals(1, s.bucketCount(17));
        assertEquals(5, s.cumulativeCount(17));
    }

    @Test
    void shouldAddSnapshotsBucketByBucketAndLeaveBothUnchanged() {
        LatencyHistogram a = new LatencyHistogram();
        LatencyHistogram b = new LatencyHistogram();
        a.record(1 * MS);
        b.record(1 * MS);
        b.record(5 * S);
        LatencyHistogram.Snapshot sa = a.snapshot();
        LatencyHistogram.Snapshot sum = sa.plus(b.snapshot()).plus(LatencyHistogram.Snapshot.EMPTY);
        assertEquals(3, sum.count());
        assertEquals(2, sum.bucketCount(4));
        assertEquals(1, sum.bucketCount(15));
        assertEquals(2 * MS + 5 * S, sum.sumNanos());
        assertEquals(1, sa.count(), "plus changed its operand");
        assertEquals(0, LatencyHistogram.Snapshot.EMPTY.count());
    }

    @Test
    void shouldLoseNoCountWhenManyThreadsRecordAtOnce() throws Exception {
        LatencyHistogram h = new LatencyHistogram();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            Thread thread = new Thread(() -> {
                for (int i = 0; i < 100_000; i++) {
                    h.record(i % 2 == 0 ? 10 * US : 20 * MS);
                }
            });
            threads.add(thread);
            thread.start();
        }
        for (Thread t : threads) {
            t.join();
        }
        LatencyHistogram.Snapshot s = h.snapshot();
        assertEquals(400_000, s.count());
        assertEquals(200_000, s.bucketCount(0));
        assertEquals(200_000, s.bucketCount(8));
        assertEquals(200_000 * (10 * US + 20 * MS), s.sumNanos());
    }
}
