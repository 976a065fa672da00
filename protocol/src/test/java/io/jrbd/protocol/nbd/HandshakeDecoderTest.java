package io.jrbd.protocol.nbd;

import static io.jrbd.protocol.nbd.TestBytes.ascii;
import static io.jrbd.protocol.nbd.TestBytes.buf;
import static io.jrbd.protocol.nbd.TestBytes.concat;
import static io.jrbd.protocol.nbd.TestBytes.hex;
import static io.jrbd.protocol.nbd.TestBytes.hexBuf;
import static io.jrbd.protocol.nbd.TestBytes.int32;
import static io.jrbd.protocol.nbd.TestBytes.int64;
import static io.jrbd.protocol.nbd.TestBytes.pattern;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class HandshakeDecoderTest {
    private static final byte[] FLAGS_FIXED_NO_ZEROES = hex("00000003");

    private EmbeddedChannel channel = new EmbeddedChannel(new HandshakeDecoder());

    @AfterEach
    void releaseEverything() {
        assertFalse(channel.finishAndReleaseAll(), "a test left decoded messages unread");
    }

    /** IHAVEOPT | option | length | data. */
    private static byte[] option(int option, byte[] data) {
        return concat(int64(NbdMagic.IHAVEOPT), int32(option), int32(data.length), data);
    }

    private static byte[] optionHeader(int option, long claimedLength) {
        return concat(int64(NbdMagic.IHAVEOPT), int32(option), int32((int) claimedLength));
    }

    private record Option(int code, byte[] data) {
    }

    /** Reads the next message, which must be an option; copies it out and releases it. */
    private Option readOption() {
        Object msg = channel.readInbound();
        assertInstanceOf(OptionRequest.class, msg, "expected an option, got " + msg);
        OptionRequest request = (OptionRequest) msg;
        try {
            return new Option(request.option(), ByteBufUtil.getBytes(request.data()));
        } finally {
            request.release();
        }
    }

    private ClientFlags readFlags() {
        Object msg = channel.readInbound();
        assertInstanceOf(ClientFlags.class, msg, "expected client flags, got " + msg);
        return (ClientFlags) msg;
    }

    private void passClientFlags() {
        channel.writeInbound(buf(FLAGS_FIXED_NO_ZEROES));
        assertEquals(3, readFlags().bits());
    }

    @Test
    void shouldEmitClientFlagsFromFirstFourBytes() {
        channel.writeInbound(hexBuf("00000003"));

        ClientFlags flags = readFlags();
        assertEquals(3, flags.bits());
        assertTrue(flags.fixedNewstyle());
        assertTrue(flags.noZeroes());
        assertNull(channel.readInbound());
    }

    @Test
    void shouldPassUnknownClientFlagBitsThroughForTheServerToReject() {
        channel.writeInbound(hexBuf("80000005"));

        ClientFlags flags = readFlags();
        assertEquals(0x80000005, flags.bits());
        assertEquals(0x80000004, flags.unknownBits());
    }

    @Test
    void shouldWaitForAllFourBytesOfClientFlags() {
        byte[] flags = hex("00000001");
        for (int i = 0; i < 3; i++) {
            channel.writeInbound(Unpooled.wrappedBuffer(flags, i, 1));
            assertNull(channel.readInbound(), "client flags emitted after " + (i + 1) + " bytes");
        }
        channel.writeInbound(Unpooled.wrappedBuffer(flags, 3, 1));

        assertEquals(1, readFlags().bits());
    }

    @Test
    void shouldDecodeOptionWhoseBytesMatchTheSpecLayout() {
        passClientFlags();
        // IHAVEOPT, option 1 (EXPORT_NAME), length 4, "disk"
        channel.writeInbound(hexBuf("49484156454F5054 00000001 00000004 6469736b"));

        Option option = readOption();
        assertEquals(NbdOption.EXPORT_NAME, option.code());
        assertArrayEquals(ascii("disk"), option.data());
        assertNull(channel.readInbound());
    }

    @Test
    void shouldDecodeClientFlagsAndOptionsArrivingInOneBuffer() {
        byte[] goData = pattern(11);
        channel.writeInbound(buf(FLAGS_FIXED_NO_ZEROES,
                option(NbdOption.STRUCTURED_REPLY, new byte[0]),
                option(NbdOption.GO, goData),
                option(NbdOption.ABORT, new byte[0])));

        assertEquals(3, readFlags().bits());
        Option first = readOption();
        assertEquals(NbdOption.STRUCTURED_REPLY, first.code());
        assertEquals(0, first.data().length);
        Option second = readOption();
        assertEquals(NbdOption.GO, second.code());
        assertArrayEquals(goData, second.data());
        Option third = readOption();
        assertEquals(NbdOption.ABORT, third.code());
        assertEquals(0, third.data().length);
        assertNull(channel.readInbound());
    }

    @Test
    void shouldDecodeFlagsAndOptionFedOneByteAtATime() {
        byte[] data = pattern(9);
        byte[] stream = concat(FLAGS_FIXED_NO_ZEROES, option(NbdOption.INFO, data));
        List<Object> seen = new ArrayList<>();
        for (int i = 0; i < stream.length; i++) {
            channel.writeInbound(Unpooled.wrappedBuffer(stream, i, 1));
            Object msg;
            while ((msg = channel.readInbound()) != null) {
                if (msg instanceof OptionRequest request) {
                    try {
                        assertEquals(stream.length - 1, i, "option emitted before its last byte");
                        assertEquals(NbdOption.INFO, request.option());
                        assertArrayEquals(data, ByteBufUtil.getBytes(request.data()));
                    } finally {
                        request.release();
                    }
                } else {
                    assertEquals(3, i, "client flags emitted at the wrong byte");
                }
                seen.add(msg);
            }
        }
        assertEquals(2, seen.size());
        assertInstanceOf(ClientFlags.class, seen.get(0));
    }

    @Test
    void shouldEmitNothingUntilAHeaderIsComplete() {
        passClientFlags();
        byte[] frame = option(NbdOption.LIST, new byte[0]);
        channel.writeInbound(Unpooled.wrappedBuffer(frame, 0, 15));
        assertNull(channel.readInbound());

        channel.writeInbound(Unpooled.wrappedBuffer(frame, 15, 1));
        Option option = readOption();
        assertEquals(NbdOption.LIST, option.code());
        assertEquals(0, option.data().length);
    }

    @Test
    void shouldKeepATruncatedPayloadUntilTheRestArrives() {
        passClientFlags();
        byte[] data = pattern(100);
        byte[] frame = option(NbdOption.SET_META_CONTEXT, data);
        channel.writeInbound(Unpooled.wrappedBuffer(frame, 0, 16 + 99));
        assertNull(channel.readInbound(), "an option was emitted one byte short of its payload");

        // The last payload byte arrives together with the next option: both decode, in order.
        channel.writeInbound(buf(new byte[] {frame[frame.length - 1]}, option(NbdOption.ABORT, new byte[0])));
        Option first = readOption();
        assertEquals(NbdOption.SET_META_CONTEXT, first.code());
        assertArrayEquals(data, first.data());
        assertEquals(NbdOption.ABORT, readOption().code());
        assertNull(channel.readInbound());
    }

    @Test
    void shouldKeepOptionCodeBitsVerbatim() {
        passClientFlags();
        channel.writeInbound(buf(option(0xFFFFFFFF, new byte[] {42})));

        Option option = readOption();
        assertEquals(0xFFFFFFFF, option.code());
        assertArrayEquals(new byte[] {42}, option.data());
    }

    @Test
    void shouldRejectOptionWhenMagicIsWrong() {
        passClientFlags();
        // NBDMAGIC where IHAVEOPT belongs, followed by more garbage.
        byte[] garbage = concat(hex("4e42444d41474943 00000001 00000000"), pattern(40));

        CorruptedFrameException e = assertThrows(CorruptedFrameException.class,
                () -> channel.writeInbound(buf(garbage)));

        assertTrue(e.getMessage().contains("4e42444d41474943"), e.getMessage());
        assertTrue(channel.isOpen(), "the decoder must leave closing to the server");
        assertNull(channel.readInbound());
    }

    @Test
    void shouldRejectOptionWhenOneMagicBitIsFlipped() {
        passClientFlags();
        byte[] frame = option(NbdOption.GO, new byte[0]);
        frame[7] ^= 1;

        assertThrows(CorruptedFrameException.class, () -> channel.writeInbound(buf(frame)));
        assertNull(channel.readInbound());
    }

    @Test
    void shouldDiscardTheCorruptBytesSoTheyAreNotDecodedAgain() {
        passClientFlags();
        assertThrows(CorruptedFrameException.class, () -> channel.writeInbound(buf(pattern(16), pattern(50))));

        // Nothing of the garbage is left in the decoder: a valid option now decodes on its own.
        channel.writeInbound(buf(option(NbdOption.ABORT, new byte[0])));
        assertEquals(NbdOption.ABORT, readOption().code());
        assertNull(channel.readInbound());
    }

    @Test
    void shouldAcceptOptionOfExactlyTheMaximumLength() {
        passClientFlags();
        byte[] data = pattern(HandshakeDecoder.MAX_OPTION_LENGTH);
        channel.writeInbound(buf(optionHeader(NbdOption.GO, data.length)));
        assertNull(channel.readInbound());

        // The payload streams in across several buffers.
        int chunk = 10_000;
        for (int at = 0; at < data.length; at += chunk) {
            assertNull(channel.readInbound(), "option emitted after " + at + " payload bytes");
            channel.writeInbound(Unpooled.wrappedBuffer(data, at, Math.min(chunk, data.length - at)));
        }
        Option option = readOption();
        assertEquals(NbdOption.GO, option.code());
        assertArrayEquals(data, option.data());
    }

    @Test
    void shouldRejectOptionOneByteOverTheLimitAsSoonAsItsHeaderArrives() {
        passClientFlags();
        long claimed = HandshakeDecoder.MAX_OPTION_LENGTH + 1L;

        // Only the header is sent: the decoder must not wait for (or buffer) the claimed payload.
        TooLongFrameException e = assertThrows(TooLongFrameException.class,
                () -> channel.writeInbound(buf(optionHeader(NbdOption.SET_META_CONTEXT, claimed))));

        assertTrue(e.getMessage().contains(Long.toString(claimed)), e.getMessage());
        assertTrue(e.getMessage().contains("SET_META_CONTEXT"), e.getMessage());
        assertTrue(channel.isOpen());
        assertNull(channel.readInbound());
    }

    @Test
    void shouldReadOptionLengthAsUnsigned() {
        passClientFlags();
        // 0xFFFFFFFF and 0x80000000 are negative as Java ints; both are far over the limit.
        TooLongFrameException max = assertThrows(TooLongFrameException.class,
                () -> channel.writeInbound(buf(optionHeader(NbdOption.GO, 0xFFFFFFFFL))));
        assertTrue(max.getMessage().contains("4294967295"), max.getMessage());

        TooLongFrameException half = assertThrows(TooLongFrameException.class,
                () -> channel.writeInbound(buf(optionHeader(NbdOption.GO, 0x80000000L))));
        assertTrue(half.getMessage().contains("2147483648"), half.getMessage());
        assertNull(channel.readInbound());
    }

    @Test
    void shouldRejectOverlongOptionArrivingWithPartOfItsPayload() {
        passClientFlags();
        DecoderException e = assertThrows(DecoderException.class,
                () -> channel.writeInbound(buf(optionHeader(NbdOption.INFO, 1L << 20), pattern(1000))));

        assertInstanceOf(TooLongFrameException.class, e);
        // The header and the bytes after it were skipped: the next option decodes cleanly.
        channel.writeInbound(buf(option(NbdOption.ABORT, new byte[0])));
        assertEquals(NbdOption.ABORT, readOption().code());
    }

    @Test
    void shouldEmitRetainedSliceThatOutlivesTheInputBuffer() {
        passClientFlags();
        byte[] data = pattern(20);
        channel.writeInbound(buf(option(NbdOption.INFO, data)));

        OptionRequest request = channel.readInbound();
        try {
            assertEquals(1, request.refCnt());
            // Reading the data does not move anything in the decoder's buffer and vice versa.
            assertEquals(20, request.data().readableBytes());
            assertArrayEquals(data, ByteBufUtil.getBytes(request.data()));
        } finally {
            request.release();
        }
        assertEquals(0, request.refCnt());
    }

    @Test
    void shouldHandOverBytesAfterGoToTheRequestDecoder() {
        channel.finishAndReleaseAll();
        List<Object> received = new ArrayList<>();
        channel = new EmbeddedChannel(new HandshakeDecoder(), new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                if (msg instanceof OptionRequest o) {
                    received.add(new Option(o.option(), ByteBufUtil.getBytes(o.data())));
                    boolean go = o.option() == NbdOption.GO;
                    ReferenceCountUtil.release(msg);
                    if (go) {
                        ctx.pipeline().replace(HandshakeDecoder.class, "request-decoder", new RequestDecoder(4096));
                    }
                } else if (msg instanceof NbdRequest r) {
                    received.add(r.toString());
                    r.release();
                } else {
                    received.add(msg);
                }
            }
        });
        byte[] read = concat(int32(NbdMagic.REQUEST), hex("0000 0000"), int64(7), int64(512), int32(4096));
        byte[] writeHeader = concat(int32(NbdMagic.REQUEST), hex("0000 0001"), int64(8), int64(0), int32(3));
        // Flags, GO, a READ and the header of a WRITE all arrive in one segment.
        channel.writeInbound(buf(FLAGS_FIXED_NO_ZEROES, option(NbdOption.GO, pattern(6)), read, writeHeader));
        channel.writeInbound(buf(hex("aabbcc")));

        assertEquals(4, received.size(), received.toString());
        assertEquals(new ClientFlags(3), received.get(0));
        assertEquals(NbdOption.GO, ((Option) received.get(1)).code());
        assertEquals("READ cookie=7 offset=512 length=4096 flags=0x0", received.get(2));
        assertEquals("WRITE cookie=8 offset=0 length=3 flags=0x0", received.get(3));
    }
}
