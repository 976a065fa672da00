package io.jrbd.resync;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Byte ranges {@code [offset, offset + length)} gathered one by one and kept merged: ranges
 * that overlap or touch become one. For reporting what online verify found
 * ({@code 12288+4096, 1048576+8192}) and for exchanging out-of-sync runs. One thread at a time.
 */
public final class ByteRanges {
    /** Start of each range to its end (exclusive); no two touch. */
    private final TreeMap<Long, Long> ends = new TreeMap<>();
    private long totalBytes;

    /** Adds {@code [offset, offset + length)}; an empty range changes nothing. Returns this. */
    public ByteRanges add(long offset, long length) {
        if (offset < 0 || length < 0) {
            throw new IllegalArgumentException("range " + offset + "+" + length + ": offset and length must not"
                    + " be negative");
        }
        if (length > Long.MAX_VALUE - offset) {
            throw new IllegalArgumentException("range " + offset + "+" + length + " ends past " + Long.MAX_VALUE);
        }
        if (length == 0) {
            return this;
        }
        long start = offset;
        long end = offset + length;
        Map.Entry<Long, Long> before = ends.floorEntry(start);
        if (before != null && before.getValue() >= start) {
            if (before.getValue() >= end) {
                return this;
            }
            start = before.getKey();
        }
        for (Map.Entry<Long, Long> next = ends.ceilingEntry(start);
                next != null && next.getKey() <= end;
                next = ends.ceilingEntry(start)) {
            end = Math.max(end, next.getValue());
            totalBytes -= next.getValue() - next.getKey();
            ends.remove(next.getKey());
        }
        ends.put(start, end);
        totalBytes += end - start;
        return this;
    }

    /**
     * Adds the blocks set in an LSB-first bitmask (bit {@code i} in byte {@code i / 8}, bit
     * {@code i % 8}): block {@code i} is {@code [baseOffset + i * blockSize, + blockSize)},
     * cut at {@code deviceSize}. Bits past {@code blocks} are ignored. Returns this.
     */
    public ByteRanges addBits(long baseOffset, int blockSize, byte[] lsbFirstMask, int blocks, long deviceSize) {
        if (blockSize <= 0) {
            throw new IllegalArgumentException("blockSize must be above 0, got " + blockSize);
        }
        if (blocks < 0 || lsbFirstMask.length < (blocks + 7L) >>> 3) {
            throw new IllegalArgumentException(blocks + " blocks need " + ((blocks + 7L) >>> 3)
                    + " bytes of mask, got " + lsbFirstMask.length);
        }
        if (baseOffset < 0 || deviceSize < 0) {
            throw new IllegalArgumentException("baseOffset " + baseOffset + " and deviceSize " + deviceSize
                    + " must not be negative");
        }
        if (blocks > 0 && (long) (blocks - 1) * blockSize >= deviceSize - baseOffset) {
            throw new IllegalArgumentException(blocks + " blocks of " + blockSize + " from " + baseOffset
                    + " reach past the device's end at " + deviceSize);
        }
        int b = 0;
        while (b < blocks) {
            if ((lsbFirstMask[b >>> 3] & (1 << (b & 7))) == 0) {
                b++;
                continue;
            }
            int run = b;
            while (run < blocks && (lsbFirstMask[run >>> 3] & (1 << (run & 7))) != 0) {
                run++;
            }
            long start = baseOffset + (long) b * blockSize;
            long end = Math.min(deviceSize, baseOffset + (long) run * blockSize);
            add(start, end - start);
            b = run;
        }
        return this;
    }

    /** The ranges of the blocks set in {@code lsbFirstMask}; see {@link #addBits}. */
    public static ByteRanges fromBits(long baseOffset, int blockSize, byte[] lsbFirstMask, int blocks,
            long deviceSize) {
        return new ByteRanges().addBits(baseOffset, blockSize, lsbFirstMask, blocks, deviceSize);
    }

    /** Bytes in all ranges. */
    public long totalBytes() {
        return totalBytes;
    }

    /** Ranges after merging. */
    public int count() {
        return ends.size();
    }

    public boolean isEmpty() {
        return ends.isEmpty();
    }

    /** The ranges in order as {@code offset, length} pairs. */
    public long[] flatten() {
        long[] pairs = new long[ends.size() * 2];
        int i = 0;
        for (Map.Entry<Long, Long> e : ends.entrySet()) {
            pairs[i++] = e.getKey();
            pairs[i++] = e.getValue() - e.getKey();
        }
        return pairs;
    }

    /**
     * The first {@code max} ranges as {@code offset+length}, then, if any were left out, one
     * line saying how many and how many bytes they hold.
     */
    public List<String> describe(int max) {
        if (max < 0) {
            throw new IllegalArgumentException("max must not be negative, got " + max);
        }
        List<String> lines = new ArrayList<>(Math.min(max, ends.size()) + 1);
        long shownBytes = 0;
        for (Map.Entry<Long, Long> e : ends.entrySet()) {
            if (lines.size() == max) {
                break;
            }
            long length = e.getValue() - e.getKey();
            lines.add(e.getKey() + "+" + length);
            shownBytes += length;
        }
        int omitted = ends.size() - lines.size();
        if (omitted > 0) {
            lines.add("... " + omitted + " more range" + (omitted == 1 ? "" : "s") + " ("
                    + (totalBytes - shownBytes) + " bytes)");
        }
        return lines;
    }

    /** {@code 12288+4096, 1048576+8192}, all ranges. */
    @Override
    public String toString() {
        return String.join(", ", describe(Integer.MAX_VALUE));
    }
}
