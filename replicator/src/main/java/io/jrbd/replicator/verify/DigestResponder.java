package io.jrbd.replicator.verify;

import io.jrbd.metadata.store.BackingStore;
import io.jrbd.metadata.store.StoreException;
import io.jrbd.protocol.peer.PeerMessage;
import io.jrbd.resync.BlockDigests;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The answering side of a digest exchange: for each {@link PeerMessage.DigestRequest} it reads
 * the same span of its own store, digests it with the algorithm agreed by configuration and
 * replies with a {@link PeerMessage.DigestReply} whose bits mark the blocks that differ.
 *
 * <p>Threading: {@link #submit} never blocks and never touches the disk, so the network
 * thread calls it; one daemon worker thread ({@code jrbd-digest-<resource>}) owns the read
 * buffer and the digests and takes requests from a bounded queue in arrival order. Replies
 * are handed to {@code replyTo} on the worker thread. A request's {@code replyTo} is called
 * after its span was read: everything written to the store before the read is in the answer.
 *
 * <p>Algorithms: the request carries only the digest length, so the responder knows each
 * algorithm it may be asked for (verify-alg and csums-alg) and picks by length; two of the same
 * length are refused at construction, and a request of any other length is refused by
 * {@link #submit} with a message naming both sides.
 *
 * <p>At the device end: blocks the store does not have (a span running past its end, a last
 * block longer than the store's) are answered as differing.
 */
public final class DigestResponder implements AutoCloseable {
    /** Requests queued by default: twice {@link DigestExchange#DEFAULT_MAX_OUTSTANDING}. */
    public static final int DEFAULT_QUEUE_CAPACITY = 2 * DigestExchange.DEFAULT_MAX_OUTSTANDING;

    private static final Logger LOG = LoggerFactory.getLogger(DigestResponder.class);
    private static final Task STOP = new Task(null, null);

    private final String resource;
    private final BackingStore store;
    private final List<DigestReader> readers;
    private final BlockingQueue<Task> queue;
    private final BiConsumer<PeerMessage.DigestRequest, StoreException> onReadFailure;
    private final Thread worker;
    private final AtomicLong answered = new AtomicLong();
    private final AtomicLong differing = new AtomicLong();
    private volatile boolean closed;
    private StoreException failure; // worker thread only

    /**
     * Starts the worker.
     *
     * @param algorithms    the names ({@link BlockDigests#forName}) the peer may digest with, of
     *                      distinct digest lengths: typically verify-alg and, if set, csums-alg
     * @param queueCapacity requests that may wait; must be at least the sum of the peer's
     *                      {@link DigestExchange} bounds, or {@link #submit} refuses
     * @param onReadFailure called on the worker thread when reading the store failed for a
     *                      request, which then gets no reply; every later request is refused the
     *                      same way with the same exception (the store is broken: detach by policy)
     */
    public DigestResponder(String resource, BackingStore store, List<String> algorithms, int queueCapacity,
            BiConsumer<PeerMessage.DigestRequest, StoreException> onReadFailure) {
        this.resource = Objects.requireNonNull(resource, "resource");
        this.store = Objects.requireNonNull(store, "store");
        this.onReadFailure = Objects.requireNonNull(onReadFailure, "onReadFailure");
        if (queueCapacity < 1) {
            throw new IllegalArgumentException("digest responder queue capacity " + queueCapacity + ", must be >= 1");
        }
        if (algorithms.isEmpty()) {
            throw new IllegalArgumentException("digest responder of " + resource + " needs at least one algorithm");
        }
        List<DigestReader> list = new ArrayList<>(algorithms.size());
        for (String name : algorithms) {
            BlockDigests d = BlockDigests.forName(name);
            for (DigestReader other : list) {
                if (other.digestLength() == d.digestLength() && !other.digests().name().equals(d.name())) {
                    throw new IllegalArgumentException("digest algorithms " + other.digests().name() + " and "
                            + d.name() + " both make " + d.digestLength() + "-byte digests: a request could not"
                            + " tell them apart");
                }
            }
            if (list.stream().noneMatch(r -> r.digests().name().equals(d.name()))) {
                list.add(new DigestReader(store, d));
            }
        }
        this.readers = List.copyOf(list);
        this.queue = new ArrayBlockingQueue<>(queueCapacity);
        this.worker = new Thread(this::run, "jrbd-digest-" + resource);
        worker.setDaemon(true);
        worker.start();
    }

    /** One algorithm, the default queue, read failures only logged. */
    public DigestResponder(String resource, BackingStore store, String algorithm) {
        this(resource, store, List.of(algorithm), DEFAULT_QUEUE_CAPACITY,
                (request, e) -> LOG.error("{}: cannot answer {}: {}", resource, request, e.getMessage()));
    }

    /**
     * Queues {@code request}; its reply goes to {@code replyTo} on the worker thread. Never
     * blocks. Returns false, having queued nothing, when the queue is full (the peer has more
     * requests outstanding than agreed: drop the link) or the responder is closed.
     *
     * @throws IllegalArgumentException if the request's digest length is not one of this node's
     *                                  algorithms: the two nodes' verify-alg / csums-alg differ
     */
    public boolean submit(PeerMessage.DigestRequest request, Consumer<? super PeerMessage.DigestReply> replyTo) {
        Objects.requireNonNull(replyTo, "replyTo");
        readerFor(request);
        if (closed) {
            return false;
        }
        return queue.offer(new Task(request, replyTo));
    }

    /**
     * The reply to {@code request} computed on the calling thread (the worker's job; for tests
     * and tools). Not to be called while the worker runs: the readers are the worker's.
     */
    PeerMessage.DigestReply answer(PeerMessage.DigestRequest request) throws StoreException {
        DigestReader reader = readerFor(request);
        int blocks = request.blocks();
        int digestLength = reader.digestLength();
        int mine = reader.digestShared(request.offset(), request.length(), request.blockSize());
        byte[] mask = BlockDigests.differing(reader.shared(), request.digests(), digestLength, mine);
        byte[] differ = new byte[(blocks + 7) >>> 3];
        System.arraycopy(mask, 0, differ, 0, mask.length);
        // Blocks this store lacks, wholly or in part, differ.
        long end = store.size();
        for (int b = 0; b < blocks; b++) {
            long blockEnd = Math.min(request.offset() + request.length(), request.offset() + (long) (b + 1) * request.blockSize());
            if (b >= mine || blockEnd > end) {
                differ[b >>> 3] |= (byte) (1 << (b & 7));
            }
        }
        return new PeerMessage.DigestReply(request.id(), request.offset(), request.length(), request.blockSize(), differ);
    }

    /** Requests answered so far. */
    public long answered() {
        return answered.get();
    }

    /** Blocks answered as differing so far. */
    public long differingBlocks() {
        return differing.get();
    }

    /** Requests waiting. */
    public int queued() {
        return queue.size();
    }

    /**
     * Stops the worker: requests still queued get no reply; one being answered finishes first
     * (the worker is never interrupted, since an interrupt closes the store's channel). Waits up
     * to 10 s for the worker; a second call does nothing.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        queue.clear();
        queue.offer(STOP);
        if (Thread.currentThread() == worker) {
            return;
        }
        try {
            worker.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (worker.isAlive()) {
            LOG.warn("{}: digest responder still reading after 10 s; left to finish on its own", resource);
        }
    }

    private DigestReader readerFor(PeerMessage.DigestRequest request) {
        int length = request.digestLength();
        for (DigestReader r : readers) {
            if (r.digestLength() == length) {
                return r;
            }
        }
        StringBuilder mine = new StringBuilder();
        for (DigestReader r : readers) {
            mine.append(mine.length() == 0 ? "" : ", ").append(r.digests().name()).append(" (")
                    .append(r.digestLength()).append(" bytes)");
        }
        throw new IllegalArgumentException(resource + ": " + request + " carries " + length
                + "-byte digests but this node digests with " + mine
                + ": verify-alg and csums-alg must be the same on both nodes");
    }

    private void run() {
        while (true) {
            Task task;
            try {
                task = queue.take();
            } catch (InterruptedException e) {
                return; // nobody interrupts this thread; if someone does, stop rather than spin
            }
            if (task == STOP || closed) {
                return;
            }
            handle(task);
        }
    }

    private void handle(Task task) {
        if (failure != null) {
            fail(task.request, failure);
            return;
        }
        PeerMessage.DigestReply reply;
        try {
            reply = answer(task.request);
        } catch (StoreException e) {
            failure = e;
            fail(task.request, e);
            return;
        } catch (RuntimeException e) {
            LOG.error("{}: cannot answer {}", resource, task.request, e);
            return;
        }
        answered.incrementAndGet();
        differing.addAndGet(reply.differingBlocks());
        try {
            task.replyTo.accept(reply);
        } catch (RuntimeException e) {
            // One failing reply must not stop the worker (the link may be going down).
            LOG.warn("{}: sending {} failed: {}", resource, reply, e.toString());
        }
    }

    private void fail(PeerMessage.DigestRequest request, StoreException e) {
        try {
            onReadFailure.accept(request, e);
        } catch (RuntimeException handlerFailure) {
            LOG.error("{}: read failure handler failed for {}", resource, request, handlerFailure);
        }
    }

    private record Task(PeerMessage.DigestRequest request, Consumer<? super PeerMessage.DigestReply> replyTo) {
    }
}
