package io.jrbd.replicator.resource;

import io.jrbd.metadata.md.DiskState;
import io.jrbd.metadata.md.Metadata;
import io.jrbd.metadata.md.SuperblockFlag;
import io.jrbd.protocol.peer.PeerMessage;
import io.jrbd.protocol.peer.PeerRole;
import io.jrbd.replicator.config.SplitBrainPolicy;
import io.jrbd.replicator.generation.Decision;
import io.jrbd.replicator.generation.GenerationRules;
import io.jrbd.replicator.generation.Generations;
import io.jrbd.replicator.generation.NodeView;
import io.jrbd.replicator.generation.SyncDecision;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The connect decision: the peer as the generation rules see it, the after-split-brain policies
 * when the rules find a split brain, and the refusal when the nodes must not connect. Keeps the
 * last decision and refusal for status. Called under the resource's monitor.
 */
final class Handshake {
    // The resource's logger: operators and tests read these lines under the name "Resource".
    private static final Logger LOG = LoggerFactory.getLogger(Resource.class);

    private final String resource;
    private final String peer;
    private final HandlerRunner handlers;
    private volatile Decision lastDecision;
    /** The line logged for the last decision; logged again if it refused the connection. */
    private volatile String lastDecisionLine = "";
    /** Why the last connect was refused (split brain, unrelated data), for status; empty if it was not. */
    private volatile String refusal = "";

    Handshake(String resource, String peer, HandlerRunner handlers) {
        this.resource = resource;
        this.peer = peer;
        this.handlers = handlers;
    }

    /** The peer as the connect decision sees it, from its STATE. */
    NodeView peerView(PeerMessage.State p) {
        return new NodeView(peer, peerGenerations(p), DiskState.valueOf(p.disk().name().equals("UpToDate")
                ? "UP_TO_DATE" : p.disk().name().toUpperCase(Locale.ROOT)), p.role() == PeerRole.Primary,
                (p.flags() & PeerMessage.State.FLAG_CRASHED_PRIMARY) != 0,
                (p.flags() & PeerMessage.State.FLAG_DISCARD_MY_DATA) != 0);
    }

    static Generations peerGenerations(PeerMessage.State p) {
        return Generations.of(p.currentGeneration(), p.bitmapGeneration(), p.history());
    }

    /** Whether the nodes connect on {@code d}; if not, {@link #refuse} says why. */
    static boolean connects(Decision d) {
        return d.outcome().connects() && d.outcome() != SyncDecision.UNRELATED;
    }

    /**
     * Decides who syncs whom on connecting, a split brain resolved by {@code policy} if it can
     * be; logs the decision when the nodes connect on it.
     *
     * @param md this node's metadata: what it changed since a split, and whether it was Primary then
     */
    Decision decide(NodeView me, PeerMessage.State them, Metadata md, SplitBrainPolicy policy) {
        NodeView peerView = peerView(them);
        Decision d = GenerationRules.decide(me, peerView);
        if (d.outcome().isSplitBrain()) {
            d = resolveSplitBrain(me, md, peerView, them, policy, d);
        }
        lastDecision = d;
        lastDecisionLine = GenerationRules.logLine(resource, me, peerView, d);
        refusal = "";
        if (connects(d)) {
            LOG.info(lastDecisionLine);
        }
        return d;
    }

    /** The after-split-brain policies; returns the decision with the victim discarding, or {@code d} unchanged. */
    private Decision resolveSplitBrain(NodeView me, Metadata md, NodeView peerView, PeerMessage.State them,
            SplitBrainPolicy policy, Decision d) {
        SplitBrainResolver.Victim victim = SplitBrainResolver.choose(policy,
                new SplitBrainResolver.Side(me, md.bitmap().dirtyBytes(), md.superblock().has(SuperblockFlag.PRIMARY_AT_SPLIT)),
                new SplitBrainResolver.Side(peerView, them.outOfSyncBytes(),
                        (them.flags() & PeerMessage.State.FLAG_PRIMARY_AT_SPLIT) != 0));
        if (victim == null) {
            primaryLostAfterSplitBrain(me, peerView, policy, md, them);
            return d;
        }
        boolean meVictim = victim.node().equals(me.name());
        Decision resolved = GenerationRules.decide(me.withDiscardMyData(meVictim), peerView.withDiscardMyData(!meVictim));
        LOG.warn("{}: split brain detected and resolved automatically by {}: {} discards its changes ({})", resource,
                victim.policy(), victim.node(), victim.why());
        return resolved;
    }

