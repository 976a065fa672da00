package io.jrbd.replicator.link;

import io.netty.channel.Channel;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.internal.PlatformDependent;
import java.util.Queue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Messages written to a channel from threads other than its event loop, batched: they queue
 * here and one task on the event loop writes everything queued and flushes once. Netty would
 * otherwise make a task, and often a wake-up, for every single write.
 *
 * <p>Messages from one thread keep their order; messages are written whole.
 */
public final class OutboundQueue implements Runnable {
    private final Channel channel;
    private final Queue<Object> pending = PlatformDependent.newMpscQueue();
    private final AtomicBoolean scheduled = new AtomicBoolean();

    public OutboundQueue(Channel channel) {
        this.channel = channel;
    }

    public Channel channel() {
        return channel;
    }

    /** Queues {@code message} (taking ownership) and makes sure it goes out soon. */
    public void send(Object message) {
        pending.offer(message);
        flushSoon();
    }

    /** Queues {@code message} (taking ownership); it goes out at the next {@link #flushSoon}. */
    public void queue(Object message) {
        pending.offer(message);
    }

    /** Schedules one write-and-flush of everything queued, unless one is already scheduled. */
    public void flushSoon() {
        if (scheduled.compareAndSet(false, true)) {
            try {
                channel.eventLoop().execute(this);
            } catch (RejectedExecutionException e) {
                discard(); // the event loop is gone, and with it the connection
            }
        }
    }

    @Override
    public void run() {
        scheduled.set(false);
        Object m;
        int n = 0;
        while ((m = pending.poll()) != null) {
            channel.write(m, channel.voidPromise());
            n++;
        }
        if (n > 0) {
            channel.flush();
        }
    }

    /** Releases whatever is still queued (the channel is closed). */
    public void discard() {
        Object m;
        while ((m = pending.poll()) != null) {
            ReferenceCountUtil.release(m);
        }
    }
}
