package io.jrbd.bench;

import io.jrbd.replicator.device.BlockDevice;
import io.jrbd.replicator.device.IoCallback;
import io.jrbd.replicator.device.IoError;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.internal.PlatformDependent;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Keeps up to {@code depth} 4 KiB writes in flight from one submitting thread, without
 * allocating per write: each slot owns a pooled direct buffer (filled with random data once)
 * and its callback. {@link #submit} takes a free slot, waiting (parked) for a completion when
 * all are in flight, and writes the slot's buffer at a random 4 KiB-aligned offset.
 *
 * <pre>
 *  submitting thread:  acquire() --(free queue empty: park)--> write(offset, slot.buffer.retain(), slot)
 *  device thread:      slot.onDone() --> free.offer(slot) --> unpark(submitter)
 * </pre>
 *
 * <p>A slot's buffer is handed to the device with an extra reference ({@link BlockDevice#write}
 * takes ownership of one), so the harness's reference keeps it alive and its contents never
 * change; the device may still hold a duplicate after completing (protocol A sends after the
 * local write), which is harmless as the bytes are constant.
 *
 * <p>Threads: {@link #submit}, {@link #drain} and {@link #close} from one thread only.
 */
final class WriteSlots implements AutoCloseable {
    private final BlockDevice device;
    private final Slot[] slots;
    private final Queue<Slot> free;
    private final long blocks;
    private volatile Thread waiter;
    private volatile String failure;
    private long random;

    WriteSlots(BlockDevice device, int depth, long seed) {
        if (depth < 1) {
            throw new IllegalArgumentException("depth " + depth + " must be at least 1");
        }
        this.device = device;
        this.blocks = device.size() / BenchTarget.BLOCK;
        if (Long.bitCount(blocks) != 1) {
            throw new IllegalArgumentException("device of " + device.size() + " bytes is not a power of two 4 KiB blocks");
        }
        this.slots = new Slot[depth];
        this.free = PlatformDependent.newFixedMpscQueue(Math.max(depth, 2));
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < depth; i++) {
            ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(BenchTarget.BLOCK, BenchTarget.BLOCK);
            while (b.isWritable()) {
                b.writeLong(r.nextLong());
            }
            slots[i] = new Slot(b);
            free.offer(slots[i]);
        }
        this.random = r.nextLong() | 1;
    }

    /** Submits one write once a slot is free; returns when it was handed to the device. */
    void submit() {
        Slot s = acquire();
        ByteBuf b = s.buffer;
        b.retain().setIndex(0, BenchTarget.BLOCK);
        device.write(nextOffset(), b, false, s);
    }

    /** Submits one write and waits for it to complete (iodepth 1 latency). */
    void writeAndWait() {
        submit();
        drain();
    }

    /** Waits until no write is in flight. */
    void drain() {
        int depth = slots.length;
        while (free.size() < depth) {
            park(depth);
        }
        checkFailure();
    }

    private Slot acquire() {
        Slot s;
        while ((s = free.poll()) == null) {
            park(1);
        }
        checkFailure();
        return s;
    }

    /** Parks until a completion unparks us, unless {@code freeWanted} slots are free already. */
    private void park(int freeWanted) {
        waiter = Thread.currentThread();
        // Re-check after publishing ourselves: a completion between the caller's check and the
        // park would otherwise not wake us (the 100 ms bound is only a safety net).
        if (free.size() < freeWanted) {
            LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(100));
        }
        waiter = null;
        checkFailure();
    }

    private void checkFailure() {
        String f = failure;
        if (f != null) {
            throw new IllegalStateException("a benchmark write failed: " + f);
        }
    }

    /** xorshift64: a random block, no allocation, no shared state. */
    private long nextOffset() {
        long x = random;
        x ^= x << 13;
        x ^= x >>> 7;
        x ^= x << 17;
        random = x;
        return (x & (blocks - 1)) * BenchTarget.BLOCK;
    }

    @Override
    public void close() {
        try {
            drain();
        } finally {
            for (Slot s : slots) {
                s.buffer.release();
            }
        }
    }

    private final class Slot implements IoCallback {
        final ByteBuf buffer;

        Slot(ByteBuf buffer) {
            this.buffer = buffer;
        }

        @Override
        public void onDone() {
            release();
        }

        @Override
        public void onFailure(IoError error, String detail) {
            failure = error + ": " + detail;
            release();
        }

        private void release() {
            free.offer(this);
            Thread w = waiter;
            if (w != null) {
                LockSupport.unpark(w);
            }
        }
    }
}
