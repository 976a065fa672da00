package io.jrbd.replicator.engine;

import io.jrbd.metadata.store.BackingStore;
import java.io.IOException;
import java.nio.ByteBuffer;

/** A {@link Disk} over a real {@link BackingStore}. */
public final class StoreDisk implements Disk {
    private final BackingStore store;

    public StoreDisk(BackingStore store) {
        this.store = store;
    }

    public BackingStore store() {
        return store;
    }

    @Override
    public long size() {
        return store.size();
    }

    @Override
    public void read(ByteBuffer dst, long offset) throws IOException {
        store.read(dst, offset);
    }

    @Override
    public void write(ByteBuffer src, long offset) throws IOException {
        store.write(src, offset);
    }

    @Override
    public void zero(long offset, long length, boolean keepAllocated) throws IOException {
        boolean done = (!keepAllocated && store.punchHole(offset, length)) || store.zeroRange(offset, length);
        if (!done) {
            store.writeZeroes(offset, length);
        }
    }

    @Override
    public void trim(long offset, long length) throws IOException {
        store.punchHole(offset, length);
    }

    @Override
    public void sync() throws IOException {
        store.sync();
    }
}
