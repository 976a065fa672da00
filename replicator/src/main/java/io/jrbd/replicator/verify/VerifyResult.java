package io.jrbd.replicator.verify;

import io.jrbd.resync.ByteRanges;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * How an online verify ended and what it found.
 *
 * @param resource        the resource verified
 * @param outcome         whether it went through the whole span
 * @param why             for {@link Outcome#CANCELLED} and {@link Outcome#FAILED}, the reason; else empty
 * @param started         when {@link OnlineVerify#start()} began
 * @param ended           when it finished
 * @param start           first byte of the span asked for
 * @param stop            end of the span (exclusive), cut at the device end
 * @param checkedBytes    bytes compared (all of {@code stop - start} when completed)
 * @param runs            the differing ranges, flattened (offset, length) pairs, merged, sorted
 * @param suspectBlocks   blocks that differed on the first pass (some may have settled on the re-check)
 */
public record VerifyResult(String resource, Outcome outcome, String why, Instant started, Instant ended, long start,
        long stop, long checkedBytes, long[] runs, long suspectBlocks) {

    /** The end of a verify. */
    public enum Outcome {
        /** Every block of the span compared. */
        COMPLETED,
        /** Stopped before the end: {@link OnlineVerify#cancel}, or the peer session ended. */
        CANCELLED,
        /** A local read or the exchange failed. */
        FAILED
    }

    private static final long BLOCK_4K = 4096;
    private static final long SECTOR = 512;

    public VerifyResult {
        Objects.requireNonNull(resource, "resource");
        Objects.requireNonNull(outcome, "outcome");
        Objects.requireNonNull(why, "why");
        runs = runs.clone();
        if ((runs.length & 1) != 0) {
            throw new IllegalArgumentException("verify result runs has " + runs.length + " values, must be pairs");
        }
    }

    /** A copy of the flattened (offset, length) pairs: the result stays immutable. */
    @Override
    public long[] runs() {
        return runs.clone();
    }

    public boolean completed() {
        return outcome == Outcome.COMPLETED;
    }

    /** Bytes found different. */
    public long differingBytes() {
        long n = 0;
        for (int i = 1; i < runs.length; i += 2) {
            n += runs[i];
        }
        return n;
    }

    /** Distinct 4 KiB blocks touched by the differing ranges: DRBD's "found N 4k blocks out of sync". */
    public long outOfSyncBlocks() {
        long count = 0;
        long counted = -1; // the last 4 KiB block already counted
        for (int i = 0; i < runs.length; i += 2) {
            long first = Math.max(runs[i] / BLOCK_4K, counted + 1);
            long last = (runs[i] + runs[i + 1] - 1) / BLOCK_4K;
            if (last >= first) {
                count += last - first + 1;
                counted = last;
            }
        }
        return count;
    }

    public Duration elapsed() {
        return Duration.between(started, ended);
    }

    /** The differing ranges, merged (a fresh copy each time). */
    public ByteRanges ranges() {
        ByteRanges r = new ByteRanges();
        for (int i = 0; i < runs.length; i += 2) {
            r.add(runs[i], runs[i + 1]);
        }
        return r;
    }

    /**
     * The log lines DRBD administrators grep for: one {@code Out of sync: start=S, size=N
     * (sectors)} per range (at most {@code max}, then how many more), then the summary.
     */
    public List<String> logLines(int max) {
        List<String> lines = new ArrayList<>();
        int shown = 0;
        for (int i = 0; i < runs.length; i += 2) {
            if (shown == max) {
                lines.add("... and " + (runs.length / 2 - shown) + " more out-of-sync ranges");
                break;
            }
            long sectors = (runs[i + 1] + SECTOR - 1) / SECTOR;
            lines.add("Out of sync: start=" + runs[i] / SECTOR + ", size=" + sectors + " (sectors)");
            shown++;
        }
        lines.add(summary());
        return lines;
    }

    /** One line: what was found and how it ended. */
    public String summary() {
        String found = "Online verify found " + outOfSyncBlocks() + " 4k blocks out of sync!";
        return switch (outcome) {
            case COMPLETED -> found + " (" + (stop - start) + " bytes from " + start + " in " + elapsed().toMillis()
                    + " ms)";
            case CANCELLED -> "Online verify cancelled after " + checkedBytes + " of " + (stop - start) + " bytes ("
                    + why + "); so far: " + found;
            case FAILED -> "Online verify failed after " + checkedBytes + " of " + (stop - start) + " bytes (" + why
                    + "); so far: " + found;
        };
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof VerifyResult r && r.resource.equals(resource) && r.outcome == outcome && r.why.equals(why)
                && r.started.equals(started) && r.ended.equals(ended) && r.start == start && r.stop == stop
                && r.checkedBytes == checkedBytes && Arrays.equals(r.runs, runs) && r.suspectBlocks == suspectBlocks;
    }

    @Override
    public int hashCode() {
        return Objects.hash(resource, outcome, why, started, ended, start, stop, checkedBytes, suspectBlocks)
                * 31 + Arrays.hashCode(runs);
    }

    /** The summary, never every range. */
    @Override
    public String toString() {
        return resource + ": " + summary();
    }
}
