package io.jrbd.replicator.verify;

import io.jrbd.metadata.md.Bitmap;
import io.jrbd.metadata.store.BackingStore;
import io.jrbd.metadata.store.StoreException;
import io.jrbd.protocol.peer.PeerMessage;
import io.jrbd.protocol.peer.PeerWire;
import io.jrbd.replicator.engine.ResyncThrottle;
import io.jrbd.resync.BlockDigests;
import io.jrbd.resync.ByteRanges;
import java.io.IOException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Online verify ({@code jrbdadm verify}): compares every block of a span of the device with
 * the peer's by digests, on either role, and marks the blocks that differ out of sync on both
 * nodes without repairing them (a later resync does).
 *
 * <pre>
 *   for each chunk (1 MiB):  throttle.acquire  read + digest  DIGEST_REQUEST  (inFlight chunks outstanding)
 *   on its reply:            no bits set          -&gt; done
 *                            some blocks differ   -&gt; writes.awaitSettled(), read + digest those
 *                                                    blocks again, ask again; blocks that differ
 *                                                    both times: Bitmap.setRange, OUT_OF_SYNC to
 *                                                    the peer, added to the result's ranges
 * </pre>
 *
 * <p>Threading: everything runs on one daemon thread, {@code jrbd-verify-<resource>}, started
 * by {@link #start()}; the progress getters are safe from any thread; {@link #cancel} may be
 * called from any thread (the network thread too) and never blocks. The verify thread is
 * interrupted by {@link #cancel} only while it waits, never during a store read (an interrupt
 * would close the store's channel for every user). The {@link Listener} is called once, on the
 * verify thread, after {@link #result()} is set.
 *
 * <p>The throttle sees each chunk as issued when it is read and as acknowledged when its
 * answer is in, so a verify shares the resync's rate and yields to application writes.
 */
public final class OnlineVerify {
    /** Told once when the verify ends, however it ends. */
    @FunctionalInterface
    public interface Listener {
        void finished(VerifyResult result);
    }

    private static final Logger LOG = LoggerFactory.getLogger(OnlineVerify.class);
    /** Clean blocks between two suspects that a re-check reads through rather than ask twice. */
    static final int RECHECK_GAP_BLOCKS = 16;

    private final String resource;
    private final BackingStore store;
    private final Bitmap bitmap;
    private final DigestExchange exchange;
    private final Consumer<? super PeerMessage> sender;
    private final InFlightWrites writes;
    private final ResyncThrottle throttle;
    private final VerifyOptions options;
    private final Listener listener;
    private final Clock clock;
    private final long end;
    private final Thread thread;
    private final DigestReader reader;
    private final ByteRanges found = new ByteRanges(); // verify thread only
    private final ReentrantLock ioLock = new ReentrantLock();
    private final AtomicReference<String> cancelled = new AtomicReference<>();
    private final CountDownLatch finished = new CountDownLatch(1);
    private boolean started; // guarded by this
    private boolean finishing; // guarded by ioLock
    private volatile boolean running;
    private volatile long doneBytes;
    private volatile long differingBytes;
    private volatile VerifyResult result;
    private long suspects; // verify thread only
    private long unacknowledged; // bytes acquired from the throttle and not yet acknowledged; verify thread only

    /**
     * @param bitmap    this node's bitmap, covering exactly {@code store.size()} bytes
     * @param exchange  the current session's exchange, over which the peer's {@link DigestResponder} answers
     * @param sender    sends OUT_OF_SYNC to the peer of the same session
     * @param writes    waited on before each re-check; see {@link InFlightWrites}
     * @param throttle  paces the reads ({@link ResyncThrottle#NONE} for none)
     */
    public OnlineVerify(String resource, BackingStore store, Bitmap bitmap, DigestExchange exchange,
            Consumer<? super PeerMessage> sender, InFlightWrites writes, ResyncThrottle throttle, VerifyOptions options,
            Listener listener) {
        this(resource, store, bitmap, exchange, sender, writes, throttle, options, listener, Clock.systemUTC());
    }

    OnlineVerify(String resource, BackingStore store, Bitmap bitmap, DigestExchange exchange,
            Consumer<? super PeerMessage> sender, InFlightWrites writes, ResyncThrottle throttle, VerifyOptions options,
            Listener listener, Clock clock) {
        this.resource = Objects.requireNonNull(resource, "resource");
        this.store = Objects.requireNonNull(store, "store");
        this.bitmap = Objects.requireNonNull(bitmap, "bitmap");
        this.exchange = Objects.requireNonNull(exchange, "exchange");
        this.sender = Objects.requireNonNull(sender, "sender");
        this.writes = Objects.requireNonNull(writes, "writes");
        this.throttle = Objects.requireNonNull(throttle, "throttle");
        this.options = Objects.requireNonNull(options, "options");
        this.listener = Objects.requireNonNull(listener, "listener");
        this.clock = Objects.requireNonNull(clock, "clock");
        if (bitmap.deviceSize() != store.size()) {
            throw new IllegalArgumentException(resource + ": the bitmap covers " + bitmap.deviceSize()
                    + " bytes but the store " + store.path() + " holds " + store.size());
        }
        if (options.start() >= store.size()) {
            throw new IllegalArgumentException(resource + ": verify start " + options.start()
                    + " is at or past the device end " + store.size());
        }
        this.end = options.end(store.size());
        this.reader = new DigestReader(store, BlockDigests.forName(options.algorithm()));
        this.thread = new Thread(this::run, "jrbd-verify-" + resource);
        thread.setDaemon(true);
    }

    /** Starts the verify thread; once only. */
    public synchronized void start() {
        if (started) {
            throw new IllegalStateException(resource + ": this verify was started already; make a new one");
        }
        started = true;
        running = true;
        LOG.info("{}: online verify of {}..{} ({} bytes) with {} started", resource, options.start(), end,
                end - options.start(), options.algorithm());
        thread.start();
    }

    /**
     * Stops the verify (operator's stop, session lost); the result says cancelled and why.
     * Blocks marked so far stay marked. Never blocks; the first reason wins; after the end it
     * does nothing.
     */
    public void cancel(String why) {
        if (!cancelled.compareAndSet(null, Objects.requireNonNullElse(why, "cancelled"))) {
            return;
        }
        // Interrupt only a waiting thread: if it is reading, it sees the flag when the read is done.
        if (ioLock.tryLock()) {
            try {
                if (!finishing && thread.isAlive()) {
                    thread.interrupt();
                }
            } finally {
                ioLock.unlock();
            }
        }
    }

    /** True from {@link #start()} until the result is set. */
    public boolean running() {
        return running;
    }

    /** Bytes compared (answered and, where needed, re-checked) so far. */
    public long doneBytes() {
        return doneBytes;
    }

    /** Bytes of the span: {@code stop - start}, cut at the device end. */
    public long totalBytes() {
        return end - options.start();
    }

    /** Bytes found different so far. */
    public long differingBytes() {
        return differingBytes;
    }

    /** The result once the verify has ended. */
    public Optional<VerifyResult> result() {
        return Optional.ofNullable(result);
    }

    /** Waits until the verify has ended and the listener has returned; true if it has. */
    public boolean awaitFinished(long timeout, TimeUnit unit) throws InterruptedException {
        return finished.await(timeout, unit);
    }

    private void run() {
        Instant startedAt = clock.instant();
        VerifyResult.Outcome outcome = VerifyResult.Outcome.COMPLETED;
        String why = "";
        try {
            verify();
        } catch (InterruptedException e) {
            outcome = VerifyResult.Outcome.CANCELLED;
            why = Objects.requireNonNullElse(cancelled.get(), "interrupted");
        } catch (SessionEndedException e) {
            outcome = VerifyResult.Outcome.CANCELLED;
            why = e.getMessage();
        } catch (StoreException e) {
            outcome = VerifyResult.Outcome.FAILED;
            why = "local read failed: " + e.getMessage();
        } catch (IOException | RuntimeException e) {
            outcome = VerifyResult.Outcome.FAILED;
            why = e.toString();
            LOG.error("{}: online verify failed", resource, e);
        }
        ioLock.lock();
        try {
            finishing = true;
            Thread.interrupted(); // a cancel's interrupt must not reach the listener
        } finally {
            ioLock.unlock();
        }
        if (unacknowledged > 0) {
            throttle.acknowledged(unacknowledged);
            unacknowledged = 0;
        }
        VerifyResult r = new VerifyResult(resource, outcome, why, startedAt, clock.instant(), options.start(), end,
                doneBytes, found.flatten(), suspects);
        result = r;
        running = false;
        if (r.completed()) {
            LOG.info("{}: {}", resource, r.summary());
        } else {
            LOG.warn("{}: {}", resource, r.summary());
        }
        try {
            listener.finished(r);
        } catch (RuntimeException e) {
            LOG.error("{}: verify listener failed", resource, e);
        } finally {
            finished.countDown();
        }
    }

    private void verify() throws InterruptedException, IOException {
        ArrayDeque<Chunk> window = new ArrayDeque<>(options.inFlight());
        long position = options.start();
        while (position < end) {
            checkCancelled();
            int length = (int) Math.min(options.chunkSize(), end - position);
            acquire(length);
            byte[] digests = readDigests(position, length);
            window.add(new Chunk(position, length, exchange.request(position, length, options.blockSize(), digests)));
            position += length;
            while (window.size() >= options.inFlight()) {
                settle(window.poll());
            }
        }
        while (!window.isEmpty()) {
            settle(window.poll());
        }
    }

    /** Waits for a chunk's answer; re-checks and reports the blocks that differ. */
    private void settle(Chunk chunk) throws InterruptedException, IOException {
        PeerMessage.DigestReply first = await(chunk.reply);
        acknowledge(chunk.length);
        if (first.differingBlocks() > 0) {
            BitSet suspect = new BitSet(first.blocks());
            for (int b = 0; b < first.blocks(); b++) {
                if (first.differs(b)) {
                    suspect.set(b);
                }
            }
            suspects += suspect.cardinality();
            report(chunk, recheck(chunk, suspect));
        }
        doneBytes += chunk.length;
    }

    /** The blocks of {@code suspect} that still differ once the writes in flight have settled. */
    private BitSet recheck(Chunk chunk, BitSet suspect) throws InterruptedException, IOException {
        checkCancelled();
        writes.awaitSettled();
        List<Span> spans = spans(chunk, suspect);
        List<CompletableFuture<PeerMessage.DigestReply>> replies = new ArrayList<>(spans.size());
        for (Span s : spans) {
            checkCancelled();
            byte[] digests = readDigests(s.offset, s.length);
            replies.add(exchange.request(s.offset, s.length, options.blockSize(), digests));
        }
        BitSet confirmed = new BitSet();
        for (int i = 0; i < spans.size(); i++) {
            Span s = spans.get(i);
            PeerMessage.DigestReply again = await(replies.get(i));
            for (int b = suspect.nextSetBit(s.firstBlock); b >= 0 && b < s.firstBlock + again.blocks();
                    b = suspect.nextSetBit(b + 1)) {
                if (again.differs(b - s.firstBlock)) {
                    confirmed.set(b);
                }
            }
        }
        int settled = suspect.cardinality() - confirmed.cardinality();
        if (settled > 0) {
            LOG.debug("{}: {} of {} blocks at {} that differed matched on the re-check (writes in flight)", resource,
                    settled, suspect.cardinality(), chunk.offset);
        }
        return confirmed;
    }

    /**
     * The spans a re-check asks about: runs of suspect blocks, with gaps of up to
     * {@link #RECHECK_GAP_BLOCKS} clean blocks read through; each cut at the chunk's end.
     */
    private List<Span> spans(Chunk chunk, BitSet suspect) {
        List<Span> spans = new ArrayList<>();
        int bs = options.blockSize();
        int first = suspect.nextSetBit(0);
        while (first >= 0) {
            int last = first;
            int next = suspect.nextSetBit(last + 1);
            while (next >= 0 && next - last - 1 <= RECHECK_GAP_BLOCKS) {
                last = next;
                next = suspect.nextSetBit(last + 1);
            }
            long offset = chunk.offset + (long) first * bs;
            long stop = Math.min(chunk.offset + chunk.length, chunk.offset + (long) (last + 1) * bs);
            spans.add(new Span(first, offset, (int) (stop - offset)));
            first = next;
        }
        return spans;
    }

    /** Marks the confirmed blocks here and on the peer and adds them to the result. */
    private void report(Chunk chunk, BitSet confirmed) {
        if (confirmed.isEmpty()) {
            return;
        }
        int bs = options.blockSize();
        long chunkEnd = chunk.offset + chunk.length;
        List<long[]> messages = new ArrayList<>();
        long[] runs = new long[2 * PeerWire.MAX_OUT_OF_SYNC_RUNS];
        int n = 0;
        for (int b = confirmed.nextSetBit(0); b >= 0; ) {
            int after = confirmed.nextClearBit(b);
            long offset = chunk.offset + (long) b * bs;
            long length = Math.min(chunkEnd, chunk.offset + (long) after * bs) - offset;
            bitmap.setRange(offset, length);
            found.add(offset, length);
            differingBytes += length;
            runs[2 * n] = offset;
            runs[2 * n + 1] = length;
            if (++n == PeerWire.MAX_OUT_OF_SYNC_RUNS) {
                messages.add(runs.clone());
                n = 0;
            }
            b = confirmed.nextSetBit(after);
        }
        if (n > 0) {
            long[] tail = new long[2 * n];
            System.arraycopy(runs, 0, tail, 0, tail.length);
            messages.add(tail);
        }
        for (long[] m : messages) {
            // Never "last": that flag ends the bitmap exchange of a connect.
            sender.accept(new PeerMessage.OutOfSync(m, false));
        }
    }

    private void acquire(long bytes) throws InterruptedException {
        long got = 0;
        while (got < bytes) {
            long granted = throttle.acquire(bytes - got);
            got += granted;
            unacknowledged += granted;
        }
    }

    private void acknowledge(long bytes) {
        long n = Math.min(bytes, unacknowledged);
        if (n > 0) {
            throttle.acknowledged(n);
            unacknowledged -= n;
        }
    }

    /**
     * Reads and digests a span unless cancelled; holds {@link #ioLock} so no cancel interrupts
     * the read. A cancel that came during the read found the lock taken and interrupted
     * nobody: the check after the unlock sees it.
     */
    private byte[] readDigests(long offset, int length) throws StoreException, InterruptedException {
        byte[] digests;
        ioLock.lockInterruptibly();
        try {
            checkCancelled();
            digests = reader.digest(offset, length, options.blockSize());
        } finally {
            ioLock.unlock();
        }
        checkCancelled();
        return digests;
    }

    private PeerMessage.DigestReply await(CompletableFuture<PeerMessage.DigestReply> reply)
            throws InterruptedException, IOException {
        checkCancelled();
        try {
            return reply.get();
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IOException io) {
                throw io;
            }
            throw new IOException("digest exchange failed: " + cause, cause);
        }
    }

    private void checkCancelled() throws InterruptedException {
        if (cancelled.get() != null) {
            throw new InterruptedException(cancelled.get());
        }
    }

    private record Chunk(long offset, int length, CompletableFuture<PeerMessage.DigestReply> reply) {
    }

    /** A re-check's span: its first block's index in the chunk, its place on the device. */
    private record Span(int firstBlock, long offset, int length) {
    }
}
