package io.jrbd.replicator.generation;

import static io.jrbd.metadata.md.DiskState.INCONSISTENT;
import static io.jrbd.metadata.md.DiskState.UP_TO_DATE;
import static io.jrbd.replicator.generation.GenerationRules.SYNC_GENERATION_OFFSET;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.jrbd.metadata.md.Superblock;
import java.util.SplittableRandom;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.Test;

/**
 * DESIGN.md section 5's generation changes, each on its own, then whole stories through
 * {@link GenerationRules#decide}: a disconnect and resync, an interrupted resync, each lost
 * message, a split brain resolved by {@code --discard-my-data}, the initial sync, a primary crash.
 */
final class GenerationTransitionsTest {
    private static final long X = 0x1111_0000_0000_0001L;
    private static final long C = 0x2222_0000_0000_0002L;
    private static final long H = 0x7777_0000_0000_0007L;
    private static final long N1 = 0xA1L;
    private static final long N2 = 0xA2L;
    private static final long N3 = 0xA3L;

    /** Returns the given values in order, then fails. */
    private static LongSupplier draws(long... values) {
        int[] next = {0};
        return () -> values[next[0]++];
    }

    private static Generations gen(long current, long bitmap, long... history) {
        return Generations.of(current, bitmap, history);
    }

    // ------------------------------------------------------------------ single transitions

    @Test
    void firstWriteWithoutPeerRotatesCurrentIntoAnEmptyBitmap() {
        Generations after = GenerationTransitions.onFirstWriteWithoutPeer(gen(C, 0, X, H), draws(N1));
        assertEquals(gen(N1, C, X, H), after);
    }

    @Test
    void firstWriteWithoutPeerKeepsATrackingBitmapAndPushesTheOldCurrentIntoHistory() {
        Generations after = GenerationTransitions.onFirstWriteWithoutPeer(gen(C, X, H, 1, 2, 3), draws(N1));
        assertEquals(gen(N1, X, C, H, 1, 2), after, "the oldest history slot falls off");
    }

    @Test
    void newGenerationsAreNeverZeroNorAlreadyHeld() {
        Generations after = GenerationTransitions.onFirstWriteWithoutPeer(gen(C, 0, X, H), draws(0, C, X, H, N1));
        assertEquals(N1, after.current());
        assertThrows(IllegalStateException.class,
                () -> GenerationTransitions.onFirstWriteWithoutPeer(gen(C, 0), () -> C));
    }

    @Test
    void forcedPromotionOfJustCreatedMetadataGivesAGenerationAndNoBitmap() {
        Generations after = GenerationTransitions.onPromoteForce(Generations.justCreated(), draws(N1));
        assertEquals(gen(N1, 0), after);
    }

    @Test
    void forcedPromotionAlwaysMakesANewGeneration() {
        assertEquals(gen(N1, C, X), GenerationTransitions.onPromoteForce(gen(C, 0, X), draws(N1)));
    }

    @Test
    void resyncStartTurnsTheBitmapGenerationIntoASyncGeneration() {
        Generations after = GenerationTransitions.onResyncStart(gen(C, X, H), draws());
        assertEquals(gen(C, X + SYNC_GENERATION_OFFSET, X, H), after);
    }

    @Test
    void resyncStartWithoutABitmapGenerationDrawsOne() {
        Generations after = GenerationTransitions.onResyncStart(gen(C, 0, H), draws(N1));
        assertEquals(gen(C, N1, H), after, "a zero bitmap generation is not pushed into history");
    }

    @Test
    void targetAdoptsTheSyncGenerationAndKeepsItsHistory() {
        assertEquals(gen(N1, 0, H), GenerationTransitions.onSyncGenerationReceived(gen(X, C, H), N1));
        assertThrows(IllegalArgumentException.class, () -> GenerationTransitions.onSyncGenerationReceived(gen(X, 0), 0));
    }

    @Test
    void resyncEndMovesTheBitmapIntoHistoryOnTheSource() {
        assertEquals(gen(C, 0, N1, X, H), GenerationTransitions.onResyncEndAsSource(gen(C, N1, X, H)));
    }

    @Test
    void syncGenerationLostUndoesResyncStart() {
        Generations before = gen(C, X, H, 1, 2);
        Generations started = GenerationTransitions.onResyncStart(before, draws());
        assertEquals(gen(C, X, H, 1, 2), GenerationTransitions.onSyncGenerationLost(started));
    }

