package io.jrbd.replicator.engine;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.BitSet;

/**
 * An in-memory {@link Disk} with a volatile write cache, for tests and the simulation.
 *
 * <p>Writes, trims and zeroings are visible at once in {@link #image()} and survive a crash of
 * the process (they are in the "page cache"); {@link #powerLoss()} keeps only what the last
 * {@link #sync()} made durable. TRIM zeroes the range (as a punched hole reads), so both nodes
 * and the reference replay agree on what a trimmed range holds.
 *
 * <p>{@link #failNext} injects one I/O error: the next matching call throws it (once).
 */
final class SimDisk implements Disk {
    /** Granularity of {@link #touched()}: the simulation compares 4 KiB blocks. */
    static final int BLOCK = 4096;

    private final byte[] cache;
    private byte[] durable;
    private final BitSet touched = new BitSet();
    private int syncs;
    private String failOn;
    private String failMessage;
    private Runnable onSync = () -> { };

    SimDisk(int size) {
        this.cache = new byte[size];
        this.durable = new byte[size];
    }

    @Override
    public long size() {
        return cache.length;
    }

    @Override
    public void read(ByteBuffer dst, long offset) throws IOException {
        check(offset, dst.remaining());
        dst.put(cache, (int) offset, dst.remaining());
    }

    @Override
    public void write(ByteBuffer src, long offset) throws IOException {
        maybeFail("write");
        check(offset, src.remaining());
        int n = src.remaining();
        src.get(cache, (int) offset, n);
        touch(offset, n);
    }

    @Override
    public void zero(long offset, long length, boolean keepAllocated) throws IOException {
        maybeFail("zero");
        check(offset, length);
        Arrays.fill(cache, (int) offset, (int) (offset + length), (byte) 0);
        touch(offset, length);
    }

    @Override
    public void trim(long offset, long length) throws IOException {
        maybeFail("trim");
        check(offset, length);
        Arrays.fill(cache, (int) offset, (int) (offset + length), (byte) 0);
        touch(offset, length);
    }

    @Override
    public void sync() throws IOException {
        maybeFail("sync");
        durable = cache.clone();
        syncs++;
        onSync.run();
    }

    /** What a reader sees now (the cache); live, not a copy. */
    byte[] image() {
        return cache;
    }

    /** What survives a power loss. */
    byte[] durableImage() {
        return durable;
    }

    /** Power is cut: the volatile cache is lost, the disk holds what was last synced. */
    void powerLoss() {
        System.arraycopy(durable, 0, cache, 0, cache.length);
        touched.set(0, cache.length / BLOCK);
    }

    /** Runs after every successful sync (tests log it to check ordering). */
    void onSync(Runnable hook) {
        onSync = hook;
    }

    int syncs() {
        return syncs;
    }

    /** Blocks changed since the last {@link #clearTouched()}; live. */
    BitSet touched() {
        return touched;
    }

    void clearTouched() {
        touched.clear();
    }

    /** The next call named {@code op} ("write", "zero", "trim", "sync") fails with {@code message}. */
    void failNext(String op, String message) {
        failOn = op;
        failMessage = message;
    }

    private void maybeFail(String op) throws IOException {
        if (op.equals(failOn)) {
            failOn = null;
            throw new IOException(failMessage);
        }
    }

    private void touch(long offset, long length) {
        if (length > 0) {
            touched.set((int) (offset / BLOCK), (int) ((offset + length - 1) / BLOCK) + 1);
        }
    }

    private void check(long offset, long length) throws IOException {
        if (offset < 0 || length < 0 || offset + length > cache.length) {
            throw new IOException("range " + offset + "+" + length + " is outside the " + cache.length + "-byte disk");
        }
    }
}
