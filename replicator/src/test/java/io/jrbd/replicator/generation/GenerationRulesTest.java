package io.jrbd.replicator.generation;

import static io.jrbd.metadata.md.DiskState.CONSISTENT;
import static io.jrbd.metadata.md.DiskState.INCONSISTENT;
import static io.jrbd.metadata.md.DiskState.OUTDATED;
import static io.jrbd.metadata.md.DiskState.UP_TO_DATE;
import static io.jrbd.replicator.generation.GenerationRules.SYNC_GENERATION_OFFSET;
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
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrbd.metadata.md.DiskState;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * DESIGN.md section 5 and drbd-notes.md section 4 as a table: one row per rule and per
 * post-processing step, each asserting the outcome, the rule, and what the table alone said,
 * for this node and (mirrored) for the peer. Then a seeded property test: for random pairs of
 * generation tuples, disks and flags, the two nodes always agree, and no decision makes an
 * Inconsistent node a source or a consistent Primary a target.
 *
 * <p>"alpha" is always the deciding node ("me"), "beta" the peer.
 */
final class GenerationRulesTest {
    // Distinct, readable generations; X is the common parent in most rows.
    private static final long X = 0x1111_0000_0000_0001L;
    private static final long C = 0x2222_0000_0000_0002L;
    private static final long D = 0x3333_0000_0000_0003L;
    private static final long E = 0x4444_0000_0000_0004L;
    private static final long F = 0x5555_0000_0000_0005L;
    private static final long G = 0x6666_0000_0000_0006L;
    private static final long H = 0x7777_0000_0000_0007L;
    private static final long S = 0x8888_0000_0000_0008L;

    record Row(String name, NodeView me, NodeView peer, SyncDecision outcome, Rule rule, SyncDecision table) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static Generations gen(long current, long bitmap, long... history) {
        return Generations.of(current, bitmap, history);
    }

    private static NodeView me(Generations g) {
        return NodeView.secondary("alpha", g, UP_TO_DATE);
    }

    private static NodeView peer(Generations g) {
        return NodeView.secondary("beta", g, UP_TO_DATE);
    }

    private static Row row(String name, NodeView me, NodeView peer, SyncDecision outcome, Rule rule) {
        return new Row(name, me, peer, outcome, rule, outcome);
    }

    private static Row row(String name, NodeView me, NodeView peer, SyncDecision outcome, Rule rule, SyncDecision table) {
        return new Row(name, me, peer, outcome, rule, table);
    }

