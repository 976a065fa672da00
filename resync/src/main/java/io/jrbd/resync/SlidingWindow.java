package io.jrbd.resync;

import java.util.Arrays;

/**
 * An amount counted over the last {@code window} of time, in {@code slots} equal slots: what
 * arrived in the slot now running and in the {@code slots - 1} before it. Old slots are
 * recognised by their number and forgotten without a sweep; nothing is allocated after
 * construction. One thread uses it at a time.
 *
 * <pre>
 *   start                                            now
 *     |  slot k-3  |  slot k-2  |  slot k-1  |  slot k ..|
 *                  |&lt;------------ counted ------------&gt;|   (slots = 3)
 * </pre>
 */
final class SlidingWindow {
    private final long startNanos;
    private final long slotNanos;
    private final long[] amounts;
    private final long[] slotNumbers;

    SlidingWindow(long windowNanos, int slots, long startNanos) {
        if (slots <= 0 || windowNanos < slots) {
            throw new IllegalArgumentException("window of " + windowNanos + " ns in " + slots + " slots");
        }
        this.startNanos = startNanos;
        this.slotNanos = windowNanos / slots;
        this.amounts = new long[slots];
        this.slotNumbers = new long[slots];
        Arrays.fill(slotNumbers, Long.MIN_VALUE);
    }

    void add(long amount, long nowNanos) {
        long slot = slot(nowNanos);
        int i = (int) (slot % amounts.length);
        if (slotNumbers[i] != slot) {
            slotNumbers[i] = slot;
            amounts[i] = 0;
        }
        amounts[i] += amount;
    }

    /** What arrived in the window that ends now. */
    long sum(long nowNanos) {
        long slot = slot(nowNanos);
        long oldest = slot - amounts.length;
        long sum = 0;
        for (int i = 0; i < amounts.length; i++) {
            if (slotNumbers[i] > oldest && slotNumbers[i] <= slot) {
                sum += amounts[i];
            }
        }
        return sum;
    }

    /**
     * {@link #sum} per second of the time the window covers (less than the window early on);
     * 0 before any time has passed.
     */
    double ratePerSecond(long nowNanos) {
        long slot = slot(nowNanos);
        long from = Math.max(startNanos, startNanos + (slot - amounts.length + 1) * slotNanos);
        long covered = Math.max(0, nowNanos - from);
        return covered == 0 ? 0 : sum(nowNanos) * 1e9 / covered;
    }

    private long slot(long nowNanos) {
        return Math.max(0, nowNanos - startNanos) / slotNanos;
    }
}
