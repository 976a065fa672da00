package io.jrbd.replicator.device;

import io.jrbd.metadata.store.BackingStore;
import io.jrbd.metadata.store.StoreException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A fixed pool of threads doing blocking I/O on one {@link BackingStore}, with the operations
 * every device serves the same way: reads, prefetch hints and hole/data descriptions.
 */
public final class StoreWorkers implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StoreWorkers.class);

    private final BackingStore store;
    private final ByteBufAllocator alloc;
    private final ExecutorService io;
    private final ThreadLocal<long[]> runBuffers = new ThreadLocal<>();
    /** Reads up to this size are tried inline when their data is in the page cache. */
    static final int INLINE_READ_MAX = 256 * 1024;

    public StoreWorkers(BackingStore store, ByteBufAllocator alloc, int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("ioThreads " + threads + " < 1");
        }
        this.store = store;
        this.alloc = alloc;
        AtomicInteger n = new AtomicInteger();
        this.io = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, "jrbd-io-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    public BackingStore store() {
        return store;
    }

    /**
     * Runs an operation on an I/O thread. A bug that throws inside it still completes the
     * operation (with EIO) instead of leaving a client waiting forever.
     */
    public void run(IoCallback callback, Runnable task) {
        io.execute(() -> {
            try {
                task.run();
            } catch (RuntimeException e) {
                LOG.error("operation on {} failed unexpectedly", store.path(), e);
                callback.onFailure(IoError.EIO, "internal error: " + e);
            }
        });
    }

    public void read(long offset, int length, IoCallback callback) {
        checkRange(offset, length);
        if (length <= INLINE_READ_MAX) {
            // Cached data is copied on the caller's thread: no hand-off to an I/O thread and back.
            ByteBuf buf = alloc.directBuffer(length, length);
            if (buf.hasMemoryAddress() && store.readIfCached(buf.memoryAddress(), length, offset)) {
                buf.writerIndex(length);
                callback.onData(buf);
                return;
            }
            buf.release();
        }
        run(callback, () -> {
            ByteBuf buf = alloc.directBuffer(length, length);
            try {
                store.read(buf.nioBuffer(0, length), offset);
                buf.writerIndex(length);
            } catch (StoreException e) {
                buf.release();
                fail(callback, e);
                return;
            }
            callback.onData(buf);
        });
    }

    public void cache(long offset, long length, IoCallback callback) {
        checkRange(offset, length);
        run(callback, () -> {
            store.willNeed(offset, length);
            callback.onDone();
        });
    }

    public void describe(long offset, long length, int maxRuns, IoCallback callback) {
        checkRange(offset, length);
        run(callback, () -> {
            long[] runs = runBuffers.get();
            if (runs == null || runs.length < maxRuns * 2) {
                runs = new long[maxRuns * 2];
                runBuffers.set(runs);
            }
            int count = store.describe(offset, length, runs, maxRuns);
            callback.onRuns(runs, count);
        });
    }

    public void checkRange(long offset, long length) {
        if (offset < 0 || length < 0 || offset > store.size() || length > store.size() - offset) {
            throw new IllegalArgumentException("range " + offset + "+" + length + " outside device of " + store.size() + " bytes");
        }
    }

    public static IoError errorOf(StoreException e) {
        return switch (e.kind()) {
            case NO_SPACE -> IoError.ENOSPC;
            case UNSUPPORTED -> IoError.ENOTSUP;
            case IO -> IoError.EIO;
        };
    }

    public static void fail(IoCallback callback, StoreException e) {
        IoError error = errorOf(e);
        if (error == IoError.EIO) {
            LOG.error("I/O error: {}", e.getMessage());
        }
        callback.onFailure(error, e.getMessage());
    }

    /** Lets queued operations finish, waiting up to 30 s. */
    @Override
    public void close() {
        io.shutdown();
        try {
            if (!io.awaitTermination(30, TimeUnit.SECONDS)) {
                LOG.warn("I/O threads of {} still busy after 30 s; closing anyway", store.path());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
