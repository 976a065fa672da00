package io.jrbd.replicator.verify;

import io.jrbd.protocol.peer.PeerMessage;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The requesting side of a digest exchange for one peer session: gives each
 * {@link PeerMessage.DigestRequest} an id, sends it, and completes its future when the
 * {@link PeerMessage.DigestReply} of that id comes back.
 *
 * <p>Backpressure: at most {@code maxOutstanding} requests are unanswered at a time;
 * {@link #request} blocks its caller (a verify or resync thread, never the network thread)
 * until a reply frees a slot. The peer's {@link DigestResponder} queue must hold at least that
 * many.
 *
 * <p>One exchange per session: {@link #failAll} ends it for good, failing every outstanding
 * and every later request with a {@link SessionEndedException} carrying the reason. The next
 * session builds a new exchange, so a late reply of the old session can never complete a
 * request of the new one.
 *
 * <p>Threading: {@link #request} from any number of threads; {@link #onReply} and
 * {@link #failAll} from any thread, never blocking. Futures complete on the thread that calls
 * {@link #onReply} or {@link #failAll} (the network thread): chain no blocking work on them
 * with the non-async {@code thenX} methods.
 */
public final class DigestExchange {
    /** Requests unanswered at once, by default. */
    public static final int DEFAULT_MAX_OUTSTANDING = 8;

    private static final Logger LOG = LoggerFactory.getLogger(DigestExchange.class);

    private final Consumer<? super PeerMessage> sender;
    private final int maxOutstanding;
    private final AtomicLong nextId = new AtomicLong(1);
    private final Map<Long, Pending> pending = new ConcurrentHashMap<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition slotFree = lock.newCondition();
    private int outstanding; // guarded by lock
    private volatile String failed;

    /**
     * @param sender         sends a message to the peer of this session; may throw if the link is down
     * @param maxOutstanding requests unanswered at once, at least 1
     */
    public DigestExchange(Consumer<? super PeerMessage> sender, int maxOutstanding) {
        this.sender = Objects.requireNonNull(sender, "sender");
        if (maxOutstanding < 1) {
            throw new IllegalArgumentException("maxOutstanding " + maxOutstanding + ", must be >= 1");
        }
        this.maxOutstanding = maxOutstanding;
    }

    /** {@link #DEFAULT_MAX_OUTSTANDING} requests unanswered at once. */
    public DigestExchange(Consumer<? super PeerMessage> sender) {
        this(sender, DEFAULT_MAX_OUTSTANDING);
    }

    /**
     * Sends a DIGEST_REQUEST for {@code [offset, offset + length)}; the future completes with
     * its reply, or fails with {@link SessionEndedException} when the session ends first, or
     * with the sender's exception if sending failed. Waits while {@code maxOutstanding}
     * requests are unanswered.
     *
     * @throws IllegalArgumentException if the fields break the wire limits (see
     *                                  {@link PeerMessage.DigestRequest})
     * @throws InterruptedException     if interrupted while waiting for a slot; nothing was sent
     */
    public CompletableFuture<PeerMessage.DigestReply> request(long offset, int length, int blockSize, byte[] digests)
            throws InterruptedException {
        PeerMessage.DigestRequest message = new PeerMessage.DigestRequest(nextId.getAndIncrement(), offset, length,
                blockSize, digests);
        lock.lockInterruptibly();
        try {
            while (outstanding >= maxOutstanding && failed == null) {
                slotFree.await();
            }
            if (failed != null) {
                return CompletableFuture.failedFuture(new SessionEndedException(failed));
            }
            outstanding++;
        } finally {
            lock.unlock();
        }
        Pending p = new Pending(message, new CompletableFuture<>());
        pending.put(message.id(), p); // before sending: the reply may come back first
        if (failed != null) { // failAll ran between the check and the put: it may have missed p
            finish(message.id(), null, new SessionEndedException(failed));
            return p.future;
        }
        try {
            sender.accept(message);
        } catch (RuntimeException e) {
            finish(message.id(), null, e);
        }
        return p.future;
    }

    /**
     * A DIGEST_REPLY arrived. Completes the request of its id; a reply of no outstanding
     * request (late, of an ended exchange, or a peer's mistake) is ignored. A reply whose span
     * differs from its request's fails that request with a message naming both.
     */
    public void onReply(PeerMessage.DigestReply reply) {
        Pending p = pending.get(reply.id());
        if (p == null) {
            LOG.debug("digest reply of no outstanding request ignored: {}", reply);
            return;
        }
        PeerMessage.DigestRequest r = p.request;
        if (r.offset() != reply.offset() || r.length() != reply.length() || r.blockSize() != reply.blockSize()) {
            finish(reply.id(), null, new IllegalStateException("protocol error: " + reply + " answers " + r
                    + " but covers another span"));
            return;
        }
        finish(reply.id(), reply, null);
    }

    /**
     * The session ended: fails every outstanding request, and every later one, with a
     * {@link SessionEndedException} carrying {@code why}; wakes callers waiting for a slot. Only
     * the first reason counts.
     */
    public void failAll(String why) {
        lock.lock();
        try {
            if (failed == null) {
                failed = Objects.requireNonNullElse(why, "unknown");
            }
            slotFree.signalAll();
        } finally {
            lock.unlock();
        }
        SessionEndedException e = new SessionEndedException(failed);
        for (Long id : new ArrayList<>(pending.keySet())) {
            finish(id, null, e);
        }
    }

    /** The reason given to {@link #failAll}, or null while the session lasts. */
    public String failure() {
        return failed;
    }

    /** Requests sent and not yet answered. */
    public int outstanding() {
        lock.lock();
        try {
            return outstanding;
        } finally {
            lock.unlock();
        }
    }

    public int maxOutstanding() {
        return maxOutstanding;
    }

    /** Removes the request of {@code id} and completes it, once: the first of reply and failure wins. */
    private void finish(long id, PeerMessage.DigestReply reply, Throwable error) {
        Pending p = pending.remove(id);
        if (p == null) {
            return;
        }
        lock.lock();
        try {
            outstanding--;
            slotFree.signal();
        } finally {
            lock.unlock();
        }
        if (error != null) {
            p.future.completeExceptionally(error);
        } else {
            p.future.complete(reply);
        }
    }

    /** Outstanding requests, for tests: their ids in no order. */
    List<Long> outstandingIds() {
        return List.copyOf(pending.keySet());
    }

    private record Pending(PeerMessage.DigestRequest request, CompletableFuture<PeerMessage.DigestReply> future) {
    }
}
