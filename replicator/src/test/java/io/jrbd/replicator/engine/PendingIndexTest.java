package io.jrbd.replicator.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The ring of writes sent and not yet durable on the peer: what gets marked dirty when it is lost. */
final class PendingIndexTest {
    private final PendingIndex index = new PendingIndex();
    private final Marks marks = new Marks();

    @Test
    void shouldMarkExactlyTheUnreleasedEntriesInOrder() {
        index.add(1, 0, 4096);
        index.add(2, 8192, 512);
        index.add(3, 4096, 4096);
        index.releaseUpTo(1);
        assertEquals(2, index.size());
        index.markAllDirty(marks);
        assertEquals(List.of(List.of(8192L, 512L), List.of(4096L, 4096L)), marks.ranges);
        assertEquals(0, index.size());
        marks.ranges.clear();
        index.markAllDirty(marks);
        assertEquals(List.of(), marks.ranges, "marked entries are forgotten");
    }

    @Test
    void shouldReleaseNothingBelowTheOldestAndEverythingAtOrBelowSeq() {
        index.add(5, 0, 1);
        index.add(7, 1, 1);
        index.releaseUpTo(4);
        assertEquals(2, index.size());
        index.releaseUpTo(6);
        assertEquals(1, index.size());
        index.releaseUpTo(100);
        assertEquals(0, index.size());
        index.releaseUpTo(200);
        assertEquals(0, index.size());
    }

    @Test
    void shouldKeepOrderAcrossWrapAroundAndGrowth() {
        long seq = 0;
        // Fill part of the initial 1024 entries, release most, then add enough to wrap and grow
        // while the head is in the middle of the array.
        for (int i = 0; i < 1000; i++) {
            seq++;
            index.add(seq, seq * 512, seq);
        }
        index.releaseUpTo(900);
        assertEquals(100, index.size());
        for (int i = 0; i < 5000; i++) {
            seq++;
            index.add(seq, seq * 512, seq);
        }
        assertEquals(5100, index.size());
        index.releaseUpTo(950);
        index.markAllDirty(marks);
        assertEquals(seq - 950, marks.ranges.size());
        for (int i = 0; i < marks.ranges.size(); i++) {
            long expected = 951 + i;
            assertEquals(List.of(expected * 512, expected), marks.ranges.get(i), "entry " + i);
        }
    }

    @Test
    void shouldBeReusableAfterMarkingAndWrapAgain() {
        for (int round = 0; round < 3; round++) {
            marks.ranges.clear();
            long base = round * 10_000L;
            for (int i = 1; i <= 1500; i++) {
                index.add(base + i, i, 1);
                if (i % 3 == 0) {
                    index.releaseUpTo(base + i - 2);
                }
            }
            index.markAllDirty(marks);
            assertEquals(List.of(List.of(1499L, 1L), List.of(1500L, 1L)), marks.ranges, "round " + round);
        }
    }

    private static final class Marks implements DirtyTracker {
        final List<List<Long>> ranges = new ArrayList<>();

        @Override
        public void markDirty(long offset, long length) {
            ranges.add(List.of(offset, length));
        }

        @Override
        public long dirtyBytes() {
            return ranges.stream().mapToLong(r -> r.get(1)).sum();
        }

        @Override
        public void clearAll() {
            ranges.clear();
        }
    }
}
