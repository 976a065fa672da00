package io.jrbd.replicator.resource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.jrbd.metadata.md.DiskState;
import io.jrbd.replicator.config.SplitBrainPolicy;
import io.jrbd.replicator.config.SplitBrainPolicy.NoPrimary;
import io.jrbd.replicator.config.SplitBrainPolicy.OnePrimary;
import io.jrbd.replicator.config.SplitBrainPolicy.TwoPrimaries;
import io.jrbd.replicator.generation.Generations;
import io.jrbd.replicator.generation.NodeView;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Every policy against the facts it looks at; each row is also checked from the other node's side. */
class SplitBrainResolverTest {

    @ParameterizedTest(name = "{0} {1}/{2}: alpha {3} changed {4} at-split {5}; bravo {6} changed {7} at-split {8} -> {9}")
    @CsvSource({
            // policy, 0pri, 1pri-or-2pri, alpha primary, alpha changes, alpha primary at split, bravo ..., victim
            "0pri, disconnect, -, false, 10, true, false, 20, false, -",
            "0pri, discard-zero-changes, -, false, 0, false, false, 20, false, alpha",
            "0pri, discard-zero-changes, -, false, 10, false, false, 0, false, bravo",
            "0pri, discard-zero-changes, -, false, 10, false, false, 20, false, -",
            "0pri, discard-zero-changes, -, false, 0, false, false, 0, false, bravo",
            "0pri, discard-least-changes, -, false, 10, false, false, 20, false, alpha",
            "0pri, discard-least-changes, -, false, 30, false, false, 20, false, bravo",
            "0pri, discard-least-changes, -, false, 20, false, false, 20, false, bravo",
            "0pri, discard-younger-primary, -, false, 50, true, false, 10, false, bravo",
            "0pri, discard-younger-primary, -, false, 10, false, false, 50, true, alpha",
            "0pri, discard-younger-primary, -, false, 10, false, false, 50, false, alpha",
            "0pri, discard-older-primary, -, false, 50, true, false, 10, false, alpha",
            "0pri, discard-node-alpha, -, false, 0, false, false, 50, false, alpha",
            "0pri, discard-node-bravo, -, false, 50, false, false, 0, false, bravo",
            "1pri, discard-least-changes, disconnect, true, 10, true, false, 20, false, -",
            "1pri, discard-least-changes, discard-secondary, true, 50, true, false, 10, false, bravo",
            "1pri, discard-least-changes, discard-secondary, false, 50, true, true, 10, false, alpha",
            "1pri, discard-least-changes, consensus, true, 50, true, false, 10, false, bravo",
            "1pri, discard-least-changes, consensus, true, 10, true, false, 50, false, -",
            "1pri, discard-least-changes, call-pri-lost-after-sb, true, 10, true, false, 50, false, -",
            "2pri, discard-least-changes, call-pri-lost-after-sb, true, 10, true, true, 50, false, -",
            "2pri, discard-least-changes, disconnect, true, 10, true, true, 50, false, -"})
    void choosesTheVictimThePolicyNamesOnBothSides(String form, String noPrimary, String other, boolean aPrimary, long aChanges,
            boolean aAtSplit, boolean bPrimary, long bChanges, boolean bAtSplit, String victim) {
        SplitBrainPolicy policy = policy(noPrimary, form.equals("1pri") ? other : "disconnect",
                form.equals("2pri") ? other : "disconnect");
        SplitBrainResolver.Side alpha = side("alpha", aPrimary, aChanges, aAtSplit);
        SplitBrainResolver.Side bravo = side("bravo", bPrimary, bChanges, bAtSplit);
        SplitBrainResolver.Victim fromAlpha = SplitBrainResolver.choose(policy, alpha, bravo);
        SplitBrainResolver.Victim fromBravo = SplitBrainResolver.choose(policy, bravo, alpha);
        if (victim.equals("-")) {
            assertNull(fromAlpha, () -> "expected no automatic victim, got " + fromAlpha);
            assertNull(fromBravo, () -> "seen from bravo: expected no automatic victim, got " + fromBravo);
        } else {
            assertEquals(victim, fromAlpha == null ? null : fromAlpha.node(), () -> String.valueOf(fromAlpha));
            assertEquals(victim, fromBravo == null ? null : fromBravo.node(), () -> "seen from bravo: " + fromBravo);
        }
    }

    private static SplitBrainPolicy policy(String noPrimary, String onePrimary, String twoPrimaries) {
        String node = null;
        NoPrimary p0;
        if (noPrimary.startsWith(SplitBrainPolicy.DISCARD_NODE_PREFIX)) {
            node = noPrimary.substring(SplitBrainPolicy.DISCARD_NODE_PREFIX.length());
            p0 = NoPrimary.DISCARD_NODE;
        } else {
            p0 = find(NoPrimary.values(), noPrimary);
        }
        OnePrimary p1 = find(OnePrimary.values(), onePrimary);
        TwoPrimaries p2 = find(TwoPrimaries.values(), twoPrimaries);
        return new SplitBrainPolicy(p0, node, p1, p2);
    }

    private static <E extends Enum<E>> E find(E[] values, String spelling) {
        for (E e : values) {
            String s = e instanceof NoPrimary n ? n.spelling() : e instanceof OnePrimary o ? o.spelling()
                    : ((TwoPrimaries) e).spelling();
            if (s.equals(spelling)) {
                return e;
            }
        }
        throw new IllegalArgumentException(spelling);
    }

    private static SplitBrainResolver.Side side(String name, boolean primary, long changes, boolean atSplit) {
        Generations g = Generations.of(0x1234 + name.length(), 0x99);
        NodeView v = new NodeView(name, g, DiskState.UP_TO_DATE, primary, false, false);
        return new SplitBrainResolver.Side(v, changes, atSplit);
    }
}
