package io.jrbd.nbd.wan;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.Future;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A TCP proxy that behaves like a WAN link: every byte is delivered a fixed one-way delay after the proxy read
 * it, in each direction independently, optionally through a bandwidth cap; the link can be cut and healed.
 *
 * <pre>
 *   try (WanProxy wan = WanProxy.start("127.0.0.1", 0, "127.0.0.1", peerPort, Duration.ofMillis(10), 0)) {
 *       connect(wan.address());   // 20 ms round trip to the peer
 *       wan.cut();                // both sides see a reset; new connections are reset at once
 *       wan.heal();
 *   }
 * </pre>
 *
 * <p>Timing: bytes read at {@code t} are written to the other leg at {@code t + delay}; with a rate cap a chunk of
 * {@code n} bytes first waits for the link and occupies it for {@code n/rate} (see {@link LinkClock}). Delivery is
 * never early; how late is set by the event loop's timer, see {@link #lateness()}. With epoll, timer slack lowered
 * to 1 ns ({@link TimerSlack}) and long waits finished on the timerfd ({@link DelayLine}), the median round trip
 * through an idle-ish 2-core VM exceeded 2 x delay by 9-14 us per direction at 0.1 ms, 11-35 us at 1 ms and
 * 46-135 us at 20 ms (the last includes the receivers' own wake-up after 20 ms asleep); under heavy load single
 * deliveries can be milliseconds late. The NIO fallback rounds timers up to whole milliseconds.
 * {@link #setDelay} applies to bytes read after the call; bytes never overtake bytes read before them.
 *
 * <p>Threads: every method may be called from any thread except an event loop of this proxy. Counters are
 * eventually consistent: they are updated by the event loops and read without synchronisation.
 */
public final class WanProxy implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(WanProxy.class);
    static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(512 * 1024, 2 * 1024 * 1024);
    private static final long CUT_WAIT_SECONDS = 5;

    private final String targetHost;
    private final int targetPort;
    private final long bytesPerSecond;
    private final ByteBufAllocator allocator;
    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final Class<? extends ServerChannel> serverChannelType;
    private final Class<? extends SocketChannel> socketChannelType;
    private final Set<Relay> relays = ConcurrentHashMap.newKeySet();
    private final LongAdder[] forwarded = {new LongAdder(), new LongAdder()};
    private final LongAdder accepted = new LongAdder();
    private final LongAdder refused = new LongAdder();
    private final Lateness lateness = new Lateness();
    private volatile long delayNanos;
    private volatile boolean cut;
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();
    private Channel listener;

    private WanProxy(String targetHost, int targetPort, Duration delay, long bytesPerSecond, ByteBufAllocator allocator,
            int eventLoopThreads) {
        this.targetHost = targetHost;
        this.targetPort = targetPort;
        this.delayNanos = delay.toNanos();
        this.bytesPerSecond = bytesPerSecond;
        this.allocator = allocator;
        if (Epoll.isAvailable()) {
            boss = new EpollEventLoopGroup(1);
            workers = new EpollEventLoopGroup(eventLoopThreads);
            serverChannelType = EpollServerSocketChannel.class;
            socketChannelType = EpollSocketChannel.class;
        } else {
            boss = new NioEventLoopGroup(1);
            workers = new NioEventLoopGroup(eventLoopThreads);
            serverChannelType = NioServerSocketChannel.class;
            socketChannelType = NioSocketChannel.class;
        }
        for (io.netty.util.concurrent.EventExecutor loop : workers) {
            loop.submit(TimerSlack::minimise).syncUninterruptibly();
        }
    }

    /**
     * Listens on {@code listenHost:listenPort} (port 0 picks a free one, see {@link #address()}) and forwards every
     * connection to {@code targetHost:targetPort} through a link of the given one-way delay and rate.
     *
     * @param bytesPerSecondOrZero bandwidth cap of each direction, 0 for none
     * @throws IllegalArgumentException for a negative delay or rate, or a port out of range
     * @throws IllegalStateException when the listening address cannot be bound
     */
    public static WanProxy start(String listenHost, int listenPort, String targetHost, int targetPort,
            Duration oneWayDelay, long bytesPerSecondOrZero) {
        return start(listenHost, listenPort, targetHost, targetPort, oneWayDelay, bytesPerSecondOrZero,
                ByteBufAllocator.DEFAULT, 1);
    }

    /** As {@link #start(String, int, String, int, Duration, long)}, with the buffer allocator and event-loop count. */
    public static WanProxy start(String listenHost, int listenPort, String targetHost, int targetPort,
            Duration oneWayDelay, long bytesPerSecondOrZero, ByteBufAllocator allocator, int eventLoopThreads) {
        Objects.requireNonNull(listenHost, "listenHost");
        Objects.requireNonNull(targetHost, "targetHost");
        Objects.requireNonNull(allocator, "allocator");
        checkDelay(oneWayDelay);
        if (listenPort < 0 || listenPort > 65535) {
            throw new IllegalArgumentException("listen port " + listenPort + " is not in 0..65535");
        }
        if (targetPort < 1 || targetPort > 65535) {
            throw new IllegalArgumentException("target port " + targetPort + " is not in 1..65535");
        }
        if (bytesPerSecondOrZero < 0) {
            throw new IllegalArgumentException("rate " + bytesPerSecondOrZero + " bytes/s is negative (0 means no cap)");
        }
        if (eventLoopThreads < 1) {
            throw new IllegalArgumentException("event-loop threads " + eventLoopThreads + " must be at least 1");
        }
        WanProxy proxy = new WanProxy(targetHost, targetPort, oneWayDelay, bytesPerSecondOrZero, allocator, eventLoopThreads);
        try {
            proxy.bind(listenHost, listenPort);
        } catch (Exception e) { // Netty rethrows the bind's IOException unchecked
            proxy.close();
            throw new IllegalStateException("cannot listen on " + listenHost + ":" + listenPort + ": " + e, e);
        }
        return proxy;
    }

    private void bind(String host, int port) {
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(boss, workers)
                .channel(serverChannelType)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.ALLOCATOR, allocator)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        onAccepted(ch);
                    }
                });
        listener = bootstrap.bind(new InetSocketAddress(host, port)).syncUninterruptibly().channel();
    }

    private void onAccepted(SocketChannel ch) {
        if (cut) {
            refused.increment();
            LOG.debug("{}: link is cut, resetting", ch.remoteAddress());
            ch.config().setOption(ChannelOption.SO_LINGER, 0);
            ch.close();
            return;
        }
        accepted.increment();
        Relay relay = new Relay(this, ch);
        relays.add(relay);
        relay.start();
        if (cut) {
            // cut() ran between our check and add(): it may not have seen this relay.
            relay.abort();
        }
    }

    /** The address clients connect to. */
    public InetSocketAddress address() {
        return (InetSocketAddress) listener.localAddress();
    }

    /**
     * Cuts the link: resets every current connection on both sides, dropping the bytes still in flight, and
     * resets new connections as soon as they are accepted, until {@link #heal()}. Returns the number of
     * connections cut, once they are all closed.
     */
    public int cut() {
        cut = true;
        List<Future<?>> closing = new ArrayList<>();
        for (Relay relay : relays) {
            closing.add(relay.client().eventLoop().submit(relay::abort));
        }
        for (Future<?> f : closing) {
            f.awaitUninterruptibly(CUT_WAIT_SECONDS, TimeUnit.SECONDS);
        }
        return closing.size();
    }

    /** Accepts connections again after {@link #cut()}. */
    public void heal() {
        cut = false;
    }

    public boolean isCut() {
        return cut;
    }

    /** Sets the one-way delay of both directions for bytes read from now on. */
    public void setDelay(Duration oneWayDelay) {
        checkDelay(oneWayDelay);
        delayNanos = oneWayDelay.toNanos();
    }

    public Duration delay() {
        return Duration.ofNanos(delayNanos);
    }

    /** The bandwidth cap of each direction in bytes per second, 0 for none. */
    public long bytesPerSecond() {
        return bytesPerSecond;
    }

    /** Bytes handed to the far leg's socket in that direction, over all connections so far. */
    public long bytesForwarded(Direction direction) {
        return forwarded[direction.ordinal()].sum();
    }

    /** Connections accepted and forwarded (not those reset while the link was cut). */
    public long connectionsAccepted() {
        return accepted.sum();
    }

    /** Connections reset on arrival because the link was cut. */
    public long connectionsRefused() {
        return refused.sum();
    }

    /**
     * How late delayed chunks were written to the far leg, over their due time: the accuracy of the simulated
     * delay as far as the proxy can see (the receiver's own wake-up comes on top).
     */
    public Lateness lateness() {
        return lateness;
    }

    /** Connections whose two legs are not both closed yet. */
    public int activeConnections() {
        return relays.size();
    }

    /** Stops listening, resets every connection and stops the event loops; a second call does nothing. */
    @Override
    public void close() {
        if (closed.getAndSet(true)) {
            return;
        }
        if (listener != null) {
            listener.close().syncUninterruptibly();
        }
        for (Relay relay : relays) {
            relay.client().eventLoop().execute(relay::abort);
        }
        boss.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private static void checkDelay(Duration delay) {
        Objects.requireNonNull(delay, "delay");
        if (delay.isNegative()) {
            throw new IllegalArgumentException("delay " + delay + " is negative");
        }
        if (delay.compareTo(Duration.ofHours(1)) > 0) {
            throw new IllegalArgumentException("delay " + delay + " is more than an hour");
        }
    }

    long delayNanos() {
        return delayNanos;
    }

    String targetHost() {
        return targetHost;
    }

    int targetPort() {
        return targetPort;
    }

    ByteBufAllocator allocator() {
        return allocator;
    }

    Class<? extends SocketChannel> socketChannelType() {
        return socketChannelType;
    }

    LongAdder forwardedCounter(Direction direction) {
        return forwarded[direction.ordinal()];
    }

    void removed(Relay relay) {
        relays.remove(relay);
    }
}
