package io.jrbd.nbd.wan;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * One direction of one proxied connection: chunks read from {@code source} wait here until their delivery time
 * ({@link LinkClock}) and are then written to {@code sink}, in the order they were read.
 *
 * <p>Buffer ownership: {@link #offer} takes over the chunk; it is either written to the sink (which then owns
 * and releases it) or released by {@link #discard}. Back-pressure: the source stops reading while more than
 * {@link LinkClock#queueLimit} bytes wait here or while the sink is not writable, and resumes below half the
 * limit. All methods run on the event loop that both channels share.
 */
final class DelayLine {
    private final WanProxy proxy;
    private final Channel source;
    private final Channel sink;
    private final LongAdder forwarded;
    private final LinkClock clock = new LinkClock();
    private final Runnable drainTask = this::drain;

    // A ring of (chunk, delivery time), growing by doubling; delivery times never decrease along the ring.
    private ByteBuf[] chunks = new ByteBuf[16];
    private long[] dueAt = new long[16];
    private int head;
    private int size;
    private long queuedBytes;

    private boolean drainScheduled;
    private boolean paused;
    private boolean sourceClosed;
    private boolean discarded;

    DelayLine(WanProxy proxy, Channel source, Channel sink, LongAdder forwarded) {
        this.proxy = proxy;
        this.source = source;
        this.sink = sink;
        this.forwarded = forwarded;
    }

    /** A chunk read from the source at this instant; takes ownership. */
    void offer(ByteBuf chunk) {
        int n = chunk.readableBytes();
        if (discarded || n == 0) {
            chunk.release();
            return;
        }
        long now = System.nanoTime();
        long due = clock.deliveryTime(now, n, proxy.delayNanos(), proxy.bytesPerSecond());
        if (size == 0 && due - now <= 0) {
            write(chunk, n);
            sink.flush();
            return;
        }
        push(chunk, due);
        if (!drainScheduled) {
            schedule(due - now);
        }
        updateReading();
    }

    private void drain() {
        drainScheduled = false;
        if (discarded) {
            return;
        }
        long now = System.nanoTime();
        boolean wrote = false;
        while (size > 0 && dueAt[head] - now <= 0) {
            proxy.lateness().record(now - dueAt[head]);
            ByteBuf chunk = pop();
            write(chunk, chunk.readableBytes());
            wrote = true;
        }
        if (wrote) {
            sink.flush();
        }
        if (size > 0) {
            schedule(dueAt[head] - now);
        } else if (sourceClosed) {
            closeSinkAfterFlush();
        }
        updateReading();
    }

    /**
     * Wakes the drain after {@code delayNanos}. Netty's epoll loop waits with a millisecond {@code epoll_wait}
     * timeout for deadlines of 10 ms or more and with a nanosecond timerfd below; long waits therefore end
     * {@link #WAKE_AHEAD_NANOS} early, and the drain, finding nothing due, waits the rest precisely.
     */
    private void schedule(long delayNanos) {
        drainScheduled = true;
        long wait = delayNanos > 2 * WAKE_AHEAD_NANOS ? delayNanos - WAKE_AHEAD_NANOS : Math.max(0, delayNanos);
        sink.eventLoop().schedule(drainTask, wait, TimeUnit.NANOSECONDS);
    }

    private static final long WAKE_AHEAD_NANOS = 2_000_000;

    private void write(ByteBuf chunk, int n) {
        forwarded.add(n);
        sink.write(chunk, sink.voidPromise());
    }

    /** Stops or resumes reading from the source; called after every change of the queue or of sink writability. */
    void updateReading() {
        if (sourceClosed || discarded) {
            return;
        }
        long limit = LinkClock.queueLimit(proxy.delayNanos(), proxy.bytesPerSecond());
        if (!paused && (queuedBytes > limit || !sink.isWritable())) {
            paused = true;
            source.config().setAutoRead(false);
        } else if (paused && queuedBytes <= limit / 2 && sink.isWritable()) {
            paused = false;
            source.config().setAutoRead(true);
        }
    }

    /** The source has gone: deliver what is queued, on time, then close the sink. */
    void onSourceClosed() {
        if (sourceClosed) {
            return;
        }
        sourceClosed = true;
        if (!discarded && size == 0) {
            closeSinkAfterFlush();
        }
    }

    /** The sink has gone or the link was cut: nothing queued can be delivered any more; releases it all. */
    void discard() {
        discarded = true;
        while (size > 0) {
            pop().release();
        }
    }

    private void closeSinkAfterFlush() {
        if (sink.isActive()) {
            sink.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        } else {
            sink.close();
        }
    }

    long queuedBytes() {
        return queuedBytes;
    }

    private void push(ByteBuf chunk, long due) {
        if (size == chunks.length) {
            grow();
        }
        int tail = (head + size) & (chunks.length - 1);
        chunks[tail] = chunk;
        dueAt[tail] = due;
        size++;
        queuedBytes += chunk.readableBytes();
    }

    private ByteBuf pop() {
        ByteBuf chunk = chunks[head];
        chunks[head] = null;
        head = (head + 1) & (chunks.length - 1);
        size--;
        queuedBytes -= chunk.readableBytes();
        return chunk;
    }

    private void grow() {
        ByteBuf[] newChunks = new ByteBuf[chunks.length * 2];
        long[] newDue = new long[chunks.length * 2];
        for (int i = 0; i < size; i++) {
            int from = (head + i) & (chunks.length - 1);
            newChunks[i] = chunks[from];
            newDue[i] = dueAt[from];
        }
        chunks = newChunks;
        dueAt = newDue;
        head = 0;
    }
}
