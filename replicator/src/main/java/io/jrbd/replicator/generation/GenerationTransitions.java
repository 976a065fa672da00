package io.jrbd.replicator.generation;

import java.util.function.LongSupplier;

/**
 * How a node's generations change (DESIGN.md section 5; drbd-notes.md section 4 "When UUIDs
 * change"), as pure functions: each takes the generations as they are and returns them as they
 * must be stored. The caller writes the result to the superblock (and syncs it) before the
 * event it guards goes ahead: before the first write, before the first resync block, before
 * reporting the resync finished.
 *
 * <p>The life of a resync, for source S and target T, is:
 * <pre>
 *   S: s1 = onResyncStart(s0, random)        T: t1 = onSyncGenerationReceived(t0, s1.bitmap())
 *      ... resync ...
 *   S: s2 = onResyncEndAsSource(s1)           T: t2 = onResyncEndAsTarget(t1, s0)   (t2 == s2)
 * </pre>
 * If it is interrupted, the next connect finds {@code t1.current() == s1.bitmap()} (rule 50/70)
 * and resumes from the bitmap; see {@link GenerationRules} for the cases where one message was
 * lost (rules 34/35 and 51/71).
 */
public final class GenerationTransitions {
    private static final int MAX_DRAWS = 64;

    private GenerationTransitions() {
    }

    /**
     * The first write of a Primary that has no UpToDate peer connected (after promotion while
     * disconnected, or after losing the peer): a new data generation, made lazily at the first
     * write as DRBD 9 does, so a promotion without writes never causes a split brain.
     *
     * <p>If the bitmap generation is 0, the old current moves into it: the bitmap now counts
     * the changes since the generation the peer holds (DRBD's {@code drbd_uuid_new_current} /
     * {@code rotate_current_into_bitmap}). If it is already set (the bitmap already tracks an
     * older split), it stays, and the old current goes to the front of the history; DRBD 8.4
     * drops the old current in that case, jrbd keeps it so a later connect can still find it
     * (rules 60/80/100). The history is otherwise unchanged.
     *
     * @param random the source of new generations; a value that is 0 or already in the tuple
     *               is drawn again
     */
    public static Generations onFirstWriteWithoutPeer(Generations g, LongSupplier random) {
        return newCurrent(g, random);
    }

    /**
     * {@code primary --force}: DRBD 8.4 always makes a new current generation at a forced
     * promotion, immediately rather than at the first write, so that a just-created or
     * Inconsistent node that is forced becomes a source (rule 30/80/70 on the next connect)
     * instead of staying "just created". Same rotation as {@link #onFirstWriteWithoutPeer};
     * from just-created metadata the bitmap stays 0 (there is nothing to track against). The
     * caller also makes the disk UpToDate; the first write after a forced promotion needs no
     * further new generation.
     */
    public static Generations onPromoteForce(Generations g, LongSupplier random) {
        return newCurrent(g, random);
    }

    private static Generations newCurrent(Generations g, LongSupplier random) {
        long fresh = fresh(g, random);
        if (g.bitmap() == 0) {
            return new Generations(fresh, g.current(), g.history());
        }
        return new Generations(fresh, g.bitmap(), g.historyPushed(g.current()));
    }

    /**
     * The SyncSource at resync start, before the first block ("the source records the generation
     * it syncs"), DRBD 8.4's {@code drbd_gen_and_send_sync_uuid}: the bitmap generation moves
     * into history and a <em>sync generation</em> takes its place: the old bitmap generation
     * plus {@link GenerationRules#SYNC_GENERATION_OFFSET} (so rule 51/71 can recognise it), or a
     * new random one if the bitmap generation was 0 (a full sync, or an AL resync after a
     * crash). The source sends it to the target ({@link #onSyncGenerationReceived}). Thus an
     * interrupted resync resumes bitmap-based by rule 50/70, and an interrupted AL or full
     * resync no longer depends on the crashed-primary flag or on the target being Inconsistent.
     */
    public static Generations onResyncStart(Generations source, LongSupplier random) {
        long sync = source.bitmap() + GenerationRules.SYNC_GENERATION_OFFSET;
        if (source.bitmap() == 0 || sync == 0 || source.holds(sync)) {
            sync = fresh(source, random);
        }
        return new Generations(source.current(), sync, source.historyPushed(source.bitmap()));
    }

    /**
     * The SyncTarget on receiving the sync generation (DRBD's {@code P_SYNC_UUID}): it becomes
     * the target's current generation and the bitmap generation clears; the history is kept.
     * From here until the end the target's data is "on its way to" the source's.
     */
    public static Generations onSyncGenerationReceived(Generations target, long syncGeneration) {
        if (syncGeneration == 0) {
            throw new IllegalArgumentException("sync generation 0");
        }
        return new Generations(syncGeneration, 0, target.history());
    }

    /**
     * The SyncSource when the resync has finished (DRBD's {@code drbd_resync_finished}): the
     * bitmap generation (the sync generation) moves into history and the bitmap generation
     * clears; the current stays. Also rule 34's repair of a source that missed this event.
     */
    public static Generations onResyncEndAsSource(Generations source) {
        return new Generations(source.current(), 0, source.historyPushed(source.bitmap()));
    }

    /**
     * The SyncTarget when the resync has finished (DRBD 8.4's {@code drbd_resync_finished} on the
     * target): it takes the source's bitmap and history <em>as the source sent them at connect</em>
     * ({@code sourceAtConnect}, before {@link #onResyncStart}), then its own current (the sync
     * generation) goes through the bitmap slot into history, and it takes the source's current.
     * The result equals the source's {@link #onResyncEndAsSource}: both nodes end with the same
     * generations, so the next connect says IN_SYNC (rule 40). The caller also makes the disk
     * UpToDate and clears the bitmap; the source clears its crashed-primary flag.
     */
    public static Generations onResyncEndAsTarget(Generations target, Generations sourceAtConnect) {
        long bitmap = sourceAtConnect.bitmap();
        Generations g = new Generations(target.current(), bitmap, sourceAtConnect.history());
        long[] history = g.historyPushed(bitmap); // DRBD's drbd_uuid_set(UI_BITMAP, current)
        g = new Generations(sourceAtConnect.current(), target.current(), history);
        return onResyncEndAsSource(g); // drbd_uuid_set_bm(0)
    }

    /**
     * Rule 71's repair (DRBD's "Last syncUUID did not get through, corrected"): the source
     * started a resync whose sync generation never reached the target, so it undoes
     * {@link #onResyncStart}: the newest history goes back into the bitmap slot and the history
     * moves up (the oldest slot becomes 0).
     */
    public static Generations onSyncGenerationLost(Generations source) {
        long[] h = source.history();
        long bitmap = h[0];
        System.arraycopy(h, 1, h, 0, h.length - 1);
        h[h.length - 1] = 0;
        return new Generations(source.current(), bitmap, h);
    }

    /** A new generation: non-zero and not already in {@code g}. */
    private static long fresh(Generations g, LongSupplier random) {
        for (int i = 0; i < MAX_DRAWS; i++) {
            long v = random.getAsLong();
            if (v != 0 && !g.holds(v)) {
                return v;
            }
        }
        throw new IllegalStateException(MAX_DRAWS + " draws gave no new generation (0 or already in " + g + ")");
    }
}
