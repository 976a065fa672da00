package io.jrbd.replicator.resource;

import io.jrbd.metadata.store.BackingStore;
import io.jrbd.protocol.peer.PeerMessage;
import io.jrbd.replicator.engine.SecondaryApplier;
import io.jrbd.replicator.engine.StoreDisk;
import java.util.Map;
import java.util.Optional;

/**
 * The Secondary's side of a session: the applier that writes the Primary's stream to this disk,
 * what this node received and acknowledged as received, and the progress of a resync it is the
 * target of. {@link #offer} and {@link #takeUnacknowledged} run on the link's event loop, as
 * does the stop before a handshake ({@code Resource.localState}); the rest runs under the
 * resource's monitor, or reads (housekeeping, verify) without a lock.
 */
final class ApplierControl {
    private final String resource;
    private volatile ApplierThread thread;
    /** Outlives its thread: what it applied counts until the next session's applier replaces it. */
    private SecondaryApplier state;
    private volatile long maxReceived = -1;
    private long ackedReceived = -1;
    private volatile long resyncTotal = -1;
    private volatile long resyncStartNanos;

    ApplierControl(String resource) {
        this.resource = resource;
    }

    /** A new session: nothing is received from it yet. */
    void sessionStarted() {
        maxReceived = -1;
        ackedReceived = -1;
    }

    /** Starts applying to {@code store} what follows sequence {@code seq}; the caller stopped the previous applier. */
    void start(BackingStore store, long seq, SecondaryApplier.Listener listener, ApplierThread.Sink sink) {
        SecondaryApplier s = new SecondaryApplier(new StoreDisk(store), listener, System::nanoTime, seq, true);
        state = s;
        ApplierThread t = new ApplierThread("jrbd-applier-" + resource, s, sink);
        thread = t;
        t.start();
    }

    /** Applies what is queued, then stops; returns the sequence number durable on disk, or -1 if none was running. */
    long stop() {
        ApplierThread t = thread;
        thread = null;
        if (t == null) {
            return -1;
        }
        t.finish();
        state.close();
        return state.syncedSeq();
    }

    boolean running() {
        return thread != null;
    }

    /** The highest sequence number the last applier wrote to this disk (maybe not yet durable); -1 if none ran. */
    long appliedSeq() {
        SecondaryApplier s = state;
        return s == null ? -1 : s.appliedSeq();
    }

    /** The highest sequence number the running applier made durable; -1 if none runs. */
    long syncedSeq() {
        SecondaryApplier s = state;
        return s != null && thread != null ? s.syncedSeq() : -1;
    }

    /**
     * Hands a message of the Primary's stream to the applier, which takes ownership of it; false
     * (and the caller keeps it) if none runs.
     */
    boolean offer(PeerMessage message) {
        ApplierThread t = thread;
        if (t == null) {
            return false;
        }
        if (message instanceof PeerMessage.Data data) {
            maxReceived = Math.max(maxReceived, data.seq());
        }
        t.enqueue(message);
        return true;
    }

    /** The highest sequence number received in this session; -1 if none. */
    long receivedSeq() {
        return maxReceived;
    }

    /**
     * The highest sequence number received since the last call, to acknowledge as received
     * (protocol B); -1 if nothing new came.
     */
    long takeUnacknowledged() {
        long received = maxReceived;
        if (received > ackedReceived) {
            ackedReceived = received;
            return received;
        }
        return -1;
    }

    /** Whether the running applier has still to write sequence number {@code seq}. */
    boolean applying(long seq) {
        SecondaryApplier s = state;
        return s != null && thread != null && s.appliedSeq() < seq;
    }

    /** A resync of {@code totalBytes} to this node starts. */
    void resyncStarted(long totalBytes) {
        resyncTotal = totalBytes;
        resyncStartNanos = System.nanoTime();
    }

    void resyncEnded() {
        resyncTotal = -1;
    }

    /** The progress of the resync this node is the target of, while the applier runs it. */
    Optional<Map<String, Object>> resyncProgress() {
        ApplierThread t = thread;
        long total = resyncTotal;
        if (total <= 0 || t == null) {
            return Optional.empty();
        }
        return Optional.of(ResourceStatus.progress(Math.min(t.resyncBytes(), total), total, resyncStartNanos));
    }
}
