package io.jrbd.metadata.al;

import java.util.Arrays;

/**
 * One activity log transaction as it is on disk: a whole snapshot of the hot set.
 *
 * @param number    the transaction number (unsigned), from 1; each transaction written adds one
 * @param alExtents the {@code al-extents} setting in force when it was written (for the record)
 * @param extents   the hot extents, least recently used first
 */
public record Transaction(long number, int alExtents, int[] extents) {
    public Transaction {
        if (number == 0) {
            throw new IllegalArgumentException("transaction number 0: numbers start at 1");
        }
        if (extents.length > ActivityLogLayout.MAX_EXTENTS) {
            throw new IllegalArgumentException(extents.length + " extents > " + ActivityLogLayout.MAX_EXTENTS);
        }
        extents = extents.clone();
    }

    /** The slot this transaction belongs in. */
    public int slot() {
        return ActivityLogLayout.slotOf(number);
    }

    /** A copy: the record never hands out its own array. */
    @Override
    public int[] extents() {
        return extents.clone();
    }

    public int count() {
        return extents.length;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Transaction other && number == other.number && alExtents == other.alExtents
                && Arrays.equals(extents, other.extents);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Long.hashCode(number) + alExtents) + Arrays.hashCode(extents);
    }

    @Override
    public String toString() {
        return "Transaction[number=" + number + ", slot=" + slot() + ", alExtents=" + alExtents + ", extents="
                + Arrays.toString(extents) + "]";
    }
}
