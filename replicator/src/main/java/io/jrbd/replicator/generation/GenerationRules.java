package io.jrbd.replicator.generation;

import static io.jrbd.replicator.generation.SyncDecision.BITMAP_SOURCE;
import static io.jrbd.replicator.generation.SyncDecision.BITMAP_TARGET;
import static io.jrbd.replicator.generation.SyncDecision.BOTH_JUST_CREATED;
import static io.jrbd.replicator.generation.SyncDecision.FULL_SOURCE;
import static io.jrbd.replicator.generation.SyncDecision.FULL_TARGET;
import static io.jrbd.replicator.generation.SyncDecision.IN_SYNC;
import static io.jrbd.replicator.generation.SyncDecision.IN_SYNC_AFTER_PRIMARY_CRASH_SOURCE;
import static io.jrbd.replicator.generation.SyncDecision.IN_SYNC_AFTER_PRIMARY_CRASH_TARGET;
import static io.jrbd.replicator.generation.SyncDecision.NO_CONSISTENT_SOURCE;
import static io.jrbd.replicator.generation.SyncDecision.REFUSED_PEER_PRIMARY_WOULD_BECOME_TARGET;
import static io.jrbd.replicator.generation.SyncDecision.REFUSED_PRIMARY_WOULD_BECOME_TARGET;
import static io.jrbd.replicator.generation.SyncDecision.SPLIT_BRAIN;
import static io.jrbd.replicator.generation.SyncDecision.SPLIT_BRAIN_UNRECOVERABLE;
import static io.jrbd.replicator.generation.SyncDecision.UNRELATED;

import io.jrbd.metadata.md.Superblock;

/**
 * The connect-time decision (DESIGN.md section 5; drbd-notes.md section 4): DRBD's
 * {@code drbd_uuid_compare} followed by the post-processing of {@code drbd_sync_handshake},
 * as one pure function. Both nodes run it, each with itself as {@code me}; they agree:
 * {@code decide(b, a)} is always {@code decide(a, b).mirror()}.
 *
 * <h2>The table (first match wins)</h2>
 * <pre>
 *  10 just-created-both   both currents 0                         -> BOTH_JUST_CREATED (no source)
 *  20 just-created-self   my current 0                            -> FULL_TARGET
 *  30 just-created-peer   peer's current 0                        -> FULL_SOURCE
 *     same current:
 *  34 / 36                my bitmap set, peer's clear             -> BITMAP_SOURCE (34: peer's history
 *                                                                    shows it finished: repair mine)
 *  35 / 37                the mirror                              -> BITMAP_TARGET
 *  40 reconnected         no crashed Primary                      -> IN_SYNC
 *  41                     a crashed Primary, someone Primary now  -> the Primary is source (AL resync);
 *                                                                    both Primary: SPLIT_BRAIN_UNRECOVERABLE
 *  40 crashed-primary     a crashed Primary, both Secondary       -> the crashed one is source (AL
 *                                                                    resync); both crashed: tie-break
 *     different currents ("newer" = descends from the other's current):
 *  50 bitmap-peer         my current == peer's bitmap             -> BITMAP_TARGET
 *  51                     my current == peer's history[0], peer's
 *                         bitmap == that + SYNC_GENERATION_OFFSET -> BITMAP_TARGET
 *  60 history-peer        my current in peer's history            -> FULL_TARGET
 *  70 / 71 / 80           the mirrors of 50 / 51 / 60             -> BITMAP_SOURCE / BITMAP_SOURCE / FULL_SOURCE
 *  95 conflicting-ancestry (jrbd) one of 50-60 AND one of 70-80     -> SPLIT_BRAIN_UNRECOVERABLE
 *  90 bitmap-both         both bitmaps equal, non-zero            -> SPLIT_BRAIN
 * 100 history-both        a common non-zero ancestor (bitmap or
 *                         history generation of each side)        -> SPLIT_BRAIN_UNRECOVERABLE
 * 100 unrelated-data      nothing in common                       -> UNRELATED
 * </pre>
 *
 * <h2>Post-processing, in this order ({@code drbd_sync_handshake})</h2>
 * <ol>
 * <li>UNRELATED and BOTH_JUST_CREATED stand.
 * <li>Both disks Inconsistent: NO_CONSISTENT_SOURCE (DRBD: "I shall become SyncSource, but I am
 *     inconsistent!"); nothing moves until {@code primary --force}.
 * <li>Exactly one disk Inconsistent: it is SyncTarget of the other, full if the table said
 *     full or split brain, bitmap-based otherwise. An outcome already in that direction is
 *     kept as it is (e.g. an AL resync stays one).
 * <li>Split brain and exactly one side connected with {@code --discard-my-data}: that side is
 *     target; bitmap-based for rule 90 (the bitmaps share a parent), full otherwise. Both or
 *     neither: the split brain stands. (The automatic {@code after-sb-*} policies are not
 *     applied here; in DRBD they run just before this step.)
 * <li>A consistent Primary that would become SyncTarget: REFUSED_PRIMARY_WOULD_BECOME_TARGET
 *     (on the peer: REFUSED_PEER_PRIMARY_WOULD_BECOME_TARGET), DRBD's {@code rr-conflict
 *     disconnect}: "I shall become SyncTarget, but I am primary!".
 * </ol>
 *
 * <p>Differences from DRBD, all chosen to keep the function symmetric or to err on the safe side:
 * no bit-0 masking (jrbd keeps "was primary" in a flag); DRBD checks rules 50-60 before 70-80,
 * so when both hold it silently picks "target", jrbd returns rule 95 instead; rule 100 also
 * counts the bitmap generations as ancestors (DRBD compares histories only); the both-crashed
 * tie-break uses node names (the name that sorts first is source) where DRBD uses
 * {@code RESOLVE_CONFLICTS}; a split brain turned into a resync by disk states is a full sync.
 */
