package io.jrbd.replicator.device;

import io.netty.buffer.ByteBuf;

/**
 * A block device as the front end sees it: byte-addressed, asynchronous, shared by every
 * client connection (so a flush covers writes completed on any of them).
 *
 * <p>Callers check ranges against {@link #size()} before calling; a device treats an
 * out-of-range request as a bug and throws {@link IllegalArgumentException}. Every operation
 * completes through its {@link IoCallback} exactly once, possibly on another thread.
 *
 * <p>Durability follows the block layer: a completed write is readable by every later read
 * but may be lost in a crash until a {@link #flush} that started after it completes, or
 * unless it was written with {@code fua}.
 */
public interface BlockDevice extends AutoCloseable {
    long size();

    boolean readOnly();

    /** Reads {@code length} bytes into a new buffer handed to {@link IoCallback#onData}. */
    void read(long offset, int length, IoCallback callback);

    /** Writes all readable bytes of {@code data}, taking ownership of it. */
    void write(long offset, ByteBuf data, boolean fua, IoCallback callback);

    /** Discards a range; it reads as zeroes afterwards where the store can deallocate. */
    void trim(long offset, long length, boolean fua, IoCallback callback);

    /**
     * Makes a range read as zeroes. {@code mayDeallocate}: a hole is fine (NBD without NO_HOLE);
     * {@code fastOnly}: fail with {@link IoError#ENOTSUP} rather than write zeroes slowly.
     */
    void writeZeroes(long offset, long length, boolean mayDeallocate, boolean fastOnly, boolean fua, IoCallback callback);

    /** Completes when every write completed before this call is on stable storage. */
    void flush(IoCallback callback);

    /** A prefetch hint; completes through {@link IoCallback#onDone}. */
    void cache(long offset, long length, IoCallback callback);

    /** Describes the range as data and hole runs, at most {@code maxRuns}. */
    void describe(long offset, long length, int maxRuns, IoCallback callback);

    /** Waits for operations in flight, makes everything durable and releases the store. */
    @Override
    void close();
}
