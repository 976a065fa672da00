package io.jrbd.replicator.device;

import io.jrbd.metadata.store.BackingStore;
import io.jrbd.metadata.store.StoreException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.io.IOException;
import java.nio.ByteBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A device with no peer: operations run on a fixed pool of I/O threads against one
 * {@link BackingStore}; flushes and FUA go through {@link GroupCommit}.
 */
public final class StandaloneDevice implements BlockDevice {
    private static final Logger LOG = LoggerFactory.getLogger(StandaloneDevice.class);

    private final BackingStore store;
    private final StoreWorkers workers;
    private final GroupCommit commit;

    public StandaloneDevice(BackingStore store, ByteBufAllocator alloc, int ioThreads) {
        this.store = store;
        this.workers = new StoreWorkers(store, alloc, ioThreads);
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
        workers.read(offset, length, callback);
    }

    @Override
    public void write(long offset, ByteBuf data, boolean fua, IoCallback callback) {
        try {
            checkWritable();
            workers.checkRange(offset, data.readableBytes());
        } catch (RuntimeException e) {
            data.release();
            throw e;
        }
        workers.run(callback, () -> {
            try {
                long position = offset;
                for (ByteBuffer part : data.nioBuffers()) {
                    int n = part.remaining();
                    store.write(part, position);
                    position += n;
                }
            } catch (StoreException e) {
                StoreWorkers.fail(callback, e);
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
        workers.checkRange(offset, length);
        workers.run(callback, () -> {
            try {
                // TRIM is advisory: where holes cannot be punched the data simply stays.
                store.punchHole(offset, length);
            } catch (StoreException e) {
                StoreWorkers.fail(callback, e);
                return;
            }
            completeWrite(fua, callback);
        });
    }

    @Override
    public void writeZeroes(long offset, long length, boolean mayDeallocate, boolean fastOnly, boolean fua,
            IoCallback callback) {
        checkWritable();
        workers.checkRange(offset, length);
        workers.run(callback, () -> {
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
                StoreWorkers.fail(callback, e);
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
        workers.cache(offset, length, callback);
    }

    @Override
    public void describe(long offset, long length, int maxRuns, IoCallback callback) {
        workers.describe(offset, length, maxRuns, callback);
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

    @Override
    public void close() {
        workers.close();
        commit.close();
        try {
            store.sync();
            store.close();
        } catch (IOException e) {
            LOG.error("closing {}: {}", store.path(), e.getMessage());
        }
    }
}
