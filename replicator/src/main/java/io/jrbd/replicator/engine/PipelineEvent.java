package io.jrbd.replicator.engine;

import io.jrbd.replicator.device.IoCallback;
import io.netty.buffer.ByteBuf;

/** One slot of the primary's ring: an operation on its way through the stages. */
final class PipelineEvent {
    int type;
    int flags;
    long offset;
    long length;
    /** WRITE payload or RESYNC_DATA buffer; released by the last stage that needs it. */
    ByteBuf data;
    IoCallback callback;
    long publishNanos;

    // Set by the sequencer.
    long seq;
    /** The peer session this event goes to, or -1: no peer condition, it is in the bitmap. */
    long session;
    /** For ATTACH: catch up from this sequence number, or -1 for a full resync. */
    long catchUpFrom;

    // Set by the local writer.
    String localError;
    boolean localNoSpace;

    void clear() {
        type = 0;
        flags = 0;
        offset = 0;
        length = 0;
        data = null;
        callback = null;
        seq = 0;
        session = -1;
        catchUpFrom = -1;
        localError = null;
        localNoSpace = false;
    }
}
