package io.jrbd.replicator.engine;

import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.function.LongSupplier;

/**
 * Applies the primary's stream on the secondary, strictly in the order it arrives, so the
 * secondary's disk always holds a state the primary's disk passed through (every prefix of
 * the stream is one). One thread calls it; it never blocks on the network.
 *
 * <p>Acknowledgements are cumulative: "received", "written" and "durable" up to a sequence
 * number. "Durable" follows an fdatasync, which happens at once for FLUSH and FUA writes and
 * otherwise at the end of a batch once enough time or data has piled up, so that the primary
 * can release its journal without a sync per write.
 */
public final class SecondaryApplier {
    /** Where acknowledgements and state changes go (the peer link, or a simulation). */
    public interface Listener {
        void written(long seq);

        /**
         * Everything up to {@code seq} is durable here, and so are the first {@code resyncBytes}
         * of the current resync's data (counted in arrival order since its SYNC_START).
         */
        void synced(long seq, long resyncBytes);

        /** A resync began: the disk is Inconsistent until {@link #syncCompleted}. */
        void syncStarted(long totalBytes, boolean full, long syncGeneration);

        /** The full resync up to {@code seq} is durable: the disk is UpToDate. */
        void syncCompleted(long seq);
    }

    static final long SYNC_INTERVAL_NANOS = 100_000_000L;
    static final long SYNC_BYTES = 64L << 20;

    private final Disk disk;
    private final Listener listener;
    private final LongSupplier nanoClock;
    private long appliedSeq;
    private volatile long syncedSeq;
    private long ackedWritten;
    private boolean syncWanted;
    private long unsyncedBytes;
    private long lastSyncNanos;
    private long syncDoneSeq = -1;
    private long resyncApplied;
    private long resyncSynced;
    private volatile IOException failure;
    /** Where fdatasync runs: null runs it inline (the simulation), else on its own thread. */
    private final BackgroundSync background;

    public SecondaryApplier(Disk disk, Listener listener, LongSupplier nanoClock, long appliedSeq) {
        this(disk, listener, nanoClock, appliedSeq, false);
    }

    /**
     * @param syncInBackground run fdatasync on a thread of its own, so that applying (and the
     *     write acknowledgements protocol C waits for) never stalls behind a sync
     */
    public SecondaryApplier(Disk disk, Listener listener, LongSupplier nanoClock, long appliedSeq,
            boolean syncInBackground) {
        this.background = syncInBackground ? new BackgroundSync() : null;
        this.disk = disk;
        this.listener = listener;
        this.nanoClock = nanoClock;
        this.appliedSeq = appliedSeq;
        this.syncedSeq = appliedSeq;
        this.ackedWritten = appliedSeq;
        this.lastSyncNanos = nanoClock.getAsLong();
    }

    /** Highest sequence number written here (maybe not yet durable). */
    public long appliedSeq() {
        return appliedSeq;
    }

    /** Highest sequence number durable here. */
    public long syncedSeq() {
        return syncedSeq;
    }

    /** Writes {@code data} (not released here); FUA makes it durable before the batch ends. */
    public void write(long seq, long offset, ByteBuf data, int flags) throws IOException {
        checkHealthy();
        try {
            long position = offset;
            for (ByteBuffer part : data.nioBuffers()) {
                int n = part.remaining();
                disk.write(part, position);
                position += n;
            }
        } catch (IOException e) {
            throw fail(e);
        }
        unsyncedBytes += data.readableBytes();
        applied(seq, (flags & OpType.FUA) != 0);
    }

    public void trim(long seq, long offset, long length, int flags) throws IOException {
        checkHealthy();
        try {
            disk.trim(offset, length);
        } catch (IOException e) {
            throw fail(e);
        }
        applied(seq, (flags & OpType.FUA) != 0);
    }

    public void zeroes(long seq, long offset, long length, int flags) throws IOException {
        checkHealthy();
        try {
            disk.zero(offset, length, (flags & OpType.NO_HOLE) != 0);
        } catch (IOException e) {
            throw fail(e);
        }
        unsyncedBytes += Math.min(length, 1 << 20);
        applied(seq, (flags & OpType.FUA) != 0);
    }

    public void flush(long seq) throws IOException {
        checkHealthy();
        applied(seq, true);
    }

    public void syncStart(long totalBytes, boolean full, long syncGeneration) throws IOException {
        checkHealthy();
        resyncApplied = 0;
        resyncSynced = 0;
        listener.syncStarted(totalBytes, full, syncGeneration);
    }

