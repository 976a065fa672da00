package io.jrbd.replicator.device;

import io.jrbd.metadata.store.BackingStore;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One thread that turns many flush requests into few fdatasync calls. Every request queued
 * before a sync starts is completed by that sync; requests arriving during it wait for the
 * next one, so each waiter is covered by a sync that began after it asked.
 *
 * <p>Failure is sticky: after one fdatasync fails, the kernel may have dropped the dirty pages
 * it could not write and a later fdatasync could report success over lost data. So every
 * later flush fails too, naming the first failure.
 */
public final class GroupCommit implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(GroupCommit.class);

    /** Whatever one fdatasync-like call makes durable. */
    @FunctionalInterface
    public interface Syncable {
        void sync() throws IOException;
    }

    private final String what;
    private final Syncable target;
    private final LinkedBlockingQueue<IoCallback> waiters = new LinkedBlockingQueue<>();
    private final Thread thread;
    private final AtomicLong syncs = new AtomicLong();
    private final AtomicLong requests = new AtomicLong();
    private volatile boolean running = true;
    private volatile String failure;

    public GroupCommit(BackingStore store, String name) {
        this(store.path().toString(), store::sync, name);
    }

    public GroupCommit(String what, Syncable target, String name) {
        this.what = what;
        this.target = target;
        this.thread = new Thread(this::run, name);
        thread.setDaemon(true);
        thread.start();
    }

    public void submit(IoCallback callback) {
        requests.incrementAndGet();
        waiters.add(callback);
    }

    /** Number of fdatasync calls made. */
    public long syncs() {
        return syncs.get();
    }

    /** Number of flush requests served; {@code requests / syncs} is the batching factor. */
    public long requests() {
        return requests.get();
    }

    private void run() {
        List<IoCallback> batch = new ArrayList<>();
        while (running || !waiters.isEmpty()) {
            IoCallback first;
            try {
                first = waiters.poll(100, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            if (first == null) {
                continue;
            }
            batch.add(first);
            waiters.drainTo(batch);
            String error = syncOnce();
            for (IoCallback waiter : batch) {
                complete(waiter, error);
            }
            batch.clear();
        }
    }

    private String syncOnce() {
        if (failure != null) {
            return failure;
        }
        try {
            target.sync();
            syncs.incrementAndGet();
            return null;
        } catch (IOException e) {
            failure = e.getMessage();
            LOG.error("fdatasync failed; every later flush of {} will fail: {}", what, failure);
            return failure;
        }
    }

    private static void complete(IoCallback waiter, String error) {
        try {
            if (error == null) {
                waiter.onDone();
            } else {
                waiter.onFailure(IoError.EIO, error);
            }
        } catch (RuntimeException e) {
            LOG.error("flush completion threw", e);
        }
    }

    /** Serves every queued request, then stops the thread. */
    @Override
    public void close() {
        running = false;
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
