package io.jrbd.protocol.nbd;

import static io.jrbd.protocol.nbd.TestBytes.buf;
import static io.jrbd.protocol.nbd.TestBytes.concat;
import static io.jrbd.protocol.nbd.TestBytes.hex;
import static io.jrbd.protocol.nbd.TestBytes.hexBuf;
import static io.jrbd.protocol.nbd.TestBytes.int16;
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
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.CorruptedFrameException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class RequestDecoderTest {
    private static final int MAX_PAYLOAD = 4096;

    private final EmbeddedChannel channel = new EmbeddedChannel(new RequestDecoder(MAX_PAYLOAD));

    @AfterEach
    void releaseEverything() {
        assertFalse(channel.finishAndReleaseAll(), "a test left decoded requests unread");
    }

    /** magic | flags 2 | type 2 | cookie 8 | offset 8 | length 4. */
    private static byte[] header(int flags, int type, long cookie, long offset, long length) {
        return concat(int32(NbdMagic.REQUEST), int16(flags), int16(type), int64(cookie), int64(offset), int32((int) length));
    }

    private static byte[] request(int type, long cookie, long offset, long length) {
        return header(0, type, cookie, offset, length);
    }

    private static byte[] write(long cookie, long offset, byte[] payload) {
        return concat(header(0, NbdCommand.WRITE, cookie, offset, payload.length), payload);
    }

    private record Decoded(int flags, int type, long cookie, long offset, long length, byte[] payload, boolean dropped) {
    }

    /** Reads the next request, copies it out and releases it. */
    private Decoded next() {
        Object msg = channel.readInbound();
        assertInstanceOf(NbdRequest.class, msg, "expected a request, got " + msg);
        NbdRequest r = (NbdRequest) msg;
        try {
            return new Decoded(r.flags(), r.type(), r.cookie(), r.offset(), r.length(),
                    ByteBufUtil.getBytes(r.content()), r.payloadDropped());
        } finally {
            r.release();
        }
    }

    @Test
    void shouldDecodeReadWhoseBytesMatchTheSpecLayout() {
        // magic, flags FUA, type READ, cookie, offset 0x1000, length 0x200
        channel.writeInbound(hexBuf("25609513 0001 0000 0102030405060708 0000000000001000 00000200"));

        Decoded r = next();
        assertEquals(NbdFlags.CMD_FUA, r.flags());
        assertEquals(NbdCommand.READ, r.type());
        assertEquals(0x0102030405060708L, r.cookie());
        assertEquals(0x1000, r.offset());
        assertEquals(0x200, r.length());
        assertEquals(0, r.payload().length);
        assertFalse(r.dropped());
        assertNull(channel.readInbound());
    }

    @Test
    void shouldDecodeWriteWithItsPayload() {
        byte[] payload = pattern(512);
        channel.writeInbound(buf(write(99, 4096, payload)));

        Decoded r = next();
        assertEquals(NbdCommand.WRITE, r.type());
        assertEquals(99, r.cookie());
        assertEquals(4096, r.offset());
        assertEquals(512, r.length());
        assertArrayEquals(payload, r.payload());
        assertFalse(r.dropped());
    }

    @Test
    void shouldNotExpectPayloadForCommandsOtherThanWrite() {
        // WRITE_ZEROES and TRIM carry a length but no data: the next header follows directly.
        channel.writeInbound(buf(
                header(NbdFlags.CMD_NO_HOLE, NbdCommand.WRITE_ZEROES, 1, 0, 1 << 20),
                request(NbdCommand.TRIM, 2, 0, 65536),
                request(NbdCommand.BLOCK_STATUS, 3, 0, 1 << 30)));

        Decoded zeroes = next();
        assertEquals(NbdCommand.WRITE_ZEROES, zeroes.type());
        assertEquals(NbdFlags.CMD_NO_HOLE, zeroes.flags());
        assertEquals(1 << 20, zeroes.length());
        assertEquals(0, zeroes.payload().length);
        assertEquals(NbdCommand.TRIM, next().type());
        assertEquals(NbdCommand.BLOCK_STATUS, next().type());
        assertNull(channel.readInbound());
    }

    @Test
    void shouldDecodeSeveralRequestsInOneBuffer() {
        byte[] payload = pattern(100);
        channel.writeInbound(buf(
                request(NbdCommand.READ, 1, 0, 512),
                write(2, 512, payload),
                request(NbdCommand.FLUSH, 3, 0, 0),
                request(NbdCommand.DISC, 4, 0, 0)));

        Decoded read = next();
        assertEquals(NbdCommand.READ, read.type());
        assertEquals(1, read.cookie());
        Decoded write = next();
        assertEquals(NbdCommand.WRITE, write.type());
        assertEquals(2, write.cookie());
        assertArrayEquals(payload, write.payload());
        assertEquals(NbdCommand.FLUSH, next().type());
        Decoded disc = next();
        assertEquals(NbdCommand.DISC, disc.type());
        assertEquals(4, disc.cookie());
        assertNull(channel.readInbound());
    }

    @Test
    void shouldDecodeRequestsFedOneByteAtATime() {
        byte[] payload = pattern(33);
        byte[] stream = concat(write(5, 1024, payload), request(NbdCommand.READ, 6, 2048, 16));
        int writeEnd = RequestDecoder.HEADER_LENGTH + payload.length;
        for (int i = 0; i < stream.length; i++) {
            channel.writeInbound(Unpooled.wrappedBuffer(stream, i, 1));
            if (i == writeEnd - 1) {
                Decoded write = next();
                assertEquals(5, write.cookie());
                assertArrayEquals(payload, write.payload());
            } else if (i == stream.length - 1) {
                Decoded read = next();
                assertEquals(6, read.cookie());
                assertEquals(2048, read.offset());
            }
            assertNull(channel.readInbound(), "unexpected request after byte " + i);
        }
    }

    @Test
    void shouldEmitNothingForATruncatedHeader() {
        byte[] frame = request(NbdCommand.READ, 77, 0, 4096);
        channel.writeInbound(Unpooled.wrappedBuffer(frame, 0, 27));
        assertNull(channel.readInbound());

        channel.writeInbound(Unpooled.wrappedBuffer(frame, 27, 1));
        Decoded r = next();
        assertEquals(77, r.cookie());
        assertEquals(4096, r.length());
    }

    @Test
    void shouldHoldAWriteUntilItsWholePayloadArrives() {
        byte[] payload = pattern(1000);
        byte[] frame = write(8, 0, payload);
        channel.writeInbound(Unpooled.wrappedBuffer(frame, 0, RequestDecoder.HEADER_LENGTH));
        assertNull(channel.readInbound(), "WRITE emitted before its payload");
        channel.writeInbound(Unpooled.wrappedBuffer(frame, RequestDecoder.HEADER_LENGTH, 999));
        assertNull(channel.readInbound(), "WRITE emitted one byte short of its payload");

        // The header was not consumed early: once the last byte comes, the whole WRITE decodes.
        channel.writeInbound(buf(new byte[] {frame[frame.length - 1]}, request(NbdCommand.FLUSH, 9, 0, 0)));
        Decoded write = next();
        assertEquals(8, write.cookie());
        assertArrayEquals(payload, write.payload());
        assertEquals(NbdCommand.FLUSH, next().type());
    }

    @Test
    void shouldAcceptWritePayloadOfExactlyTheMaximum() {
        byte[] payload = pattern(MAX_PAYLOAD);
        channel.writeInbound(buf(write(10, 0, payload)));

        Decoded r = next();
        assertFalse(r.dropped());
        assertEquals(MAX_PAYLOAD, r.length());
        assertArrayEquals(payload, r.payload());
    }

    @Test
    void shouldDropWritePayloadOneByteOverTheMaximumAndStayInSync() {
        int length = MAX_PAYLOAD + 1;
        byte[] payload = pattern(length);

        // The WRITE is emitted as soon as its header is in, before any of the payload.
        channel.writeInbound(buf(header(NbdFlags.CMD_FUA, NbdCommand.WRITE, 11, 8192, length)));
        Decoded dropped = next();
        assertTrue(dropped.dropped());
        assertEquals(NbdCommand.WRITE, dropped.type());
        assertEquals(11, dropped.cookie());
        assertEquals(8192, dropped.offset());
        assertEquals(length, dropped.length());
        assertEquals(NbdFlags.CMD_FUA, dropped.flags());
        assertEquals(0, dropped.payload().length);

        // The payload trickles in over several buffers; none of it may be taken for a header,
        // even the parts that happen to be longer than a header.
        channel.writeInbound(Unpooled.wrappedBuffer(payload, 0, 1500));
        channel.writeInbound(Unpooled.wrappedBuffer(payload, 1500, 1500));
        channel.writeInbound(Unpooled.wrappedBuffer(payload, 3000, 1000));
        assertNull(channel.readInbound());
        // The last 97 payload bytes share a buffer with the next request.
        channel.writeInbound(buf(java.util.Arrays.copyOfRange(payload, 4000, length), request(NbdCommand.READ, 12, 0, 512)));

        Decoded read = next();
        assertEquals(NbdCommand.READ, read.type());
        assertEquals(12, read.cookie());
        assertEquals(512, read.length());
        assertFalse(read.dropped());
        assertNull(channel.readInbound());
    }

    @Test
    void shouldSkipPayloadThatLooksLikeRequests() {
        // A dropped WRITE whose payload is itself made of valid request headers.
        byte[] fake = concat(request(NbdCommand.DISC, 666, 0, 0), request(NbdCommand.DISC, 667, 0, 0));
        byte[] payload = concat(fake, new byte[MAX_PAYLOAD + 1 - fake.length]);
        channel.writeInbound(buf(write(13, 0, payload), request(NbdCommand.FLUSH, 14, 0, 0)));

        Decoded dropped = next();
        assertTrue(dropped.dropped());
        assertEquals(13, dropped.cookie());
        Decoded flush = next();
        assertEquals(NbdCommand.FLUSH, flush.type());
        assertEquals(14, flush.cookie());
        assertNull(channel.readInbound());
    }

    @Test
    void shouldDecodeRequestWhoseHeaderIsSplitRightAfterASkippedPayload() {
        int length = MAX_PAYLOAD + 100;
        byte[] next = write(16, 0, pattern(10));
        channel.writeInbound(buf(header(0, NbdCommand.WRITE, 15, 0, length), new byte[length],
                java.util.Arrays.copyOfRange(next, 0, 5)));
        assertTrue(next().dropped());
        assertNull(channel.readInbound());

        channel.writeInbound(Unpooled.wrappedBuffer(next, 5, next.length - 5));
        Decoded write = next();
        assertFalse(write.dropped());
        assertEquals(16, write.cookie());
        assertArrayEquals(pattern(10), write.payload());
    }

    @Test
    void shouldDropWriteClaimingAnUnsignedMaximumLengthWithoutWaitingForIt() {
        channel.writeInbound(buf(header(0, NbdCommand.WRITE, 17, 0, 0xFFFFFFFFL)));

        Decoded r = next();
        assertTrue(r.dropped());
        assertEquals(0xFFFFFFFFL, r.length());
        // Several MiB of payload later the decoder is still skipping, not buffering or decoding.
        byte[] mib = new byte[1 << 20];
        for (int i = 0; i < 4; i++) {
            channel.writeInbound(Unpooled.wrappedBuffer(mib));
        }
        channel.writeInbound(buf(request(NbdCommand.READ, 18, 0, 1)));
        assertNull(channel.readInbound(), "a request was decoded from inside a skipped payload");
    }

    @Test
    void shouldReadLengthAsUnsigned() {
        channel.writeInbound(buf(request(NbdCommand.READ, 19, 0, 0xFFFFFFFFL), request(NbdCommand.TRIM, 20, 0, 0x80000000L)));

        assertEquals(4294967295L, next().length());
        assertEquals(2147483648L, next().length());
    }

    @Test
    void shouldKeepOffsetWithTopBitSetAsItsBitPattern() {
        channel.writeInbound(hexBuf("25609513 0000 0000 0000000000000001 8000000000000000 00001000"));

        Decoded r = next();
        assertEquals(Long.MIN_VALUE, r.offset());
        assertEquals("9223372036854775808", Long.toUnsignedString(r.offset()));
    }

    @Test
    void shouldKeepCookieFlagsAndTypeBitsVerbatim() {
        channel.writeInbound(buf(header(0xFFFF, 0xFFFF, -1L, -1L, 0)));

        Decoded r = next();
        assertEquals(-1L, r.cookie());
        assertEquals(-1L, r.offset());
        assertEquals(0xFFFF, r.flags(), "flags must be read unsigned");
        assertEquals(0xFFFF, r.type(), "an unknown type is passed on for the server to reject");
        assertEquals(0, r.payload().length);
    }

    @Test
    void shouldDecodeZeroLengthRequests() {
        channel.writeInbound(buf(
                request(NbdCommand.READ, 21, 100, 0),
                request(NbdCommand.WRITE, 22, 100, 0),
                request(NbdCommand.FLUSH, 23, 0, 0)));

        Decoded read = next();
        assertEquals(NbdCommand.READ, read.type());
        assertEquals(0, read.length());
        Decoded write = next();
        assertEquals(NbdCommand.WRITE, write.type());
        assertEquals(0, write.length());
        assertEquals(0, write.payload().length);
        assertFalse(write.dropped());
        assertEquals(23, next().cookie());
        assertNull(channel.readInbound());
    }

    @Test
    void shouldRejectRequestWhenMagicIsWrong() {
        // A simple-reply magic where the request magic belongs.
        byte[] frame = concat(hex("67446698"), java.util.Arrays.copyOfRange(request(NbdCommand.READ, 1, 0, 1), 4, 28));

        CorruptedFrameException e = assertThrows(CorruptedFrameException.class, () -> channel.writeInbound(buf(frame)));

        assertTrue(e.getMessage().contains("67446698"), e.getMessage());
        assertTrue(channel.isOpen(), "the decoder must leave closing to the server");
        assertNull(channel.readInbound());
    }

    @Test
    void shouldRejectGarbageAfterAValidRequest() {
        CorruptedFrameException e = assertThrows(CorruptedFrameException.class,
                () -> channel.writeInbound(buf(request(NbdCommand.FLUSH, 30, 0, 0), pattern(64))));

        assertTrue(e.getMessage().contains("25609513"), "message should name the expected magic: " + e.getMessage());
        // The request before the garbage was still delivered.
        assertEquals(30, next().cookie());
        assertNull(channel.readInbound());
    }

    @Test
    void shouldDiscardTheCorruptBytesSoTheyAreNotDecodedAgain() {
        assertThrows(CorruptedFrameException.class, () -> channel.writeInbound(buf(pattern(28), pattern(100))));

        channel.writeInbound(buf(request(NbdCommand.READ, 31, 0, 8)));
        assertEquals(31, next().cookie());
        assertNull(channel.readInbound());
    }

    @Test
    void shouldEmitWritePayloadAsAnIndependentReference() {
        byte[] payload = pattern(64);
        channel.writeInbound(buf(write(32, 0, payload), request(NbdCommand.READ, 33, 0, 1)));

        NbdRequest write = channel.readInbound();
        try {
            assertEquals(1, write.refCnt());
            assertEquals(64, write.content().readableBytes());
            // Decoding the next request did not disturb the payload already handed out.
            assertEquals(33, next().cookie());
            assertArrayEquals(payload, ByteBufUtil.getBytes(write.content()));
        } finally {
            assertTrue(write.release());
        }
    }

    @Test
    void shouldApplyTheConfiguredMaximumPayload() {
        EmbeddedChannel small = new EmbeddedChannel(new RequestDecoder(16));
        try {
            small.writeInbound(buf(write(40, 0, pattern(16)), write(41, 0, pattern(17)), request(NbdCommand.FLUSH, 42, 0, 0)));
            NbdRequest fits = small.readInbound();
            NbdRequest over = small.readInbound();
            NbdRequest flush = small.readInbound();
            try {
                assertFalse(fits.payloadDropped());
                assertEquals(16, fits.content().readableBytes());
                assertTrue(over.payloadDropped());
                assertEquals(0, over.content().readableBytes());
                assertEquals(42, flush.cookie());
            } finally {
                fits.release();
                over.release();
                flush.release();
            }
        } finally {
            assertFalse(small.finishAndReleaseAll());
        }
    }
}