    @Test
    void generationsAreImmutableAndRoundTripThroughTheSuperblock() {
        long[] h = {X, H, 0, 0};
        Generations g = new Generations(C, 0, h);
        h[0] = 99;
        g.history()[1] = 99;
        assertArrayEquals(new long[] {X, H, 0, 0}, g.history());
        Superblock sb = g.applyTo(Superblock.initial(1L << 30, "r0", "alpha"));
        assertEquals(g, Generations.of(sb));
        assertThrows(IllegalArgumentException.class, () -> new Generations(C, 0, new long[3]));
        assertEquals("2222000000000002:0000000000000000:1111000000000001:7777000000000007:"
                + "0000000000000000:0000000000000000", g.toString());
    }

    // ------------------------------------------------------------------ stories

    /** Both nodes after one full resync, source then target. */
    private record Pair(Generations source, Generations target) {
    }

    private static Pair resync(Generations sourceAtConnect, Generations targetAtConnect, LongSupplier random) {
        Generations s1 = GenerationTransitions.onResyncStart(sourceAtConnect, random);
        Generations t1 = GenerationTransitions.onSyncGenerationReceived(targetAtConnect, s1.bitmap());
        return new Pair(GenerationTransitions.onResyncEndAsSource(s1),
                GenerationTransitions.onResyncEndAsTarget(t1, sourceAtConnect));
    }

    private static Decision decide(Generations a, Generations b) {
        return GenerationRules.decide(NodeView.secondary("alpha", a, UP_TO_DATE), NodeView.secondary("beta", b, UP_TO_DATE));
    }

    @Test
    void disconnectWritesResyncThenInSync() {
        Generations a = gen(C, 0, X);
        Generations b = gen(C, 0, X);
        a = GenerationTransitions.onFirstWriteWithoutPeer(a, draws(N1));
        Decision d = decide(a, b);
        assertEquals(SyncDecision.BITMAP_SOURCE, d.outcome());
        assertEquals(Rule.BITMAP_SELF, d.rule());

        Pair end = resync(a, b, draws());
        assertEquals(end.source(), end.target(), "both end with the same generations");
        assertEquals(gen(N1, 0, C + SYNC_GENERATION_OFFSET, C, X), end.source());
        Decision after = decide(end.source(), end.target());
        assertEquals(SyncDecision.IN_SYNC, after.outcome());
        assertEquals(Rule.SAME_CURRENT, after.rule());
    }

    @Test
    void interruptedResyncResumesFromTheBitmapEvenAfterMoreWrites() {
        Generations a = GenerationTransitions.onFirstWriteWithoutPeer(gen(C, 0, X), draws(N1));
        Generations s1 = GenerationTransitions.onResyncStart(a, draws());
        Generations t1 = GenerationTransitions.onSyncGenerationReceived(gen(C, 0, X), s1.bitmap());
        Generations s2 = GenerationTransitions.onFirstWriteWithoutPeer(s1, draws(N2)); // link lost, more writes
        Decision d = decide(s2, t1);
        assertEquals(SyncDecision.BITMAP_SOURCE, d.outcome(), d.toString());
        assertEquals(Rule.BITMAP_SELF, d.rule());
    }

    @Test
    void lostSyncGenerationIsRecognisedAndUndone() {
        Generations a = GenerationTransitions.onFirstWriteWithoutPeer(gen(C, 0, X), draws(N1));
        Generations b = gen(C, 0, X);
        Generations s1 = GenerationTransitions.onResyncStart(a, draws()); // P_SYNC_UUID never arrives
        Decision onA = decide(s1, b);
        Decision onB = decide(b, s1);
        assertEquals(Rule.SYNC_GENERATION_LOST_SELF, onA.rule());
        assertEquals(SyncDecision.BITMAP_SOURCE, onA.outcome());
        assertEquals(Rule.SYNC_GENERATION_LOST_PEER, onB.rule());
        assertEquals(SyncDecision.BITMAP_TARGET, onB.outcome());
        assertEquals(a, GenerationRules.repair(onA, s1), "the source is back where it was before the start");
    }

    @Test
    void sourceThatMissedResyncFinishedIsCorrected() {
        Generations a = GenerationTransitions.onFirstWriteWithoutPeer(gen(C, 0, X), draws(N1));
        Generations b = gen(C, 0, X);
        Generations s1 = GenerationTransitions.onResyncStart(a, draws());
        Generations t1 = GenerationTransitions.onSyncGenerationReceived(b, s1.bitmap());
        Generations t2 = GenerationTransitions.onResyncEndAsTarget(t1, a); // the source crashes before its end
        Decision d = decide(s1, t2);
        assertEquals(Rule.SOURCE_MISSED_FINISH, d.rule());
        assertEquals(SyncDecision.BITMAP_SOURCE, d.outcome());
        Generations repaired = GenerationRules.repair(d, s1);
        assertEquals(t2, repaired);
        assertEquals(SyncDecision.IN_SYNC, decide(repaired, t2).outcome());
    }