public final class GenerationRules {

    /**
     * What a SyncSource adds to its bitmap generation when it starts a resync (DRBD's
     * {@code UUID_NEW_BM_OFFSET}); rule 51/71 recognise it.
     */
    public static final long SYNC_GENERATION_OFFSET = 0x0001_0000_0000_0000L;

    private GenerationRules() {
    }

    /**
     * The decision for connecting {@code me} to {@code peer}. Pure and deterministic.
     *
     * @throws IllegalArgumentException if the two nodes have the same name
     */
    public static Decision decide(NodeView me, NodeView peer) {
        if (me.name().equals(peer.name())) {
            throw new IllegalArgumentException("both nodes are named '" + me.name() + "'");
        }
        Table t = table(me, peer);
        return postProcess(me, peer, t);
    }

    /**
     * The generations {@code me} must store after {@code d}, before the resync starts: rule 34
     * (I missed "resync finished": my bitmap generation moves into history, as at the end of a
     * resync) and rule 71 (my last sync generation never reached the peer: undo its rotation).
     * Every other rule leaves them unchanged. DRBD makes these corrections inside the compare.
     */
    public static Generations repair(Decision d, Generations me) {
        return switch (d.rule()) {
            case SOURCE_MISSED_FINISH -> GenerationTransitions.onResyncEndAsSource(me);
            case SYNC_GENERATION_LOST_SELF -> GenerationTransitions.onSyncGenerationLost(me);
            default -> me;
        };
    }

    /**
     * The line to log at every connect (DESIGN.md section 5): both nodes' generations and
     * flags, and the rule that decided.
     */
    public static String logLine(String resource, NodeView me, NodeView peer, Decision d) {
        return resource + ": connect decision " + d.outcome() + " by " + d.rule()
                + (d.overridden() ? ", table said " + d.tableOutcome() : "") + "; self " + me.describe() + "; peer "
                + peer.describe() + "; " + d.why();
    }

