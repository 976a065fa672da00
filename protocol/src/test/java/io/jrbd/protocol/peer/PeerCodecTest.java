package io.jrbd.protocol.peer;

import static io.jrbd.protocol.peer.PeerBytes.concat;
import static io.jrbd.protocol.peer.PeerBytes.counting;
import static io.jrbd.protocol.peer.PeerBytes.drain;
import static io.jrbd.protocol.peer.PeerBytes.hex;
import static io.jrbd.protocol.peer.PeerBytes.pattern;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Encoder then decoder: every message comes back equal, and the bytes match the layouts. */
class PeerCodecTest {
    private final EmbeddedChannel encoder = new EmbeddedChannel(new PeerMessageEncoder());
    private final EmbeddedChannel decoder = new EmbeddedChannel(new PeerFrameDecoder());

    @AfterEach
    void releaseEverything() {
        assertFalse(encoder.finishAndReleaseAll(), "a test left encoded frames unread");
        assertFalse(decoder.finishAndReleaseAll(), "a test left decoded messages unread");
    }

    /** One sample per message type, with values that use every bit of their fields. */
    static Stream<Arguments> everyMessage() {
        List<Supplier<PeerMessage>> samples = List.of(
                () -> new PeerMessage.Hello("r0", "alpha", counting(32)),
                () -> new PeerMessage.Hello(0xFFFF, "résumé-ü", "n".repeat(255), pattern(32)),
                () -> new PeerMessage.Auth(pattern(32)),
                PeerMessage.AuthOk::new,
                () -> new PeerMessage.State(PeerRole.Primary, DiskState.UpToDate, 1L << 40, 123_456_789L,
                        100L, -2L, 0xDEADBEEFCAFEF00DL, 0x8000000000000001L,
                        new long[] {-1L, 0x0102030405060708L, Long.MIN_VALUE, 7}, Long.MAX_VALUE,
                        PeerMessage.State.FLAG_CRASHED_PRIMARY | PeerMessage.State.FLAG_DISCARD_MY_DATA
                                | PeerMessage.State.FLAG_PRIMARY_AT_SPLIT),
                () -> new PeerMessage.State(PeerRole.Secondary, DiskState.Diskless, 0, 0, 0, 0, 0, 0, new long[4], 0,
                        PeerMessage.State.FLAG_JUST_CREATED),
                () -> new PeerMessage.Data(-1L, Long.MAX_VALUE - 4096, PeerWire.DATA_FUA | PeerWire.DATA_RESYNC,
                        Unpooled.wrappedBuffer(pattern(4096))),
                () -> new PeerMessage.Data(5, 0, 0, Unpooled.EMPTY_BUFFER),
                () -> new PeerMessage.Trim(1, 4096, 1L << 33),
                () -> new PeerMessage.Zeroes(2, 8192, 65536, PeerWire.ZEROES_NO_HOLE | PeerWire.ZEROES_MAY_TRIM),
                () -> new PeerMessage.Flush(Long.MIN_VALUE),
                () -> new PeerMessage.RecvAck(0x0102030405060708L),
                () -> new PeerMessage.WriteAck(Long.MAX_VALUE),
                () -> new PeerMessage.SyncAck(-1L),
                () -> new PeerMessage.SyncAck(7L, 1L << 40),
                () -> new PeerMessage.Ping(0xFEDCBA9876543210L),
                () -> new PeerMessage.PingAck(0xFEDCBA9876543210L),
                () -> new PeerMessage.SyncStart(Long.MAX_VALUE, true, -1L),
                () -> new PeerMessage.SyncStart(0, false, 0),
                () -> new PeerMessage.OutOfSync(new long[] {0, 4096, 8192, 4096, 12288, 1L << 40}, false),
                () -> new PeerMessage.OutOfSync(new long[0], true),
                () -> new PeerMessage.OutOfSync(maxRuns(), true),
                () -> new PeerMessage.DigestRequest(-1L, 1L << 40, 8 * 4096, 4096, pattern(8 * 32)),
                () -> new PeerMessage.DigestRequest(7, 0, 1000, 512, pattern(2)),
                () -> new PeerMessage.DigestRequest(8, Long.MAX_VALUE - PeerWire.MAX_DIGEST_SPAN,
                        PeerWire.MAX_DIGEST_SPAN, 512, pattern(PeerWire.MAX_DIGEST_BLOCKS * 64)),
                () -> new PeerMessage.DigestReply(-1L, 4096, 9 * 4096, 4096, new byte[] {(byte) 0x81, 0x01}),
                () -> new PeerMessage.DigestReply(2, 0, PeerWire.MAX_DIGEST_SPAN, 512,
                        pattern(PeerWire.MAX_DIGEST_BLOCKS / 8)),
                () -> new PeerMessage.DigestReply(3, 0, 100, 1 << 20, new byte[1]),
                () -> new PeerMessage.InvalidateRequest(""),
                () -> new PeerMessage.InvalidateRequest("invalidate-remote by admin — ε".repeat(10)),
                () -> new PeerMessage.SyncDone(42),
                () -> new PeerMessage.Goodbye(""),
                () -> new PeerMessage.Goodbye("split brain detected — ε".repeat(10)));
        return samples.stream().map(s -> {
            PeerMessage probe = s.get();
            String name = probe.toString();
            ReferenceCountUtil.release(probe);
            return Arguments.of(name.length() > 60 ? name.substring(0, 60) : name, s);
        });
    }

