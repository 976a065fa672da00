package io.jrbd.protocol.nbd;

import static io.jrbd.protocol.nbd.TestBytes.concat;
import static io.jrbd.protocol.nbd.TestBytes.drain;
import static io.jrbd.protocol.nbd.TestBytes.filled;
import static io.jrbd.protocol.nbd.TestBytes.hex;
import static io.jrbd.protocol.nbd.TestBytes.hexOf;
import static io.jrbd.protocol.nbd.TestBytes.int16;
import static io.jrbd.protocol.nbd.TestBytes.int32;
import static io.jrbd.protocol.nbd.TestBytes.pattern;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.nio.ByteBuffer;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class RepliesTest {
    private static final ByteBufAllocator ALLOC = UnpooledByteBufAllocator.DEFAULT;
    private static final String COOKIE_HEX = "0102030405060708";
    private static final long COOKIE = 0x0102030405060708L;

    private static void assertBytes(String expectedHex, ByteBuf actual) {
        assertEquals(expectedHex.replaceAll("[\\s_|]", "").toLowerCase(), hexOf(drain(actual)));
    }

    @Test
    void shouldSendSixteenByteSimpleReply() {
        // magic | error 0 | cookie
        assertBytes("67446698 00000000" + COOKIE_HEX, Replies.simple(ALLOC, COOKIE, NbdError.OK));
    }

    @Test
    void shouldSendSimpleErrorReplyWithTheErrorValue() {
        assertBytes("67446698 0000001c ffffffffffffffff", Replies.simple(ALLOC, -1L, NbdError.ENOSPC));
    }

    @Test
    void shouldFollowSimpleReadHeaderWithTheData() {
        byte[] data = pattern(300);
        byte[] reply = drain(Replies.simpleRead(ALLOC, COOKIE, Unpooled.wrappedBuffer(data)));

        assertEquals(Replies.SIMPLE_HEADER_LENGTH + 300, reply.length);
        assertArrayEquals(concat(hex("67446698 00000000" + COOKIE_HEX), data), reply);
    }

    @Test
    void shouldReleaseReadDataWithTheSimpleReply() {
        ByteBuf data = Unpooled.buffer(8).writeLong(42);
        ByteBuf reply = Replies.simpleRead(ALLOC, COOKIE, data);

        assertEquals(1, data.refCnt(), "the reply took over the caller's reference");
        reply.release();
        assertEquals(0, data.refCnt());
    }

    @Test
    void shouldSendOffsetDataChunkWithOffsetBeforeTheData() {
        // magic | flags DONE | OFFSET_DATA 1 | cookie | length 8+4 | offset | data
        assertBytes("668e33ef 0001 0001" + COOKIE_HEX + "0000000c 0000000000010000 deadbeef",
                Replies.offsetData(ALLOC, COOKIE, true, 0x10000, Unpooled.wrappedBuffer(hex("deadbeef"))));
    }

    @Test
    void shouldClearDoneFlagOnNonFinalOffsetDataChunk() {
        assertBytes("668e33ef 0000 0001" + COOKIE_HEX + "00000008 8000000000000000",
                Replies.offsetData(ALLOC, COOKIE, false, Long.MIN_VALUE, Unpooled.EMPTY_BUFFER));
    }

    @Test
    void shouldSendOffsetDataOnlyFromTheDataReaderIndex() {
        ByteBuf data = Unpooled.wrappedBuffer(hex("00112233"));
        data.skipBytes(2);
        assertBytes("668e33ef 0001 0001" + COOKIE_HEX + "0000000a 0000000000000000 2233",
                Replies.offsetData(ALLOC, COOKIE, true, 0, data));
    }

    @Test
    void shouldReleaseDataWithTheOffsetDataChunk() {
        ByteBuf data = Unpooled.buffer(4).writeInt(7);
        Replies.offsetData(ALLOC, COOKIE, true, 0, data).release();
        assertEquals(0, data.refCnt());
    }

    @Test
    void shouldSendOffsetHoleWithOffsetAndSize() {
        // magic | flags 0 | OFFSET_HOLE 2 | cookie | length 12 | offset | hole size (unsigned)
        assertBytes("668e33ef 0000 0002" + COOKIE_HEX + "0000000c 0000000000000200 ffffffff",
                Replies.offsetHole(ALLOC, COOKIE, false, 512, 0xFFFFFFFF));
    }

    @Test
    void shouldSendTwentyByteNoneChunkMarkedDone() {
        assertBytes("668e33ef 0001 0000" + COOKIE_HEX + "00000000", Replies.none(ALLOC, COOKIE));
    }

    @Test
    void shouldSendErrorChunkWithErrorMessageLengthAndMessage() {
        // magic | DONE | ERROR 0x8001 | cookie | length 6+3 | EIO | 3 | "bad"
        assertBytes("668e33ef 0001 8001" + COOKIE_HEX + "00000009 00000005 0003 626164",
                Replies.errorChunk(ALLOC, COOKIE, NbdError.EIO, "bad"));
    }

    @Test
    void shouldSendErrorChunkWithEmptyMessage() {
        assertBytes("668e33ef 0001 8001" + COOKIE_HEX + "00000006 00000016 0000",
                Replies.errorChunk(ALLOC, COOKIE, NbdError.EINVAL, ""));
    }

    @Test
    void shouldKeepErrorMessageOfExactly1024Bytes() {
        byte[] message = filled(Replies.MAX_ERROR_MESSAGE, 'x');
        byte[] reply = drain(Replies.errorChunk(ALLOC, COOKIE, NbdError.EIO, new String(message, StandardCharsets.US_ASCII)));

        assertArrayEquals(concat(hex("668e33ef 0001 8001" + COOKIE_HEX), int32(6 + 1024), int32(NbdError.EIO), int16(1024), message),
                reply);
    }

    @Test
    void shouldTruncateErrorMessageTo1024Bytes() {
        String message = "y".repeat(5000);
        byte[] reply = drain(Replies.errorChunk(ALLOC, COOKIE, NbdError.EIO, message));

        assertEquals(Replies.CHUNK_HEADER_LENGTH + 6 + 1024, reply.length);
        assertArrayEquals(concat(int32(6 + 1024), int32(NbdError.EIO), int16(1024)), Arrays.copyOfRange(reply, 16, 26));
        assertArrayEquals(filled(1024, 'y'), Arrays.copyOfRange(reply, 26, reply.length));
    }

    @Test
    void shouldNotCutAMultiByteCharacterWhenTruncatingTheErrorMessage() throws Exception {
        // 1023 ASCII bytes then a 3-byte character: cutting at 1024 would leave invalid UTF-8.
        String message = "z".repeat(1023) + "€tail";
        byte[] reply = drain(Replies.errorChunk(ALLOC, COOKIE, NbdError.EIO, message));

        int n = ((reply[24] & 0xff) << 8) | (reply[25] & 0xff);
        assertEquals(1023, n, "message length must stop before the partial character");
        assertEquals(Replies.CHUNK_HEADER_LENGTH + 6 + n, reply.length);
        assertArrayEquals(int32(6 + n), Arrays.copyOfRange(reply, 16, 20));
        String sent = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .decode(ByteBuffer.wrap(reply, 26, n)).toString();
        assertEquals("z".repeat(1023), sent);
    }

    @Test
    void shouldKeepWholeMultiByteCharacterThatEndsExactlyAtTheLimit() {
        String message = "z".repeat(1021) + "€" + "more";
        byte[] reply = drain(Replies.errorChunk(ALLOC, COOKIE, NbdError.EIO, message));

        assertEquals(Replies.CHUNK_HEADER_LENGTH + 6 + 1024, reply.length);
        assertEquals("e282ac", hexOf(Arrays.copyOfRange(reply, reply.length - 3, reply.length)));
    }

    @Test
    void shouldSendBlockStatusChunkWithContextIdAndExtentPairs() {
        int[] extents = {4096, 0, 65536, NbdFlags.STATE_HOLE | NbdFlags.STATE_ZERO, 0xFFFFFFFF, NbdFlags.STATE_ZERO};
        // magic | DONE | BLOCK_STATUS 5 | cookie | length 4+3*8 | context 1 | (len, flags) x 3
        assertBytes("668e33ef 0001 0005" + COOKIE_HEX + "0000001c 00000001"
                        + "00001000 00000000" + "00010000 00000003" + "ffffffff 00000002",
                Replies.blockStatus(ALLOC, COOKIE, true, 1, extents, 3));
    }

    @Test
    void shouldSendOnlyTheFirstCountExtents() {
        int[] extents = {512, 1, 1024, 2, 777, 777};
        assertBytes("668e33ef 0000 0005" + COOKIE_HEX + "00000014 00000002" + "00000200 00000001" + "00000400 00000002",
                Replies.blockStatus(ALLOC, COOKIE, false, 2, extents, 2));
    }

    @Test
    void shouldSendBlockStatusWithoutExtentsAsContextIdOnly() {
        assertBytes("668e33ef 0001 0005" + COOKIE_HEX + "00000004 00000007",
                Replies.blockStatus(ALLOC, COOKIE, true, 7, new int[0], 0));
    }

    @Test
    void shouldRejectBlockStatusCountBeyondTheExtentsArray() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Replies.blockStatus(ALLOC, COOKIE, true, 1, new int[] {512, 0, 1024}, 2));
        assertTrue(e.getMessage().contains("extent count 2"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Replies.blockStatus(ALLOC, COOKIE, true, 1, new int[2], -1));
    }

    @Test
    void shouldUseTheDeclaredHeaderLengths() {
        assertEquals(16, Replies.SIMPLE_HEADER_LENGTH);
        assertEquals(20, Replies.CHUNK_HEADER_LENGTH);
        assertEquals(Replies.CHUNK_HEADER_LENGTH, drain(Replies.none(ALLOC, 0)).length);
        assertEquals(Replies.SIMPLE_HEADER_LENGTH, drain(Replies.simple(ALLOC, 0, 0)).length);
    }
}