    // ------------------------------------------------------------------ the table

    private record Table(SyncDecision outcome, Rule rule, String why) {
    }

    /** How {@code newer} descends from {@code older}'s current generation, if it does. */
    private enum Descent { BITMAP, SYNC_GENERATION_LOST, HISTORY }

    private static Table table(NodeView me, NodeView peer) {
        Generations m = me.generations();
        Generations p = peer.generations();
        String a = me.name();
        String b = peer.name();
        if (m.isJustCreated() && p.isJustCreated()) {
            return new Table(BOTH_JUST_CREATED, Rule.JUST_CREATED_BOTH, "both " + a + " and " + b
                    + " have just-created metadata (current generation 0): no resync, and no source until"
                    + " 'primary --force' on the node whose data is to be kept");
        }
        if (m.isJustCreated()) {
            return new Table(FULL_TARGET, Rule.JUST_CREATED_SELF, a + " has just-created metadata: full sync from " + b);
        }
        if (p.isJustCreated()) {
            return new Table(FULL_SOURCE, Rule.JUST_CREATED_PEER, b + " has just-created metadata: full sync from " + a);
        }
        if (m.current() == p.current()) {
            return sameCurrent(me, peer);
        }
        Descent peerNewer = descent(m, p);
        Descent meNewer = descent(p, m);
        if (peerNewer != null && meNewer != null) {
            return new Table(SPLIT_BRAIN_UNRECOVERABLE, Rule.CONFLICTING_ANCESTRY, a + " and " + b
                    + " each descend from the other's current generation (" + a + " " + peerNewer.name().toLowerCase()
                    + ", " + b + " " + meNewer.name().toLowerCase() + "): reused generations or damaged metadata;"
                    + " neither is overwritten");
        }
        if (peerNewer != null) {
            return switch (peerNewer) {
                case BITMAP -> new Table(BITMAP_TARGET, Rule.BITMAP_PEER, b + "'s bitmap counts its changes since "
                        + a + "'s current generation: bitmap resync from " + b + " to " + a);
                case SYNC_GENERATION_LOST -> new Table(BITMAP_TARGET, Rule.SYNC_GENERATION_LOST_PEER, b
                        + " started a resync to " + a + " whose sync generation never reached " + a
                        + ": " + b + " undoes it; bitmap resync from " + b + " to " + a);
                case HISTORY -> new Table(FULL_TARGET, Rule.HISTORY_PEER, a + "'s current generation is in " + b
                        + "'s history but no bitmap tracks the difference: full sync from " + b + " to " + a);
            };
        }
        if (meNewer != null) {
            return switch (meNewer) {
                case BITMAP -> new Table(BITMAP_SOURCE, Rule.BITMAP_SELF, a + "'s bitmap counts its changes since "
                        + b + "'s current generation: bitmap resync from " + a + " to " + b);
                case SYNC_GENERATION_LOST -> new Table(BITMAP_SOURCE, Rule.SYNC_GENERATION_LOST_SELF, a
                        + " started a resync to " + b + " whose sync generation never reached " + b
                        + ": " + a + " undoes it; bitmap resync from " + a + " to " + b);
                case HISTORY -> new Table(FULL_SOURCE, Rule.HISTORY_SELF, b + "'s current generation is in " + a
                        + "'s history but no bitmap tracks the difference: full sync from " + a + " to " + b);
            };
        }
        if (m.bitmap() != 0 && m.bitmap() == p.bitmap()) {
            return new Table(SPLIT_BRAIN, Rule.BITMAP_BOTH, "split brain: " + a + " and " + b
                    + " both moved on from generation " + Superblock.hex(m.bitmap())
                    + " and both bitmaps track their changes since");
        }
        long common = commonAncestor(m, p);
        if (common != 0) {
            return new Table(SPLIT_BRAIN_UNRECOVERABLE, Rule.HISTORY_BOTH, "split brain: " + a + " and " + b
                    + " share only an older generation (" + Superblock.hex(common)
                    + "); no bitmap tracks both sides' changes, so resolving it needs a full sync");
        }
        return new Table(UNRELATED, Rule.UNRELATED_DATA, "unrelated data: " + a + " and " + b
                + " have no generation in common; refusing to connect");
    }