    /** {@value PeerWire#MAX_OUT_OF_SYNC_RUNS} runs of 4 KiB, one every 8 KiB. */
    private static long[] maxRuns() {
        long[] runs = new long[2 * PeerWire.MAX_OUT_OF_SYNC_RUNS];
        for (int i = 0; i < PeerWire.MAX_OUT_OF_SYNC_RUNS; i++) {
            runs[2 * i] = i * 8192L;
            runs[2 * i + 1] = 4096;
        }
        return runs;
    }

    @Test
    void shouldHaveASampleForEveryMessageType() {
        Set<PeerMessageType> covered = EnumSet.noneOf(PeerMessageType.class);
        everyMessage().forEach(a -> {
            @SuppressWarnings("unchecked")
            PeerMessage m = ((Supplier<PeerMessage>) a.get()[1]).get();
            covered.add(m.type());
            ReferenceCountUtil.release(m);
        });
        assertEquals(EnumSet.allOf(PeerMessageType.class), covered);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("everyMessage")
    void shouldDecodeWhatTheEncoderWrote(String name, Supplier<PeerMessage> sample) {
        PeerMessage expected = sample.get();
        PeerMessage sent = sample.get();
        try {
            assertTrue(encoder.writeOutbound(sent));
            ByteBuf frame = encoder.readOutbound();
            int frameLength = frame.readableBytes();
            decoder.writeInbound(frame);
            PeerMessage decoded = decoder.readInbound();
            try {
                assertNull(decoder.readInbound());
                assertEquals(expected.type(), decoded.type());
                assertEquals(expected, decoded);
                if (expected instanceof PeerMessage.Data d) {
                    PeerMessage.Data got = (PeerMessage.Data) decoded;
                    assertEquals(d.seq(), got.seq());
                    assertEquals(d.offset(), got.offset());
                    assertEquals(d.flags(), got.flags());
                    assertArrayEquals(ByteBufUtil.getBytes(d.content()), ByteBufUtil.getBytes(got.content()));
                    assertEquals(PeerWire.HEADER_LENGTH + PeerWire.DATA_FIXED_LENGTH + d.length(), frameLength);
                }
            } finally {
                ReferenceCountUtil.release(decoded);
            }
        } finally {
            ReferenceCountUtil.release(expected);
        }
    }

    @Test
    void shouldEncodeHelloExactlyAsTheLayoutSays() {
        encoder.writeOutbound(new PeerMessage.Hello("r0", "alpha", counting(32)));

        byte[] expected = hex("6A524244 0001 0000 0000002D"          // magic, HELLO, flags, length 45
                + "0002"                                           // version 2
                + "0002 7230"                                      // "r0"
                + "0005 616C706861"                                // "alpha"
                + "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F");
        assertArrayEquals(expected, drain(encoder.readOutbound()));
    }

    @Test
    void shouldDecodeHandWrittenHello() {
        decoder.writeInbound(Unpooled.wrappedBuffer(hex("6A524244 0001 0000 0000002D 0001 0002 7230 0005 616C706861"
                + "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F")));

        PeerMessage.Hello hello = decoder.readInbound();
        assertEquals(1, hello.protocolVersion());
        assertEquals("r0", hello.resource());
        assertEquals("alpha", hello.node());
        assertArrayEquals(counting(32), hello.nonce());
    }

    @Test
    void shouldEncodeDataExactlyAsTheLayoutSays() {
        encoder.writeOutbound(new PeerMessage.Data(7, 0x1000, PeerWire.DATA_FUA,
                Unpooled.wrappedBuffer(new byte[] {'a', 'b', 'c', 'd'})));

        byte[] expected = hex("6A524244 000A 0000 00000016"          // magic, DATA, flags, length 22
                + "0000000000000007"                               // seq 7
                + "0000000000001000"                               // offset 0x1000
                + "0001"                                           // FUA
                + "61626364");                                     // "abcd"
        assertArrayEquals(expected, drain(encoder.readOutbound()));
    }

    @Test
    void shouldDecodeHandWrittenData() {
        decoder.writeInbound(Unpooled.wrappedBuffer(hex("6A524244 000A 0000 00000016 0000000000000007"
                + "0000000000001000 0002 61626364")));

        PeerMessage.Data data = decoder.readInbound();
        try {
            assertEquals(7, data.seq());
            assertEquals(0x1000, data.offset());
            assertTrue(data.hasFlag(PeerWire.DATA_RESYNC));
            assertFalse(data.hasFlag(PeerWire.DATA_FUA));
            assertArrayEquals(new byte[] {'a', 'b', 'c', 'd'}, ByteBufUtil.getBytes(data.content()));
        } finally {
            data.release();
        }
    }

    @Test
    void shouldEncodeStateExactlyAsTheLayoutSays() {
        encoder.writeOutbound(new PeerMessage.State(PeerRole.Primary, DiskState.Outdated, 0x100000, 9, 3, 9,
                0x1122334455667788L, 0x99AABBCCDDEEFF00L, new long[] {0xA1, 0xA2, 0xA3, 0xA4}, 0x3000, 0x5));

        byte[] expected = hex("6A524244 0004 0000 0000005E"          // magic, STATE, flags, length 94
                + "01 03 0000000000100000 0000000000000009"       // Primary, Outdated, size, appliedSeq
                + "0000000000000003 0000000000000009"             // journal range
                + "1122334455667788 99AABBCCDDEEFF00"             // current, bitmap
                + "00000000000000A1 00000000000000A2 00000000000000A3 00000000000000A4"
                + "0000000000003000 00000005");                   // outOfSyncBytes, flags
        assertArrayEquals(expected, drain(encoder.readOutbound()));
    }

    @Test
    void shouldEncodeSyncStartExactlyAsTheLayoutSays() {
        encoder.writeOutbound(new PeerMessage.SyncStart(0x40000000L, true, 0x1122334455667788L),
                new PeerMessage.SyncStart(512, false, 0));

        assertArrayEquals(hex("6A524244 0028 0000 00000011 0000000040000000 01 1122334455667788"),
                drain(encoder.readOutbound()));
        assertArrayEquals(hex("6A524244 0028 0000 00000011 0000000000000200 00 0000000000000000"),
                drain(encoder.readOutbound()));
    }

    @Test
    void shouldEncodeOutOfSyncExactlyAsTheLayoutSays() {
        encoder.writeOutbound(new PeerMessage.OutOfSync(new long[] {0x1000, 0x2000, 0x8000, 0x1000}, true),
                new PeerMessage.OutOfSync(new long[0], true));

        assertArrayEquals(hex("6A524244 002A 0000 00000023"          // magic, OUT_OF_SYNC, flags, length 35
                + "01 0002"                                        // last, 2 runs
                + "0000000000001000 0000000000002000"              // [0x1000, +0x2000)
                + "0000000000008000 0000000000001000"),            // [0x8000, +0x1000)
                drain(encoder.readOutbound()));
        assertArrayEquals(hex("6A524244 002A 0000 00000003 01 0000"), drain(encoder.readOutbound()));
    }

    @Test
    void shouldEncodeDigestRequestExactlyAsTheLayoutSays() {
        // 3 blocks of 4 KiB, the last partial; 2-byte digests
        encoder.writeOutbound(new PeerMessage.DigestRequest(5, 0x10000, 9000, 4096, hex("A1A2 B1B2 C1C2")));

        assertArrayEquals(hex("6A524244 002B 0000 0000001F"          // magic, DIGEST_REQUEST, flags, length 31
                + "0000000000000005 0000000000010000"              // id, offset
                + "00002328 00001000 02"                           // length 9000, blockSize 4096, digestLength 2
                + "A1A2 B1B2 C1C2"),
                drain(encoder.readOutbound()));
    }

    @Test
    void shouldEncodeDigestReplyExactlyAsTheLayoutSays() {
        // 10 blocks of 512: blocks 0, 3 and 9 differ
        encoder.writeOutbound(new PeerMessage.DigestReply(5, 0x10000, 5120, 512, new byte[] {0x09, 0x02}));

        assertArrayEquals(hex("6A524244 002C 0000 0000001A"          // magic, DIGEST_REPLY, flags, length 26
                + "0000000000000005 0000000000010000 00001400 00000200"
                + "09 02"),
                drain(encoder.readOutbound()));
    }

    @Test
    void shouldEncodeInvalidateRequestLikeGoodbye() {
        encoder.writeOutbound(new PeerMessage.InvalidateRequest("why"));

        assertArrayEquals(hex("6A524244 002D 0000 00000005 0003 776879"), drain(encoder.readOutbound()));
    }

    @Test
    void shouldEncodeEveryOtherFixedMessageWithItsCodeAndLength() {
        encoder.writeOutbound(new PeerMessage.Zeroes(1, 2, 3, PeerWire.ZEROES_NO_HOLE), new PeerMessage.AuthOk(),
                new PeerMessage.Goodbye("bye"));

        assertArrayEquals(hex("6A524244 000C 0000 0000001A 0000000000000001 0000000000000002 0000000000000003 0001"),
                drain(encoder.readOutbound()));
        assertArrayEquals(hex("6A524244 0003 0000 00000000"), drain(encoder.readOutbound()));
        assertArrayEquals(hex("6A524244 0032 0000 00000005 0003 627965"), drain(encoder.readOutbound()));
    }

    @Test
    void shouldSendDataBytesWithoutCopyingThem() {
        ByteBuf data = Unpooled.directBuffer(512).writeBytes(pattern(512));
        encoder.writeOutbound(new PeerMessage.Data(1, 0, 0, data.retain()));
        ByteBuf frame = encoder.readOutbound();
        try {
            assertInstanceOf(CompositeByteBuf.class, frame);
            // The frame sees a change made to the original bytes: it holds them, not a copy.
            data.setByte(0, 0x55);
            assertEquals(0x55, frame.getByte(PeerWire.HEADER_LENGTH + PeerWire.DATA_FIXED_LENGTH));
            assertEquals(2, data.refCnt(), "the frame holds one reference, the test the other");
        } finally {
            frame.release();
        }
        assertEquals(1, data.refCnt(), "releasing the frame gives the data back");
        data.release();
    }

    @Test
    void shouldReleaseTheMessageOnceEncoded() {
        PeerMessage.Data data = new PeerMessage.Data(1, 0, 0, Unpooled.wrappedBuffer(pattern(16)));
        encoder.writeOutbound(data);
        assertEquals(1, data.refCnt(), "the encoder dropped the message's reference; the frame holds the bytes");
        drain(encoder.readOutbound());
        assertEquals(0, data.refCnt(), "once the frame is written the bytes are freed");
    }

    @Test
    void shouldEncodeToTheSameBytesWithoutAPipeline() {
        PeerMessage.Trim trim = new PeerMessage.Trim(9, 4096, 8192);
        encoder.writeOutbound(trim);
        byte[] viaChannel = drain(encoder.readOutbound());
        byte[] direct = drain(PeerMessageEncoder.encode(io.netty.buffer.UnpooledByteBufAllocator.DEFAULT, trim));
        assertArrayEquals(viaChannel, direct);
        assertArrayEquals(concat(PeerBytes.header(11, 24), PeerBytes.int64(9), PeerBytes.int64(4096),
                PeerBytes.int64(8192)), direct);
    }

    @Test
    void shouldRoundTripManyFramesWrittenBackToBack() {
        PeerMessage[] messages = {
            new PeerMessage.Ping(1), new PeerMessage.Data(2, 512, 0, Unpooled.wrappedBuffer(pattern(100))),
            new PeerMessage.RecvAck(2), new PeerMessage.WriteAck(2), new PeerMessage.Flush(3), new PeerMessage.SyncAck(3),
        };
        encoder.writeOutbound((Object[]) messages);
        ByteBuf all = Unpooled.buffer();
        for (ByteBuf f; (f = encoder.readOutbound()) != null; ) {
            all.writeBytes(f);
            f.release();
        }
        decoder.writeInbound(all);

        assertEquals(new PeerMessage.Ping(1), decoder.readInbound());
        PeerMessage.Data data = decoder.readInbound();
        assertArrayEquals(pattern(100), drain(data.content().retain()));
        data.release();
        assertEquals(new PeerMessage.RecvAck(2), decoder.readInbound());
        assertEquals(new PeerMessage.WriteAck(2), decoder.readInbound());
        assertEquals(new PeerMessage.Flush(3), decoder.readInbound());
        assertEquals(new PeerMessage.SyncAck(3), decoder.readInbound());
        assertSame(null, decoder.readInbound());
    }
}