    /**
     * {@code call-pri-lost-after-sb} ({@code after-sb-1pri} or {@code -2pri}): if the
     * {@code after-sb-0pri} verdict names this node and it is Primary, its data lost; jrbd never
     * resyncs over a Primary, so the split brain stands, and the {@code pri-lost-after-sb}
     * handler runs here (typically to stop the services on this node, or reboot it).
     */
    private void primaryLostAfterSplitBrain(NodeView me, NodeView peerView, SplitBrainPolicy policy, Metadata md,
            PeerMessage.State them) {
        boolean asked = me.primary() && (peerView.primary()
                ? policy.twoPrimaries() == SplitBrainPolicy.TwoPrimaries.CALL_PRI_LOST_AFTER_SB
                : policy.onePrimary() == SplitBrainPolicy.OnePrimary.CALL_PRI_LOST_AFTER_SB);
        if (!asked) {
            return;
        }
        SplitBrainPolicy asIfNoPrimary = new SplitBrainPolicy(policy.noPrimary(), policy.discardNode(),
                SplitBrainPolicy.OnePrimary.DISCONNECT, SplitBrainPolicy.TwoPrimaries.DISCONNECT);
        SplitBrainResolver.Victim v = SplitBrainResolver.choose(asIfNoPrimary,
                new SplitBrainResolver.Side(me.withPrimary(false), md.bitmap().dirtyBytes(),
                        md.superblock().has(SuperblockFlag.PRIMARY_AT_SPLIT)),
                new SplitBrainResolver.Side(peerView.withPrimary(false), them.outOfSyncBytes(),
                        (them.flags() & PeerMessage.State.FLAG_PRIMARY_AT_SPLIT) != 0));
        if (v != null && v.node().equals(me.name())) {
            LOG.error("{}: split brain: {} says this Primary's data lost ({}); running the pri-lost-after-sb handler",
                    resource, v.policy(), v.why());
            handlers.run("pri-lost-after-sb", peer);
        }
    }

    /**
     * Split brain, unrelated data, or a Primary that would be overwritten: records and logs why,
     * and runs the split-brain handler if it is one. The caller drops to StandAlone, touching nothing.
     */
    void refuse(Decision d) {
        String what = switch (d.outcome()) {
            case UNRELATED -> "Unrelated data, aborting! The two nodes' data have no generation in common";
            case SPLIT_BRAIN, SPLIT_BRAIN_UNRECOVERABLE -> "SPLIT BRAIN detected, dropping the connection! Both nodes "
                    + "changed the data independently; nothing was overwritten. Choose the victim and run "
                    + "'jrbdadm connect --discard-my-data " + resource + "' on it";
            default -> "connection refused";
        };
        refusal = what + " (" + d + ")";
        LOG.error("{}: {}", resource, what);
        LOG.error(lastDecisionLine);
        if (d.outcome().isSplitBrain()) {
            handlers.run("split-brain", peer);
        }
    }

    /** The decision of the last connect; null before the first. */
    Decision lastDecision() {
        return lastDecision;
    }

    /** Adds the last connect's decision and, if it was refused, why, to the status map. */
    void describe(Map<String, Object> status) {
        Decision d = lastDecision;
        if (d != null) {
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("outcome", d.outcome().name());
            c.put("rule", d.ruleNumber());
            c.put("ruleName", d.rule().toString());
            c.put("why", d.why());
            status.put("lastConnect", c);
        }
        if (!refusal.isEmpty()) {
            status.put("refused", refusal);
        }
    }
}
