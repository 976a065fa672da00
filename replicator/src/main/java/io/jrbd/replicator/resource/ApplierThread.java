package io.jrbd.replicator.resource;

import io.jrbd.protocol.peer.PeerMessage;
import io.jrbd.protocol.peer.PeerWire;
import io.jrbd.replicator.engine.OpType;
import io.jrbd.replicator.engine.SecondaryApplier;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The secondary's applying thread for one session: takes what the link received, in order,
 * and feeds it to a {@link SecondaryApplier}. The link stops reading while the queue is long
 * (backpressure to the primary) and resumes when it has drained.
 */
final class ApplierThread extends Thread {
    private static final Logger LOG = LoggerFactory.getLogger(ApplierThread.class);
    static final int PAUSE_READING_AT = 2048;
    static final int RESUME_READING_AT = 512;
    /**
     * Resync pieces are 1 MiB each: counting messages alone would let gigabytes pile up in
     * memory when the disk is slower than the link, so queued data bytes bound it too.
     */
    static final long PAUSE_READING_BYTES = 64L << 20;
    static final long RESUME_READING_BYTES = 16L << 20;
    private static final Object STOP = new Object();

    /** What the thread reports back. */
    interface Sink {
        void paused(boolean reading);

        void failed(String why);
    }

    private final SecondaryApplier applier;
    private final Sink sink;
    private final LinkedBlockingQueue<Object> queue = new LinkedBlockingQueue<>();
    private volatile boolean paused;
    private final java.util.concurrent.atomic.AtomicLong queuedBytes = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong resyncBytes = new java.util.concurrent.atomic.AtomicLong();

    ApplierThread(String name, SecondaryApplier applier, Sink sink) {
        super(name);
        setDaemon(true);
        this.applier = applier;
        this.sink = sink;
    }

    /** Called on the link's thread; takes ownership of {@code message}. */
    void enqueue(PeerMessage message) {
        long bytes = message instanceof PeerMessage.Data d ? queuedBytes.addAndGet(d.length()) : queuedBytes.get();
        queue.add(message);
        if (!paused && (queue.size() >= PAUSE_READING_AT || bytes >= PAUSE_READING_BYTES)) {
            paused = true;
            sink.paused(false);
        }
    }

    /** Bytes of resync data applied since the last SYNC_START (for progress in status). */
    long resyncBytes() {
        return resyncBytes.get();
    }

    /** Applies what is queued, then stops. */
    void finish() {
        queue.add(STOP);
        try {
            join(60_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        drainAndRelease(); // anything the link handed over after STOP: its session is over
    }

    @Override
    public void run() {
        try {
            while (true) {
                Object first = queue.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) {
                    applier.idle();
                    continue;
                }
                if (first == STOP) {
                    applier.idle();
                    return;
                }
                apply(first);
                int batch = 1;
                Object next;
                while (batch < 256 && (next = queue.peek()) != null && next != STOP) {
                    apply(queue.poll());
                    batch++;
                }
                applier.endOfBatch();
                if (paused && queue.size() <= RESUME_READING_AT && queuedBytes.get() <= RESUME_READING_BYTES) {
                    paused = false;
                    sink.paused(true);
                }
            }
        } catch (IOException e) {
            LOG.error("applying the peer's writes failed: {}", e.getMessage());
            drainAndRelease();
            sink.failed(e.getMessage());
        } catch (InterruptedException e) {
            drainAndRelease();
            Thread.currentThread().interrupt();
        }
    }

    private void apply(Object o) throws IOException {
        PeerMessage m = (PeerMessage) o;
        if (m instanceof PeerMessage.Data d) {
            queuedBytes.addAndGet(-d.length());
        }
        try {
            if (m instanceof PeerMessage.Data d) {
                int flags = d.hasFlag(PeerWire.DATA_FUA) ? OpType.FUA : 0;
                applier.write(d.seq(), d.offset(), d.content(), flags);
                if (d.hasFlag(PeerWire.DATA_RESYNC)) {
                    resyncBytes.addAndGet(d.length());
                    applier.resyncApplied(d.length());
                }
            } else if (m instanceof PeerMessage.Trim t) {
                applier.trim(t.seq(), t.offset(), t.length(), 0);
            } else if (m instanceof PeerMessage.Zeroes z) {
                applier.zeroes(z.seq(), z.offset(), z.length(), z.hasFlag(PeerWire.ZEROES_NO_HOLE) ? OpType.NO_HOLE : 0);
                if (z.hasFlag(PeerWire.ZEROES_MAY_TRIM)) {
                    resyncBytes.addAndGet(z.length());
                    applier.resyncApplied(z.length());
                }
            } else if (m instanceof PeerMessage.Flush f) {
                applier.flush(f.seq());
            } else if (m instanceof PeerMessage.SyncStart s) {
                resyncBytes.set(0);
                applier.syncStart(s.totalBytes(), s.full(), s.syncGeneration());
            } else if (m instanceof PeerMessage.SyncDone s) {
                applier.syncDone(s.seq());
            }
        } finally {
            ReferenceCountUtil.release(m);
        }
    }

    private void drainAndRelease() {
        Object o;
        while ((o = queue.poll()) != null) {
            ReferenceCountUtil.release(o);
        }
    }
}