    private static Table sameCurrent(NodeView me, NodeView peer) {
        Generations m = me.generations();
        Generations p = peer.generations();
        String a = me.name();
        String b = peer.name();
        if (m.bitmap() != 0 && p.bitmap() == 0) {
            return missedFinish(m, p)
                    ? new Table(BITMAP_SOURCE, Rule.SOURCE_MISSED_FINISH, a + " was SyncSource and missed the"
                            + " 'resync finished' that " + b + " recorded; " + a + " corrects its generations")
                    : new Table(BITMAP_SOURCE, Rule.SOURCE_BITMAP_SET, "same current generation, but " + a
                            + "'s bitmap still tracks changes (a resync from it did not finish): bitmap resync from "
                            + a + " to " + b);
        }
        if (m.bitmap() == 0 && p.bitmap() != 0) {
            return missedFinish(p, m)
                    ? new Table(BITMAP_TARGET, Rule.PEER_SOURCE_MISSED_FINISH, b + " was SyncSource and missed the"
                            + " 'resync finished' that " + a + " recorded; " + b + " corrects its generations")
                    : new Table(BITMAP_TARGET, Rule.PEER_SOURCE_BITMAP_SET, "same current generation, but " + b
                            + "'s bitmap still tracks changes (a resync from it did not finish): bitmap resync from "
                            + b + " to " + a);
        }
        if (!me.crashedPrimary() && !peer.crashedPrimary()) {
            return new Table(IN_SYNC, Rule.SAME_CURRENT, "same current generation and neither crashed as Primary: in sync");
        }
        String crashed = me.crashedPrimary() && peer.crashedPrimary() ? "both " + a + " and " + b + " crashed"
                : (me.crashedPrimary() ? a : b) + " crashed";
        if (me.primary() || peer.primary()) {
            if (me.primary() && peer.primary()) {
                return new Table(SPLIT_BRAIN_UNRECOVERABLE, Rule.CURRENT_PRIMARY, "same current generation, "
                        + crashed + " as Primary, and both are Primary now: cannot tell whose writes are newer");
            }
            String primary = me.primary() ? a : b;
            return new Table(me.primary() ? IN_SYNC_AFTER_PRIMARY_CRASH_SOURCE : IN_SYNC_AFTER_PRIMARY_CRASH_TARGET,
                    Rule.CURRENT_PRIMARY, "same current generation, " + crashed + " as Primary and " + primary
                    + " is Primary now: resync the activity log's extents from " + primary);
        }
        boolean iAmSource;
        String source;
        if (me.crashedPrimary() && peer.crashedPrimary()) {
            iAmSource = a.compareTo(b) < 0;
            source = iAmSource ? a : b;
            crashed += " as Primary; tie-break by name: " + source + " sorts first";
        } else {
            iAmSource = me.crashedPrimary();
            source = iAmSource ? a : b;
            crashed += " as Primary";
        }
        return new Table(iAmSource ? IN_SYNC_AFTER_PRIMARY_CRASH_SOURCE : IN_SYNC_AFTER_PRIMARY_CRASH_TARGET,
                Rule.CRASHED_PRIMARY, "same current generation, " + crashed
                + ": resync the activity log's extents from " + source);
    }

    /**
     * Rule 34's test (DRBD 8.4): the target finished the resync (its newest history is the
     * sync generation still in the source's bitmap slot, and the one before is the source's
     * newest history) while the source missed it.
     */
    private static boolean missedFinish(Generations s, Generations t) {
        return s.bitmap() == t.history(0) && s.history(0) == t.history(1);
    }

