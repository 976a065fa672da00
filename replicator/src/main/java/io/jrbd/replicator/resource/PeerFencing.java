package io.jrbd.replicator.resource;

import io.jrbd.metadata.md.DiskState;
import io.jrbd.metadata.md.SuperblockFlag;
import io.jrbd.replicator.config.DiskOptions.Fencing;
import io.jrbd.replicator.engine.ReplicatedDevice;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fencing ({@code [disk] fencing}): what a Primary does to a peer it lost ({@code fence-peer})
 * and to one that holds everything again ({@code unfence-peer}), and the two commands around it,
 * {@code resume-io} and {@code outdate}. Called under the resource's monitor; the fence-peer
 * handler itself runs on a thread of its own, since it may take long.
 */
final class PeerFencing {
    // The resource's logger: operators and tests read these lines under the name "Resource".
    private static final Logger LOG = LoggerFactory.getLogger(Resource.class);

    private final String resource;
    private final String peer;
    private final HandlerRunner handlers;
    private final SuperblockWriter superblock;
    private final ResourceEvents events;

    PeerFencing(String resource, String peer, HandlerRunner handlers, SuperblockWriter superblock, ResourceEvents events) {
        this.resource = resource;
        this.peer = peer;
        this.handlers = handlers;
        this.superblock = superblock;
        this.events = events;
    }

    /**
     * The Primary lost its peer and fencing is on: the {@code fence-peer} handler must make sure
     * the peer cannot be promoted (outdate it over another path, or have the cluster manager keep
     * it from promotion, or shoot it). With {@code resource-and-stonith}, application I/O is
     * suspended until the handler succeeds, so no write completes that the peer might not have
     * while it could be promoted. Handler exit codes as DRBD's: 3 the peer is Inconsistent, 4 it
     * was outdated, 7 it was fenced (STONITH) are success; 5 (unreachable) counts only without
     * the freeze; anything else leaves I/O suspended until {@code jrbdadm resume-io}.
     *
     * @param device the Primary's device, whose I/O the freeze suspends (null: nothing to suspend)
     */
    void peerLost(Fencing fencing, ReplicatedDevice device) {
        if (fencing == Fencing.DONT_CARE) {
            return;
        }
        boolean freeze = fencing == Fencing.RESOURCE_AND_STONITH;
        if (freeze && device != null) {
            device.suspendIo();
            LOG.warn("{}: fencing {}: application I/O suspended until the fence-peer handler succeeds", resource,
                    fencing.spelling());
            events.happened("io-suspended");
        }
        Thread t = new Thread(() -> runFencePeer(freeze, device), "jrbd-fence-peer-" + resource);
        t.setDaemon(true);
        t.start();
    }

    private void runFencePeer(boolean freeze, ReplicatedDevice device) {
        int code = handlers.runAndWait("fence-peer", peer);
        boolean fenced = code == 3 || code == 4 || code == 7 || (!freeze && code == 5);
        if (fenced) {
            superblock.persist(sb -> sb.with(SuperblockFlag.PEER_OUTDATED));
            LOG.warn("{}: fence-peer: {} is fenced (exit {})", resource, peer, code);
            if (device != null && device.ioSuspended()) {
                device.resumeIo();
                LOG.warn("{}: application I/O resumed", resource);
            }
            events.happened("peer-fenced");
        } else {
            LOG.error("{}: fence-peer {} (exit {}): {} may still be promoted{}", resource,
                    code < 0 ? "did not run or did not finish" : "failed", code, peer,
                    freeze ? "; application I/O stays suspended until 'jrbdadm resume-io " + resource + "'" : "");
            events.happened("fence-peer-failed");
        }
    }

    /**
     * Before a disconnected Secondary is promoted with fencing on: the peer must be fenced first
     * (exit 3, 4, 5 or 7), else the promotion is refused; on success the peer is remembered as
     * outdated. Runs the handler and waits for it (up to the handler timeout).
     */
    void fenceBeforePromotion() throws RefusedException {
        int code = handlers.runAndWait("fence-peer", peer);
        if (code == 3 || code == 4 || code == 5 || code == 7) {
            superblock.persist(sb -> sb.with(SuperblockFlag.PEER_OUTDATED));
            LOG.warn("{}: fence-peer before promotion: {} is fenced (exit {})", resource, peer, code);
            events.happened("peer-fenced");
            return;
        }
        throw new RefusedException("refusing to become Primary while " + peer + " is not known to be outdated: the "
                + "fence-peer handler " + (code < 0 ? "is not configured, did not run or did not finish" : "exited " + code)
                + " (fencing is on; primary --force promotes anyway)");
    }

    /** The peer holds everything again: if fence-peer outdated it, {@code unfence-peer} undoes that. */
    void peerCaughtUp(boolean peerOutdated) {
        if (peerOutdated) {
            handlers.run("unfence-peer", peer);
        }
    }

    /** Resumes application I/O suspended by fencing (after the administrator made sure the peer is not Primary). */
    void resumeIo(ReplicatedDevice device) throws RefusedException {
        if (device == null || !device.ioSuspended()) {
            throw new RefusedException("application I/O is not suspended");
        }
        device.resumeIo();
        LOG.warn("{}: application I/O resumed by the administrator", resource);
        events.happened("io-resumed");
    }

    /**
     * Marks this node's data Outdated (what a peer's fence-peer handler asks for): it will not be
     * promoted without --force. The caller tells the peer the new disk state.
     */
    void outdate(boolean primary, DiskState disk) throws RefusedException {
        if (primary) {
            throw new RefusedException("this node is Primary; only a Secondary's data can be outdated");
        }
        if (disk == DiskState.INCONSISTENT) {
            throw new RefusedException("the disk is Inconsistent, which is already worse than Outdated");
        }
        superblock.persist(sb -> sb.withDiskState(DiskState.OUTDATED));
        LOG.warn("{}: data marked Outdated (jrbdadm outdate)", resource);
        events.happened("outdated");
    }
}
