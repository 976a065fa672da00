package io.jrbd.replicator.link;

import io.jrbd.protocol.peer.PeerAuth;
import io.jrbd.protocol.peer.PeerFrameDecoder;
import io.jrbd.protocol.peer.PeerMessage;
import io.jrbd.protocol.peer.PeerMessageEncoder;
import io.jrbd.protocol.peer.PeerWire;
import io.jrbd.replicator.config.NodeConfig;
import io.jrbd.replicator.config.ResourceConfig;
import io.jrbd.replicator.engine.OpType;
import io.jrbd.replicator.engine.PeerOutbound;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The link of one resource to its peer. Implements {@link PeerOutbound} for the primary's
 * pipeline; delivers everything it receives to a {@link Handler}.
 *
 * <p>Handshake on every new connection (both sides at once): HELLO (version, resource, node,
 * nonce); AUTH = HMAC-SHA256 of the shared secret over the other side's nonce; AUTH_OK once
 * the other side's AUTH checks out; STATE once both AUTH_OKs are in; the session starts when
 * the peer's STATE arrives. Anything else before that, a wrong resource or node name, or a
 * wrong secret closes the connection with a log line: no data flows unauthenticated.
 */
public final class PeerLink implements PeerOutbound, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PeerLink.class);
    /** A goodbye that starts so asks the initiating side to reconnect at once. */
    static final String RECONNECT = "reconnect: ";
    private volatile boolean reconnectAtOnce;

    /** The resource's side of the link. Calls come on the link's event loop: do not block. */
    public interface Handler {
        /** What to tell the peer about this node, once authenticated. */
        PeerMessage.State localState();

        void connected(long session, PeerMessage.State peer);

        /** A message of an established session; the handler owns (and releases) it. */
        void received(long session, PeerMessage message);

        /** The end of one burst of reads (a good moment for cumulative acks). */
        default void readComplete(long session) {
        }

        void disconnected(long session, String reason);
    }

    private final ResourceConfig config;
    private final NodeConfig me;
    private final NodeConfig peer;
    private final EventLoopGroup group;
    private final Handler handler;
    private final byte[] secret;
    private final InetSocketAddress connectTo;
    private final AtomicLong sessions = new AtomicLong();
    private Channel listener;
    private volatile Channel active;
    private volatile OutboundQueue activeOut;
    private volatile long session = -1;
    private volatile boolean wanted;
    private volatile boolean closed;
    private ScheduledFuture<?> retry;
    private volatile String lastFailure = "";

    /**
     * @param connectTo where to reach the peer (its replication address, or a proxy in front of
     *     it such as a simulated WAN link)
     */
    public PeerLink(ResourceConfig config, String myName, InetSocketAddress connectTo, EventLoopGroup group, Handler handler) {
        this.config = config;
        this.me = config.node(myName);
        this.peer = config.peerOf(myName);
        this.group = group;
        this.handler = handler;
        this.secret = config.net().sharedSecretBytes();
        this.connectTo = connectTo == null ? peer.replication() : connectTo;
    }

    /** Listens on this node's replication address; the node whose name sorts first also connects. */
    public synchronized void start() throws InterruptedException {
        ServerBootstrap b = new ServerBootstrap()
                .group(group)
                .channel(Epoll.isAvailable() ? EpollServerSocketChannel.class : NioServerSocketChannel.class)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, waterMark())
                .childHandler(initializer(false));
        listener = b.bind(me.replication()).sync().channel();
        LOG.info("{}: listening for peer {} on {}", config.name(), peer.name(), me.replication());
    }

    /** connect: keep a session to the peer, reconnecting every connect-interval. */
    public synchronized void enable() {
        wanted = true;
        if (initiator()) {
            connectSoon(0);
        }
    }

    /** disconnect: end the session and stop connecting (StandAlone). */
    public synchronized void disable() {
        wanted = false;
        if (retry != null) {
            retry.cancel(false);
            retry = null;
        }
        Channel ch = active;
        if (ch != null) {
            goodbye(ch, "disconnected by the administrator");
        }
    }

    /**
     * Ends the current session and starts a new one at once, so both nodes decide afresh (after
     * invalidate, or a demotion in the middle of a resync). The peer learns from the goodbye.
     */
    public void reconnect(String reason) {
        reconnectAtOnce = true;
        drop(RECONNECT + reason);
    }

    /** Ends the current session (e.g. acknowledgements overdue); it will be re-established. */
    public void drop(String reason) {
        Channel ch = active;
        if (ch != null) {
            LOG.warn("{}: dropping the connection to {}: {}", config.name(), peer.name(), reason);
            lastFailure = reason;
            goodbye(ch, reason);
        }
    }

    public boolean wanted() {
        return wanted;
    }

    /** Why the last connection attempt or session failed, for status. */
    public String lastFailure() {
        return lastFailure;
    }

    public boolean initiator() {
        return me.name().compareTo(peer.name()) < 0;
    }

    private WriteBufferWaterMark waterMark() {
        int high = (int) Math.min(Integer.MAX_VALUE, Math.max(64 * 1024, config.net().sendBuffer()));
        return new WriteBufferWaterMark(high / 2, high);
    }

    private synchronized void connectSoon(long delayMillis) {
        if (!wanted || closed || active != null) {
            return;
        }
        if (retry != null && !retry.isDone()) {
            return;
        }
        retry = group.next().schedule(this::connectNow, delayMillis, TimeUnit.MILLISECONDS);
    }

    private void connectNow() {
        synchronized (this) {
            // This task is running: a failure reported at once (a refused connection on
            // loopback often is) must be able to schedule the next attempt.
            retry = null;
        }
        if (!wanted || closed || active != null) {
            return;
        }
        Bootstrap b = new Bootstrap()
                .group(group)
                .channel(Epoll.isAvailable() ? EpollSocketChannel.class : NioSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.max(1000, config.net().timeout().toMillis()))
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, waterMark())
                .handler(initializer(true));
        ChannelFuture f = b.connect(connectTo);
        f.addListener(done -> {
            if (!done.isSuccess()) {
                String why = "cannot connect to " + peer.name() + " at " + connectTo + ": " + rootMessage(done.cause());
                if (!why.equals(lastFailure)) {
                    LOG.info("{}: {} (retrying every {} ms)", config.name(), why, config.net().connectInterval().toMillis());
                }
                lastFailure = why;
                connectSoon(config.net().connectInterval().toMillis());
            }
        });
    }

    private ChannelInitializer<SocketChannel> initializer(boolean outgoing) {
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(SocketChannel ch) {
                long idle = config.net().pingInterval().toMillis() + Math.max(config.net().pingTimeout().toMillis(),
                        config.net().timeout().toMillis());
                ch.pipeline()
                        .addLast("idle", new IdleStateHandler(idle, 0, 0, TimeUnit.MILLISECONDS))
                        .addLast("decoder", new PeerFrameDecoder())
                        .addLast("encoder", new PeerMessageEncoder())
                        .addLast("session", new SessionHandler(outgoing));
            }
        };
    }

    // ------------------------------------------------------------------ one connection

    private final class SessionHandler extends ChannelInboundHandlerAdapter {
        private final boolean outgoing;
        private final byte[] nonce = PeerAuth.newNonce();
        private boolean peerVerified;
        private boolean weAccepted;
        private boolean stateSent;
        private long mySession = -1;
        private String closeReason = "connection closed";
        private ScheduledFuture<?> pinger;

        SessionHandler(boolean outgoing) {
            this.outgoing = outgoing;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            if (!wanted || closed) {
                ctx.close();
                return;
            }
            ctx.writeAndFlush(new PeerMessage.Hello(config.name(), me.name(), nonce));
            long interval = config.net().pingInterval().toMillis();
            pinger = ctx.executor().scheduleAtFixedRate(() -> {
                if (mySession >= 0) {
                    ctx.writeAndFlush(new PeerMessage.Ping(ThreadLocalRandom.current().nextLong()));
                }
            }, interval, interval, TimeUnit.MILLISECONDS);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (mySession >= 0) {
                onSessionMessage(ctx, (PeerMessage) msg);
                return;
            }
            try {
                onHandshake(ctx, (PeerMessage) msg);
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        private void onHandshake(ChannelHandlerContext ctx, PeerMessage msg) {
            if (msg instanceof PeerMessage.Hello hello) {
                if (hello.protocolVersion() != PeerWire.PROTOCOL_VERSION) {
                    refuse(ctx, "peer speaks protocol version " + hello.protocolVersion() + ", this node "
                            + PeerWire.PROTOCOL_VERSION);
                } else if (!hello.resource().equals(config.name()) || !hello.node().equals(peer.name())) {
                    refuse(ctx, "connection from resource '" + hello.resource() + "' node '" + hello.node()
                            + "', expected resource '" + config.name() + "' node '" + peer.name() + "'");
                } else if (java.util.Arrays.equals(hello.nonce(), nonce)) {
                    refuse(ctx, "the peer's HELLO carries this node's own nonce (a reflected handshake)");
                } else {
                    ctx.writeAndFlush(new PeerMessage.Auth(PeerAuth.proof(secret, config.name(), me.name(), hello.nonce())));
                }
            } else if (msg instanceof PeerMessage.Auth auth) {
                byte[] expected = PeerAuth.proof(secret, config.name(), peer.name(), nonce);
                if (!PeerAuth.verify(expected, auth.hmac())) {
                    refuse(ctx, "peer " + peer.name() + " failed authentication (wrong shared secret?)");
                    return;
                }
                peerVerified = true;
                ctx.writeAndFlush(new PeerMessage.AuthOk());
                maybeSendState(ctx);
            } else if (msg instanceof PeerMessage.AuthOk) {
                weAccepted = true;
                maybeSendState(ctx);
            } else if (msg instanceof PeerMessage.State state && peerVerified && weAccepted) {
                establish(ctx, state);
            } else if (msg instanceof PeerMessage.Goodbye bye) {
                closeReason = "peer refused: " + bye.reason();
                LOG.warn("{}: peer {} refused the connection: {}", config.name(), peer.name(), bye.reason());
                lastFailure = closeReason;
                ctx.close();
            } else {
                refuse(ctx, "protocol error: " + msg.type() + " before authentication completed");
            }
        }

        private void maybeSendState(ChannelHandlerContext ctx) {
            if (peerVerified && weAccepted && !stateSent) {
                stateSent = true;
                ctx.writeAndFlush(handler.localState());
            }
        }

        private void establish(ChannelHandlerContext ctx, PeerMessage.State state) {
            Channel old;
            long s;
            synchronized (PeerLink.this) {
                if (!wanted || closed) {
                    ctx.close();
                    return;
                }
                old = active;
                s = sessions.incrementAndGet();
                mySession = s;
                active = ctx.channel();
                activeOut = new OutboundQueue(ctx.channel());
                session = s;
                lastFailure = "";
            }
            if (old != null && old != ctx.channel()) {
                old.close(); // the peer came back on a new connection: the old one is dead
            }
            LOG.info("{}: connected to {} ({} {}), session {}", config.name(), peer.name(), ctx.channel().remoteAddress(),
                    outgoing ? "outgoing" : "incoming", s);
            handler.connected(s, state);
        }

        private void onSessionMessage(ChannelHandlerContext ctx, PeerMessage msg) {
            if (msg instanceof PeerMessage.Ping ping) {
                ctx.writeAndFlush(new PeerMessage.PingAck(ping.nonce()));
            } else if (msg instanceof PeerMessage.PingAck) {
                return; // any traffic keeps the idle timer quiet
            } else if (msg instanceof PeerMessage.Goodbye bye) {
                closeReason = "peer said goodbye: " + bye.reason();
                if (bye.reason().startsWith(RECONNECT)) {
                    reconnectAtOnce = true;
                }
                ctx.close();
            } else {
                handler.received(mySession, msg);
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            if (mySession >= 0) {
                handler.readComplete(mySession);
            }
            ctx.fireChannelReadComplete();
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof IdleStateEvent) {
                closeReason = "nothing received from the peer for " + (config.net().pingInterval().toMillis()
                        + Math.max(config.net().pingTimeout().toMillis(), config.net().timeout().toMillis())) + " ms";
                LOG.warn("{}: {}; closing", config.name(), closeReason);
                ctx.close();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            closeReason = rootMessage(cause);
            LOG.warn("{}: link to {} failed: {}", config.name(), peer.name(), closeReason);
            ctx.close();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (pinger != null) {
                pinger.cancel(false);
            }
            boolean wasActive;
            synchronized (PeerLink.this) {
                wasActive = active == ctx.channel();
                if (wasActive) {
                    active = null;
                    session = -1;
                    if (activeOut != null) {
                        activeOut.discard();
                        activeOut = null;
                    }
                }
            }
            if (mySession >= 0 && wasActive) {
                LOG.warn("{}: connection to {} lost (session {}): {}", config.name(), peer.name(), mySession, closeReason);
                lastFailure = closeReason;
                handler.disconnected(mySession, closeReason);
            }
            if (outgoing) {
                boolean fast = reconnectAtOnce;
                reconnectAtOnce = false;
                connectSoon(fast ? 0 : config.net().connectInterval().toMillis());
            }
        }

        private void refuse(ChannelHandlerContext ctx, String why) {
            closeReason = why;
            lastFailure = why;
            LOG.warn("{}: refusing connection {}: {}", config.name(), ctx.channel().remoteAddress(), why);
            goodbye(ctx.channel(), why);
        }
    }

    private static void goodbye(Channel ch, String reason) {
        ch.writeAndFlush(PeerMessage.Goodbye.truncating(reason)).addListener(f -> ch.close());
    }

    // ------------------------------------------------------------------ PeerOutbound

    @Override
    public long session() {
        return session;
    }

    private Channel channelOf(long s) {
        Channel ch = active;
        return s >= 0 && s == session && ch != null ? ch : null;
    }

    private OutboundQueue outOf(long s) {
        OutboundQueue out = activeOut;
        return s >= 0 && s == session && out != null ? out : null;
    }

    @Override
    public boolean awaitWritable(long s) {
        Channel ch = channelOf(s);
        while (ch != null && ch.isActive() && !ch.isWritable()) {
            LockSupport.parkNanos(50_000);
            if (session != s) {
                return false;
            }
        }
        return ch != null && ch.isActive();
    }

    @Override
    public long pendingBytes(long s) {
        Channel ch = channelOf(s);
        io.netty.channel.ChannelOutboundBuffer out = ch == null ? null : ch.unsafe().outboundBuffer();
        return out == null ? 0 : out.totalPendingWriteBytes();
    }

    @Override
    public boolean writable(long s) {
        Channel ch = channelOf(s);
        return ch == null || ch.isWritable();
    }

    /** Sends one message of session {@code s} and pushes it out; dropped when the session is over. */
    public void send(long s, PeerMessage message) {
        OutboundQueue out = outOf(s);
        if (out == null) {
            ReferenceCountUtil.release(message);
            return;
        }
        out.send(message);
    }

    private void queue(long s, PeerMessage message) {
        OutboundQueue out = outOf(s);
        if (out == null) {
            ReferenceCountUtil.release(message);
            return;
        }
        out.queue(message);
    }

    @Override
    public void write(long s, long seq, long offset, ByteBuf data, int flags, boolean resync) {
        int wire = ((flags & OpType.FUA) != 0 ? PeerWire.DATA_FUA : 0) | (resync ? PeerWire.DATA_RESYNC : 0);
        queue(s, new PeerMessage.Data(seq, offset, wire, data));
    }

    @Override
    public void trim(long s, long seq, long offset, long length, int flags) {
        queue(s, new PeerMessage.Trim(seq, offset, length));
    }

    @Override
    public void zeroes(long s, long seq, long offset, long length, int flags, boolean resync) {
        int wire = ((flags & OpType.NO_HOLE) != 0 ? PeerWire.ZEROES_NO_HOLE : 0) | (resync ? PeerWire.ZEROES_MAY_TRIM : 0);
        queue(s, new PeerMessage.Zeroes(seq, offset, length, wire));
    }

    @Override
    public void flush(long s, long seq) {
        queue(s, new PeerMessage.Flush(seq));
    }

    @Override
    public void syncStart(long s, long totalBytes, boolean full, long syncGeneration) {
        queue(s, new PeerMessage.SyncStart(totalBytes, full, syncGeneration));
    }

    @Override
    public void syncDone(long s, long seq) {
        queue(s, new PeerMessage.SyncDone(seq));
    }

    @Override
    public void endOfBatch(long s) {
        OutboundQueue out = outOf(s);
        if (out != null) {
            out.flushSoon();
        }
    }

    /** Stops reading from the peer (the applier is behind) or resumes. */
    public void setReading(long s, boolean read) {
        Channel ch = channelOf(s);
        if (ch != null) {
            ch.config().setAutoRead(read);
        }
    }

    @Override
    public void close() {
        closed = true;
        disable();
        Channel l = listener;
        if (l != null) {
            l.close().syncUninterruptibly();
        }
        Channel ch = active;
        if (ch != null) {
            ch.close().syncUninterruptibly();
        }
    }

    static String rootMessage(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
    }
}
