package io.jrbd.replicator.engine;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The engine's view of a node's data. The real one is a {@link StoreDisk}; a simulation
 * supplies one that can lose unsynced writes in a crash.
 */
public interface Disk {
    long size();

    void read(ByteBuffer dst, long offset) throws IOException;

    void write(ByteBuffer src, long offset) throws IOException;

    /** Makes the range read as zeroes; {@code keepAllocated} is NBD's NO_HOLE. */
    void zero(long offset, long length, boolean keepAllocated) throws IOException;

    /** Discards the range where the store can; it may keep the data. */
    void trim(long offset, long length) throws IOException;

    /** fdatasync: everything written before is durable when this returns. */
    void sync() throws IOException;
}
