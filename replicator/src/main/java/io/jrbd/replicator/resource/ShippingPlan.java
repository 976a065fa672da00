package io.jrbd.replicator.resource;

import io.jrbd.metadata.md.Bitmap;
import io.jrbd.protocol.peer.DiskState;
import io.jrbd.protocol.peer.PeerMessage;
import io.jrbd.replicator.engine.ReplicatedDevice;
import io.jrbd.replicator.engine.ReplicationLog;
import io.jrbd.replicator.generation.Decision;
import io.jrbd.replicator.generation.SyncDecision;

/**
 * Where a Primary starts shipping to a peer with the same data generation, and why (for the
 * log): from the journal if it holds everything the peer missed, else the blocks the bitmap
 * marks (or everything, when forced over an Inconsistent peer).
 *
 * @param from the first sequence number to send, or {@link ReplicatedDevice#RESYNC_BITMAP} or
 *             {@link ReplicatedDevice#RESYNC_FULL}
 */
record ShippingPlan(long from, String why) {

    /**
     * @param d      the connect decision for this node and the peer as they are now
     * @param peer   the peer's last STATE
     * @param last   the last sequence number this node's device has sequenced
     * @param log    this node's journal
     * @param bitmap this node's out-of-sync blocks
     */
    static ShippingPlan choose(Decision d, PeerMessage.State peer, long last, ReplicationLog log, Bitmap bitmap) {
        boolean peerConsistent = peer.disk() == DiskState.UpToDate || peer.disk() == DiskState.Consistent
                || peer.disk() == DiskState.Outdated;
        if (d.outcome().isFullSync()) {
            return new ShippingPlan(ReplicatedDevice.RESYNC_FULL, d.why());
        }
        if (!peerConsistent && d.outcome() == SyncDecision.BITMAP_SOURCE) {
            // an interrupted resync resumes where it stopped
            return new ShippingPlan(ReplicatedDevice.RESYNC_BITMAP, d.why() + "; the peer's disk is " + peer.disk()
                    + " (a resync was interrupted), " + bitmap.dirtyBytes() + " bytes are still out of sync");
        }
        if (!peerConsistent) {
            return new ShippingPlan(ReplicatedDevice.RESYNC_FULL, "the peer's disk is " + peer.disk());
        }
        if (peer.appliedSeq() > last) {
            return new ShippingPlan(ReplicatedDevice.RESYNC_BITMAP, "the peer claims sequence " + peer.appliedSeq()
                    + ", beyond this node's " + last + "; resyncing the " + bitmap.dirtyBytes() + " bytes marked out of sync");
        }
        if (peer.appliedSeq() == last && bitmap.dirtyBytes() > 0) {
            return new ShippingPlan(ReplicatedDevice.RESYNC_BITMAP, "the peer has every write, but " + bitmap.dirtyBytes()
                    + " bytes are marked out of sync (e.g. by verify)");
        }
        if (peer.appliedSeq() == last) {
            return new ShippingPlan(last + 1, "the peer is up to date");
        }
        if (peer.appliedSeq() + 1 >= log.firstSeq() && log.lastSeq() >= last) {
            long from = peer.appliedSeq() + 1;
            return new ShippingPlan(from, "the journal holds sequence " + from + ".." + last);
        }
        return new ShippingPlan(ReplicatedDevice.RESYNC_BITMAP, "the journal no longer holds sequence "
                + (peer.appliedSeq() + 1) + " (it holds " + (log.lastSeq() < 0 ? "nothing" : log.firstSeq() + ".."
                + log.lastSeq()) + "); " + bitmap.dirtyBytes() + " bytes are marked out of sync");
    }
}
