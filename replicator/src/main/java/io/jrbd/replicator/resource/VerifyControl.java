package io.jrbd.replicator.resource;

import io.jrbd.metadata.md.Bitmap;
import io.jrbd.metadata.store.BackingStore;
import io.jrbd.protocol.peer.PeerMessage;
import io.jrbd.replicator.config.ResourceConfig;
import io.jrbd.replicator.verify.DigestExchange;
import io.jrbd.replicator.verify.DigestResponder;
import io.jrbd.replicator.verify.InFlightWrites;
import io.jrbd.replicator.verify.OnlineVerify;
import io.jrbd.replicator.verify.VerifyOptions;
import io.jrbd.replicator.verify.VerifyResult;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Online verify and the digest traffic under it: the responder that answers the peer's digest
 * requests while the resource is up (its verify, its checksum-based resync), this node's
 * exchange with the peer of the current session, and the verify run itself with its result.
 *
 * <p>Lifecycle calls ({@link #attached}, {@link #sessionStarted}, ...) come under the resource's
 * monitor; {@link #answer} and {@link #onReply} come from the link's event loop without it.
 */
final class VerifyControl {
    // The resource's logger: operators and tests read these lines under the name "Resource".
    private static final Logger LOG = LoggerFactory.getLogger(Resource.class);
    private static final int RESPONDER_QUEUE = 32;

    private final String resource;
    private final String peer;
    private final HandlerRunner handlers;
    private final ResourceEvents events;
    /** Writes the bitmap the verify marked to disk; logs rather than throws. */
    private final Runnable flushBitmap;
    /** Drops the connection, if there is one, with the reason given. */
    private final Consumer<String> dropConnection;

    private DigestResponder responder;
    private volatile DigestExchange exchange;
    private volatile OnlineVerify verify;
    private volatile VerifyResult lastVerify;
    private volatile long startNanos;

    VerifyControl(String resource, String peer, HandlerRunner handlers, ResourceEvents events, Runnable flushBitmap,
            Consumer<String> dropConnection) {
        this.resource = resource;
        this.peer = peer;
        this.handlers = handlers;
        this.events = events;
        this.flushBitmap = flushBitmap;
        this.dropConnection = dropConnection;
    }

    /** The disk is attached: answer the peer's digest requests from {@code store}. */
    void attached(ResourceConfig config, BackingStore store) {
        responder = newResponder(config, store);
    }

    /** The digest algorithms may have changed ({@code adjust}): answer with the new ones. */
    void checksumsChanged(ResourceConfig fresh, BackingStore store) {
        if (responder != null) {
            responder.close();
            responder = newResponder(fresh, store);
        }
    }

    /** The resource is going down: a running verify ends, the peer's requests go unanswered. */
    void detached() {
        OnlineVerify v = verify;
        if (v != null) {
            v.cancel("the resource is going down");
        }
        if (responder != null) {
            responder.close();
            responder = null;
        }
    }

    /** Answers the peer's digest requests with the algorithms {@code c} names (verify-alg, csums-alg). */
    private DigestResponder newResponder(ResourceConfig c, BackingStore store) {
        List<String> algorithms = new ArrayList<>(List.of(c.checksums().verifyAlg().spelling()));
        c.checksums().csumsAlg().ifPresent(a -> algorithms.add(a.spelling()));
        return new DigestResponder(c.name(), store, algorithms, RESPONDER_QUEUE, (request, failure) -> {
            LOG.error("{}: reading this disk for the peer's digests failed: {}", c.name(), failure.getMessage());
            dropConnection.accept("local disk failure: " + failure.getMessage());
        });
    }

    /** A session with the peer began; {@code send} reaches the peer in that session. */
    void sessionStarted(Consumer<? super PeerMessage> send) {
        exchange = new DigestExchange(send);
    }

    /** The session ended: requests waiting for the peer fail, a running verify ends. */
    void sessionEnded(String reason) {
        DigestExchange x = exchange;
        if (x != null) {
            x.failAll("the connection to " + peer + " was lost: " + reason);
        }
        OnlineVerify v = verify;
        if (v != null) {
            v.cancel("the connection to " + peer + " was lost");
        }
    }

    /** This node's digest requests to the peer of the current session (for a checksum-based resync). */
    DigestExchange exchange() {
        return exchange;
    }

    /**
     * Queues the peer's digest request; false if this node is down or already queues as many as
     * it may (a protocol error of the peer's).
     *
     * @throws IllegalArgumentException if the request itself is malformed
     */
    boolean answer(PeerMessage.DigestRequest request, Consumer<? super PeerMessage.DigestReply> replyTo) {
        DigestResponder r = responder;
        return r != null && r.submit(request, replyTo);
    }

    void onReply(PeerMessage.DigestReply reply) {
        DigestExchange x = exchange;
        if (x != null) {
            x.onReply(reply);
        }
    }

    /**
     * Starts comparing every block with the peer's. The caller has checked that the peer is
     * connected and no resync runs; {@code send} reaches it in the current session.
     */
    OnlineVerify start(ResourceConfig config, BackingStore store, Bitmap bitmap, Consumer<? super PeerMessage> send,
            InFlightWrites writes, RateThrottle throttle) throws RefusedException {
        OnlineVerify running = verify;
        if (running != null && running.running()) {
            throw new RefusedException("a verify is already running (" + running.doneBytes() + " of "
                    + running.totalBytes() + " bytes compared)");
        }
        String algorithm = config.checksums().verifyAlg().spelling();
        OnlineVerify v = new OnlineVerify(resource, store, bitmap, exchange, send, writes, throttle,
                VerifyOptions.of(algorithm), this::finished);
        verify = v;
        startNanos = System.nanoTime();
        v.start();
        LOG.info("{}: online verify against {} started ({})", resource, peer, algorithm);
        events.happened("verify-started");
        return v;
    }

    private void finished(VerifyResult r) {
        lastVerify = r;
        for (String line : r.logLines(20)) {
            LOG.warn("{}: {}", resource, line);
        }
        LOG.info("{}: online verify {}", resource, r.summary());
        flushBitmap.run();
        if (r.differingBytes() > 0) {
            handlers.run("out-of-sync", peer);
        }
        events.happened("verify-finished");
    }

    /** Adds the running verify ({@code VerifyS}) and the last result to the status map. */
    void describe(Map<String, Object> status) {
        OnlineVerify v = verify;
        if (v != null && v.running()) {
            status.put("connection", "VerifyS");
            status.put("verify", ResourceStatus.progress(v.doneBytes(), v.totalBytes(), startNanos));
        }
        VerifyResult vr = lastVerify;
        if (vr != null) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("outcome", vr.outcome().name());
            r.put("differingBytes", vr.differingBytes());
            r.put("ranges", vr.ranges().describe(100));
            r.put("summary", vr.summary());
            status.put("lastVerify", r);
        }
    }
}
