package io.jrbd.replicator.engine;

import com.lmax.disruptor.BatchEventProcessor;
import com.lmax.disruptor.BatchEventProcessorBuilder;
import com.lmax.disruptor.EventHandler;
import com.lmax.disruptor.ExceptionHandler;
import com.lmax.disruptor.RingBuffer;
import com.lmax.disruptor.Sequence;
import com.lmax.disruptor.SequenceBarrier;
import io.jrbd.metadata.store.BackingStore;
import io.jrbd.metadata.store.StoreException;
import io.jrbd.replicator.config.Protocol;
import io.jrbd.replicator.device.BlockDevice;
import io.jrbd.replicator.device.GroupCommit;
import io.jrbd.replicator.device.IoCallback;
import io.jrbd.replicator.device.IoError;
import io.jrbd.replicator.device.StoreWorkers;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The primary's device: every write-type operation goes through one Disruptor ring.
 *
 * <pre>
 * NBD threads --publish--> [ring] --> Sequencer --+--> LocalWriter  (pwrite, FUA/FLUSH -> GroupCommit)
 *                                   (seq, journal, |
 *                                    session,      +--> PeerSender   (to the peer; catch-up; resync)
 *                                    dirty marks)
 *                     completion drain: answers the client once {@link CompletionRule} holds
 * </pre>
 *
 * <p>The local write and the send to the peer run in parallel, so protocol C costs about
 * max(local write, round trip + peer write). Events complete in ring order; a slot is reused
 * only after its event completed (the completion position gates the ring), so a full ring is
 * backpressure on the writers.
 *
 * <p>Reads, prefetch hints and status queries bypass the ring and go to the store directly: a
 * completed write has been written locally, so they see it.
 */
