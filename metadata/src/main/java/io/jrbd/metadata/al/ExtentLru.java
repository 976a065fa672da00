package io.jrbd.metadata.al;

import java.util.Arrays;

/**
 * The hot extents in least-recently-used order, each with the sequence number of its last
 * writer: a doubly linked list threaded through arrays, indexed by an open-addressing hash
 * table (linear probing, deletion by backward shift). Nothing is allocated after construction;
 * one thread owns it.
 *
 * <pre>
 *   oldest()                                               newest()
 *     [e=12 seq=40] &lt;-&gt; [e=3 seq=77] &lt;-&gt; ... &lt;-&gt; [e=9 seq=1203]
 *            touch(node, seq) moves a node to the newest end
 * </pre>
 */
final class ExtentLru {
    static final int NIL = -1;

    private final int[] extent;
    private final long[] seq;
    private final int[] prev;
    private final int[] next;
    /** Node index + 1 per bucket; 0 is an empty bucket. */
    private final int[] table;
    private final int mask;
    private final int shift;
    private int oldest = NIL;
    private int newest = NIL;
    private int freeHead;
    private int size;

    ExtentLru(int maxNodes) {
        extent = new int[maxNodes];
        seq = new long[maxNodes];
        prev = new int[maxNodes];
        next = new int[maxNodes];
        int buckets = Integer.highestOneBit(Math.max(2, maxNodes) * 2 - 1) << 1; // load factor at most 1/2
        table = new int[buckets];
        mask = buckets - 1;
        shift = Integer.SIZE - Integer.numberOfTrailingZeros(buckets);
        clear();
    }

    void clear() {
        Arrays.fill(table, 0);
        for (int i = 0; i < next.length; i++) {
            next[i] = i + 1 < next.length ? i + 1 : NIL;
        }
        freeHead = next.length == 0 ? NIL : 0;
        oldest = NIL;
        newest = NIL;
        size = 0;
    }

    int size() {
        return size;
    }

    int maxNodes() {
        return extent.length;
    }

    int oldest() {
        return oldest;
    }

    int newest() {
        return newest;
    }

    /** The node after {@code node} towards the newest end, or {@link #NIL}. */
    int newer(int node) {
        return next[node];
    }

    int extent(int node) {
        return extent[node];
    }

    long seq(int node) {
        return seq[node];
    }

    /** The node of extent {@code e}, or {@link #NIL} when it is not here. */
    int find(int e) {
        for (int b = bucket(e); ; b = (b + 1) & mask) {
            int n = table[b] - 1;
            if (n == NIL || extent[n] == e) {
                return n;
            }
        }
    }

    /** Adds extent {@code e} (not here yet) at the newest end; returns its node. */
    int add(int e, long lastSeq) {
        if (freeHead == NIL) {
            throw new IllegalStateException("activity log full: " + size + " extents");
        }
        int n = freeHead;
        freeHead = next[n];
        extent[n] = e;
        seq[n] = lastSeq;
        link(n);
        int b = bucket(e);
        while (table[b] != 0) {
            b = (b + 1) & mask;
        }
        table[b] = n + 1;
        size++;
        return n;
    }

    /** Moves {@code node} to the newest end with {@code lastSeq} as its last writer. */
    void touch(int node, long lastSeq) {
        seq[node] = lastSeq;
        if (node != newest) {
            unlink(node);
            link(node);
        }
    }

    void remove(int node) {
        unlink(node);
        // Backward-shift deletion: pull later members of the probe run into the hole.
        int hole = bucket(extent[node]);
        while (table[hole] - 1 != node) {
            hole = (hole + 1) & mask;
        }
        for (int b = (hole + 1) & mask; table[b] != 0; b = (b + 1) & mask) {
            int home = bucket(extent[table[b] - 1]);
            // Move the entry at b into the hole unless its home lies cyclically in (hole, b].
            boolean homeBetween = hole <= b ? home > hole && home <= b : home > hole || home <= b;
            if (!homeBetween) {
                table[hole] = table[b];
                hole = b;
            }
        }
        table[hole] = 0;
        next[node] = freeHead;
        freeHead = node;
        size--;
    }

    private void link(int n) {
        prev[n] = newest;
        next[n] = NIL;
        if (newest != NIL) {
            next[newest] = n;
        } else {
            oldest = n;
        }
        newest = n;
    }

    private void unlink(int n) {
        int p = prev[n];
        int q = next[n];
        if (p != NIL) {
            next[p] = q;
        } else {
            oldest = q;
        }
        if (q != NIL) {
            prev[q] = p;
        } else {
            newest = p;
        }
    }

    private int bucket(int e) {
        return (e * 0x9E3779B9) >>> shift; // Fibonacci hashing: the product's top bits
    }
}
