package io.jrbd.nbd;

import io.jrbd.protocol.nbd.HandshakeDecoder;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Listens for NBD clients and gives each connection its own handshake and transmission handlers. */
public final class NbdServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NbdServer.class);

    private final Exports exports;
    private final ServerLimits limits;
    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final Class<? extends ServerChannel> channelType;
    private final ChannelGroup clients = new DefaultChannelGroup("nbd-clients", GlobalEventExecutor.INSTANCE);
    private Channel listener;

    public NbdServer(Exports exports, ServerLimits limits, int eventLoopThreads) {
        this.exports = exports;
        this.limits = limits;
        if (Epoll.isAvailable()) {
            boss = new EpollEventLoopGroup(1);
            workers = new EpollEventLoopGroup(eventLoopThreads);
            channelType = EpollServerSocketChannel.class;
        } else {
            boss = new NioEventLoopGroup(1);
            workers = new NioEventLoopGroup(eventLoopThreads);
            channelType = NioServerSocketChannel.class;
        }
    }

    /** Binds and starts accepting; port 0 picks a free port, see {@link #address()}. */
    public NbdServer start(String host, int port) throws InterruptedException {
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(boss, workers)
                .channel(channelType)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        Session session = new Session(ch.remoteAddress());
                        clients.add(ch);
                        ch.pipeline().addLast("connection-log", new ConnectionLog(session));
                        ch.pipeline().addLast("handshake-decoder", new HandshakeDecoder());
                        ch.pipeline().addLast("handshake", new HandshakeHandler(exports, limits, session));
                    }
                });
        listener = bootstrap.bind(new InetSocketAddress(host, port)).sync().channel();
        return this;
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) listener.localAddress();
    }

    /** Stops accepting, closes every client connection and the event loops. */
    @Override
    public void close() {
        if (listener != null) {
            listener.close().syncUninterruptibly();
        }
        clients.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        boss.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** One line when a client comes, one when it goes, with what it did. */
    private static final class ConnectionLog extends ChannelInboundHandlerAdapter {
        private final Session session;

        ConnectionLog(Session session) {
            this.session = session;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            LOG.info("{}: client connected", session.remote);
            ctx.fireChannelActive();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            LOG.info("{}: client disconnected after {} requests ({} rejected)", session.remote, session.requests,
                    session.errors);
            ctx.fireChannelInactive();
        }
    }
}
