package io.jrbd.replicator.resource;

import io.jrbd.metadata.md.Bitmap;
import io.jrbd.protocol.peer.PeerMessage;
import io.jrbd.protocol.peer.PeerWire;
import java.util.function.Consumer;

/** A bitmap's set blocks as OUT_OF_SYNC messages (the bitmap exchange of a bitmap-based resync). */
final class OutOfSyncRuns {
    private static final long BLOCK = 4096;

    private OutOfSyncRuns() {
    }

    /** Hands {@code out} the runs of set blocks, at most {@link PeerWire#MAX_OUT_OF_SYNC_RUNS} per message; the last one says so. */
    static void send(Bitmap bitmap, long deviceSize, Consumer<PeerMessage.OutOfSync> out) {
        long[] runs = new long[2 * PeerWire.MAX_OUT_OF_SYNC_RUNS];
        int n = 0;
        long block = bitmap.nextSetBlock(0);
        while (block >= 0) {
            long start = block * BLOCK;
            long clear = bitmap.nextClearBlock(block);
            long end = clear < 0 ? deviceSize : Math.min(clear * BLOCK, deviceSize);
            if (start >= deviceSize) {
                break;
            }
            runs[2 * n] = start;
            runs[2 * n + 1] = end - start;
            if (++n == PeerWire.MAX_OUT_OF_SYNC_RUNS) {
                out.accept(new PeerMessage.OutOfSync(runs.clone(), false));
                n = 0;
            }
            block = clear < 0 ? -1 : bitmap.nextSetBlock(clear);
        }
        long[] tail = new long[2 * n];
        System.arraycopy(runs, 0, tail, 0, tail.length);
        out.accept(new PeerMessage.OutOfSync(tail, true));
    }
}
