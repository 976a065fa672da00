package io.jrbd.protocol.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

class NbdRequestTest {
    @Test
    void shouldCarryNoPayloadWhenBuiltWithoutOne() {
        NbdRequest r = NbdRequest.withoutPayload(NbdFlags.CMD_FUA, NbdCommand.FLUSH, 5, 0, 0);

        assertEquals(0, r.content().readableBytes());
        assertFalse(r.payloadDropped());
        assertEquals(NbdCommand.FLUSH, r.type());
        assertEquals(5, r.cookie());
        r.release();
    }

    @Test
    void shouldReportEachFlagSeparately() {
        NbdRequest r = NbdRequest.withoutPayload(NbdFlags.CMD_FUA | NbdFlags.CMD_NO_HOLE, NbdCommand.WRITE_ZEROES, 0, 0, 0);

        assertTrue(r.hasFlag(NbdFlags.CMD_FUA));
        assertTrue(r.hasFlag(NbdFlags.CMD_NO_HOLE));
        assertFalse(r.hasFlag(NbdFlags.CMD_FAST_ZERO));
        assertFalse(r.hasFlag(NbdFlags.CMD_DF));
        assertEquals(NbdFlags.CMD_FUA | NbdFlags.CMD_NO_HOLE, r.flags());
        r.release();
    }

    @Test
    void shouldOwnAndReleaseItsPayload() {
        ByteBuf payload = Unpooled.buffer(4).writeInt(1);
        NbdRequest r = new NbdRequest(0, NbdCommand.WRITE, 1, 0, 4, payload, false);

        assertSame(payload, r.content());
        assertTrue(r.release());
        assertEquals(0, payload.refCnt());
    }

    @Test
    void shouldShowUnsignedValuesInToString() {
        NbdRequest r = NbdRequest.withoutPayload(0x11, NbdCommand.READ, -1L, Long.MIN_VALUE, 0xFFFFFFFFL);

        assertEquals("READ cookie=ffffffffffffffff offset=9223372036854775808 length=4294967295 flags=0x11", r.toString());
        r.release();
    }

    @Test
    void shouldNameUnknownCommandTypesByNumberInToString() {
        NbdRequest r = NbdRequest.withoutPayload(0, 0xFFFF, 0, 0, 0);

        assertTrue(r.toString().startsWith("command 65535 "), r.toString());
        r.release();
    }

    @Test
    void shouldMarkDroppedPayload() {
        NbdRequest r = new NbdRequest(0, NbdCommand.WRITE, 2, 512, 1L << 31, Unpooled.EMPTY_BUFFER, true);

        assertTrue(r.payloadDropped());
        assertEquals(1L << 31, r.length());
        assertEquals(512, r.offset());
        r.release();
    }
}