    static List<Row> rows() {
        Generations justCreated = Generations.justCreated();
        return List.of(
            // --- rules 10, 20, 30: just-created metadata
            row("both just created: no source until primary --force",
                    me(justCreated).withDisk(INCONSISTENT), peer(justCreated).withDisk(INCONSISTENT),
                    BOTH_JUST_CREATED, Rule.JUST_CREATED_BOTH),
            row("I was just created: full sync target",
                    me(justCreated).withDisk(INCONSISTENT), peer(gen(C, 0, X)), FULL_TARGET, Rule.JUST_CREATED_SELF),
            row("peer was just created: full sync source",
                    me(gen(C, 0, X)), peer(justCreated).withDisk(INCONSISTENT), FULL_SOURCE, Rule.JUST_CREATED_PEER),
            // --- same current generation: rules 34-37, 40, 41
            row("same current: in sync", me(gen(C, 0, X)), peer(gen(C, 0, X)), IN_SYNC, Rule.SAME_CURRENT),
            row("same current, both bitmaps set: still in sync (rule 40)",
                    me(gen(C, X)), peer(gen(C, D)), IN_SYNC, Rule.SAME_CURRENT),
            row("same current, I was source and missed resync-finished: bitmap source, rule 34",
                    me(gen(C, S, X, H)), peer(gen(C, 0, S, X, H)), BITMAP_SOURCE, Rule.SOURCE_MISSED_FINISH),
            row("same current, peer was source and missed resync-finished: bitmap target, rule 35",
                    me(gen(C, 0, S, X, H)), peer(gen(C, S, X, H)), BITMAP_TARGET, Rule.PEER_SOURCE_MISSED_FINISH),
            row("same current, my bitmap set, peer's clear: bitmap source, rule 36",
                    me(gen(C, S, X)), peer(gen(C, 0, X)), BITMAP_SOURCE, Rule.SOURCE_BITMAP_SET),
            row("same current, peer's bitmap set, mine clear: bitmap target, rule 37",
                    me(gen(C, 0, X)), peer(gen(C, S, X)), BITMAP_TARGET, Rule.PEER_SOURCE_BITMAP_SET),
            row("after primary crash, same current: resync AL from the crashed primary (me)",
                    me(gen(C, 0, X)).withCrashedPrimary(true), peer(gen(C, 0, X)),
                    IN_SYNC_AFTER_PRIMARY_CRASH_SOURCE, Rule.CRASHED_PRIMARY),
            row("after primary crash, same current: resync AL from the crashed primary (peer)",
                    me(gen(C, 0, X)), peer(gen(C, 0, X)).withCrashedPrimary(true),
                    IN_SYNC_AFTER_PRIMARY_CRASH_TARGET, Rule.CRASHED_PRIMARY),
            row("both crashed as primary: tie-break, alpha sorts first and is source",
                    me(gen(C, 0)).withCrashedPrimary(true), peer(gen(C, 0)).withCrashedPrimary(true),
                    IN_SYNC_AFTER_PRIMARY_CRASH_SOURCE, Rule.CRASHED_PRIMARY),
            row("peer crashed as primary, I am Primary now: AL resync from me, rule 41",
                    me(gen(C, 0)).withPrimary(true), peer(gen(C, 0)).withCrashedPrimary(true),
                    IN_SYNC_AFTER_PRIMARY_CRASH_SOURCE, Rule.CURRENT_PRIMARY),
            row("I crashed as primary, peer is Primary now: AL resync from the peer, rule 41",
                    me(gen(C, 0)).withCrashedPrimary(true), peer(gen(C, 0)).withPrimary(true),
                    IN_SYNC_AFTER_PRIMARY_CRASH_TARGET, Rule.CURRENT_PRIMARY),
            row("a crashed primary and both Primary now: unrecoverable split brain, rule 41",
                    me(gen(C, 0)).withPrimary(true).withCrashedPrimary(true), peer(gen(C, 0)).withPrimary(true),
                    SPLIT_BRAIN_UNRECOVERABLE, Rule.CURRENT_PRIMARY),
            row("same current, Primary but nobody crashed: in sync",
                    me(gen(C, 0)).withPrimary(true), peer(gen(C, 0)), IN_SYNC, Rule.SAME_CURRENT),
            // --- different currents: rules 50-80
            row("peer's bitmap == my current: I am bitmap target",
                    me(gen(X, 0, H)), peer(gen(C, X, H)), BITMAP_TARGET, Rule.BITMAP_PEER),
            row("peer started a resync whose sync generation never reached me: bitmap target, rule 51",
                    me(gen(X, 0, H)), peer(gen(C, X + SYNC_GENERATION_OFFSET, X, H)),
                    BITMAP_TARGET, Rule.SYNC_GENERATION_LOST_PEER),
            row("my current in peer's history: full sync target",
                    me(gen(X, 0, H)), peer(gen(C, 0, D, X, H)), FULL_TARGET, Rule.HISTORY_PEER),
            row("my bitmap == peer's current: I am bitmap source",
                    me(gen(C, X, H)), peer(gen(X, 0, H)), BITMAP_SOURCE, Rule.BITMAP_SELF),
            row("my sync generation never reached the peer: bitmap source, rule 71",
                    me(gen(C, X + SYNC_GENERATION_OFFSET, X, H)), peer(gen(X, 0, H)),
                    BITMAP_SOURCE, Rule.SYNC_GENERATION_LOST_SELF),
            row("peer's current in my history: full sync source",
                    me(gen(C, 0, D, X, H)), peer(gen(X, 0, H)), FULL_SOURCE, Rule.HISTORY_SELF),
            row("each descends from the other: conflicting ancestry, rule 95",
                    me(gen(C, D)), peer(gen(D, C)), SPLIT_BRAIN_UNRECOVERABLE, Rule.CONFLICTING_ANCESTRY),
            row("bitmap descent one way, history descent the other: conflicting ancestry",
                    me(gen(C, D)), peer(gen(D, 0, C)), SPLIT_BRAIN_UNRECOVERABLE, Rule.CONFLICTING_ANCESTRY),
            // --- split brain and unrelated: rules 90, 100
            row("both bitmaps equal non-zero, currents differ: split brain",
                    me(gen(C, X, H)), peer(gen(D, X, H)), SPLIT_BRAIN, Rule.BITMAP_BOTH),
            row("common ancestor only in history: unrecoverable split brain",
                    me(gen(C, D, X)), peer(gen(E, F, G, X)), SPLIT_BRAIN_UNRECOVERABLE, Rule.HISTORY_BOTH),
            row("my bitmap generation in peer's history: unrecoverable split brain (rule 100, jrbd counts bitmaps)",
                    me(gen(C, X)), peer(gen(E, F, X)), SPLIT_BRAIN_UNRECOVERABLE, Rule.HISTORY_BOTH),
            row("nothing in common: unrelated", me(gen(C, D, E)), peer(gen(F, G, H)), UNRELATED, Rule.UNRELATED_DATA),
            row("only empty history slots in common: unrelated",
                    me(gen(C, 0)), peer(gen(D, 0)), UNRELATED, Rule.UNRELATED_DATA),
            row("unrelated, even with one side Inconsistent",
                    me(gen(C, 0)).withDisk(INCONSISTENT), peer(gen(D, 0)), UNRELATED, Rule.UNRELATED_DATA),
            // --- post-processing 1: disk states
            row("same current, I am Inconsistent: bitmap target by disk states",
                    me(gen(C, 0)).withDisk(INCONSISTENT), peer(gen(C, 0)), BITMAP_TARGET, Rule.SAME_CURRENT, IN_SYNC),
            row("table says bitmap source, but I am Inconsistent: bitmap target",
                    me(gen(C, X)).withDisk(INCONSISTENT), peer(gen(X, 0)), BITMAP_TARGET, Rule.BITMAP_SELF,
                    BITMAP_SOURCE),
            row("table says full source, but I am Inconsistent: full target",
                    me(gen(C, 0, X)).withDisk(INCONSISTENT), peer(gen(X, 0)), FULL_TARGET, Rule.HISTORY_SELF,
                    FULL_SOURCE),
            row("split brain, peer Inconsistent: full sync from me",
                    me(gen(C, X)), peer(gen(D, X)).withDisk(INCONSISTENT), FULL_SOURCE, Rule.BITMAP_BOTH, SPLIT_BRAIN),
            row("Outdated counts as consistent against an Inconsistent peer",
                    me(gen(C, 0)).withDisk(OUTDATED), peer(gen(C, 0)).withDisk(INCONSISTENT),
                    BITMAP_SOURCE, Rule.SAME_CURRENT, IN_SYNC),
            row("Inconsistent side already the target: the AL resync stays one",
                    me(gen(C, 0)).withDisk(INCONSISTENT), peer(gen(C, 0)).withCrashedPrimary(true),
                    IN_SYNC_AFTER_PRIMARY_CRASH_TARGET, Rule.CRASHED_PRIMARY),
            row("both Inconsistent: no automatic source",
                    me(gen(C, X)).withDisk(INCONSISTENT), peer(gen(X, 0)).withDisk(INCONSISTENT),
                    NO_CONSISTENT_SOURCE, Rule.BITMAP_SELF, BITMAP_SOURCE),
            row("both Inconsistent with the same current: no automatic source",
                    me(gen(C, 0)).withDisk(INCONSISTENT), peer(gen(C, 0)).withDisk(INCONSISTENT),
                    NO_CONSISTENT_SOURCE, Rule.SAME_CURRENT, IN_SYNC),
            // --- post-processing 2: --discard-my-data
            row("split brain, I discard my data: bitmap target",
                    me(gen(C, X)).withDiscardMyData(true), peer(gen(D, X)), BITMAP_TARGET, Rule.BITMAP_BOTH, SPLIT_BRAIN),
            row("split brain, peer discards its data: bitmap source",
                    me(gen(C, X)), peer(gen(D, X)).withDiscardMyData(true), BITMAP_SOURCE, Rule.BITMAP_BOTH, SPLIT_BRAIN),
            row("unrecoverable split brain, I discard my data: full target",
                    me(gen(C, D, X)).withDiscardMyData(true), peer(gen(E, F, X)), FULL_TARGET, Rule.HISTORY_BOTH,
                    SPLIT_BRAIN_UNRECOVERABLE),
            row("split brain, both discard their data: still split brain",
                    me(gen(C, X)).withDiscardMyData(true), peer(gen(D, X)).withDiscardMyData(true),
                    SPLIT_BRAIN, Rule.BITMAP_BOTH),
            row("discard-my-data outside a split brain is ignored",
                    me(gen(C, X)).withDiscardMyData(true), peer(gen(X, 0)), BITMAP_SOURCE, Rule.BITMAP_SELF),
            row("discard-my-data does not resolve unrelated data",
                    me(gen(C, 0)).withDiscardMyData(true), peer(gen(D, 0)), UNRELATED, Rule.UNRELATED_DATA),
            // --- post-processing 3: a consistent Primary never becomes SyncTarget silently
            row("I am a consistent Primary and would become bitmap target: refused",
                    me(gen(X, 0)).withPrimary(true), peer(gen(C, X)), REFUSED_PRIMARY_WOULD_BECOME_TARGET,
                    Rule.BITMAP_PEER, BITMAP_TARGET),
            row("peer is a consistent Primary and would become full target: refused",
                    me(gen(C, 0, X)), peer(gen(X, 0)).withPrimary(true).withDisk(CONSISTENT),
                    REFUSED_PEER_PRIMARY_WOULD_BECOME_TARGET, Rule.HISTORY_SELF, FULL_SOURCE),
            row("split brain, I discard my data but am still Primary: refused",
                    me(gen(C, X)).withPrimary(true).withDiscardMyData(true), peer(gen(D, X)),
                    REFUSED_PRIMARY_WOULD_BECOME_TARGET, Rule.BITMAP_BOTH, SPLIT_BRAIN),
            row("an Inconsistent Primary may become target",
                    me(gen(X, 0)).withPrimary(true).withDisk(INCONSISTENT), peer(gen(C, X)),
                    BITMAP_TARGET, Rule.BITMAP_PEER),
            row("a Primary that is source is fine",
                    me(gen(C, X)).withPrimary(true), peer(gen(X, 0)), BITMAP_SOURCE, Rule.BITMAP_SELF));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    void shouldDecideEachRowAndTheMirrorOnThePeer(Row r) {
        Decision mine = GenerationRules.decide(r.me(), r.peer());
        Decision theirs = GenerationRules.decide(r.peer(), r.me());
        assertAll(
                () -> assertEquals(r.outcome(), mine.outcome(), "outcome: " + mine),
                () -> assertEquals(r.rule(), mine.rule(), "rule: " + mine),
                () -> assertEquals(r.table(), mine.tableOutcome(), "table outcome: " + mine),
                () -> assertEquals(r.outcome().mirror(), theirs.outcome(), "peer's outcome: " + theirs),
                () -> assertEquals(r.rule().mirror(), theirs.rule(), "peer's rule: " + theirs),
                () -> assertEquals(r.table().mirror(), theirs.tableOutcome(), "peer's table outcome: " + theirs));
    }

    @Test
    void shouldHaveARowForEveryOutcomeAndEveryRule() {
        Set<SyncDecision> outcomes = EnumSet.noneOf(SyncDecision.class);
        Set<Rule> rules = EnumSet.noneOf(Rule.class);
        for (Row r : rows()) {
            outcomes.add(r.outcome());
            rules.add(r.rule());
        }
        assertEquals(EnumSet.allOf(SyncDecision.class), outcomes, "outcomes with a row");
        assertEquals(EnumSet.allOf(Rule.class), rules, "rules with a row");
    }

    @Test
    void shouldMirrorRuleNumbersAsDrbdLogsThem() {
        assertAll(
                () -> assertEquals(70, Rule.BITMAP_PEER.mirror().number()),
                () -> assertEquals(80, Rule.HISTORY_PEER.mirror().number()),
                () -> assertEquals(71, Rule.SYNC_GENERATION_LOST_PEER.mirror().number()),
                () -> assertEquals(30, Rule.JUST_CREATED_SELF.mirror().number()),
                () -> assertEquals(35, Rule.SOURCE_MISSED_FINISH.mirror().number()),
                () -> assertEquals(37, Rule.SOURCE_BITMAP_SET.mirror().number()),
                () -> assertEquals(90, Rule.BITMAP_BOTH.mirror().number()));
        for (Rule r : Rule.values()) {
            assertEquals(r, r.mirror().mirror(), r + " mirrored twice");
        }
        for (SyncDecision d : SyncDecision.values()) {
            assertEquals(d, d.mirror().mirror(), d + " mirrored twice");
            assertEquals(d.isSource(), d.mirror().isTarget(), d + " source/target swap");
        }
    }

    @Test
    void shouldRefuseTwoNodesWithTheSameName() {
        NodeView a = me(gen(C, 0));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GenerationRules.decide(a, a));
        assertTrue(e.getMessage().contains("alpha"), e.getMessage());
    }

