package io.jrbd.protocol.peer;

import static io.jrbd.protocol.peer.PeerBytes.buf;
import static io.jrbd.protocol.peer.PeerBytes.concat;
import static io.jrbd.protocol.peer.PeerBytes.counting;
import static io.jrbd.protocol.peer.PeerBytes.frame;
import static io.jrbd.protocol.peer.PeerBytes.header;
import static io.jrbd.protocol.peer.PeerBytes.int16;
import static io.jrbd.protocol.peer.PeerBytes.int32;
import static io.jrbd.protocol.peer.PeerBytes.int64;
import static io.jrbd.protocol.peer.PeerBytes.int8;
import static io.jrbd.protocol.peer.PeerBytes.pattern;
import static io.jrbd.protocol.peer.PeerBytes.string;
import static io.jrbd.protocol.peer.PeerBytes.utf8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PeerFrameDecoderTest {
    private static final int HELLO = 1;
    private static final int STATE = 4;
    private static final int DATA = 10;
    private static final int TRIM = 11;
    private static final int ZEROES = 12;
    private static final int RECV_ACK = 20;
    private static final int SYNC_START = 40;
    private static final int GOODBYE = 50;

    private EmbeddedChannel channel = new EmbeddedChannel(new PeerFrameDecoder());

    @AfterEach
    void releaseEverything() {
        assertFalse(channel.finishAndReleaseAll(), "a test left decoded messages unread");
    }

    private static byte[] helloPayload(int version, byte[] resource, byte[] node, byte[] nonce) {
        return concat(int16(version), string(resource), string(node), nonce);
    }

    private static byte[] hello(byte[] payload) {
        return frame(HELLO, payload);
    }

    private static byte[] data(long seq, long offset, int flags, byte[] bytes) {
        return frame(DATA, int64(seq), int64(offset), int16(flags), bytes);
    }

    private static byte[] state(int role, int disk) {
        return frame(STATE, int8(role), int8(disk), int64(4096), int64(1), int64(1), int64(1), int64(7), int32(0));
    }

    /** Feeds {@code bytes} and expects the decoder to reject them with {@code type}. */
    private <T extends DecoderException> T rejects(Class<T> type, byte[] bytes) {
        T e = assertThrows(type, () -> channel.writeInbound(Unpooled.wrappedBuffer(bytes)));
        assertNull(channel.readInbound(), "nothing is emitted for a bad frame");
        return e;
    }

    private static void assertMentions(Exception e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "\"" + e.getMessage() + "\" should mention " + part);
        }
    }

    private PeerMessage.Data nextData() {
        PeerMessage msg = channel.readInbound();
        return (PeerMessage.Data) msg;
    }

    @Test
    void shouldDecodeFramesFedOneByteAtATime() {
        byte[] payload = pattern(37);
        byte[] first = data(1, 512, PeerWire.DATA_FUA, payload);
        byte[] stream = concat(first, frame(RECV_ACK, int64(1)),
                hello(helloPayload(1, utf8("r0"), utf8("beta"), counting(32))));
        int firstEnd = first.length;
        int secondEnd = firstEnd + PeerWire.HEADER_LENGTH + 8;
        for (int i = 0; i < stream.length; i++) {
            channel.writeInbound(Unpooled.wrappedBuffer(stream, i, 1));
            if (i == firstEnd - 1) {
                PeerMessage.Data d = nextData();
                assertEquals(1, d.seq());
                assertArrayEquals(payload, ByteBufUtil.getBytes(d.content()));
                d.release();
            } else if (i == secondEnd - 1) {
                assertEquals(new PeerMessage.RecvAck(1), channel.readInbound());
            } else if (i == stream.length - 1) {
                assertEquals(new PeerMessage.Hello("r0", "beta", counting(32)), channel.readInbound());
            } else {
                assertNull(channel.readInbound(), "emitted a message after only " + (i + 1) + " bytes");
            }
        }
    }

    @Test
    void shouldDecodeSeveralFramesInOneBuffer() {
        channel.writeInbound(buf(frame(30, int64(5)), data(2, 0, 0, new byte[0]), frame(31, int64(5)),
                frame(3), frame(41, int64(99))));

        assertEquals(new PeerMessage.Ping(5), channel.readInbound());
        PeerMessage.Data empty = nextData();
        assertEquals(0, empty.length());
        empty.release();
        assertEquals(new PeerMessage.PingAck(5), channel.readInbound());
        assertEquals(new PeerMessage.AuthOk(), channel.readInbound());
        assertEquals(new PeerMessage.SyncDone(99), channel.readInbound());
        assertNull(channel.readInbound());
    }

    @Test
    void shouldEmitNothingForATruncatedFrame() {
        byte[] whole = data(3, 4096, 0, pattern(100));
        for (int cut : new int[] {0, 1, PeerWire.HEADER_LENGTH - 1, PeerWire.HEADER_LENGTH, whole.length - 1}) {
            EmbeddedChannel ch = new EmbeddedChannel(new PeerFrameDecoder());
            ch.writeInbound(Unpooled.wrappedBuffer(whole, 0, cut));
            assertNull(ch.readInbound(), "emitted a message from " + cut + " of " + whole.length + " bytes");
            assertFalse(ch.finishAndReleaseAll());
        }
    }

    @Test
    void shouldHandOutDataAsASliceOfTheInput() {
        byte[] wire = data(4, 0, 0, pattern(64));
        channel.writeInbound(Unpooled.wrappedBuffer(wire));
        PeerMessage.Data d = nextData();
        try {
            // The content shares the input's memory: no copy was made.
            assertTrue(d.content().hasArray());
            assertTrue(d.content().array() == wire, "DATA content is a copy, not a slice of the input");
            assertEquals(PeerWire.HEADER_LENGTH + PeerWire.DATA_FIXED_LENGTH, d.content().arrayOffset() + d.content().readerIndex());
            assertEquals(1, d.refCnt());
        } finally {
            d.release();
        }
    }

    @Test
    void shouldRejectWrongMagic() {
        byte[] bad = frame(RECV_ACK, int64(1));
        bad[0] = 0x4A; // "JRBD"
        assertMentions(rejects(CorruptedFrameException.class, bad), "magic", "4a524244", "6a524244");
    }

    @Test
    void shouldRejectUnknownTypeWhenTheHeaderArrives() {
        assertMentions(rejects(CorruptedFrameException.class, header(5, 0)), "unknown message type 5");
        EmbeddedChannel ch = new EmbeddedChannel(new PeerFrameDecoder());
        assertThrows(CorruptedFrameException.class, () -> ch.writeInbound(Unpooled.wrappedBuffer(header(0xFFFF, 8))));
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void shouldRejectNonZeroHeaderFlags() {
        byte[] bad = frame(RECV_ACK, int64(1));
        bad[PeerWire.FLAGS_OFFSET + 1] = 1;
        assertMentions(rejects(CorruptedFrameException.class, bad), "RECV_ACK", "header flags 0x1");
    }

    @Test
    void shouldRejectOverLongPayloadBeforeItArrives() {
        // Only the 12 header bytes are sent: the decoder must not wait for 32 MiB first.
        TooLongFrameException e = rejects(TooLongFrameException.class, header(DATA, PeerWire.MAX_PAYLOAD + 1L));
        assertMentions(e, "DATA", String.valueOf(PeerWire.MAX_PAYLOAD + 1L), String.valueOf(PeerWire.MAX_PAYLOAD));
    }

    @Test
    void shouldRejectPayloadLengthWithTopBitSet() {
        assertMentions(rejects(TooLongFrameException.class, header(DATA, 0xFFFFFFFFL)), "4294967295");
    }

    @Test
    void shouldAcceptDataOfTheLargestPayload() {
        byte[] big = new byte[PeerWire.MAX_DATA_LENGTH];
        big[big.length - 1] = 9;
        channel.writeInbound(buf(data(1, 0, 0, big)));
        PeerMessage.Data d = nextData();
        assertEquals(PeerWire.MAX_DATA_LENGTH, d.length());
        assertEquals(9, d.content().getByte(d.content().readerIndex() + big.length - 1));
        d.release();
    }

    @ParameterizedTest(name = "RECV_ACK with {0} bytes")
    @ValueSource(ints = {0, 7, 9, 16})
    void shouldRejectFixedMessageWithWrongLength(int length) {
        // The header alone decides: the payload need not arrive.
        assertMentions(rejects(CorruptedFrameException.class, header(RECV_ACK, length)),
                "RECV_ACK payload of " + length + " bytes, expected 8");
    }

    @Test
    void shouldRejectWrongLengthsForEveryFixedType() {
        for (PeerMessageType type : PeerMessageType.values()) {
            int fixed = PeerWire.fixedPayloadLength(type);
            if (fixed < 0) {
                continue;
            }
            for (int length : new int[] {fixed - 1, fixed + 1}) {
                if (length < 0) {
                    continue;
                }
                EmbeddedChannel ch = new EmbeddedChannel(new PeerFrameDecoder());
                CorruptedFrameException e = assertThrows(CorruptedFrameException.class,
                        () -> ch.writeInbound(Unpooled.wrappedBuffer(header(type.code(), length))));
                assertMentions(e, type.name(), String.valueOf(length));
                assertFalse(ch.finishAndReleaseAll());
            }
        }
    }

    @Test
    void shouldRejectDataShorterThanItsFixedPart() {
        assertMentions(rejects(CorruptedFrameException.class, header(DATA, 17)), "DATA payload of 17 bytes, expected 18");
    }

    @Test
    void shouldRejectUnknownRole() {
        assertMentions(rejects(CorruptedFrameException.class, state(2, 5)), "role code 2");
    }

    @Test
    void shouldRejectUnknownDiskState() {
        assertMentions(rejects(CorruptedFrameException.class, state(1, 6)), "disk state code 6");
        EmbeddedChannel ch = new EmbeddedChannel(new PeerFrameDecoder());
        assertThrows(CorruptedFrameException.class, () -> ch.writeInbound(Unpooled.wrappedBuffer(state(0, 0xFF))));
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void shouldDecodeEveryRoleAndDiskState() {
        for (PeerRole role : PeerRole.values()) {
            for (DiskState disk : DiskState.values()) {
                channel.writeInbound(buf(state(role.code(), disk.code())));
                PeerMessage.State s = channel.readInbound();
                assertEquals(role, s.role());
                assertEquals(disk, s.disk());
                assertEquals(4096, s.size());
                assertEquals(7, s.currentGeneration());
            }
        }
    }

    @Test
    void shouldRejectUnknownDataFlags() {
        assertMentions(rejects(CorruptedFrameException.class, data(1, 0, 4, new byte[8])), "DATA flags 0x4");
    }

    @Test
    void shouldRejectUnknownZeroesFlags() {
        byte[] bad = frame(ZEROES, int64(1), int64(0), int64(4096), int16(0x8000));
        assertMentions(rejects(CorruptedFrameException.class, bad), "ZEROES flags 0x8000");
    }

    @Test
    void shouldRejectOffsetsAndLengthsPastLongMaxValue() {
        assertMentions(rejects(CorruptedFrameException.class, frame(TRIM, int64(1), int64(-1), int64(1))),
                "TRIM offset 18446744073709551615");
        reset();
        assertMentions(rejects(CorruptedFrameException.class, frame(TRIM, int64(1), int64(Long.MAX_VALUE), int64(1))),
                "passes");
        reset();
        assertMentions(rejects(CorruptedFrameException.class, frame(ZEROES, int64(1), int64(0), int64(-8), int16(0))),
                "ZEROES length");
        reset();
        assertMentions(rejects(CorruptedFrameException.class, data(1, Long.MAX_VALUE - 3, 0, new byte[4])), "passes");
        reset();
        assertMentions(rejects(CorruptedFrameException.class, frame(SYNC_START, int64(Long.MIN_VALUE))), "totalBytes");
        reset();
        assertMentions(rejects(CorruptedFrameException.class,
                frame(STATE, int8(0), int8(5), int64(-4096), int64(1), int64(1), int64(1), int64(7), int32(0))), "size");
    }

    /** A fresh channel: after an error the old decoder discards everything. */
    private void reset() {
        assertFalse(channel.finishAndReleaseAll());
        channel = new EmbeddedChannel(new PeerFrameDecoder());
    }

    @Test
    void shouldRejectStringLengthPastThePayload() {
        // resource name claims 200 bytes, 41 are left in the payload
        assertMentions(rejects(CorruptedFrameException.class, hello(concat(int16(1), int16(200), utf8("r0"),
                string("alpha"), counting(32)))), "resource name of 200 bytes runs past the payload");
        reset();
        // too short for any HELLO: rejected on the header's length alone
        assertMentions(rejects(CorruptedFrameException.class, hello(concat(int16(1), int16(10), utf8("r0")))),
                "HELLO payload of 6 bytes, expected 40 to 4096");
    }

    @Test
    void shouldRejectNameLongerThanTheLimit() {
        byte[] longName = utf8("x".repeat(256));
        assertMentions(rejects(CorruptedFrameException.class,
                hello(helloPayload(1, utf8("r0"), longName, counting(32)))), "node name of 256 bytes", "255");
    }

    @Test
    void shouldRejectMissingNonce() {
        assertMentions(rejects(CorruptedFrameException.class,
                hello(helloPayload(1, utf8("r0"), utf8("alpha"), new byte[31]))), "nonce needs 32 bytes, 31 left");
    }

    @Test
    void shouldRejectTrailingBytesInHelloOfThisVersion() {
        assertMentions(rejects(CorruptedFrameException.class,
                hello(concat(helloPayload(1, utf8("r0"), utf8("alpha"), counting(32)), new byte[1]))),
                "HELLO payload has 1 bytes after its last field");
    }

    @Test
    void shouldReadHelloOfALaterVersionAndSkipItsNewFields() {
        channel.writeInbound(buf(hello(concat(helloPayload(2, utf8("r0"), utf8("alpha"), counting(32)), pattern(50))),
                frame(RECV_ACK, int64(3))));

        PeerMessage.Hello h = channel.readInbound();
        assertEquals(2, h.protocolVersion());
        assertEquals("alpha", h.node());
        assertEquals(new PeerMessage.RecvAck(3), channel.readInbound(), "the next frame starts after the new fields");
    }

    @Test
    void shouldRejectHelloVersionZero() {
        assertMentions(rejects(CorruptedFrameException.class,
                hello(helloPayload(0, utf8("r0"), utf8("alpha"), counting(32)))), "version 0");
    }

    @Test
    void shouldRejectEmptyNamesAndNul() {
        assertMentions(rejects(CorruptedFrameException.class,
                hello(helloPayload(1, utf8(""), utf8("alpha"), counting(32)))), "resource name is empty");
        reset();
        assertMentions(rejects(CorruptedFrameException.class,
                hello(helloPayload(1, utf8("r0"), utf8("al\0ha"), counting(32)))), "node name contains NUL");
    }

    @ParameterizedTest(name = "invalid UTF-8 {0}")
    @ValueSource(strings = {"ff", "c0af", "e282", "eda080", "f4908080", "80"})
    void shouldRejectInvalidUtf8InNames(String badHex) {
        byte[] bad = PeerBytes.hex(badHex);
        assertMentions(rejects(CorruptedFrameException.class,
                hello(helloPayload(1, utf8("r0"), bad, counting(32)))), "node name", "not valid UTF-8");
    }

    @Test
    void shouldRejectInvalidUtf8InGoodbye() {
        assertMentions(rejects(CorruptedFrameException.class, frame(GOODBYE, string(PeerBytes.hex("6f6bff")))),
                "GOODBYE reason", "UTF-8");
    }

    @Test
    void shouldRejectGoodbyeWithBytesAfterTheReason() {
        assertMentions(rejects(CorruptedFrameException.class, frame(GOODBYE, string("bye"), new byte[2])),
                "2 bytes after its last field");
    }

    @Test
    void shouldRejectGoodbyeReasonLongerThanTheLimit() {
        // 1025 bytes do not fit the frame's maximum (1026): caught on the header.
        assertMentions(rejects(CorruptedFrameException.class, frame(GOODBYE, string(new byte[1025]))),
                "GOODBYE payload of 1027 bytes");
        reset();
        // A length prefix over the limit in a frame that is small enough.
        assertMentions(rejects(CorruptedFrameException.class, frame(GOODBYE, int16(2000), new byte[8])),
                "reason of 2000 bytes exceeds the limit of 1024");
    }

    @Test
    void shouldDecodeUnicodeStrings() {
        channel.writeInbound(buf(hello(helloPayload(1, utf8("ресурс"), utf8("节点-1"), counting(32))),
                frame(GOODBYE, string("au revoir 👋"))));
        PeerMessage.Hello h = channel.readInbound();
        assertEquals("ресурс", h.resource());
        assertEquals("节点-1", h.node());
        assertEquals(new PeerMessage.Goodbye("au revoir 👋"), channel.readInbound());
    }

    @Test
    void shouldDiscardEverythingAfterAnError() {
        byte[] good = frame(RECV_ACK, int64(1));
        byte[] bad = header(99, 0);
        assertThrows(CorruptedFrameException.class, () -> channel.writeInbound(buf(good, bad, good)));
        assertEquals(new PeerMessage.RecvAck(1), channel.readInbound(), "the frame before the error is delivered");
        assertNull(channel.readInbound());
        // A well-formed frame after the error is not trusted either.
        channel.writeInbound(buf(good));
        assertNull(channel.readInbound());
    }

    @Test
    void shouldReleaseTheInputOnceEveryDataSliceIsReleased() {
        ByteBuf in = Unpooled.directBuffer().writeBytes(concat(data(1, 0, 0, pattern(10)), data(2, 10, 0, pattern(10))));
        channel.writeInbound(in.retain());
        PeerMessage.Data a = nextData();
        PeerMessage.Data b = nextData();
        assertTrue(in.refCnt() > 1, "the slices keep the input alive");
        ReferenceCountUtil.release(a);
        ReferenceCountUtil.release(b);
        assertEquals(1, in.refCnt(), "only the test's own reference remains");
        in.release();
    }
}