    /** The write or zeroing just applied was {@code bytes} of resync data. */
    public void resyncApplied(long bytes) {
        resyncApplied += bytes;
    }

    /** The resync is complete up to {@code seq}; reported once it is durable. */
    public void syncDone(long seq) throws IOException {
        checkHealthy();
        applied(seq, true);
        syncDoneSeq = seq;
    }

    private void applied(long seq, boolean durable) {
        if (seq > appliedSeq) {
            appliedSeq = seq;
        }
        if (durable) {
            syncWanted = true;
        }
    }

    /**
     * The end of what arrived together: acknowledge what was written, and fdatasync when a
     * FLUSH or FUA asked for it or enough has piled up.
     */
    public void endOfBatch() throws IOException {
        checkHealthy();
        if (appliedSeq > ackedWritten) {
            ackedWritten = appliedSeq;
            listener.written(appliedSeq);
        }
        long now = nanoClock.getAsLong();
        boolean due = (appliedSeq > syncedSeq || resyncApplied > resyncSynced)
                && (unsyncedBytes >= SYNC_BYTES || now - lastSyncNanos >= SYNC_INTERVAL_NANOS);
        if (syncWanted || due) {
            syncNow(now);
        }
    }

    /** Called when nothing arrives for a while: make what is written durable. */
    public void idle() throws IOException {
        checkHealthy();
        if (appliedSeq > syncedSeq || syncWanted || resyncApplied > resyncSynced) {
            if (appliedSeq > ackedWritten) {
                ackedWritten = appliedSeq;
                listener.written(appliedSeq);
            }
            syncNow(nanoClock.getAsLong());
        }
    }

    private void syncNow(long now) throws IOException {
        syncWanted = false;
        unsyncedBytes = 0;
        lastSyncNanos = now;
        long target = appliedSeq;
        long resync = resyncApplied;
        resyncSynced = resync;
        long done = -1;
        if (syncDoneSeq >= 0 && target >= syncDoneSeq) {
            done = syncDoneSeq;
            syncDoneSeq = -1;
        }
        if (background != null) {
            background.request(target, done, resync);
            return;
        }
        try {
            disk.sync();
        } catch (IOException e) {
            throw fail(e);
        }
        synced(target, done, resync);
    }

    /** A sync that started after {@code target} was written has finished. */
    private void synced(long target, long done, long resync) {
        if (target > syncedSeq) {
            syncedSeq = target;
        }
        listener.synced(target, resync);
        if (done >= 0) {
            listener.syncCompleted(done);
        }
    }

    /** Stops the background sync thread after a last sync of everything requested. */
    public void close() {
        if (background != null) {
            background.close();
        }
    }

    /**
     * One thread that runs the requested syncs, coalescing requests that arrive while one
     * runs. Its completions report through the same listener, from that thread.
     */
    private final class BackgroundSync implements Runnable {
        private final Thread thread = new Thread(this, "jrbd-secondary-sync");
        private long wantedTarget = -1;
        private long wantedDone = -1;
        private long wantedResync = -1;
        private boolean closed;

        BackgroundSync() {
            thread.setDaemon(true);
            thread.start();
        }

        synchronized void request(long target, long done, long resync) {
            wantedTarget = Math.max(wantedTarget, target);
            wantedDone = Math.max(wantedDone, done);
            wantedResync = resync; // counts restart at each SYNC_START: the latest is the truth
            notifyAll();
        }

        void close() {
            synchronized (this) {
                closed = true;
                notifyAll();
            }
            try {
                thread.join(30_000); // it finishes the syncs already requested first
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        @Override
        public void run() {
            while (true) {
                long target;
                long done;
                long resync;
                synchronized (this) {
                    while (wantedTarget < 0 && !closed) {
                        try {
                            wait();
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                    if (wantedTarget < 0) {
                        return;
                    }
                    target = wantedTarget;
                    done = wantedDone;
                    resync = wantedResync;
                    wantedTarget = -1;
                    wantedDone = -1;
                }
                try {
                    disk.sync();
                } catch (IOException e) {
                    fail(e);
                    synchronized (this) {
                        notifyAll();
                    }
                    return;
                }
                synced(target, done, resync);
                synchronized (this) {
                    notifyAll();
                }
            }
        }
    }

    private IOException fail(IOException e) {
        failure = e;
        return e;
    }

    /** After a disk error nothing more is applied: writing past a gap would corrupt the replica. */
    private void checkHealthy() throws IOException {
        if (failure != null) {
            throw new IOException("the secondary's disk failed earlier: " + failure.getMessage(), failure);
        }
    }
}
