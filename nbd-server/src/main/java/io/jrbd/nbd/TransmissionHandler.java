package io.jrbd.nbd;

import io.jrbd.protocol.nbd.NbdCommand;
import io.jrbd.protocol.nbd.NbdError;
import io.jrbd.protocol.nbd.NbdFlags;
import io.jrbd.protocol.nbd.NbdRequest;
import io.jrbd.protocol.nbd.Replies;
import io.jrbd.replicator.device.BlockDevice;
import io.jrbd.replicator.device.IoCallback;
import io.jrbd.replicator.device.IoError;
import io.jrbd.replicator.link.OutboundQueue;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The transmission phase of one connection: checks each request, hands it to the device and
 * writes its reply when the device completes it, in whatever order that happens. A request
 * that breaks a rule gets an error reply and the connection stays usable; only a broken frame
 * closes it (see {@link io.jrbd.protocol.nbd.RequestDecoder}).
 *
 * <p>Replies completed on device threads queue in an {@link OutboundQueue}; the event loop
 * writes each whole and flushes once per batch, so replies never interleave.
 */
final class TransmissionHandler extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(TransmissionHandler.class);
    private static final int MAX_LOGGED_REJECTIONS = 10;
    /** Extents per BLOCK_STATUS reply; the spec allows 2^20, clients ask again for the rest. */
    static final int MAX_EXTENTS = 1024;

    private final Export export;
    private final BlockDevice device;
    private final ServerLimits limits;
    private final Session session;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicLong inFlightBytes = new AtomicLong();
    private volatile boolean disconnecting;
    private Channel channel;
    /** Replies from device threads, written in batches by the event loop. */
    private OutboundQueue replies;

    TransmissionHandler(Export export, BlockDevice device, ServerLimits limits, Session session) {
        this.export = export;
        this.device = device;
        this.limits = limits;
        this.session = session;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        channel = ctx.channel();
        replies = new OutboundQueue(channel);
        export.clientStarted();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        export.clientEnded();
        replies.discard();
        ctx.fireChannelInactive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof NbdRequest request)) {
            ReferenceCountUtil.release(msg);
            throw new IllegalStateException("unexpected message " + msg);
        }
        try {
            if (!disconnecting) {
                session.requests++;
                handle(request);
            }
        } finally {
            request.release();
        }
    }

    private void handle(NbdRequest r) {
        int type = r.type();
        int allowed = allowedFlags(type);
        if (allowed < 0) {
            reject(r, NbdError.EINVAL, "unknown command " + type);
            return;
        }
        if ((r.flags() & ~allowed) != 0) {
            reject(r, NbdError.EINVAL, "flags 0x" + Integer.toHexString(r.flags() & ~allowed) + " are not valid for "
                    + NbdCommand.name(type));
            return;
        }
        boolean fua = r.hasFlag(NbdFlags.CMD_FUA);
        switch (type) {
            case NbdCommand.DISC -> onDisconnectRequest();
            case NbdCommand.READ -> {
                if (r.hasFlag(NbdFlags.CMD_DF) && !session.structuredReplies) {
                    reject(r, NbdError.EINVAL, "DF needs structured replies");
                } else if (r.length() > limits.maxPayload()) {
                    reject(r, NbdError.EINVAL, "read of " + r.length() + " bytes exceeds the maximum payload of "
                            + limits.maxPayload());
                } else if (checkRange(r, NbdError.EINVAL) && !completeEmpty(r)) {
                    device.read(r.offset(), (int) r.length(), start(r, r.length()));
                }
            }
            case NbdCommand.WRITE -> {
                if (checkWritable(r) && checkPayload(r) && checkRange(r, NbdError.ENOSPC) && !completeEmpty(r)) {
                    device.write(r.offset(), r.content().retain(), fua, start(r, r.length()));
                }
            }
            case NbdCommand.FLUSH -> device.flush(start(r, 0));
            case NbdCommand.TRIM -> {
                if (checkWritable(r) && checkRange(r, NbdError.EINVAL) && !completeEmpty(r)) {
                    device.trim(r.offset(), r.length(), fua, start(r, 0));
                }
            }
            case NbdCommand.WRITE_ZEROES -> {
                if (checkWritable(r) && checkRange(r, NbdError.ENOSPC) && !completeEmpty(r)) {
                    device.writeZeroes(r.offset(), r.length(), !r.hasFlag(NbdFlags.CMD_NO_HOLE),
                            r.hasFlag(NbdFlags.CMD_FAST_ZERO), fua, start(r, 0));
                }
            }
            case NbdCommand.CACHE -> {
                if (checkRange(r, NbdError.EINVAL) && !completeEmpty(r)) {
                    device.cache(r.offset(), r.length(), start(r, 0));
                }
            }
            case NbdCommand.BLOCK_STATUS -> {
                if (!session.blockStatusEnabled) {
                    reject(r, NbdError.EINVAL, "BLOCK_STATUS without a meta context (SET_META_CONTEXT base:allocation)");
                } else if (r.length() == 0) {
                    reject(r, NbdError.EINVAL, "BLOCK_STATUS of zero length");
                } else if (checkRange(r, NbdError.EINVAL)) {
                    int maxRuns = r.hasFlag(NbdFlags.CMD_REQ_ONE) ? 1 : MAX_EXTENTS;
                    device.describe(r.offset(), r.length(), maxRuns, start(r, 0));
                }
            }
            default -> throw new IllegalStateException("command " + type + " passed the flag check");
        }
    }

    /** The command flags each command accepts; FUA is accepted everywhere, as the spec asks. */
    private static int allowedFlags(int type) {
        return switch (type) {
            case NbdCommand.READ -> NbdFlags.CMD_FUA | NbdFlags.CMD_DF;
            case NbdCommand.WRITE, NbdCommand.FLUSH, NbdCommand.TRIM, NbdCommand.CACHE, NbdCommand.DISC -> NbdFlags.CMD_FUA;
            case NbdCommand.WRITE_ZEROES -> NbdFlags.CMD_FUA | NbdFlags.CMD_NO_HOLE | NbdFlags.CMD_FAST_ZERO;
            case NbdCommand.BLOCK_STATUS -> NbdFlags.CMD_FUA | NbdFlags.CMD_REQ_ONE;
            default -> -1;
        };
    }

    private boolean checkWritable(NbdRequest r) {
        if (device.readOnly()) {
            reject(r, NbdError.EPERM, "export '" + export.name() + "' is read-only");
            return false;
        }
        return true;
    }

    private boolean checkPayload(NbdRequest r) {
        if (r.payloadDropped()) {
            reject(r, NbdError.EINVAL, "write payload of " + r.length() + " bytes exceeds the maximum of "
                    + limits.maxPayload() + " (payload skipped)");
            return false;
        }
        return true;
    }

    /** Offsets and lengths are unsigned: a negative offset is one past 2^63, so past the end. */
    private boolean checkRange(NbdRequest r, int error) {
        long size = device.size();
        long offset = r.offset();
        long length = r.length();
        if (offset < 0 || offset > size || length > size - offset) {
            reject(r, error, "range " + Long.toUnsignedString(offset) + "+" + length + " is outside the export of "
                    + size + " bytes");
            return false;
        }
        return true;
    }

    /** Zero-length requests touch nothing: answer them at once. */
    private boolean completeEmpty(NbdRequest r) {
        if (r.length() != 0) {
            return false;
        }
        if (r.type() == NbdCommand.READ && session.structuredReplies) {
            channel.writeAndFlush(Replies.none(channel.alloc(), r.cookie()));
        } else {
            channel.writeAndFlush(Replies.simple(channel.alloc(), r.cookie(), NbdError.OK));
        }
        return true;
    }

    private void reject(NbdRequest r, int error, String why) {
        session.errors++;
        if (session.loggedErrors < MAX_LOGGED_REJECTIONS) {
            session.loggedErrors++;
            LOG.warn("{}: {} rejected with {}: {}{}", session.remote, r, NbdError.name(error), why,
                    session.loggedErrors == MAX_LOGGED_REJECTIONS ? " (further rejections are only counted)" : "");
        }
        if (r.type() == NbdCommand.READ && session.structuredReplies) {
            channel.writeAndFlush(Replies.errorChunk(channel.alloc(), r.cookie(), error, why));
        } else {
            channel.writeAndFlush(Replies.simple(channel.alloc(), r.cookie(), error));
        }
    }

    private Pending start(NbdRequest r, long cost) {
        int requests = inFlight.incrementAndGet();
        long bytes = inFlightBytes.addAndGet(cost);
        if (requests >= limits.maxInFlightRequests() || bytes >= limits.maxInFlightBytes()) {
            channel.config().setAutoRead(false);
        }
        return new Pending(r, cost);
    }

    private void finish(long cost) {
        int requests = inFlight.decrementAndGet();
        long bytes = inFlightBytes.addAndGet(-cost);
        if (disconnecting) {
            if (requests == 0) {
                closeAfterPendingWrites();
            }
        } else if (!channel.config().isAutoRead() && requests < limits.maxInFlightRequests() / 2
                && bytes < limits.maxInFlightBytes() / 2) {
            channel.config().setAutoRead(true);
        }
    }

    private void onDisconnectRequest() {
        // The spec: finish what is in flight, send no reply to DISC, close.
        disconnecting = true;
        channel.config().setAutoRead(false);
        if (inFlight.get() == 0) {
            closeAfterPendingWrites();
        }
    }

    /** Queued behind every reply already handed to the event loop, so none of them is cut off. */
    private void closeAfterPendingWrites() {
        channel.eventLoop().execute(() -> {
            replies.run();
            channel.close();
        });
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof IOException) {
            LOG.info("{}: connection lost: {}", session.remote, Causes.rootMessage(cause));
        } else {
            LOG.warn("{}: closing connection: {}", session.remote, Causes.rootMessage(cause));
        }
        ctx.close();
    }

    /** One request on its way through the device; completes it exactly once. */
    private final class Pending implements IoCallback {
        private final long cookie;
        private final int type;
        private final long offset;
        private final long length;
        private final boolean reqOne;
        private final long cost;

        Pending(NbdRequest r, long cost) {
            this.cookie = r.cookie();
            this.type = r.type();
            this.offset = r.offset();
            this.length = r.length();
            this.reqOne = r.hasFlag(NbdFlags.CMD_REQ_ONE);
            this.cost = cost;
        }

        @Override
        public void onDone() {
            send(Replies.simple(channel.alloc(), cookie, NbdError.OK));
        }

        @Override
        public void onData(ByteBuf data) {
            send(session.structuredReplies
                    ? Replies.offsetData(channel.alloc(), cookie, true, offset, data)
                    : Replies.simpleRead(channel.alloc(), cookie, data));
        }

        @Override
        public void onRuns(long[] runs, int count) {
            int[] extents = new int[count * 2];
            int n = 0;
            long covered = 0;
            for (int i = 0; i < count; i++) {
                long runLength = reqOne ? Math.min(runs[i * 2], length - covered) : runs[i * 2];
                int status = runs[i * 2 + 1] != 0 ? NbdFlags.STATE_HOLE | NbdFlags.STATE_ZERO : 0;
                if (runLength <= 0) {
                    break;
                }
                extents[n * 2] = (int) runLength; // within a u32 request length, so it fits unsigned
                extents[n * 2 + 1] = status;
                n++;
                covered += runLength;
            }
            send(Replies.blockStatus(channel.alloc(), cookie, true, Session.BASE_ALLOCATION_ID, extents, n));
        }

        @Override
        public void onFailure(IoError error, String detail) {
            int code = switch (error) {
                case EPERM -> NbdError.EPERM;
                case EIO -> NbdError.EIO;
                case EINVAL -> NbdError.EINVAL;
                case ENOSPC -> NbdError.ENOSPC;
                case ENOTSUP -> NbdError.ENOTSUP;
                case ESHUTDOWN -> NbdError.ESHUTDOWN;
            };
            if (error != IoError.ENOTSUP) {
                LOG.warn("{}: {} at {}+{} failed with {}: {}", session.remote, NbdCommand.name(type),
                        Long.toUnsignedString(offset), length, error, detail);
            }
            send(type == NbdCommand.READ && session.structuredReplies
                    ? Replies.errorChunk(channel.alloc(), cookie, code, detail)
                    : Replies.simple(channel.alloc(), cookie, code));
        }

        private void send(ByteBuf reply) {
            replies.send(reply);
            finish(cost);
        }
    }
}
