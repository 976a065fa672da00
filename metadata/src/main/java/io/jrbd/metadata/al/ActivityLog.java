package io.jrbd.metadata.al;

import static io.jrbd.metadata.al.ActivityLogLayout.EXTENT_SHIFT;
import static io.jrbd.metadata.al.ActivityLogLayout.EXTENT_SIZE;
import static io.jrbd.metadata.al.ActivityLogLayout.MAX_EXTENTS;
import static io.jrbd.metadata.al.ActivityLogLayout.SLOT_SIZE;

import io.jrbd.metadata.al.TransactionCodec.Slot;
import io.jrbd.metadata.md.Bitmap;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Objects;

/**
 * The activity log: the set of hot 4 MiB extents of the device, those whose blocks may be
 * written on one node and not the other when the Primary crashes. A write may only be issued
 * (locally and to the peer) once {@link #activate} has made every extent it touches hot; after
 * a Primary crash, {@link #markHotInBitmap} marks those extents out of sync and only they are
 * resynced. Writes to hot extents cost no metadata I/O; a write to a cold extent costs one
 * transaction (pwrite + fdatasync of a snapshot of the whole set, see {@link ActivityLogLayout}).
 *
 * <p>The set is kept in least-recently-used order, each extent with the sequence number of its
 * last writer. To make room, the least recently used extents whose last writer is settled
 * ({@code seq <= settledSeq}: durable on the peer, or counted in the persisted bitmap) are
 * evicted, never one with a write that may still be in flight; the {@link EvictionHook} runs
 * before any transaction that evicts. The set holds at most {@link #capacity()} extents (or
 * the extents of the one range being activated, if more): a smaller capacity set at run time,
 * or a larger set found on disk, shrinks as cold extents come in.
 *
 * <p>Threads: one owner thread (the sequencer) calls everything that changes the set, and
 * {@link #lruOrder()}, {@link #isHot} and {@link #markHotInBitmap}. {@link #hotExtents()},
 * {@link #lastTransaction()}, {@link #slot}, {@link #capacity()} and the counters may be read on
 * any thread: they are published (volatile) after each transaction is durable.
 *
 * <p>Sticky failure: once a transaction fails to be written, every later {@link #activate} and
 * {@link #reset} throws, naming the first failure (the set in memory may then hold an extent
 * that is not on disk, and no write may rely on it).
 */
public final class ActivityLog {
    /** What {@link #activate} did. */
    public enum Activation {
        /** Every extent was hot already: no metadata I/O. */
        ALREADY_HOT,
        /** A transaction naming the new extents was written and is durable. */
        ACTIVATED,
        /**
         * Nothing changed: making room needs evicting an extent whose last write is not settled.
         * Call again, with the same arguments, once {@code settledSeq} has reached
         * {@link #blockedUntilSeq()}.
         */
        NO_EVICTABLE_EXTENT
    }

    /**
     * The last writer of an extent found on disk at open: settled as soon as any write is
     * ({@code settledSeq >= 0}). Sequence numbers of real writes start at 1.
     */
    public static final long LOADED_SEQ = 0;

    private final long deviceSize;
    private final int deviceExtents;
    private final TransactionSink sink;
    private final ExtentLru lru = new ExtentLru(MAX_EXTENTS);
    /** Nodes chosen for eviction, then the extents of a transaction. */
    private final int[] nodes = new int[MAX_EXTENTS];
    private final int[] extents = new int[MAX_EXTENTS];
    private final ByteBuffer buffer = ByteBuffer.allocateDirect(SLOT_SIZE);
    private EvictionHook hook = EvictionHook.NONE;
    private long number;
    private long blockedUntilSeq = Long.MAX_VALUE;
    private IOException failure;

    private volatile int capacity = ActivityLogLayout.DEFAULT_EXTENTS;
    private volatile Transaction last;
    /** Replaced whole, never changed in place. */
    private volatile Slot[] slots;
    private volatile long transactionsWritten;
    private volatile long evictions;
    private volatile long waits;

    /** An empty activity log for a device of {@code deviceSize} bytes; transactions go to {@code sink}. */
    public ActivityLog(long deviceSize, TransactionSink sink) {
        this(deviceSize, ActivityLogRecovery.recover(ByteBuffer.allocate(ActivityLogLayout.REGION_SIZE),
                ActivityLogLayout.extents(deviceSize), 0), sink);
    }

