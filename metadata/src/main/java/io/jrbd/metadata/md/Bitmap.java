package io.jrbd.metadata.md;

import static io.jrbd.metadata.md.MetadataLayout.BLOCK_SHIFT;
import static io.jrbd.metadata.md.MetadataLayout.BLOCK_SIZE;
import static io.jrbd.metadata.md.MetadataLayout.WORDS_PER_PAGE;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * The out-of-sync bitmap held in memory: one bit per 4 KiB block, "this block may differ from
 * the peer". Any number of threads may set, clear and read at once, without locks: each word
 * changes by compare-and-set, and each page whose bits changed is marked dirty for the next
 * {@link Metadata#flushBitmap()}.
 *
 * <p>Memory ordering: a change is visible to every thread once the method returns, and a
 * flush that starts after it returns writes it (the page is marked dirty after its word
 * changes, and the flush clears the mark before it copies the page, so a change racing with a
 * flush is either in that flush or marks the page for the next one).
 */
public final class Bitmap {
    private static final int SHIFT = 6;

    private final long deviceSize;
    private final long blocks;
    private final int pages;
    private final AtomicLongArray words;
    private final AtomicLongArray dirtyPages;
    private final LongAdder cardinality = new LongAdder();

    Bitmap(MetadataLayout layout) {
        this.deviceSize = layout.deviceSize();
        this.blocks = layout.blocks();
        this.pages = layout.bitmapPages();
        this.words = new AtomicLongArray(pages * WORDS_PER_PAGE);
        this.dirtyPages = new AtomicLongArray((pages + 63) >>> SHIFT);
    }

    /** Blocks the bitmap covers: the device's size in 4 KiB blocks, the last maybe partial. */
    public long blocks() {
        return blocks;
    }

    public long deviceSize() {
        return deviceSize;
    }

    /** Pages of bitmap on disk. */
    public int pages() {
        return pages;
    }

    /**
     * Marks every block that {@code [offset, offset + length)} touches, even in part. Returns
     * how many blocks were newly set.
     */
    public long setRange(long offset, long length) {
        checkRange(offset, length);
        if (length == 0) {
            return 0;
        }
        long first = offset >>> BLOCK_SHIFT;
        long end = (offset + length + BLOCK_SIZE - 1) >>> BLOCK_SHIFT;
        return update(first, end, true);
    }

    /**
     * Clears the blocks that lie wholly inside {@code [offset, offset + length)}; a range that
     * reaches the end of the device also clears its partial last block. Returns how many blocks
     * were newly cleared.
     */
    public long clearRange(long offset, long length) {
        checkRange(offset, length);
        long first = (offset + BLOCK_SIZE - 1) >>> BLOCK_SHIFT;
        long end = offset + length == deviceSize ? blocks : (offset + length) >>> BLOCK_SHIFT;
        return first < end ? update(first, end, false) : 0;
    }

    /** Sets blocks {@code [first, end)}; returns how many were newly set. */
    public long setBlocks(long first, long end) {
        checkBlocks(first, end);
        return first < end ? update(first, end, true) : 0;
    }

    /** Clears blocks {@code [first, end)}; returns how many were newly cleared. */
    public long clearBlocks(long first, long end) {
        checkBlocks(first, end);
        return first < end ? update(first, end, false) : 0;
    }

    public boolean isSet(long block) {
        checkBlock(block);
        return (words.get((int) (block >>> SHIFT)) & (1L << block)) != 0;
    }

    /** Blocks set, kept as a counter: exact whenever no update is in progress. */
    public long cardinality() {
        return cardinality.sum();
    }

    /** Bytes of the device marked out of sync: set blocks times 4 KiB, the partial last block counted as it is. */
    public long dirtyBytes() {
        long bytes = cardinality() * BLOCK_SIZE;
        long tail = blocks * BLOCK_SIZE - deviceSize;
        if (tail != 0 && isSet(blocks - 1)) {
            bytes -= tail;
        }
        return bytes;
    }

    /** The first set block at or after {@code fromBlock}, or -1 if there is none. */
    public long nextSetBlock(long fromBlock) {
        return next(fromBlock, true);
    }

    /** The first clear block at or after {@code fromBlock}, or -1 if there is none. */
    public long nextClearBlock(long fromBlock) {
        return next(fromBlock, false);
    }

    /** Pages changed since they were last written. */
    public int dirtyPages() {
        int count = 0;
        for (int i = 0; i < dirtyPages.length(); i++) {
            count += Long.bitCount(dirtyPages.get(i));
        }
        return count;
    }

    private long next(long fromBlock, boolean set) {
        if (fromBlock < 0) {
            throw new IllegalArgumentException("block " + fromBlock + " is negative");
        }
        if (fromBlock >= blocks) {
            return -1;
        }
        int w = (int) (fromBlock >>> SHIFT);
        long word = set ? words.get(w) : ~words.get(w);
        word &= -1L << fromBlock;
        int last = (int) ((blocks - 1) >>> SHIFT);
        while (true) {
            if (word != 0) {
                long block = ((long) w << SHIFT) + Long.numberOfTrailingZeros(word);
                return block < blocks ? block : -1;
            }
            if (++w > last) {
                return -1;
            }
            word = set ? words.get(w) : ~words.get(w);
        }
    }

    private long update(long first, long end, boolean set) {
        int firstWord = (int) (first >>> SHIFT);
        int lastWord = (int) ((end - 1) >>> SHIFT);
        long changed = 0;
        int lastMarked = -1;
        for (int w = firstWord; w <= lastWord; w++) {
            long mask = -1L;
            if (w == firstWord) {
                mask &= -1L << first;
            }
            if (w == lastWord) {
                mask &= -1L >>> (63 - ((end - 1) & 63));
            }
            int n = set ? or(w, mask) : andNot(w, mask);
            if (n != 0) {
                changed += n;
                int page = w / WORDS_PER_PAGE;
                if (page != lastMarked) {
                    markDirty(page);
                    lastMarked = page;
                }
            }
        }
        if (changed != 0) {
            cardinality.add(set ? changed : -changed);
        }
        return changed;
    }

    private int or(int w, long mask) {
        while (true) {
            long old = words.get(w);
            long now = old | mask;
            if (now == old) {
                return 0;
            }
            if (words.compareAndSet(w, old, now)) {
                return Long.bitCount(now) - Long.bitCount(old);
            }
        }
    }

    private int andNot(int w, long mask) {
        while (true) {
            long old = words.get(w);
            long now = old & ~mask;
            if (now == old) {
                return 0;
            }
            if (words.compareAndSet(w, old, now)) {
                return Long.bitCount(old) - Long.bitCount(now);
            }
        }
    }

    private void markDirty(int page) {
        int i = page >>> SHIFT;
        long bit = 1L << page;
        while (true) {
            long old = dirtyPages.get(i);
            if ((old & bit) != 0 || dirtyPages.compareAndSet(i, old, old | bit)) {
                return;
            }
        }
    }

    /** The first dirty page at or after {@code from}, or -1. */
    int nextDirtyPage(int from) {
        for (int i = from >>> SHIFT; i < dirtyPages.length(); i++) {
            long word = dirtyPages.get(i);
            if (i == from >>> SHIFT) {
                word &= -1L << from;
            }
            if (word != 0) {
                return (i << SHIFT) + Long.numberOfTrailingZeros(word);
            }
        }
        return -1;
    }

    /** Clears the dirty mark of {@code page}; call before copying it out. */
    void clearDirty(int page) {
        int i = page >>> SHIFT;
        long bit = 1L << page;
        while (true) {
            long old = dirtyPages.get(i);
            if ((old & bit) == 0 || dirtyPages.compareAndSet(i, old, old & ~bit)) {
                return;
            }
        }
    }

    /** Copies page {@code page} into {@code dst} at its position, as big-endian words; advances it 4 KiB. */
    void copyPage(int page, ByteBuffer dst) {
        int base = page * WORDS_PER_PAGE;
        for (int i = 0; i < WORDS_PER_PAGE; i++) {
            dst.putLong(words.get(base + i));
        }
    }

    /**
     * Loads page {@code page} from {@code src} (big-endian words, 4 KiB from its position). Returns
     * null, or why the page is not a valid page of this bitmap (bits set past the last block).
     */
    String loadPage(int page, ByteBuffer src) {
        int base = page * WORDS_PER_PAGE;
        long set = 0;
        for (int i = 0; i < WORDS_PER_PAGE; i++) {
            long word = src.getLong();
            long firstBlock = (long) (base + i) << SHIFT;
            long valid = firstBlock >= blocks ? 0 : blocks - firstBlock >= 64 ? -1L : (1L << (blocks - firstBlock)) - 1;
            if ((word & ~valid) != 0) {
                long bad = firstBlock + Long.numberOfTrailingZeros(word & ~valid);
                return "block " + bad + " is set but the device has only " + blocks + " blocks";
            }
            words.set(base + i, word);
            set += Long.bitCount(word);
        }
        cardinality.add(set);
        return null;
    }

    private void checkRange(long offset, long length) {
        if (offset < 0 || length < 0 || offset > deviceSize - length) {
            throw new IllegalArgumentException("range " + offset + "+" + length + " is outside the device (0+"
                    + deviceSize + ")");
        }
    }

    private void checkBlocks(long first, long end) {
        if (first < 0 || end < first || end > blocks) {
            throw new IllegalArgumentException("blocks [" + first + ", " + end + ") outside [0, " + blocks + ")");
        }
    }

    private void checkBlock(long block) {
        if (block < 0 || block >= blocks) {
            throw new IllegalArgumentException("block " + block + " outside [0, " + blocks + ")");
        }
    }
}
