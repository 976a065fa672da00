package io.jrbd.replicator.resource;

import io.jrbd.metadata.md.Superblock;
import io.jrbd.protocol.peer.PeerMessage;
import io.jrbd.replicator.engine.ReplicatedDevice;
import io.jrbd.replicator.engine.ReplicationLog;
import io.jrbd.replicator.link.PeerLink;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Sections of {@code jrbdadm status --json} (stable keys, documented in docs/operations.md) built
 * from the values given. The resource puts them together in its {@code status()}; maps keep their
 * keys in insertion order, which is the order the JSON shows.
 */
final class ResourceStatus {
    private ResourceStatus() {
    }

    /** A resync's or verify's progress, with the rate so far and the time left at that rate. */
    static Map<String, Object> progress(long done, long total, long startNanos) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("doneBytes", done);
        r.put("totalBytes", total);
        r.put("percent", total <= 0 ? 0.0 : Math.round(1000.0 * done / total) / 10.0);
        double seconds = (System.nanoTime() - startNanos) / 1e9;
        long rate = seconds > 0 ? (long) (done / seconds) : 0;
        r.put("bytesPerSecond", rate);
        r.put("secondsLeft", rate > 0 ? (total - done) / rate : -1);
        return r;
    }

    /** The progress of the resync that {@code device} drives as its source. */
    static Map<String, Object> sourceProgress(ReplicatedDevice device) {
        return progress(device.resyncBytesDone(), device.resyncBytesTotal(), device.resyncStartNanos());
    }

    /**
     * The peer as its last STATE described it ({@code state} null: not connected), and while
     * not connected why the last attempt failed.
     */
    static Map<String, Object> peer(String name, PeerMessage.State state, PeerLink link) {
        Map<String, Object> peer = new LinkedHashMap<>();
        peer.put("node", name);
        peer.put("role", state == null ? "Unknown" : state.role().name());
        peer.put("disk", state == null ? "DUnknown" : state.disk().name());
        if (state != null) {
            peer.put("generation", Superblock.hex(state.currentGeneration()));
            peer.put("generations", Handshake.peerGenerations(state).toString());
            peer.put("appliedSeq", state.appliedSeq());
            peer.put("outOfSyncBytes", state.outOfSyncBytes());
        }
        if (link != null && !link.lastFailure().isEmpty() && state == null) {
            peer.put("lastError", link.lastFailure());
        }
        return peer;
    }

    /** The journal's span of sequence numbers, "empty", or "off" when the resource keeps none. */
    static String journal(ReplicationLog log) {
        if (log == ReplicationLog.NONE) {
            return "off";
        }
        return log.lastSeq() < 0 || log.firstSeq() > log.lastSeq() ? "empty" : log.firstSeq() + ".." + log.lastSeq();
    }
}