    /**
     * The activity log as {@code recovered} from disk: its extents are hot, in their order,
     * with {@link #LOADED_SEQ} as last writer, and the next transaction follows its number.
     */
    public ActivityLog(long deviceSize, ActivityLogRecovery.Result recovered, TransactionSink sink) {
        if (deviceSize <= 0) {
            throw new IllegalArgumentException("device size " + deviceSize + " <= 0");
        }
        if (!recovered.usable()) {
            throw new IllegalArgumentException("activity log: " + recovered.problem());
        }
        this.deviceSize = deviceSize;
        this.deviceExtents = ActivityLogLayout.extents(deviceSize);
        this.sink = Objects.requireNonNull(sink, "sink");
        slots = recovered.slots();
        Transaction t = recovered.newest();
        if (t != null) {
            for (int e : t.extents()) {
                if (e >= deviceExtents) {
                    throw new IllegalArgumentException("extent " + e + " is past the device's last extent "
                            + (deviceExtents - 1));
                }
                lru.add(e, LOADED_SEQ);
            }
            number = t.number();
        }
        last = t;
    }

    /** Throws, naming the value and both limits, unless {@code alExtents} is allowed. */
    public static void checkCapacity(int alExtents) {
        ActivityLogLayout.checkCapacity(alExtents);
    }

    /**
     * Sets {@code al-extents}, the number of hot extents kept; allowed at any time. No I/O: a
     * set larger than the new capacity shrinks as cold extents come in.
     */
    public void setCapacity(int alExtents) {
        checkCapacity(alExtents);
        capacity = alExtents;
    }

    public int capacity() {
        return capacity;
    }

    /** Replaces the hook run before every transaction that evicts (owner thread). */
    public void onEviction(EvictionHook evictionHook) {
        hook = Objects.requireNonNull(evictionHook, "evictionHook");
    }

    /**
     * Makes every extent {@code [offset, offset + length)} touches hot, with {@code seq} as its
     * last writer; durable when this returns {@link Activation#ACTIVATED}. To make room, evicts
     * least recently used extents whose last writer is at most {@code settledSeq}, calling the
     * {@link EvictionHook} first. Returns {@link Activation#NO_EVICTABLE_EXTENT}, having changed
     * nothing, when too few can be evicted. Allocates nothing unless it writes a transaction.
     *
     * @throws IllegalArgumentException when the range is outside the device or touches more
     *                                  than {@link ActivityLogLayout#MAX_EXTENTS} extents (split it)
     * @throws IOException              when the hook or the transaction write fails; after the
     *                                  latter every later call fails too
     */
    public Activation activate(long offset, long length, long seq, long settledSeq) throws IOException {
        checkUsable();
        if (offset < 0 || length < 0 || offset > deviceSize - length) {
            throw new IllegalArgumentException("range " + offset + "+" + length + " is outside the " + deviceSize
                    + "-byte device");
        }
        if (length == 0) {
            return Activation.ALREADY_HOT;
        }
        int first = ActivityLogLayout.extentOf(offset);
        int lastExtent = ActivityLogLayout.extentOf(offset + length - 1);
        int touched = lastExtent - first + 1;
        if (touched > MAX_EXTENTS) {
            throw new IllegalArgumentException("range " + offset + "+" + length + " touches " + touched
                    + " extents; one activity log transaction holds at most " + MAX_EXTENTS + ": split it");
        }
        int cold = 0;
        for (int e = first; e <= lastExtent; e++) {
            if (lru.find(e) == ExtentLru.NIL) {
                cold++;
            }
        }
        if (cold == 0) {
            for (int e = first; e <= lastExtent; e++) {
                touch(lru.find(e), seq);
            }
            return Activation.ALREADY_HOT;
        }
        int need = lru.size() + cold - Math.max(capacity, touched);
        int victims = 0;
        if (need > 0) {
            long blocked = Long.MAX_VALUE;
            for (int n = lru.oldest(); n != ExtentLru.NIL && victims < need; n = lru.newer(n)) {
                int e = lru.extent(n);
                if (e >= first && e <= lastExtent) {
                    continue;
                }
                if (lru.seq(n) <= settledSeq) {
                    nodes[victims++] = n;
                } else {
                    blocked = Math.min(blocked, lru.seq(n));
                }
            }
            if (victims < need) {
                blockedUntilSeq = blocked;
                waits++;
                return Activation.NO_EVICTABLE_EXTENT;
            }
            for (int i = 0; i < victims; i++) {
                extents[i] = lru.extent(nodes[i]);
            }
            hook.beforeEviction(extents, victims);
            for (int i = 0; i < victims; i++) {
                lru.remove(nodes[i]);
            }
            evictions += victims;
        }
        for (int e = first; e <= lastExtent; e++) {
            int n = lru.find(e);
            if (n == ExtentLru.NIL) {
                lru.add(e, seq);
            } else {
                touch(n, seq);
            }
        }
        blockedUntilSeq = Long.MAX_VALUE;
        writeTransaction();
        return Activation.ACTIVATED;
    }

    private void touch(int node, long seq) {
        lru.touch(node, Math.max(seq, lru.seq(node)));
    }

