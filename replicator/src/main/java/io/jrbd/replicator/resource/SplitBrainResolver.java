package io.jrbd.replicator.resource;

import io.jrbd.replicator.config.SplitBrainPolicy;
import io.jrbd.replicator.generation.NodeView;

/**
 * The automatic split-brain policies ({@code after-sb-0pri/1pri/2pri}): which node, if any,
 * discards its changes. Pure and symmetric: both nodes run it with the same facts (each sees
 * the other's through its STATE) and choose the same victim, so both agree without a message.
 *
 * <p>"Changes" are the bytes a node marked out of sync, i.e. what it wrote since the split;
 * "older Primary" is the node that was Primary when the two lost each other (the other was
 * promoted later, so it is the younger one). Ties fall to the node whose name sorts last, so
 * the outcome never depends on which side evaluates it.
 */
final class SplitBrainResolver {

    /** The node that discards its changes, the policy that chose it, and why. */
    record Victim(String node, String policy, String why) {
    }

    /** One node's side of the split. */
    record Side(NodeView view, long changedBytes, boolean primaryAtSplit) {
        String name() {
            return view.name();
        }
    }

    private SplitBrainResolver() {
    }

    /** The victim under {@code policy}, or null when the policy says to disconnect. */
    static Victim choose(SplitBrainPolicy policy, Side a, Side b) {
        int primaries = (a.view().primary() ? 1 : 0) + (b.view().primary() ? 1 : 0);
        return switch (primaries) {
            case 0 -> noPrimary(policy, a, b);
            case 1 -> onePrimary(policy, a, b);
            default -> twoPrimaries(policy, a, b);
        };
    }

    private static Victim noPrimary(SplitBrainPolicy policy, Side a, Side b) {
        String name = "after-sb-0pri " + policy.noPrimary().spelling().replace("NAME", String.valueOf(policy.discardNode()));
        return switch (policy.noPrimary()) {
            case DISCONNECT -> null;
            case DISCARD_ZERO_CHANGES -> zeroChanges(name, a, b);
            case DISCARD_LEAST_CHANGES -> leastChanges(name, a, b);
            case DISCARD_YOUNGER_PRIMARY -> byAge(name, a, b, true);
            case DISCARD_OLDER_PRIMARY -> byAge(name, a, b, false);
            case DISCARD_NODE -> policy.discardNode().equals(a.name()) || policy.discardNode().equals(b.name())
                    ? new Victim(policy.discardNode(), name, "the configuration names it") : null;
        };
    }

    private static Victim onePrimary(SplitBrainPolicy policy, Side a, Side b) {
        Side secondary = a.view().primary() ? b : a;
        String name = "after-sb-1pri " + policy.onePrimary().spelling();
        return switch (policy.onePrimary()) {
            case DISCONNECT, CALL_PRI_LOST_AFTER_SB -> null;
            case DISCARD_SECONDARY -> new Victim(secondary.name(), name, "it is the Secondary");
            case CONSENSUS -> {
                Victim v = noPrimary(policy, a, b);
                yield v != null && v.node().equals(secondary.name())
                        ? new Victim(v.node(), name + " (" + v.policy() + ")", v.why()) : null;
            }
        };
    }

    private static Victim twoPrimaries(SplitBrainPolicy policy, Side a, Side b) {
        // Discarding a Primary's data under its mounted file system is never done automatically.
        return null;
    }

    private static Victim zeroChanges(String policy, Side a, Side b) {
        if (a.changedBytes() == 0 && b.changedBytes() == 0) {
            return tie(policy, a, b, "neither node changed anything");
        }
        if (a.changedBytes() == 0) {
            return new Victim(a.name(), policy, a.name() + " changed nothing, " + b.name() + " changed " + b.changedBytes() + " bytes");
        }
        if (b.changedBytes() == 0) {
            return new Victim(b.name(), policy, b.name() + " changed nothing, " + a.name() + " changed " + a.changedBytes() + " bytes");
        }
        return null; // both wrote: a human decides
    }

    private static Victim leastChanges(String policy, Side a, Side b) {
        if (a.changedBytes() == b.changedBytes()) {
            return tie(policy, a, b, "both changed " + a.changedBytes() + " bytes");
        }
        Side fewer = a.changedBytes() < b.changedBytes() ? a : b;
        Side more = fewer == a ? b : a;
        return new Victim(fewer.name(), policy, fewer.name() + " changed " + fewer.changedBytes() + " bytes, "
                + more.name() + " " + more.changedBytes());
    }

    private static Victim byAge(String policy, Side a, Side b, boolean discardYounger) {
        if (a.primaryAtSplit() != b.primaryAtSplit()) {
            Side older = a.primaryAtSplit() ? a : b;
            Side younger = older == a ? b : a;
            Side victim = discardYounger ? younger : older;
            return new Victim(victim.name(), policy, older.name() + " was Primary when the nodes split, "
                    + younger.name() + " was promoted later");
        }
        Victim v = leastChanges(policy + " (undecided: falling back to discard-least-changes)", a, b);
        return v;
    }

    private static Victim tie(String policy, Side a, Side b, String why) {
        String last = a.name().compareTo(b.name()) > 0 ? a.name() : b.name();
        return new Victim(last, policy, why + "; the tie goes against the node whose name sorts last");
    }
}