    @Test
    void splitBrainResolvedByDiscardMyDataEndsInSync() {
        Generations a = GenerationTransitions.onFirstWriteWithoutPeer(gen(C, 0, X), draws(N1));
        Generations b = GenerationTransitions.onFirstWriteWithoutPeer(gen(C, 0, X), draws(N2));
        Decision sb = decide(a, b);
        assertEquals(SyncDecision.SPLIT_BRAIN, sb.outcome());
        assertEquals(Rule.BITMAP_BOTH, sb.rule());

        NodeView victim = NodeView.secondary("beta", b, UP_TO_DATE).withDiscardMyData(true);
        Decision onB = GenerationRules.decide(victim, NodeView.secondary("alpha", a, UP_TO_DATE));
        assertEquals(SyncDecision.BITMAP_TARGET, onB.outcome());

        Pair end = resync(a, b, draws(N3));
        assertEquals(end.source(), end.target());
        assertEquals(N1, end.target().current(), "the victim takes the survivor's data");
        assertEquals(SyncDecision.IN_SYNC, decide(end.source(), end.target()).outcome());
    }

    @Test
    void initialSyncAfterPrimaryForce() {
        Generations a = Generations.justCreated();
        Generations b = Generations.justCreated();
        NodeView na = NodeView.secondary("alpha", a, INCONSISTENT);
        NodeView nb = NodeView.secondary("beta", b, INCONSISTENT);
        assertEquals(SyncDecision.BOTH_JUST_CREATED, GenerationRules.decide(na, nb).outcome());

        a = GenerationTransitions.onPromoteForce(a, draws(N1));
        Decision d = GenerationRules.decide(na.withGenerations(a).withDisk(UP_TO_DATE).withPrimary(true), nb);
        assertEquals(SyncDecision.FULL_SOURCE, d.outcome());
        assertEquals(Rule.JUST_CREATED_PEER, d.rule());

        Pair end = resync(a, b, draws(N2));
        assertEquals(end.source(), end.target());
        assertEquals(gen(N1, 0, N2), end.source());
    }

    @Test
    void primaryCrashResyncsTheActivityLogAndAnInterruptionResumes() {
        Generations a = gen(C, 0, X);
        Generations b = gen(C, 0, X);
        NodeView crashed = NodeView.secondary("alpha", a, UP_TO_DATE).withCrashedPrimary(true);
        Decision d = GenerationRules.decide(crashed, NodeView.secondary("beta", b, UP_TO_DATE));
        assertEquals(SyncDecision.IN_SYNC_AFTER_PRIMARY_CRASH_SOURCE, d.outcome());
        assertEquals(Rule.CRASHED_PRIMARY, d.rule());

        Generations s1 = GenerationTransitions.onResyncStart(a, draws(N1));
        Generations t1 = GenerationTransitions.onSyncGenerationReceived(b, s1.bitmap());
        // interrupted: no longer depends on the crashed-primary flag
        Decision resumed = decide(s1, t1);
        assertEquals(SyncDecision.BITMAP_SOURCE, resumed.outcome());
        assertEquals(Rule.BITMAP_SELF, resumed.rule());

        Generations s2 = GenerationTransitions.onResyncEndAsSource(s1);
        Generations t2 = GenerationTransitions.onResyncEndAsTarget(t1, a);
        assertEquals(s2, t2);
        assertNotEquals(a, s2, "the AL resync leaves its sync generation in history");
        assertEquals(SyncDecision.IN_SYNC, decide(s2, t2).outcome());
    }

    @Test
    void targetAndSourceAlwaysEndEqualForRandomTuples() {
        SplittableRandom rnd = new SplittableRandom(42);
        for (int i = 0; i < 2_000; i++) {
            long[] h = new long[Generations.HISTORY];
            for (int j = 0; j < h.length; j++) {
                h[j] = rnd.nextInt(3) == 0 ? 0 : rnd.nextLong();
            }
            Generations source = new Generations(rnd.nextLong() | 1, rnd.nextBoolean() ? 0 : rnd.nextLong(), h);
            Generations target = new Generations(rnd.nextLong(), rnd.nextLong(), new long[Generations.HISTORY]);
            Pair end = resync(source, target, rnd::nextLong);
            assertAll("tuple " + i + " " + source,
                    () -> assertEquals(end.source(), end.target()),
                    () -> assertEquals(source.current(), end.source().current()),
                    () -> assertEquals(0, end.source().bitmap()));
        }
    }
}