    /**
     * After {@link Activation#NO_EVICTABLE_EXTENT}: the lowest last-writer sequence among the
     * extents that could make room; nothing can be evicted before {@code settledSeq} reaches it.
     * {@link Long#MAX_VALUE} otherwise.
     */
    public long blockedUntilSeq() {
        return blockedUntilSeq;
    }

    /**
     * Empties the log with one transaction (after a clean stop, or when a resync has completed
     * and no write is in flight), calling the {@link EvictionHook} with every extent first.
     * Returns false, with no I/O, when it is empty already.
     */
    public boolean reset() throws IOException {
        checkUsable();
        if (lru.size() == 0) {
            return false;
        }
        int count = 0;
        for (int n = lru.oldest(); n != ExtentLru.NIL; n = lru.newer(n)) {
            extents[count++] = lru.extent(n);
        }
        hook.beforeEviction(extents, count);
        lru.clear();
        evictions += count;
        writeTransaction();
        return true;
    }

    private void writeTransaction() throws IOException {
        int count = 0;
        for (int n = lru.oldest(); n != ExtentLru.NIL; n = lru.newer(n)) {
            extents[count++] = lru.extent(n);
        }
        long next = number + 1;
        int slot = ActivityLogLayout.slotOf(next);
        TransactionCodec.encode(buffer, next, capacity, extents, count);
        try {
            sink.writeAndSync(buffer, ActivityLogLayout.slotOffset(slot));
        } catch (IOException | RuntimeException e) {
            failure = e instanceof IOException io ? io : new IOException(e.getMessage(), e);
            throw e;
        }
        Transaction t = new Transaction(next, capacity, Arrays.copyOf(extents, count));
        number = next;
        Slot[] updated = slots.clone();
        updated[slot] = Slot.valid(t);
        slots = updated;
        last = t;
        transactionsWritten++;
    }

    private void checkUsable() throws IOException {
        IOException first = failure;
        if (first != null) {
            throw new IOException("activity log: transaction " + Long.toUnsignedString(number + 1)
                    + " failed to be written (" + first.getMessage() + "); nothing more is written", first);
        }
    }

    /**
     * Sets the bitmap bits of every block of every hot extent (the last extent cut at the end
     * of the device); returns how many were newly set. At attach after a Primary crash: the
     * blocks that may differ from the peer (owner thread).
     */
    public long markHotInBitmap(Bitmap bitmap) {
        if (bitmap.deviceSize() != deviceSize) {
            throw new IllegalArgumentException("bitmap of a " + bitmap.deviceSize() + "-byte device, the activity log's"
                    + " is " + deviceSize);
        }
        long set = 0;
        for (int n = lru.oldest(); n != ExtentLru.NIL; n = lru.newer(n)) {
            long start = (long) lru.extent(n) << EXTENT_SHIFT;
            set += bitmap.setRange(start, Math.min(EXTENT_SIZE, deviceSize - start));
        }
        return set;
    }

    /** Whether extent {@code extent} is hot (owner thread). */
    public boolean isHot(int extent) {
        return lru.find(extent) != ExtentLru.NIL;
    }

    /** The hot extents, least recently used first (owner thread). */
    public int[] lruOrder() {
        int[] order = new int[lru.size()];
        int i = 0;
        for (int n = lru.oldest(); n != ExtentLru.NIL; n = lru.newer(n)) {
            order[i++] = lru.extent(n);
        }
        return order;
    }

    /** The last writer recorded for a hot extent, or -1 when it is not hot (owner thread). */
    long lastSeq(int extent) {
        int n = lru.find(extent);
        return n == ExtentLru.NIL ? -1 : lru.seq(n);
    }

    /** The hot extents as the last transaction has them, ascending (any thread). */
    public int[] hotExtents() {
        Transaction t = last;
        if (t == null) {
            return new int[0];
        }
        int[] sorted = t.extents();
        Arrays.sort(sorted);
        return sorted;
    }

    /** The newest durable transaction, or null when none was ever written (any thread). */
    public Transaction lastTransaction() {
        return last;
    }

    /** The newest transaction's number, 0 when none (any thread). */
    public long transactionNumber() {
        Transaction t = last;
        return t == null ? 0 : t.number();
    }

    /** Slot {@code slot} (0 or 1) as it was read at open or last written (any thread). */
    public Slot slot(int slot) {
        return slots[slot];
    }

    /** Transactions written since open: metadata writes caused by the activity log. */
    public long transactionsWritten() {
        return transactionsWritten;
    }

    /** Extents evicted since open. */
    public long evictions() {
        return evictions;
    }

    /** {@link Activation#NO_EVICTABLE_EXTENT} answers since open. */
    public long waits() {
        return waits;
    }

    public long deviceSize() {
        return deviceSize;
    }
}
