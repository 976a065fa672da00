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
    private static final int OUT_OF_SYNC = 42;
    private static final int DIGEST_REQUEST = 43;
    private static final int DIGEST_REPLY = 44;
    private static final int INVALIDATE_REQUEST = 45;
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
        return state(role, disk, 4096, 7, 0, 0);
    }

    private static byte[] state(int role, int disk, long size, long currentGeneration, long outOfSyncBytes, int flags) {
        return frame(STATE, int8(role), int8(disk), int64(size), int64(1), int64(1), int64(1), int64(currentGeneration),
                int64(0), int64(0), int64(0), int64(0), int64(0), int64(outOfSyncBytes), int32(flags));
    }

    /** An OUT_OF_SYNC frame: last byte, run count, then the given longs as they are. */
    private static byte[] outOfSync(int last, int count, long... values) {
        byte[][] parts = new byte[values.length + 2][];
        parts[0] = int8(last);
        parts[1] = int16(count);
        for (int i = 0; i < values.length; i++) {
            parts[i + 2] = int64(values[i]);
        }
        return frame(OUT_OF_SYNC, parts);
    }

    private static byte[] digestRequest(long offset, int length, int blockSize, int digestLength, byte[] digests) {
        return frame(DIGEST_REQUEST, int64(77), int64(offset), int32(length), int32(blockSize), int8(digestLength),
                digests);
    }

    private static byte[] digestReply(long offset, int length, int blockSize, byte[] differ) {
        return frame(DIGEST_REPLY, int64(77), int64(offset), int32(length), int32(blockSize), differ);
    }

    /** Feeds {@code bytes} and expects a {@link CorruptedFrameException} saying exactly {@code message}. */
    private void rejectsWith(String message, byte[] bytes) {
        assertEquals(message, rejects(CorruptedFrameException.class, bytes).getMessage());
        reset();
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
                hello(helloPayload(PeerWire.PROTOCOL_VERSION, utf8("r0"), utf8("beta"), counting(32))));
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
        assertMentions(rejects(CorruptedFrameException.class,
                frame(SYNC_START, int64(Long.MIN_VALUE), int8(1), int64(0))), "totalBytes");
        reset();
        assertMentions(rejects(CorruptedFrameException.class, state(0, 5, -4096, 7, 0, 0)), "size");
    }

    @Test
    void shouldRejectMalformedState() {
        rejectsWith("STATE payload of 46 bytes, expected 94", header(STATE, 46));
        rejectsWith("STATE outOfSyncBytes 18446744073709551615 exceeds the limit of 9223372036854775807",
                state(0, 5, 4096, 7, -1, 0));
        rejectsWith("STATE flags 0x20 outside the known flags 0x1f", state(0, 5, 4096, 7, 0, 0x20));
        rejectsWith("STATE flags 0x80000000 outside the known flags 0x1f", state(0, 5, 4096, 7, 0, 0x80000000));
        rejectsWith("STATE flag JUST_CREATED with generations 0000000000000007:0000000000000000:0000000000000000:"
                + "0000000000000000:0000000000000000:0000000000000000, must all be zero",
                state(0, 5, 4096, 7, 0, PeerMessage.State.FLAG_JUST_CREATED));
    }

    @Test
    void shouldDecodeStateWithEveryField() {
        channel.writeInbound(buf(frame(STATE, int8(1), int8(5), int64(1L << 30), int64(9), int64(3), int64(9),
                int64(0xC1), int64(0xB1), int64(0xA1), int64(0xA2), int64(0xA3), int64(0xA4), int64(65536),
                int32(PeerMessage.State.FLAG_PRIMARY_AT_SPLIT | PeerMessage.State.FLAG_CRASHED_PRIMARY))));
        PeerMessage.State s = channel.readInbound();
        assertEquals(0xC1, s.currentGeneration());
        assertEquals(0xB1, s.bitmapGeneration());
        assertArrayEquals(new long[] {0xA1, 0xA2, 0xA3, 0xA4}, s.history());
        assertEquals(65536, s.outOfSyncBytes());
        assertTrue(s.hasFlag(PeerMessage.State.FLAG_PRIMARY_AT_SPLIT));
        assertTrue(s.hasFlag(PeerMessage.State.FLAG_CRASHED_PRIMARY));
        assertFalse(s.hasFlag(PeerMessage.State.FLAG_DISCARD_MY_DATA));
    }

    @Test
    void shouldRejectMalformedSyncStart() {
        rejectsWith("SYNC_START payload of 8 bytes, expected 17", header(SYNC_START, 8));
        rejectsWith("SYNC_START full byte 2, must be 0 or 1", frame(SYNC_START, int64(4096), int8(2), int64(0)));
        rejectsWith("SYNC_START full byte 255, must be 0 or 1", frame(SYNC_START, int64(4096), int8(0xFF), int64(0)));
    }

    @Test
    void shouldRejectOutOfSyncWithTooManyRuns() {
        // Too long for 4096 runs: refused on the header, before the payload is buffered.
        rejectsWith("OUT_OF_SYNC payload of 65555 bytes, expected 3 to 65539", header(OUT_OF_SYNC, 3 + 4097 * 16));
        // A count over the limit in a frame that is short enough.
        rejectsWith("OUT_OF_SYNC of 4097 runs exceeds the limit of 4096", outOfSync(1, 4097, 0, 4096));
        rejectsWith("OUT_OF_SYNC of 65535 runs exceeds the limit of 4096", outOfSync(1, 0xFFFF));
    }

    @Test
    void shouldRejectOutOfSyncWhoseCountDisagreesWithItsLength() {
        rejectsWith("OUT_OF_SYNC payload of 2 bytes, expected 3 to 65539", frame(OUT_OF_SYNC, int8(1), int8(0)));
        rejectsWith("OUT_OF_SYNC of 2 runs needs 32 bytes of runs, the payload has 16", outOfSync(1, 2, 0, 4096));
        rejectsWith("OUT_OF_SYNC of 0 runs needs 0 bytes of runs, the payload has 16", outOfSync(1, 0, 0, 4096));
        rejectsWith("OUT_OF_SYNC of 1 runs needs 16 bytes of runs, the payload has 20",
                frame(OUT_OF_SYNC, int8(0), int16(1), int64(0), int64(4096), int32(0)));
    }

    @Test
    void shouldRejectOutOfSyncRunsOutOfOrderOrOverlapping() {
        rejectsWith("OUT_OF_SYNC run 1 at offset 0 starts before the end 12288 of run 0: runs must be sorted and"
                + " must not overlap", outOfSync(0, 2, 8192, 4096, 0, 4096));
        rejectsWith("OUT_OF_SYNC run 1 at offset 4096 starts before the end 8192 of run 0: runs must be sorted and"
                + " must not overlap", outOfSync(0, 2, 0, 8192, 4096, 4096));
        rejectsWith("OUT_OF_SYNC run 2 at offset 4096 starts before the end 4608 of run 1: runs must be sorted and"
                + " must not overlap", outOfSync(1, 3, 0, 512, 4096, 512, 4096, 512));
    }

    @Test
    void shouldRejectOutOfSyncRunsWithBadValues() {
        rejectsWith("OUT_OF_SYNC run 0 at offset 0 has length 0, must be > 0", outOfSync(1, 1, 0, 0));
        rejectsWith("OUT_OF_SYNC run 1 offset 18446744073709551615 exceeds the limit of 9223372036854775807",
                outOfSync(1, 2, 0, 512, -1, 512));
        rejectsWith("OUT_OF_SYNC run 0 length 9223372036854775808 exceeds the limit of 9223372036854775807",
                outOfSync(1, 1, 0, Long.MIN_VALUE));
        rejectsWith("OUT_OF_SYNC run 0 offset 9223372036854775807 + length 1 passes 9223372036854775807",
                outOfSync(1, 1, Long.MAX_VALUE, 1));
        rejectsWith("OUT_OF_SYNC last byte 2, must be 0 or 1", outOfSync(2, 1, 0, 512));
        rejectsWith("OUT_OF_SYNC with no runs must be the last", outOfSync(0, 0));
    }

    @Test
    void shouldAcceptOutOfSyncRunsThatTouch() {
        channel.writeInbound(buf(outOfSync(0, 2, 0, 4096, 4096, 4096), outOfSync(1, 0)));
        PeerMessage.OutOfSync m = channel.readInbound();
        assertEquals(2, m.runCount());
        assertEquals(4096, m.offset(1));
        assertEquals(8192, m.totalBytes());
        assertFalse(m.last());
        assertEquals(new PeerMessage.OutOfSync(new long[0], true), channel.readInbound());
    }

    @Test
    void shouldRejectDigestRequestWithBadBlockSize() {
        for (int bad : new int[] {0, 256, 1000, 4097, 2 * 1024 * 1024, -1}) {
            rejectsWith("DIGEST_REQUEST block size " + Integer.toUnsignedString(bad)
                    + ", must be a power of two from 512 to 1048576", digestRequest(0, 4096, bad, 1, new byte[8]));
        }
    }

    @Test
    void shouldRejectDigestRequestWithBadSpan() {
        rejectsWith("DIGEST_REQUEST length 0, must be 1 to 8388608", digestRequest(0, 0, 512, 1, new byte[1]));
        rejectsWith("DIGEST_REQUEST length 8389120, must be 1 to 8388608",
                digestRequest(0, 8 * 1024 * 1024 + 512, 512, 1, new byte[1]));
        rejectsWith("DIGEST_REQUEST length 4294967295, must be 1 to 8388608", digestRequest(0, -1, 512, 1, new byte[1]));
        rejectsWith("DIGEST_REQUEST offset 18446744073709551615 exceeds the limit of 9223372036854775807",
                digestRequest(-1, 512, 512, 1, new byte[1]));
        rejectsWith("DIGEST_REQUEST offset 9223372036854775296 + length 1024 passes 9223372036854775807",
                digestRequest(Long.MAX_VALUE - 511, 1024, 512, 1, new byte[2]));
    }

    @Test
    void shouldRejectDigestRequestWithBadDigests() {
        rejectsWith("DIGEST_REQUEST digest length 0, must be 1 to 64", digestRequest(0, 4096, 4096, 0, new byte[1]));
        rejectsWith("DIGEST_REQUEST digest length 65, must be 1 to 64", digestRequest(0, 4096, 4096, 65, new byte[65]));
        // 9000 bytes in 4 KiB blocks: 3 blocks, the last partial
        rejectsWith("DIGEST_REQUEST digests of 5 bytes, expected 6 (3 blocks x 2)",
                digestRequest(0, 9000, 4096, 2, new byte[5]));
        rejectsWith("DIGEST_REQUEST digests of 7 bytes, expected 6 (3 blocks x 2)",
                digestRequest(0, 9000, 4096, 2, new byte[7]));
        rejectsWith("DIGEST_REQUEST payload of 25 bytes, expected 26 to 1048601", frame(DIGEST_REQUEST, new byte[25]));
        rejectsWith("DIGEST_REQUEST payload of 1048602 bytes, expected 26 to 1048601", header(DIGEST_REQUEST, 1048602));
    }

    @Test
    void shouldDecodeDigestRequestWithAPartialLastBlock() {
        channel.writeInbound(buf(digestRequest(1 << 20, 9000, 4096, 2, PeerBytes.hex("A1A2 B1B2 C1C2"))));
        PeerMessage.DigestRequest r = channel.readInbound();
        assertEquals(77, r.id());
        assertEquals(3, r.blocks());
        assertEquals(2, r.digestLength());
        assertArrayEquals(PeerBytes.hex("C1C2"), r.digest(2));
        assertTrue(r.digestEquals(1, PeerBytes.hex("B1B2")));
        assertFalse(r.digestEquals(1, PeerBytes.hex("B1B3")));
    }

    @Test
    void shouldRejectMalformedDigestReply() {
        rejectsWith("DIGEST_REPLY block size 768, must be a power of two from 512 to 1048576",
                digestReply(0, 4096, 768, new byte[1]));
        rejectsWith("DIGEST_REPLY length 0, must be 1 to 8388608", digestReply(0, 0, 512, new byte[1]));
        // 10 blocks of 512 need 2 bytes of bits
        rejectsWith("DIGEST_REPLY differ bits of 1 bytes, expected 2 (10 blocks)", digestReply(0, 5120, 512, new byte[1]));
        rejectsWith("DIGEST_REPLY differ bits of 3 bytes, expected 2 (10 blocks)", digestReply(0, 5120, 512, new byte[3]));
        rejectsWith("DIGEST_REPLY differ has bits 0xfc set past block 9 in its last byte, must be 0",
                digestReply(0, 5120, 512, new byte[] {0, (byte) 0xFF}));
        rejectsWith("DIGEST_REPLY payload of 2073 bytes, expected 25 to 2072", header(DIGEST_REPLY, 2073));
        rejectsWith("DIGEST_REPLY payload of 24 bytes, expected 25 to 2072", header(DIGEST_REPLY, 24));
    }

    @Test
    void shouldDecodeDigestReplyBitsLsbFirst() {
        channel.writeInbound(buf(digestReply(0, 5120, 512, new byte[] {0x09, 0x02})));
        PeerMessage.DigestReply r = channel.readInbound();
        assertEquals(10, r.blocks());
        assertEquals(3, r.differingBlocks());
        for (int block = 0; block < 10; block++) {
            assertEquals(block == 0 || block == 3 || block == 9, r.differs(block), "block " + block);
        }
    }

    @Test
    void shouldTurnEveryGarbagePayloadOfTheNewTypesIntoAMessageOrACorruptFrame() {
        java.util.Random random = new java.util.Random(42);
        int[] types = {STATE, SYNC_START, OUT_OF_SYNC, DIGEST_REQUEST, DIGEST_REPLY, INVALIDATE_REQUEST};
        for (int i = 0; i < 20_000; i++) {
            int type = types[i % types.length];
            PeerMessageType t = PeerMessageType.ofCode(type);
            int min = PeerWire.minPayloadLength(t);
            byte[] payload = new byte[min + random.nextInt(Math.min(PeerWire.maxPayloadLength(t) - min, 80) + 1)];
            random.nextBytes(payload);
            if (random.nextBoolean() && payload.length > 3) {
                payload[0] &= 1;      // a valid boolean more often than not
                payload[1] = 0;       // and small counts
            }
            EmbeddedChannel ch = new EmbeddedChannel(new PeerFrameDecoder());
            try {
                ch.writeInbound(Unpooled.wrappedBuffer(frame(type, payload)));
            } catch (CorruptedFrameException expected) {
                assertNull(ch.readInbound());
            }
            ch.finishAndReleaseAll();
        }
    }

    @Test
    void shouldRejectMalformedInvalidateRequest() {
        rejectsWith("INVALIDATE_REQUEST reason of 2000 bytes exceeds the limit of 1024",
                frame(INVALIDATE_REQUEST, int16(2000), new byte[8]));
        rejectsWith("INVALIDATE_REQUEST payload has 2 bytes after its last field",
                frame(INVALIDATE_REQUEST, string("why"), new byte[2]));
        rejectsWith("INVALIDATE_REQUEST reason of 3 bytes is not valid UTF-8",
                frame(INVALIDATE_REQUEST, string(PeerBytes.hex("6f6bff"))));
        rejectsWith("INVALIDATE_REQUEST payload of 1027 bytes, expected 2 to 1026",
                frame(INVALIDATE_REQUEST, string(new byte[1025])));
        rejectsWith("INVALIDATE_REQUEST payload of 1 bytes, expected 2 to 1026", frame(INVALIDATE_REQUEST, int8(0)));
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
                hello(concat(helloPayload(PeerWire.PROTOCOL_VERSION, utf8("r0"), utf8("alpha"), counting(32)),
                        new byte[1]))), "HELLO payload has 1 bytes after its last field");
    }

    @Test
    void shouldReadHelloOfALaterVersionAndSkipItsNewFields() {
        int later = PeerWire.PROTOCOL_VERSION + 1;
        channel.writeInbound(buf(hello(concat(helloPayload(later, utf8("r0"), utf8("alpha"), counting(32)), pattern(50))),
                frame(RECV_ACK, int64(3))));

        PeerMessage.Hello h = channel.readInbound();
        assertEquals(later, h.protocolVersion());
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
