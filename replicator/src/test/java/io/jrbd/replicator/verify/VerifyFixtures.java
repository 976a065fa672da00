package io.jrbd.replicator.verify;

import io.jrbd.metadata.md.Metadata;
import io.jrbd.metadata.store.BackingStore;
import io.jrbd.protocol.peer.PeerMessage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Two nodes back to back in one process: this node's store, metadata and {@link DigestExchange};
 * the peer's store and {@link DigestResponder}. The exchange's sender hands each DIGEST_REQUEST
 * to the responder, whose worker answers into the exchange, as the link would; OUT_OF_SYNC and
 * every request are recorded.
 */
final class VerifyFixtures implements AutoCloseable {
    static final int BLOCK = 4096;
    static final int MIB = 1 << 20;
    /** Three chunks and a short fourth of 1536 bytes: the last 4 KiB block is partial. */
    static final long SIZE = 3L * MIB + 1536;

    final BackingStore local;
    final BackingStore peer;
    final Metadata md;
    final DigestResponder responder;
    final DigestExchange exchange;
    final List<PeerMessage.DigestRequest> requests = new CopyOnWriteArrayList<>();
    final List<PeerMessage.OutOfSync> outOfSync = new CopyOnWriteArrayList<>();
    /** When set, requests are recorded but never reach the responder: a peer that went silent. */
    volatile boolean silent;

    VerifyFixtures(Path dir, String algorithm) throws IOException {
        this(dir, algorithm, DigestExchange.DEFAULT_MAX_OUTSTANDING);
    }

    VerifyFixtures(Path dir, String algorithm, int maxOutstanding) throws IOException {
        local = BackingStore.open(dir.resolve("local.img"), SIZE, false);
        peer = BackingStore.open(dir.resolve("peer.img"), SIZE, false);
        md = Metadata.create(dir.resolve("local.md"), SIZE, "r0", "alice", false);
        byte[] data = new byte[(int) SIZE];
        new Random(42).nextBytes(data);
        local.write(ByteBuffer.wrap(data), 0);
        peer.write(ByteBuffer.wrap(data), 0);
        responder = new DigestResponder("r0-peer", peer, algorithm);
        exchange = new DigestExchange(this::send, maxOutstanding);
    }

    private void send(PeerMessage m) {
        if (m instanceof PeerMessage.DigestRequest r) {
            requests.add(r);
            if (!silent && !responder.submit(r, exchange::onReply)) {
                throw new IllegalStateException("responder refused " + r);
            }
        } else if (m instanceof PeerMessage.OutOfSync o) {
            outOfSync.add(o);
        } else {
            throw new IllegalStateException("unexpected " + m);
        }
    }

    /** Inverts one byte of {@code store} at {@code offset}. */
    static void flip(BackingStore store, long offset) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(1);
        store.read(b, offset);
        b.put(0, (byte) ~b.get(0));
        b.clear();
        store.write(b, offset);
    }

    /** Copies {@code [offset, offset + length)} of {@code from} over {@code to}: a replicated write landing. */
    static void copy(BackingStore from, BackingStore to, long offset, int length) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(length);
        from.read(b, offset);
        b.flip();
        to.write(b, offset);
    }

    /** Every OUT_OF_SYNC run sent, flattened in order. */
    long[] sentRuns() {
        return outOfSync.stream().flatMapToLong(o -> java.util.Arrays.stream(o.runs())).toArray();
    }

    @Override
    public void close() throws IOException {
        responder.close();
        md.close();
        local.close();
        peer.close();
    }
}
