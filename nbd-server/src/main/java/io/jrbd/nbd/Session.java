package io.jrbd.nbd;

import io.jrbd.protocol.nbd.NbdFlags;
import io.jrbd.replicator.device.BlockDevice;
import java.net.SocketAddress;

/** What one connection has negotiated, and its counters for the disconnect log line. */
final class Session {
    static final int BASE_ALLOCATION_ID = 1;
    static final String BASE_ALLOCATION = "base:allocation";

    final SocketAddress remote;
    boolean noZeroes;
    boolean structuredReplies;
    /** The export SET_META_CONTEXT selected base:allocation for; null when none is selected. */
    Export metaContextExport;
    Export export;
    boolean blockStatusEnabled;
    long requests;
    long errors;
    int loggedErrors;

    Session(SocketAddress remote) {
        this.remote = remote;
    }

    /** The transmission flags this connection sees for {@code device}. */
    int transmissionFlags(BlockDevice device) {
        int flags = NbdFlags.HAS_FLAGS | NbdFlags.SEND_FLUSH | NbdFlags.SEND_FUA | NbdFlags.CAN_MULTI_CONN | NbdFlags.SEND_CACHE;
        if (device.readOnly()) {
            flags |= NbdFlags.READ_ONLY;
        } else {
            flags |= NbdFlags.SEND_TRIM | NbdFlags.SEND_WRITE_ZEROES | NbdFlags.SEND_FAST_ZERO;
        }
        if (structuredReplies) {
            flags |= NbdFlags.SEND_DF; // reads are never fragmented, so DF always holds
        }
        return flags;
    }
}
