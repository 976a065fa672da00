package io.jrbd.nbd;

import io.jrbd.protocol.nbd.ClientFlags;
import io.jrbd.protocol.nbd.HandshakeDecoder;
import io.jrbd.protocol.nbd.MalformedOptionException;
import io.jrbd.protocol.nbd.NbdOption;
import io.jrbd.protocol.nbd.NbdOptionReply;
import io.jrbd.protocol.nbd.OptionPayloads;
import io.jrbd.protocol.nbd.OptionPayloads.InfoRequest;
import io.jrbd.protocol.nbd.OptionPayloads.MetaContextRequest;
import io.jrbd.protocol.nbd.OptionReplies;
import io.jrbd.protocol.nbd.OptionRequest;
import io.jrbd.protocol.nbd.RequestDecoder;
import io.jrbd.replicator.device.BlockDevice;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Option haggling, fixed newstyle. Every option gets exactly one final reply after its whole
 * payload was consumed, so the stream never loses sync; only a broken frame (wrong magic,
 * oversize option, unknown client flags) or an EXPORT_NAME for a missing export closes the
 * connection, as the spec demands. GO and EXPORT_NAME hand the connection to
 * {@link TransmissionHandler}.
 */
final class HandshakeHandler extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(HandshakeHandler.class);

    private final Exports exports;
    private final ServerLimits limits;
    private final Session session;
    private boolean flagsSeen;

    HandshakeHandler(Exports exports, ServerLimits limits, Session session) {
        this.exports = exports;
        this.limits = limits;
        this.session = session;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        ctx.writeAndFlush(OptionReplies.greeting(ctx.alloc()));
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (msg instanceof ClientFlags flags) {
                onClientFlags(ctx, flags);
            } else if (msg instanceof OptionRequest option) {
                onOption(ctx, option);
            } else {
                throw new IllegalStateException("unexpected message " + msg);
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private void onClientFlags(ChannelHandlerContext ctx, ClientFlags flags) {
        if (flags.unknownBits() != 0) {
            closeForViolation(ctx, "unknown client flags 0x" + Integer.toHexString(flags.unknownBits()));
            return;
        }
        flagsSeen = true;
        session.noZeroes = flags.noZeroes();
    }

    private void onOption(ChannelHandlerContext ctx, OptionRequest request) {
        if (!flagsSeen) {
            return; // closing already
        }
        int option = request.option();
        ByteBuf data = request.data();
        ByteBufAllocator alloc = ctx.alloc();
        try {
            switch (option) {
                case NbdOption.EXPORT_NAME -> onExportName(ctx, data);
                case NbdOption.ABORT -> ctx.writeAndFlush(OptionReplies.ack(alloc, option)).addListener(ChannelFutureListener.CLOSE);
                case NbdOption.LIST -> onList(ctx, data);
                case NbdOption.INFO, NbdOption.GO -> onInfoOrGo(ctx, option, OptionPayloads.parseInfo(data));
                case NbdOption.STRUCTURED_REPLY -> onStructuredReply(ctx, data);
                case NbdOption.LIST_META_CONTEXT, NbdOption.SET_META_CONTEXT ->
                        onMetaContext(ctx, option, OptionPayloads.parseMetaContext(data));
                case NbdOption.STARTTLS -> reply(ctx, OptionReplies.error(alloc, option, NbdOptionReply.ERR_UNSUP,
                        "TLS is not configured on this server"));
                default -> reply(ctx, OptionReplies.error(alloc, option, NbdOptionReply.ERR_UNSUP,
                        NbdOption.name(option) + " is not supported"));
            }
        } catch (MalformedOptionException e) {
            LOG.info("{}: malformed {}: {}", session.remote, NbdOption.name(option), e.getMessage());
            reply(ctx, OptionReplies.error(alloc, option, NbdOptionReply.ERR_INVALID, e.getMessage()));
        }
    }

    private void onExportName(ChannelHandlerContext ctx, ByteBuf data) {
        String name = data.toString(StandardCharsets.UTF_8);
        Optional<Export> export = exports.resolve(name);
        if (export.isEmpty()) {
            // EXPORT_NAME has no error reply: the spec's only answer is to hang up.
            closeForViolation(ctx, "EXPORT_NAME for unknown export '" + name + "'");
            return;
        }
        Export e = export.get();
        BlockDevice device = e.device();
        if (device == null) {
            closeForViolation(ctx, "EXPORT_NAME for '" + e.name() + "', which is unavailable: " + e.unavailableReason());
            return;
        }
        ctx.writeAndFlush(OptionReplies.exportName(ctx.alloc(), device.size(), session.transmissionFlags(device), session.noZeroes));
        startTransmission(ctx, e, device);
    }

    private void onList(ChannelHandlerContext ctx, ByteBuf data) {
        if (data.isReadable()) {
            reply(ctx, OptionReplies.error(ctx.alloc(), NbdOption.LIST, NbdOptionReply.ERR_INVALID, "LIST takes no data"));
            return;
        }
        for (Export e : exports.all()) {
            String description = e.device() == null ? "unavailable: " + e.unavailableReason() : e.description();
            ctx.write(OptionReplies.server(ctx.alloc(), NbdOption.LIST, e.name(), description));
        }
        reply(ctx, OptionReplies.ack(ctx.alloc(), NbdOption.LIST));
    }

    private void onInfoOrGo(ChannelHandlerContext ctx, int option, InfoRequest request) {
        Optional<Export> export = exports.resolve(request.exportName());
        if (export.isEmpty()) {
            reply(ctx, OptionReplies.error(ctx.alloc(), option, NbdOptionReply.ERR_UNKNOWN,
                    "no export named '" + request.exportName() + "'"));
            return;
        }
        Export e = export.get();
        BlockDevice device = e.device();
        if (device == null) {
            LOG.info("{}: {} for '{}' refused: {}", session.remote, NbdOption.name(option), e.name(), e.unavailableReason());
            reply(ctx, OptionReplies.error(ctx.alloc(), option, NbdOptionReply.ERR_POLICY, e.unavailableReason()));
            return;
        }
        ByteBufAllocator alloc = ctx.alloc();
        ctx.write(OptionReplies.infoExport(alloc, option, device.size(), session.transmissionFlags(device)));
        if (request.asks(NbdOption.INFO_NAME)) {
            ctx.write(OptionReplies.infoText(alloc, option, NbdOption.INFO_NAME, e.name()));
        }
        if (request.asks(NbdOption.INFO_DESCRIPTION) && !e.description().isEmpty()) {
            ctx.write(OptionReplies.infoText(alloc, option, NbdOption.INFO_DESCRIPTION, e.description()));
        }
        // Sent unasked too: it tells every client the 32 MiB payload limit we enforce.
        ctx.write(OptionReplies.infoBlockSize(alloc, option, limits.minimumBlock(), limits.preferredBlock(), limits.maxPayload()));
        reply(ctx, OptionReplies.ack(alloc, option));
        if (option == NbdOption.GO) {
            startTransmission(ctx, e, device);
        }
    }

    private void onStructuredReply(ChannelHandlerContext ctx, ByteBuf data) {
        int option = NbdOption.STRUCTURED_REPLY;
        if (data.isReadable()) {
            reply(ctx, OptionReplies.error(ctx.alloc(), option, NbdOptionReply.ERR_INVALID, "STRUCTURED_REPLY takes no data"));
        } else if (session.structuredReplies) {
            reply(ctx, OptionReplies.error(ctx.alloc(), option, NbdOptionReply.ERR_INVALID, "structured replies are already on"));
        } else {
            session.structuredReplies = true;
            reply(ctx, OptionReplies.ack(ctx.alloc(), option));
        }
    }

    private void onMetaContext(ChannelHandlerContext ctx, int option, MetaContextRequest request) {
        ByteBufAllocator alloc = ctx.alloc();
        boolean set = option == NbdOption.SET_META_CONTEXT;
        if (set && !session.structuredReplies) {
            reply(ctx, OptionReplies.error(alloc, option, NbdOptionReply.ERR_INVALID,
                    "SET_META_CONTEXT needs STRUCTURED_REPLY first"));
            return;
        }
        Optional<Export> export = exports.resolve(request.exportName());
        if (export.isEmpty()) {
            reply(ctx, OptionReplies.error(alloc, option, NbdOptionReply.ERR_UNKNOWN,
                    "no export named '" + request.exportName() + "'"));
            return;
        }
        boolean match = request.queries().isEmpty() ? !set : request.queries().stream()
                .anyMatch(q -> q.equals(Session.BASE_ALLOCATION) || (!set && q.equals("base:")));
        if (set) {
            // SET replaces whatever an earlier SET chose, even with nothing.
            session.metaContextExport = match ? export.get() : null;
        }
        if (match) {
            ctx.write(OptionReplies.metaContext(alloc, option, Session.BASE_ALLOCATION_ID, Session.BASE_ALLOCATION));
        }
        reply(ctx, OptionReplies.ack(alloc, option));
    }

    private void startTransmission(ChannelHandlerContext ctx, Export export, BlockDevice device) {
        session.export = export;
        session.blockStatusEnabled = session.metaContextExport == export;
        LOG.info("{}: using export '{}' ({} bytes{}{})", session.remote, export.name(), device.size(),
                session.structuredReplies ? ", structured replies" : "",
                session.blockStatusEnabled ? ", base:allocation" : "");
        // Handler first: bytes the old decoder still holds pass to the new decoder as it is
        // swapped in, and the requests they carry must already find the new handler.
        ctx.pipeline().replace(this, "transmission", new TransmissionHandler(export, device, limits, session));
        ctx.pipeline().replace(HandshakeDecoder.class, "request-decoder", new RequestDecoder(limits.maxPayload()));
    }

    private static void reply(ChannelHandlerContext ctx, ByteBuf message) {
        ctx.writeAndFlush(message);
    }

    private void closeForViolation(ChannelHandlerContext ctx, String why) {
        LOG.warn("{}: closing connection: {}", session.remote, why);
        ctx.flush();
        ctx.close();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.warn("{}: closing connection during handshake: {}", session.remote, Causes.rootMessage(cause));
        ctx.close();
    }
}