public final class ReplicatedDevice implements BlockDevice {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicatedDevice.class);
    static final int ATTACH = 20;
    static final int DETACH = 21;
    static final int RESYNC_CHUNK = 1 << 20;
    /** {@link #attach} modes besides "catch up from this sequence number". */
    public static final long RESYNC_FULL = -1;
    public static final long RESYNC_BITMAP = -2;
    static final int RESYNC_WINDOW = 16;

    /** What the resource hears from the pipeline. */
    public interface Listener {
        /** A full resync to the peer begins (after SYNC_START was queued). */
        default void resyncStarted(long session, long totalBytes) {
        }

        /** The last resync data and SYNC_DONE(seq) were handed to the peer. */
        default void resyncQueued(long session, long syncDoneSeq) {
        }

        /** Every write up to {@code seq} was handed to the peer of {@code session} (catch-up done). */
        default void caughtUp(long session, long seq) {
        }

        /** Catch-up from the journal could not be done; a full resync replaces it. */
        default void catchUpImpossible(long session, String why) {
        }

        /**
         * The first write the peer will not receive, since {@link #armNewGeneration}: called on
         * the sequencer thread before the write is numbered; the resource starts a new data
         * generation and makes it durable before returning (DESIGN.md section 5).
         */
        default void firstUnreplicatedWrite() {
        }

        /**
         * A resync to the peer of {@code session} is about to start: the resource records the
         * generation it syncs (durably) and returns it, to be sent with SYNC_START.
         */
        default long resyncStarting(long session, long totalBytes, boolean full) {
            return 0;
        }

        /** The link congested: writes are tracked in the bitmap from now on (Ahead). Sequencer thread. */
        default void wentAhead(long session, long pendingBytes) {
        }
    }

    /** Why an application write failed, as the metrics count it. */
    public enum WriteError {
        /** The local write failed, or an earlier one did (the device fails every write since), or was refused. */
        IO("io"),
        /** The write or flush waited for an fdatasync that failed. */
        SYNC("sync"),
        /** The backing store is full. */
        NO_SPACE("no_space"),
        /** The device was shutting down. */
        SHUTDOWN("shutdown");

        private final String label;

        WriteError(String label) {
            this.label = label;
        }

        /** The name metrics use, e.g. {@code no_space}. */
        public String label() {
            return label;
        }
    }

    private final Protocol protocol;
    private final BackingStore store;
    private final StoreDisk disk;
    private final StoreWorkers workers;
    private final ReplicationLog log;
    private final DirtyTracker dirty;
    private final PeerOutbound peer;
    private final ByteBufAllocator alloc;
    private final Listener listener;
    private final GroupCommit commit;
    private final ActivityLogHook activityLog;
    private final ResyncThrottle throttle;
    private final ResyncLedger ledger = new ResyncLedger();
    private volatile boolean newGenerationArmed;
    private volatile ResyncFilter resyncFilter;
    private volatile boolean pullAhead;
    private volatile boolean suspended;
    private volatile long congestionFill;
    /** Ahead of the peer (pull-ahead): writes are tracked in the bitmap, not shipped. Sequencer-written. */
    private volatile boolean ahead;
    private final AtomicLong resyncSameBytes = new AtomicLong();
    private volatile boolean resyncRunning;
    /** Latency of the application's successful writes, trims and zeroings: ring entry to completion. */
    private final LatencyHistogram writeLatency = new LatencyHistogram();
    /** Failed application operations, indexed by {@link WriteError} ordinal. */
    private final AtomicLongArray writeErrors = new AtomicLongArray(WriteError.values().length);

    private final RingBuffer<PipelineEvent> ring;
    private final BatchEventProcessor<PipelineEvent> sequencerStage;
    private final BatchEventProcessor<PipelineEvent> localStage;
    private final BatchEventProcessor<PipelineEvent> senderStage;
    private final Thread[] stageThreads = new Thread[3];
    private final Sequence completed = new Sequence(-1);
    private final StageWaitStrategy waits = new StageWaitStrategy();
    private final AtomicInteger drainWork = new AtomicInteger();

    // Progress, each only ever grows. Ring positions: local and handed; sequence numbers: peer*.
    private final AtomicLong localPos = new AtomicLong(-1);
    private final AtomicLong handedPos = new AtomicLong(-1);
    private final AtomicLong localSynced = new AtomicLong(-1);
    private final AtomicLong waivedUpTo = new AtomicLong(-1);
    private final AtomicLong peerReceived = new AtomicLong(-1);
    private final AtomicLong peerWritten = new AtomicLong(-1);
    private final AtomicLong peerSynced = new AtomicLong(-1);

    // Written by the sequencer thread only.
    private volatile long lastSeq;
    private long currentSession = -1;
    private final PendingIndex pending = new PendingIndex();
    private long released = -1;

    private volatile String localFailure;
    private volatile boolean closed;
    private final Semaphore resyncWindow = new Semaphore(RESYNC_WINDOW);
    private final AtomicLong resyncBytesDone = new AtomicLong();
    private final AtomicLong resyncDataBytes = new AtomicLong();
    private final AtomicLong resyncHoleBytes = new AtomicLong();
    private volatile long resyncBytesTotal;
    private volatile long resyncStartNanos;
    private volatile Thread resyncDriver;

    /**
     * @param lastSeq the highest write sequence number this node's data already holds; new
     *     writes are numbered from {@code lastSeq + 1}
     */
    public ReplicatedDevice(Protocol protocol, BackingStore store, ReplicationLog log, DirtyTracker dirty,
            PeerOutbound peer, ByteBufAllocator alloc, Listener listener, long lastSeq, int ringSize, int ioThreads) {
        this(protocol, store, log, dirty, peer, alloc, listener, lastSeq, ringSize, ioThreads, ActivityLogHook.NONE,
                ResyncThrottle.NONE);
    }

    /**
     * @param activityLog records hot extents before writes reach the disk
     * @param throttle    paces resync traffic against the application's writes
     */
    public ReplicatedDevice(Protocol protocol, BackingStore store, ReplicationLog log, DirtyTracker dirty,
            PeerOutbound peer, ByteBufAllocator alloc, Listener listener, long lastSeq, int ringSize, int ioThreads,
            ActivityLogHook activityLog, ResyncThrottle throttle) {
        this.activityLog = activityLog;
        this.throttle = throttle;
        this.protocol = protocol;
        this.store = store;
        this.disk = new StoreDisk(store);
        this.workers = new StoreWorkers(store, alloc, ioThreads);
        this.log = log;
        this.dirty = dirty;
        this.peer = peer;
        this.alloc = alloc;
        this.listener = listener;
        this.lastSeq = lastSeq;
        this.commit = new GroupCommit(store, "jrbd-flush");
        this.ring = RingBuffer.createMultiProducer(PipelineEvent::new, ringSize, waits);
        SequenceBarrier first = ring.newBarrier();
        this.sequencerStage = stage(first, new Sequencer());
        SequenceBarrier second = ring.newBarrier(sequencerStage.getSequence());
        this.localStage = stage(second, new LocalWriter());
        this.senderStage = stage(second, new PeerSender());
        ring.addGatingSequences(localStage.getSequence(), senderStage.getSequence(), completed);
        String[] names = {"jrbd-sequencer", "jrbd-local-writer", "jrbd-peer-sender"};
        BatchEventProcessor<?>[] stages = {sequencerStage, localStage, senderStage};
        for (int i = 0; i < 3; i++) {
            stageThreads[i] = new Thread(stages[i], names[i]);
            stageThreads[i].setDaemon(true);
            stageThreads[i].start();
        }
    }

    private BatchEventProcessor<PipelineEvent> stage(SequenceBarrier barrier, EventHandler<PipelineEvent> handler) {
        BatchEventProcessor<PipelineEvent> p = new BatchEventProcessorBuilder().build(ring, barrier, handler);
        p.setExceptionHandler(new StageExceptionHandler());
        return p;
    }

    // ------------------------------------------------------------------ BlockDevice

    @Override
    public long size() {
        return store.size();
    }

    @Override
    public boolean readOnly() {
        return false;
    }

    @Override
    public void read(long offset, int length, IoCallback callback) {
        workers.read(offset, length, callback);
    }

    @Override
    public void cache(long offset, long length, IoCallback callback) {
        workers.cache(offset, length, callback);
    }

    @Override
    public void describe(long offset, long length, int maxRuns, IoCallback callback) {
        workers.describe(offset, length, maxRuns, callback);
    }

    @Override
    public void write(long offset, ByteBuf data, boolean fua, IoCallback callback) {
        try {
            workers.checkRange(offset, data.readableBytes());
        } catch (RuntimeException e) {
            data.release();
            throw e;
        }
        publish(OpType.WRITE, offset, data.readableBytes(), fua ? OpType.FUA : 0, data, callback, -1);
    }

    @Override
    public void trim(long offset, long length, boolean fua, IoCallback callback) {
        workers.checkRange(offset, length);
        publish(OpType.TRIM, offset, length, fua ? OpType.FUA : 0, null, callback, -1);
    }

    @Override
    public void writeZeroes(long offset, long length, boolean mayDeallocate, boolean fastOnly, boolean fua,
            IoCallback callback) {
        workers.checkRange(offset, length);
        if (fastOnly && !store.canZeroFast()) {
            callback.onFailure(IoError.ENOTSUP, store.path() + " cannot zero without writing zeroes");
            return;
        }
        int flags = (fua ? OpType.FUA : 0) | (mayDeallocate ? 0 : OpType.NO_HOLE);
        publish(OpType.ZEROES, offset, length, flags, null, callback, -1);
    }

    @Override
    public void flush(IoCallback callback) {
        publish(OpType.FLUSH, 0, 0, 0, null, callback, -1);
    }

    private void publish(int type, long offset, long length, int flags, ByteBuf data, IoCallback callback, long session) {
        if (resyncRunning && OpType.isApplication(type)) {
            throttle.applicationWrite(length);
        }
        if (closed) {
            if (data != null) {
                data.release();
            }
            if (callback != null) {
                writeErrors.incrementAndGet(WriteError.SHUTDOWN.ordinal());
                callback.onFailure(IoError.ESHUTDOWN, "the device is shutting down");
            }
            return;
        }
        claimAndPublish(type, offset, length, flags, data, callback, session, -1);
    }

    /** Puts one event in the ring; blocks while the ring is full (backpressure). */
    private void claimAndPublish(int type, long offset, long length, int flags, ByteBuf data, IoCallback callback,
            long session, long catchUpFrom) {
        long r = ring.next();
        PipelineEvent e = ring.get(r);
        e.clear();
        e.type = type;
        e.offset = offset;
        e.length = length;
        e.flags = flags;
        e.data = data;
        e.callback = callback;
        e.session = session;
        e.catchUpFrom = catchUpFrom;
        e.publishNanos = System.nanoTime();
        ring.publish(r);
    }

    // ------------------------------------------------------------------ the peer

    /**
     * A peer session began: ship it the writes from {@code catchUpFrom} on out of the journal
     * (or, with -1, a full resync), then everything new. {@code peerHas} is the highest
     * sequence number the peer reported holding durably.
     */
    public void attach(long session, long catchUpFrom, long peerHas) {
        raise(peerReceived, peerHas);
        raise(peerWritten, peerHas);
        raise(peerSynced, peerHas);
        claimAndPublish(ATTACH, 0, 0, 0, null, null, session, catchUpFrom);
    }

    /**
     * The session ended. Writes waiting for it complete now (they are marked dirty), and
     * later writes do not wait for any peer until the next {@link #attach}.
     */
    public void detach(long session) {
        // Writes still waiting for this session are about to complete without it: mark them
        // dirty first, so none is acknowledged while in neither the bitmap nor the peer. (The
        // sequencer marks the ones it has not numbered yet, and the DETACH event below marks
        // completed writes the peer had not made durable.)
        long cursor = ring.getCursor();
        for (long r = completed.get() + 1; r <= cursor; r++) {
            PipelineEvent e = ring.get(r);
            if (e.session == session && e.type != OpType.FLUSH && OpType.isApplication(e.type)) {
                dirty.markDirty(e.offset, e.length);
            }
        }
        raise(waivedUpTo, cursor);
        drain(); // frees the slots of waived writes: the ring may be full of them
        claimAndPublish(DETACH, 0, 0, 0, null, null, session, -1);
        drain();
    }

    public void onPeerReceived(long seq) {
        raise(peerReceived, seq);
        drain();
    }

    public void onPeerWritten(long seq) {
        raise(peerReceived, seq);
        raise(peerWritten, seq);
        drain();
    }

    public void onPeerSynced(long seq) {
        raise(peerReceived, seq);
        raise(peerWritten, seq);
        raise(peerSynced, seq);
        drain();
    }

    /**
     * The peer of {@code session} holds the first {@code bytes} of this resync's data durably:
     * their blocks leave the bitmap, so an interrupted resync resumes after them.
     */
    public void onPeerResyncDurable(long session, long bytes) {
        long covered = ledger.durable(session, bytes, dirty);
        if (covered > 0) {
            throttle.acknowledged(covered);
        }
    }

    /**
     * From now on, the first write the peer will not receive makes a new data generation
     * ({@link Listener#firstUnreplicatedWrite}). Armed when this node's data and the peer's
     * are the same generation: at promotion, and when a resync or catch-up ends.
     */
    public void armNewGeneration() {
        newGenerationArmed = true;
    }

    /** Checksum-based resync from now on ({@code null}: ship every marked block). */
    public void setResyncFilter(ResyncFilter filter) {
        resyncFilter = filter;
    }

    /**
     * {@code on-congestion pull-ahead} (protocol A): when the link's send buffer is full, or more
     * than {@code fill} bytes (if positive) wait to be sent, stop shipping writes instead of making
     * the application wait, and mark them in the bitmap; {@link #resumeFromAhead} catches the
     * peer up once the link drained.
     */
    public void setPullAhead(boolean enabled, long fill) {
        congestionFill = fill;
        pullAhead = enabled;
    }

    /**
     * Suspends application I/O ({@code fencing resource-and-stonith}): writes wait in the ring,
     * unsequenced, until {@link #resumeIo}; what was already sequenced completes.
     */
    public void suspendIo() {
        suspended = true;
    }

    public void resumeIo() {
        suspended = false;
    }

    public boolean ioSuspended() {
        return suspended;
    }

    /** Whether writes are being tracked instead of shipped because the link was congested. */
    public boolean ahead() {
        return ahead;
    }

    /**
     * Ends Ahead mode once the link of {@code session} has drained: a bitmap resync (in ring
     * order, so writes after it are shipped again) brings the peer up to date. False if it was
     * not Ahead or the link still holds more than a quarter of the fill (or is not writable).
     */
    public boolean resumeFromAhead(long session) {
        if (!ahead || peer.session() != session || !peer.writable(session)
                || peer.pendingBytes(session) > Math.max(64 * 1024, congestionFill / 4)) {
            return false;
        }
        claimAndPublish(ATTACH, 0, 0, 0, null, null, session, RESYNC_BITMAP);
        return true;
    }

    /** Whether a resync driven by this device is running now. */
    public boolean resyncRunning() {
        return resyncRunning;
    }

    /**
     * Waits until the peer of {@code session} holds every write durably, or the session ends,
     * or the time is up; returns whether it does. Used before demotion, so that the peer can
     * take over without missing what was still on its way.
     */
    public boolean awaitPeerDurable(long session, long timeoutMillis) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (System.nanoTime() < deadline) {
            if (peer.session() != session) {
                return false;
            }
            if (peerSynced.get() >= lastSeq) {
                return true;
            }
            LockSupport.parkNanos(1_000_000);
        }
        return false;
    }

    /** The highest sequence number given to a write (read from another thread: may lag). */
    public long lastSeq() {
        return lastSeq;
    }

    public long peerSyncedSeq() {
        return peerSynced.get();
    }

    public long resyncBytesDone() {
        return resyncBytesDone.get();
    }

    public long resyncBytesTotal() {
        return resyncBytesTotal;
    }

    /** When the current (or last) resync started, System.nanoTime. */
    public long resyncStartNanos() {
        return resyncStartNanos;
    }

    /** When the oldest operation still waiting was submitted (System.nanoTime), or -1. */
    public long oldestWaitingNanos() {
        long next = completed.get() + 1;
        if (next > ring.getCursor()) {
            return -1;
        }
        return ring.get(next).publishNanos;
    }

    /** Writes, trims and zeroings that completed (for metrics). */
    public long completedPosition() {
        return completed.get();
    }

    /** How long the application's writes, trims and zeroings that succeeded took, from entering the ring. */
    public LatencyHistogram writeLatency() {
        return writeLatency;
    }

    /** Application operations (flushes included) that failed for {@code kind}, since the device was made. */
    public long writeErrors(WriteError kind) {
        return writeErrors.get(kind.ordinal());
    }

    // ------------------------------------------------------------------ completion

    private static void raise(AtomicLong value, long to) {
        long v;
        while ((v = value.get()) < to && !value.compareAndSet(v, to)) {
            Thread.onSpinWait();
        }
    }

    /** Completes every event that may complete; safe to call from any thread, never blocks. */
    void drain() {
        if (drainWork.getAndIncrement() != 0) {
            return;
        }
        int missed = 1;
        do {
            completeReady();
            missed = drainWork.addAndGet(-missed);
        } while (missed != 0);
    }

    private void completeReady() {
        long done = completed.get();
        long limit = Math.min(localPos.get(), handedPos.get());
        if (done >= limit) {
            return;
        }
        CompletionRule.Progress p = new CompletionRule.Progress(localPos.get(), localSynced.get(), handedPos.get(),
                waivedUpTo.get(), peerReceived.get(), peerWritten.get(), peerSynced.get());
        for (long r = done + 1; r <= limit; r++) {
            PipelineEvent e = ring.get(r);
            boolean ready = e.localError != null || !OpType.isApplication(e.type)
                    || CompletionRule.isComplete(protocol, e.type, e.flags, e.session >= 0, r, e.seq, p);
            if (!ready) {
                return;
            }
            finish(e, r);
        }
    }

    private void finish(PipelineEvent e, long r) {
        IoCallback callback = e.callback;
        ByteBuf data = e.data;
        int type = e.type;
        int flags = e.flags;
        long length = e.length;
        String error = e.localError;
        boolean noSpace = e.localNoSpace;
        long publishNanos = e.publishNanos;
        e.clear();
        completed.set(r);
        if (data != null) {
            data.release();
        }
        if (type == OpType.RESYNC_DATA || type == OpType.RESYNC_ZEROES) {
            resyncBytesDone.addAndGet(length);
            if (type == OpType.RESYNC_DATA) {
                resyncWindow.release();
            }
        }
        if (callback == null) {
            return;
        }
        String syncFailure = localFailure;
        WriteError kind = noSpace ? WriteError.NO_SPACE : WriteError.IO;
        if (error == null && syncFailure != null && (type == OpType.FLUSH || (flags & OpType.FUA) != 0)) {
            error = syncFailure;
            kind = WriteError.SYNC;
        }
        try {
            if (error != null) {
                writeErrors.incrementAndGet(kind.ordinal());
                callback.onFailure(noSpace ? IoError.ENOSPC : IoError.EIO, error);
            } else {
                if (type != OpType.FLUSH) {
                    writeLatency.record(System.nanoTime() - publishNanos);
                }
                callback.onDone();
            }
        } catch (RuntimeException ex) {
            LOG.error("completion callback threw", ex);
        }
    }

    // ------------------------------------------------------------------ stages

    /** Numbers application writes, keeps them in the journal, decides who must hear of them. */
    private final class Sequencer implements EventHandler<PipelineEvent> {
        private Sequence own;
        /**
         * Writes up to here need no activity log cover: durable on the peer, or (with no peer)
         * every earlier write is in the bitmap, which the log flushes before it evicts.
         */
        private final java.util.function.LongSupplier settled = this::settledSeq;

        /** Called before the write at hand is numbered: every earlier write has a number up to lastSeq. */
        private long settledSeq() {
            if (currentSession >= 0 && peer.session() != currentSession) {
                // The session died while this thread waits for room in the activity log: the
                // DETACH behind it cannot be handled yet, so mark what it would mark now.
                pending.markAllDirty(dirty);
                return lastSeq;
            }
            return currentSession >= 0 ? peerSynced.get() : lastSeq;
        }

        /** The event fails without a sequence number of its own and goes nowhere. */
        private void refuse(PipelineEvent e, String why) {
            e.localError = why;
            e.seq = lastSeq;
            e.session = -1;
        }

        @Override
        public void setSequenceCallback(Sequence sequence) {
            own = sequence;
        }

        @Override
        public void onEvent(PipelineEvent e, long r, boolean endOfBatch) {
            while (suspended && !closed && OpType.isApplication(e.type)) {
                LockSupport.parkNanos(1_000_000); // fencing: nothing new reaches either disk until the peer is fenced
            }
            onEventInOrder(e);
            // The next stages sleep until this one moves: publish the progress and wake them.
            own.set(r);
            waits.signalAllWhenBlocking();
        }

        private void onEventInOrder(PipelineEvent e) {
            long synced = peerSynced.get();
            if (synced > released) {
                released = synced;
                pending.releaseUpTo(synced);
            }
            switch (e.type) {
                case OpType.WRITE, OpType.TRIM, OpType.ZEROES, OpType.FLUSH -> sequence(e);
                case ATTACH -> {
                    currentSession = e.session;
                    ahead = false;
                    e.seq = lastSeq;
                }
                case DETACH -> {
                    if (currentSession == e.session) {
                        currentSession = -1;
                    }
                    pending.markAllDirty(dirty);
                    e.seq = lastSeq;
                }
                default -> {
                    // resync traffic: ordered here, numbered with the last application write
                    e.seq = lastSeq;
                    if (e.session != currentSession || peer.session() != e.session) {
                        e.session = -1;
                    }
                }
            }
        }

        private void sequence(PipelineEvent e) {
            if (e.type != OpType.FLUSH) {
                try {
                    activityLog.activate(e.offset, e.length, lastSeq + 1, settled);
                } catch (IOException ex) {
                    // Not covered by the activity log, the write must reach neither disk.
                    refuse(e, "activity log: " + ex.getMessage());
                    return;
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                    refuse(e, "interrupted while recording the activity log");
                    return;
                }
            }
            boolean toPeer = currentSession >= 0 && peer.session() == currentSession;
            if (toPeer && pullAhead && !ahead && congested(currentSession)) {
                ahead = true;
                listener.wentAhead(currentSession, peer.pendingBytes(currentSession));
            }
            if (ahead) {
                toPeer = false; // tracked in the bitmap until the link drains and a resync catches the peer up
            }
            if (!toPeer && newGenerationArmed && e.type != OpType.FLUSH) {
                newGenerationArmed = false;
                listener.firstUnreplicatedWrite();
            }
            e.seq = ++lastSeq;
            journal(e, toPeer);
            if (toPeer) {
                e.session = currentSession;
                if (e.type != OpType.FLUSH) {
                    pending.add(e.seq, e.offset, e.length);
                }
                // The link may have dropped between the check and now: if so, whoever noticed
                // first (this thread or the DETACH) marks the write. Marking twice is harmless.
                if (peer.session() != currentSession) {
                    markDirty(e);
                }
            } else {
                e.session = -1;
                markDirty(e);
            }
        }

        /**
         * The journal is history for catch-up, not a send buffer (the ring and the socket's
         * queue are): it keeps as many recent writes as fit and overwrites the oldest. The
         * peer's durable position is only known to it lazily (its superblock is written about
         * once a second), so records are not released on its acknowledgements: a peer that
         * crashes and comes back a second behind still finds its next record here.
         */
        private void journal(PipelineEvent e, boolean connected) {
            log.appendDropping(e.seq, e.type, e.flags, e.offset, e.length, e.data);
        }

        /** The link cannot take more without making the writer wait: its send buffer (or congestion-fill) is full. */
        private boolean congested(long s) {
            return !peer.writable(s) || congestionFill > 0 && peer.pendingBytes(s) >= congestionFill;
        }

        private void markDirty(PipelineEvent e) {
            if (e.type != OpType.FLUSH) {
                dirty.markDirty(e.offset, e.length);
            }
        }
    }

    /** Applies each operation to the local store, in ring order. */
    private final class LocalWriter implements EventHandler<PipelineEvent> {
        @Override
        public void onEvent(PipelineEvent e, long r, boolean endOfBatch) {
            boolean durable = e.type == OpType.FLUSH || (e.flags & OpType.FUA) != 0;
            String failure = localFailure;
            if (e.localError != null) {
                // refused before it was sequenced (activity log): nothing to write
            } else if (failure != null && OpType.isApplication(e.type)) {
                e.localError = failure;
            } else {
                try {
                    apply(e);
                } catch (StoreException ex) {
                    e.localError = ex.getMessage();
                    e.localNoSpace = ex.kind() == StoreException.Kind.NO_SPACE;
                    if (!e.localNoSpace) {
                        localFailure = "local disk failed earlier: " + ex.getMessage();
                        LOG.error("local write failed; the device now fails every write: {}", ex.getMessage());
                    }
                } catch (IOException ex) {
                    e.localError = ex.getMessage();
                }
            }
            if (durable && e.localError == null) {
                commit.submit(new SyncWaiter(r));
            }
            localPos.lazySet(r);
            if (endOfBatch) {
                drain();
            }
        }

        private void apply(PipelineEvent e) throws IOException {
            switch (e.type) {
                case OpType.WRITE -> {
                    long position = e.offset;
                    for (ByteBuffer part : e.data.nioBuffers()) {
                        int n = part.remaining();
                        store.write(part, position);
                        position += n;
                    }
                }
                case OpType.TRIM -> store.punchHole(e.offset, e.length);
                case OpType.ZEROES -> disk.zero(e.offset, e.length, (e.flags & OpType.NO_HOLE) != 0);
                case OpType.RESYNC_DATA -> {
                    store.read(e.data.nioBuffer(0, (int) e.length), e.offset);
                    e.data.writerIndex((int) e.length);
                }
                default -> {
                    // FLUSH (handled by the caller), resync zeroes, markers: nothing local
                }
            }
        }
    }

    /** Completes FUA writes and flushes once the group commit covered them. */
    private final class SyncWaiter implements IoCallback {
        private final long ring;

        SyncWaiter(long ring) {
            this.ring = ring;
        }

        @Override
        public void onDone() {
            raise(localSynced, ring);
            drain();
        }

        @Override
        public void onFailure(IoError error, String detail) {
            localFailure = "fdatasync failed: " + detail;
            raise(localSynced, ring);
            drain();
        }
    }

    /** Ships each operation to the session it was sequenced for, and catches a new session up. */
    private final class PeerSender implements EventHandler<PipelineEvent> {
        private long batchSession = -1;

        @Override
        public void onEvent(PipelineEvent e, long r, boolean endOfBatch) {
            long s = e.session;
            if (e.type == ATTACH) {
                if (s == peer.session()) {
                    if (e.catchUpFrom == RESYNC_BITMAP) {
                        startResync(s, true);
                    } else if (e.catchUpFrom < 0 || !catchUp(s, e.catchUpFrom, e.seq)) {
                        startResync(s, false);
                    }
                    batchSession = s;
                }
            } else if (s >= 0 && s == peer.session()) {
                if (e.type == OpType.RESYNC_DATA) {
                    while (localPos.get() < r && !closed) {
                        LockSupport.parkNanos(10_000); // the data is read by the local writer
                    }
                }
                if (peer.awaitWritable(s)) {
                    send(e, s);
                    batchSession = s;
                }
            }
            handedPos.lazySet(r);
            if (endOfBatch) {
                if (batchSession >= 0) {
                    peer.endOfBatch(batchSession);
                    batchSession = -1;
                }
                drain();
            }
        }

        private void send(PipelineEvent e, long s) {
            switch (e.type) {
                case OpType.WRITE -> peer.write(s, e.seq, e.offset, e.data.retainedDuplicate(), e.flags, false);
                case OpType.RESYNC_DATA -> {
                    ledger.sent(s, e.offset, e.length);
                    peer.write(s, e.seq, e.offset, e.data.retainedDuplicate(), 0, true);
                }
                case OpType.TRIM -> {
                    peer.trim(s, e.seq, e.offset, e.length, e.flags);
                    flushIfFua(e, s);
                }
                case OpType.ZEROES -> {
                    peer.zeroes(s, e.seq, e.offset, e.length, e.flags, false);
                    flushIfFua(e, s);
                }
                case OpType.RESYNC_ZEROES -> {
                    ledger.sent(s, e.offset, e.length);
                    peer.zeroes(s, e.seq, e.offset, e.length, 0, true);
                }
                case OpType.FLUSH -> peer.flush(s, e.seq);
                case OpType.SYNC_DONE -> {
                    resyncRunning = false;
                    peer.syncDone(s, e.seq);
                    listener.resyncQueued(s, e.seq);
                }
                default -> {
                    // DETACH: nothing to send
                }
            }
        }

        /** TRIM and ZEROES carry no FUA bit on the wire: a FLUSH of the same sequence asks for the sync. */
        private void flushIfFua(PipelineEvent e, long s) {
            if ((e.flags & OpType.FUA) != 0) {
                peer.flush(s, e.seq);
            }
        }

        /** Streams journal records from {@code from} through {@code upTo}; false if they are gone. */
        private boolean catchUp(long s, long from, long upTo) {
            if (from > upTo) {
                LOG.info("peer is up to date at sequence {}: nothing to catch up", upTo);
                listener.caughtUp(s, upTo);
                return true;
            }
            ReplicationLog.Reader reader = log.reader(from, alloc);
            if (reader == null) {
                listener.catchUpImpossible(s, "the journal no longer holds sequence " + from
                        + " (it holds " + log.firstSeq() + ".." + log.lastSeq() + ")");
                return false;
            }
            ReplicationLog.Record rec = new ReplicationLog.Record();
            long sent = 0;
            long bytes = 0;
            try {
                while (peer.session() == s) {
                    if (!reader.next(rec)) {
                        break;
                    }
                    if (rec.seq > upTo) {
                        releaseData(rec);
                        break;
                    }
                    if (!peer.awaitWritable(s)) {
                        releaseData(rec);
                        return true;
                    }
                    bytes += rec.data == null ? 0 : rec.data.readableBytes();
                    switch (rec.type) {
                        case OpType.WRITE -> peer.write(s, rec.seq, rec.offset, rec.data, rec.flags, false);
                        case OpType.TRIM -> peer.trim(s, rec.seq, rec.offset, rec.length, rec.flags);
                        case OpType.ZEROES -> peer.zeroes(s, rec.seq, rec.offset, rec.length, rec.flags, false);
                        case OpType.FLUSH -> peer.flush(s, rec.seq);
                        default -> releaseData(rec);
                    }
                    rec.data = null;
                    sent++;
                }
            } catch (ReplicationLog.LogOverrunException ex) {
                listener.catchUpImpossible(s, ex.getMessage());
                return false;
            }
            peer.endOfBatch(s);
            LOG.info("caught the peer up from the journal: {} records, {} bytes, sequence {}..{}", sent, bytes, from, upTo);
            listener.caughtUp(s, upTo);
            return true;
        }

        private void releaseData(ReplicationLog.Record rec) {
            if (rec.data != null) {
                rec.data.release();
                rec.data = null;
            }
        }

        private void startResync(long s, boolean onlyDirty) {
            if (!onlyDirty) {
                dirty.markDirty(0, store.size()); // a full sync is a bitmap resync of every block: resumable alike
            }
            long total = dirty.dirtyBytes();
            resyncBytesTotal = total;
            resyncBytesDone.set(0);
            resyncDataBytes.set(0);
            resyncHoleBytes.set(0);
            resyncSameBytes.set(0);
            resyncStartNanos = System.nanoTime();
            ledger.start(s);
            long syncGeneration = listener.resyncStarting(s, total, !onlyDirty);
            peer.syncStart(s, total, !onlyDirty, syncGeneration);
            peer.endOfBatch(s);
            listener.resyncStarted(s, total);
            resyncRunning = true;
            Thread driver = new Thread(() -> resync(s, !onlyDirty), "jrbd-resync");
            driver.setDaemon(true);
            resyncDriver = driver;
            driver.start();
        }
    }

    /**
     * Feeds the blocks the bitmap marks through the ring as resync events: holes as zeroing,
     * data read by the local writer at its place in the ring, so it holds every write sequenced
     * before it and none after, and the peer, applying in order, ends identical. The bits clear
     * as the peer makes the pieces durable ({@link #onPeerResyncDurable}).
     */
    private void resync(long s, boolean full) {
        long size = store.size();
        long[] runs = new long[2 * 64];
        long position = 0;
        LOG.info("{} resync to the peer: {} bytes out of sync", full ? "full" : "bitmap", dirty.dirtyBytes());
        try {
            while (position < size) {
                long start = dirty.nextDirty(position);
                if (start < 0) {
                    break;
                }
                long end = Math.min(dirty.dirtyRunEnd(start), size);
                if (!publishRun(s, start, end, runs)) {
                    resyncRunning = false;
                    return;
                }
                position = end;
            }
            publish(OpType.SYNC_DONE, 0, 0, 0, null, null, s);
            LOG.info("resync queued to the peer in full: {} bytes of data and {} bytes of holes (sent as zeroing){}",
                    resyncDataBytes.get(), resyncHoleBytes.get(), resyncFilter == null ? ""
                            : "; " + resyncSameBytes.get() + " bytes found identical by checksum and not sent");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            resyncRunning = false;
        }
    }

    /** Publishes [start, end): holes as resync zeroing, data in pieces; false if the session ended. */
    private boolean publishRun(long s, long start, long end, long[] runs) throws InterruptedException {
        long position = start;
        while (position < end) {
            if (closed || peer.session() != s) {
                LOG.info("resync stopped at {}: the peer session ended", position);
                return false;
            }
            long span = Math.min(64L * RESYNC_CHUNK, end - position);
            int n = store.describe(position, span, runs, 64);
            for (int i = 0; i < n && position < end; i++) {
                long runLength = Math.min(runs[2 * i], end - position);
                if (runs[2 * i + 1] != 0) {
                    throttle.acquire(0);
                    resyncHoleBytes.addAndGet(runLength);
                    publish(OpType.RESYNC_ZEROES, position, runLength, 0, null, null, s);
                } else if (!publishCompared(s, position, position + runLength)) {
                    return false;
                }
                position += runLength;
            }
        }
        return true;
    }

    /**
     * With a checksum filter, asks the peer piece by piece which blocks differ and ships only
     * those; blocks it holds identically leave the bitmap at once (later writes reach the peer
     * anyway, or are marked again if it drops). Without one, ships everything.
     */
    private boolean publishCompared(long s, long start, long end) throws InterruptedException {
        ResyncFilter filter = resyncFilter;
        if (filter == null) {
            return publishData(s, start, end);
        }
        for (long at = start; at < end; ) {
            int piece = (int) Math.min(RESYNC_CHUNK, end - at);
            long[] runs;
            try {
                runs = filter.differingRuns(at, piece);
            } catch (IOException e) {
                LOG.info("checksum resync stopped at {}: {}", at, e.getMessage());
                return false;
            }
            long cursor = at;
            for (int i = 0; i + 1 < runs.length; i += 2) {
                if (runs[i] > cursor) {
                    dirty.clearRange(cursor, runs[i] - cursor);
                    resyncSameBytes.addAndGet(runs[i] - cursor);
                }
                if (!publishData(s, runs[i], runs[i] + runs[i + 1])) {
                    return false;
                }
                cursor = runs[i] + runs[i + 1];
            }
            if (cursor < at + piece) {
                dirty.clearRange(cursor, at + piece - cursor);
                resyncSameBytes.addAndGet(at + piece - cursor);
            }
            at += piece;
        }
        return true;
    }

    /**
     * Publishes [start, end) as RESYNC_DATA events of at most {@link #RESYNC_CHUNK}, at most
     * {@link #RESYNC_WINDOW} in flight, paced by the throttle; false if the session ended first.
     */
    private boolean publishData(long s, long start, long end) throws InterruptedException {
        for (long at = start; at < end; ) {
            if (closed || peer.session() != s) {
                LOG.info("resync stopped at {}: the peer session ended", at);
                return false;
            }
            int piece = (int) Math.min(RESYNC_CHUNK, end - at);
            if (!resyncWindow.tryAcquire(1, TimeUnit.SECONDS)) {
                continue;
            }
            piece = (int) Math.max(1, Math.min(piece, throttle.acquire(piece)));
            resyncDataBytes.addAndGet(piece);
            publish(OpType.RESYNC_DATA, at, piece, 0, alloc.directBuffer(piece, piece), null, s);
            at += piece;
        }
        return true;
    }

    private final class StageExceptionHandler implements ExceptionHandler<PipelineEvent> {
        @Override
        public void handleEventException(Throwable ex, long sequence, PipelineEvent event) {
            LOG.error("pipeline stage failed on {} at ring position {}", OpType.name(event.type), sequence, ex);
            event.localError = "internal error: " + ex;
        }

        @Override
        public void handleOnStartException(Throwable ex) {
            LOG.error("pipeline stage failed to start", ex);
        }

        @Override
        public void handleOnShutdownException(Throwable ex) {
            LOG.error("pipeline stage failed to stop", ex);
        }
    }

    // ------------------------------------------------------------------ shutdown

    /** Waits for what is in flight (up to 30 s), then stops the stages and makes the store durable. */
    @Override
    public void close() {
        closed = true;
        Thread driver = resyncDriver;
        if (driver != null) {
            driver.interrupt();
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (completed.get() < ring.getCursor() && System.nanoTime() < deadline) {
            drain();
            LockSupport.parkNanos(1_000_000);
        }
        if (completed.get() < ring.getCursor()) {
            LOG.warn("{} operations still waiting for the peer at shutdown; they stay in the dirty bitmap",
                    ring.getCursor() - completed.get());
            raise(waivedUpTo, ring.getCursor());
            drain();
        }
        sequencerStage.halt();
        localStage.halt();
        senderStage.halt();
        for (Thread t : stageThreads) {
            try {
                t.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        workers.close();
        commit.close();
        try {
            store.sync();
        } catch (IOException e) {
            LOG.error("final fdatasync of {}: {}", store.path(), e.getMessage());
        }
    }
}