    private static Descent descent(Generations older, Generations newer) {
        long cur = older.current(); // non-zero here
        if (cur == newer.bitmap()) {
            return Descent.BITMAP;
        }
        if (cur == newer.history(0) && newer.bitmap() == cur + SYNC_GENERATION_OFFSET) {
            return Descent.SYNC_GENERATION_LOST;
        }
        if (newer.inHistory(cur)) {
            return Descent.HISTORY;
        }
        return null;
    }

    /** A non-zero generation both sides hold as bitmap or history, or 0. */
    private static long commonAncestor(Generations m, Generations p) {
        long[] mine = ancestors(m);
        long[] theirs = ancestors(p);
        for (long x : mine) {
            for (long y : theirs) {
                if (x != 0 && x == y) {
                    return x;
                }
            }
        }
        return 0;
    }

    private static long[] ancestors(Generations g) {
        long[] a = new long[Generations.HISTORY + 1];
        a[0] = g.bitmap();
        System.arraycopy(g.history(), 0, a, 1, Generations.HISTORY);
        return a;
    }

    // ------------------------------------------------------------------ post-processing

    private static Decision postProcess(NodeView me, NodeView peer, Table t) {
        SyncDecision outcome = t.outcome();
        String why = t.why();
        String a = me.name();
        String b = peer.name();
        if (outcome == UNRELATED || outcome == BOTH_JUST_CREATED) {
            return new Decision(outcome, t.rule(), t.outcome(), why);
        }
        if (!me.consistent() && !peer.consistent()) {
            return new Decision(NO_CONSISTENT_SOURCE, t.rule(), t.outcome(), why + "; but neither " + a + " nor " + b
                    + " has consistent data (both Inconsistent): no resync until 'primary --force' on the node"
                    + " whose data is to be kept");
        }
        if (me.consistent() != peer.consistent()) {
            boolean iAmSource = me.consistent();
            boolean agrees = iAmSource ? outcome.isSource() : outcome.isTarget();
            if (!agrees) {
                boolean full = outcome.isFullSync() || outcome.isSplitBrain();
                outcome = iAmSource ? (full ? FULL_SOURCE : BITMAP_SOURCE) : (full ? FULL_TARGET : BITMAP_TARGET);
                String target = iAmSource ? b : a;
                why += "; overridden by disk states: " + target + " is Inconsistent, so it becomes SyncTarget of "
                        + (iAmSource ? a : b) + " (" + (full ? "full" : "bitmap-based") + ")";
            }
        } else if (outcome.isSplitBrain() && me.discardMyData() != peer.discardMyData()) {
            boolean bitmap = outcome == SPLIT_BRAIN;
            String victim = me.discardMyData() ? a : b;
            outcome = me.discardMyData() ? (bitmap ? BITMAP_TARGET : FULL_TARGET) : (bitmap ? BITMAP_SOURCE : FULL_SOURCE);
            why += "; resolved manually: " + victim + " connected with --discard-my-data, so it becomes SyncTarget ("
                    + (bitmap ? "blocks changed on either side" : "full sync") + ")";
        } else if (outcome.isSplitBrain() && me.discardMyData()) {
            why += "; both nodes connected with --discard-my-data, so neither is chosen";
        }
        if (outcome.isTarget() && me.consistentPrimary()) {
            return new Decision(REFUSED_PRIMARY_WOULD_BECOME_TARGET, t.rule(), t.outcome(), why + "; refused: " + a
                    + " is Primary with " + me.disk() + " data and would become SyncTarget (make it Secondary first)");
        }
        if (outcome.isSource() && peer.consistentPrimary()) {
            return new Decision(REFUSED_PEER_PRIMARY_WOULD_BECOME_TARGET, t.rule(), t.outcome(), why + "; refused: " + b
                    + " is Primary with " + peer.disk() + " data and would become SyncTarget (make it Secondary first)");
        }
        return new Decision(outcome, t.rule(), t.outcome(), why);
    }
}