    @Test
    void shouldRefuseADisklessNode() {
        assertThrows(IllegalArgumentException.class, () -> me(gen(C, 0)).withDisk(DiskState.DISKLESS));
    }

    @Test
    void shouldLogTheRuleAndBothNodesGenerations() {
        NodeView me = me(gen(X, 0, H)).withPrimary(true);
        NodeView peer = peer(gen(C, X, H));
        Decision d = GenerationRules.decide(me, peer);
        String line = GenerationRules.logLine("r0", me, peer, d);
        assertAll(
                () -> assertTrue(line.startsWith("r0: connect decision REFUSED_PRIMARY_WOULD_BECOME_TARGET by rule 50"
                        + " (bitmap-peer), table said BITMAP_TARGET;"), line),
                () -> assertTrue(line.contains("self alpha " + gen(X, 0, H) + " UpToDate Primary"), line),
                () -> assertTrue(line.contains("peer beta " + gen(C, X, H) + " UpToDate Secondary"), line),
                () -> assertTrue(line.contains("1111000000000001:0000000000000000:7777000000000007"), line),
                () -> assertTrue(line.contains("make it Secondary first"), line));
    }

    @Test
    void shouldRepairOnlyBySourceRules34And71() {
        Generations missed = gen(C, S, X, H);
        Decision d34 = GenerationRules.decide(me(missed), peer(gen(C, 0, S, X, H)));
        assertEquals(gen(C, 0, S, X, H), GenerationRules.repair(d34, missed), "rule 34: bitmap moves into history");

        Generations lost = gen(C, X + SYNC_GENERATION_OFFSET, X, H);
        Decision d71 = GenerationRules.decide(me(lost), peer(gen(X, 0, H)));
        assertEquals(gen(C, X, H), GenerationRules.repair(d71, lost), "rule 71: the rotation is undone");

        Generations target = gen(X, 0, H);
        Decision d51 = GenerationRules.decide(me(target), peer(lost));
        assertEquals(Rule.SYNC_GENERATION_LOST_PEER, d51.rule());
        assertEquals(target, GenerationRules.repair(d51, target), "rule 51: the target changes nothing");
    }

