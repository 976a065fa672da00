package io.jrbd.nbd.wan;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One proxied connection: the accepted client channel, the channel to the target (on the same event loop) and
 * the two {@link DelayLine}s between them. Everything but {@link #abort()}'s submission runs on that event loop.
 */
final class Relay {
    private static final Logger LOG = LoggerFactory.getLogger(Relay.class);
    private static final int CONNECT_TIMEOUT_MILLIS = 10_000;

    private final WanProxy proxy;
    private final Channel client;
    private Channel target;
    private DelayLine up;
    private DelayLine down;
    private boolean aborted;
    private int closedLegs;

    Relay(WanProxy proxy, Channel client) {
        this.proxy = proxy;
        this.client = client;
    }

    /** Connects to the target; the client is read only once that succeeds (it starts with auto-read off). */
    void start() {
        client.pipeline().addLast("wan-client-leg", new Leg(true));
        client.closeFuture().addListener(f -> onLegClosed());
        Bootstrap bootstrap = new Bootstrap()
                .group(client.eventLoop())
                .channel(proxy.socketChannelType())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.ALLOCATOR, proxy.allocator())
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, WanProxy.WATER_MARK)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, CONNECT_TIMEOUT_MILLIS)
                .handler(new Leg(false));
        ChannelFuture connect = bootstrap.connect(proxy.targetHost(), proxy.targetPort());
        target = connect.channel();
        target.closeFuture().addListener(f -> onLegClosed());
        up = new DelayLine(proxy, client, target, proxy.forwardedCounter(Direction.CLIENT_TO_TARGET));
        down = new DelayLine(proxy, target, client, proxy.forwardedCounter(Direction.TARGET_TO_CLIENT));
        connect.addListener(f -> {
            if (!f.isSuccess()) {
                LOG.warn("{}: cannot connect to {}:{}: {}", client.remoteAddress(), proxy.targetHost(),
                        proxy.targetPort(), f.cause().toString());
                client.close();
            } else if (aborted || !client.isActive()) {
                target.close();
            } else {
                LOG.debug("{}: connected to {}", client.remoteAddress(), target.remoteAddress());
                client.config().setAutoRead(true);
            }
        });
    }

    /** Cut: drops what is queued both ways and resets both connections at once. */
    void abort() {
        aborted = true;
        if (up != null) {
            up.discard();
            down.discard();
        }
        reset(client);
        if (target != null) {
            reset(target);
        }
    }

    private static void reset(Channel ch) {
        if (ch.isOpen()) {
            // Linger 0: the peer gets an RST, and nothing still in the socket's send buffer reaches it.
            ch.config().setOption(ChannelOption.SO_LINGER, 0);
            ch.close();
        }
    }

    private void onLegClosed() {
        if (++closedLegs == 2) {
            proxy.removed(this);
        }
    }

    Channel client() {
        return client;
    }

    /** The pipeline handler of either leg; it feeds the line leaving from its channel. */
    private final class Leg extends ChannelInboundHandlerAdapter {
        private final boolean clientSide;

        Leg(boolean clientSide) {
            this.clientSide = clientSide;
        }

        private DelayLine outgoing() {
            return clientSide ? up : down;
        }

        private DelayLine incoming() {
            return clientSide ? down : up;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            DelayLine line = outgoing();
            if (msg instanceof ByteBuf buf && line != null) {
                line.offer(buf);
            } else {
                io.netty.util.ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (up != null) {
                outgoing().onSourceClosed();
                incoming().discard();
            }
            ctx.fireChannelInactive();
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (up != null) {
                incoming().updateReading();
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            LOG.debug("{} leg {}: {}", clientSide ? "client" : "target", ctx.channel().remoteAddress(), cause.toString());
            ctx.close();
        }
    }
}
