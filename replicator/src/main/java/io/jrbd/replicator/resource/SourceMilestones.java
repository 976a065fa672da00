package io.jrbd.replicator.resource;

import io.jrbd.protocol.peer.DiskState;
import io.jrbd.protocol.peer.PeerMessage;

/**
 * The milestones of a resync or catch-up that this node drives as the source, each tied to the
 * session it belongs to:
 * <ol>
 *   <li>a bitmap-based resync starts once the target's out-of-sync blocks are all in;</li>
 *   <li>the target reports Inconsistent when its SYNC_START arrives, so only an UpToDate after
 *       that is the end of this resync (not the UpToDate it had before);</li>
 *   <li>a catch-up is over once the peer acknowledges the caught-up sequence as durable: the
 *       bitmap may then be cleared.</li>
 * </ol>
 * Written under the resource's monitor or on the link's event loop, which delivers a session's
 * messages in order.
 */
final class SourceMilestones {
    /** The session whose target's out-of-sync blocks are awaited; -1 if none. */
    private long bitsSession = -1;
    private long peerBitsBytes;
    private boolean targetStarted;
    private volatile long clearBitmapAt = -1;
    private volatile long clearBitmapSession = -1;
    /** A catch-up ends with SYNC_DONE: the peer is on this node's previous generation and adopts the current one. */
    private volatile boolean catchUpEndsWithSyncDone;

    /** A session began: no bits of an earlier one are awaited any more. */
    void sessionStarted() {
        bitsSession = -1;
    }

    void sessionEnded() {
        bitsSession = -1;
        targetStarted = false;
    }

    /** The resync of session {@code s} starts when the target's out-of-sync blocks are in. */
    void awaitPeerBits(long s) {
        bitsSession = s;
        peerBitsBytes = 0;
    }

    /** Counts the target's out-of-sync blocks; true if {@code runs} is the last message of those awaited. */
    boolean peerBits(long s, PeerMessage.OutOfSync runs) {
        if (s != bitsSession) {
            return false;
        }
        peerBitsBytes += runs.totalBytes();
        return runs.last();
    }

    /** True, once, if the target's out-of-sync blocks were awaited in session {@code s}. */
    boolean takePeerBits(long s) {
        if (s != bitsSession) {
            return false;
        }
        bitsSession = -1;
        return true;
    }

    /** How many bytes the target marked out of sync. */
    long peerBitsBytes() {
        return peerBitsBytes;
    }

    /** Shipping starts: the target's SYNC_START is still to come. */
    void shippingStarted() {
        targetStarted = false;
    }

    /** The target's disk state, while this node is SyncSource; true if it says the resync ended. */
    boolean targetReported(DiskState disk) {
        if (disk == DiskState.Inconsistent) {
            targetStarted = true;
        }
        if (targetStarted && disk == DiskState.UpToDate) {
            targetStarted = false;
            return true;
        }
        return false;
    }

    void catchUpEndsWithSyncDone(boolean syncDone) {
        catchUpEndsWithSyncDone = syncDone;
    }

    /** The catch-up of session {@code s} reached {@code seq}; true if SYNC_DONE is to follow it. */
    boolean caughtUp(long s, long seq) {
        clearBitmapAt = seq;
        clearBitmapSession = s;
        return catchUpEndsWithSyncDone;
    }

    /** The peer of session {@code s} holds {@code seq} durably; true, once, if that covers the catch-up. */
    boolean durable(long s, long seq) {
        if (clearBitmapSession == s && clearBitmapAt >= 0 && seq >= clearBitmapAt) {
            clearBitmapAt = -1;
            return true;
        }
        return false;
    }
}