    // ------------------------------------------------------------------ properties over random pairs

    /** A small pool, so that random tuples share generations often and every rule is reached. */
    private static final long[] POOL = {0, X, C, D, E, X + SYNC_GENERATION_OFFSET, C + SYNC_GENERATION_OFFSET};
    private static final DiskState[] DISKS = {INCONSISTENT, OUTDATED, CONSISTENT, UP_TO_DATE};

    private static long pick(Random rnd) {
        return POOL[rnd.nextInt(POOL.length)];
    }

    private static NodeView randomNode(Random rnd, String name) {
        long[] history = new long[Generations.HISTORY];
        int used = rnd.nextInt(Generations.HISTORY + 1);
        for (int i = 0; i < used; i++) {
            history[i] = pick(rnd);
        }
        // Bias towards shared currents so the same-current rules are reached often.
        long current = rnd.nextInt(4) == 0 ? C : pick(rnd);
        Generations g = new Generations(current, rnd.nextBoolean() ? 0 : pick(rnd), history);
        return new NodeView(name, g, DISKS[rnd.nextInt(DISKS.length)], rnd.nextInt(4) == 0, rnd.nextInt(4) == 0,
                rnd.nextInt(6) == 0);
    }

    @Test
    void shouldAgreeOnBothNodesAndKeepTheSafetyRulesForRandomPairs() {
        Random rnd = new Random(0x5EED_4L);
        Set<Rule> rulesSeen = EnumSet.noneOf(Rule.class);
        Set<SyncDecision> outcomesSeen = EnumSet.noneOf(SyncDecision.class);
        List<String> failures = new ArrayList<>();
        int pairs = 50_000;
        for (int i = 0; i < pairs && failures.size() < 20; i++) {
            NodeView a = randomNode(rnd, "alpha");
            NodeView b = randomNode(rnd, "beta");
            if (rnd.nextBoolean()) { // also let "beta" decide as me, so name order is not always the same
                NodeView t = a;
                a = new NodeView("beta", t.generations(), t.disk(), t.primary(), t.crashedPrimary(), t.discardMyData());
                b = new NodeView("alpha", b.generations(), b.disk(), b.primary(), b.crashedPrimary(), b.discardMyData());
            }
            Decision ab = GenerationRules.decide(a, b);
            Decision ba = GenerationRules.decide(b, a);
            rulesSeen.add(ab.rule());
            outcomesSeen.add(ab.outcome());
            String pair = a.describe() + " / " + b.describe() + ": " + ab + " | " + ba;
            check(failures, ab.outcome().mirror() == ba.outcome(), "outcomes do not mirror", pair);
            check(failures, ab.rule().mirror() == ba.rule(), "rules do not mirror", pair);
            check(failures, ab.tableOutcome().mirror() == ba.tableOutcome(), "table outcomes do not mirror", pair);
            check(failures, ab.equals(GenerationRules.decide(a, b)), "not deterministic", pair);
            check(failures, !ab.outcome().isSource() || a.consistent(), "an Inconsistent source", pair);
            check(failures, !ab.outcome().isTarget() || !a.consistentPrimary(), "a consistent Primary as target", pair);
            boolean oneInconsistent = a.consistent() != b.consistent();
            boolean standing = ab.outcome() == UNRELATED || ab.outcome() == BOTH_JUST_CREATED;
            check(failures, !oneInconsistent || standing || (a.consistent() ? ab.outcome().isSource()
                    : ab.outcome().isTarget()), "the Inconsistent side is not the target", pair);
            check(failures, !ab.tableOutcome().isSplitBrain() || !ab.outcome().connects()
                    || ab.outcome().isFullSync() || ab.outcome() == NO_CONSISTENT_SOURCE
                    || (ab.tableOutcome() == SPLIT_BRAIN && (a.discardMyData() != b.discardMyData())),
                    "a split brain resolved without a full sync or a discard-my-data victim", pair);
        }
        assertEquals(List.of(), failures, "failures over " + pairs + " random pairs");
        assertEquals(EnumSet.allOf(Rule.class), rulesSeen, "rules reached by the random pairs");
        assertEquals(EnumSet.allOf(SyncDecision.class), outcomesSeen, "outcomes reached by the random pairs");
    }

    private static void check(List<String> failures, boolean ok, String what, String pair) {
        if (!ok) {
            failures.add(what + ": " + pair);
        }
    }

}
