package io.jrbd.replicator.device;

import io.jrbd.metadata.store.BackingStore;
import io.jrbd.metadata.store.StoreException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A device with no peer: operations run on a fixed pool of I/O threads against one
 * {@link BackingStore}; flushes and FUA go through {@link GroupCommit}.
 */
public final class StandaloneDevice implements BlockDevice {
    private static final Logger LOG = LoggerFactory.getLogger(StandaloneDevice.class);

    private final BackingStore store;
    private final ByteBufAllocator alloc;
    private final ExecutorService io;
    private final GroupCommit commit;
    private final ThreadLocal<long[]> runBuffers = new ThreadLocal<>();

    public StandaloneDevice(BackingStore store, ByteBufAllocator alloc, int ioThreads) {
        if (ioThreads < 1) {
            throw new IllegalArgumentException("ioThreads " + ioThreads + " < 1");
        }
        this.store = store;
        this.alloc = alloc;
        AtomicInteger n = new AtomicInteger();
        this.io = new ThreadPoolExecutor(ioThreads, ioThreads, 0, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, "jrbd-io-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.commit = new GroupCommit(store, "jrbd-flush");
    }

    @Override
    public long size() {
        return store.size();
    }

    @Override
    public boolean readOnly() {
        return store.readOnly();
    }

    /** fdatasync calls made and flush requests served, for the flush batching factor. */
    public long syncs() {
        return commit.syncs();
    }

    public long flushRequests() {
        return commit.requests();
    }

    @Override
    public void read(long offset, int length, IoCallback callback) {
        checkRange(offset, length);
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

    @Override
    public void write(long offset, ByteBuf data, boolean fua, IoCallback callback) {
        try {
            checkWritable();
            checkRange(offset, data.readableBytes());
        } catch (RuntimeException e) {
            data.release();
            throw e;
        }
        run(callback, () -> {
            try {
                long position = offset;
                for (ByteBuffer part : data.nioBuffers()) {
                    int n = part.remaining();
                    store.write(part, position);
                    position += n;
                }
            } catch (StoreException e) {
                fail(callback, e);
                return;
            } finally {
                data.release();
            }
            completeWrite(fua, callback);
        });
    }

    @Override
    public void trim(long offset, long length, boolean fua, IoCallback callback) {
        checkWritable();
        checkRange(offset, length);
        run(callback, () -> {
            try {
                // TRIM is advisory: where holes cannot be punched the data simply stays.
                store.punchHole(offset, length);
            } catch (StoreException e) {
                fail(callback, e);
                return;
            }
            completeWrite(fua, callback);
        });
    }

    @Override
    public void writeZeroes(long offset, long length, boolean mayDeallocate, boolean fastOnly, boolean fua,
            IoCallback callback) {
        checkWritable();
        checkRange(offset, length);
        run(callback, () -> {
            try {
                boolean done = (mayDeallocate && store.punchHole(offset, length)) || store.zeroRange(offset, length);
                if (!done) {
                    if (fastOnly) {
                        callback.onFailure(IoError.ENOTSUP, store.path() + " cannot zero without writing zeroes");
                        return;
                    }
                    store.writeZeroes(offset, length);
                }
            } catch (StoreException e) {
                fail(callback, e);
                return;
            }
            completeWrite(fua, callback);
        });
    }

    @Override
    public void flush(IoCallback callback) {
        commit.submit(callback);
    }

    @Override
    public void cache(long offset, long length, IoCallback callback) {
        checkRange(offset, length);
        run(callback, () -> {
            store.willNeed(offset, length);
            callback.onDone();
        });
    }

    @Override
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

    /**
     * Runs an operation on an I/O thread. A bug that throws inside it still completes the
     * operation (with EIO) instead of leaving a client waiting forever.
     */
    private void run(IoCallback callback, Runnable task) {
        io.execute(() -> {
            try {
                task.run();
            } catch (RuntimeException e) {
                LOG.error("operation on {} failed unexpectedly", store.path(), e);
                callback.onFailure(IoError.EIO, "internal error: " + e);
            }
        });
    }

    private void completeWrite(boolean fua, IoCallback callback) {
        if (fua) {
            commit.submit(callback);
        } else {
            callback.onDone();
        }
    }

    private void checkWritable() {
        if (store.readOnly()) {
            throw new IllegalStateException(store.path() + " is read-only");
        }
    }

    private void checkRange(long offset, long length) {
        if (offset < 0 || length < 0 || offset > store.size() || length > store.size() - offset) {
            throw new IllegalArgumentException("range " + offset + "+" + length + " outside device of " + store.size() + " bytes");
        }
    }

    private static void fail(IoCallback callback, StoreException e) {
        IoError error = switch (e.kind()) {
            case NO_SPACE -> IoError.ENOSPC;
            case UNSUPPORTED -> IoError.ENOTSUP;
            case IO -> IoError.EIO;
        };
        if (error == IoError.EIO) {
            LOG.error("I/O error on {}: {}", e.getMessage(), e.getCause() == null ? "" : e.getCause().toString());
        }
        callback.onFailure(error, e.getMessage());
    }

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
        commit.close();
        try {
            store.sync();
            store.close();
        } catch (IOException e) {
            LOG.error("closing {}: {}", store.path(), e.getMessage());
        }
    }
}
