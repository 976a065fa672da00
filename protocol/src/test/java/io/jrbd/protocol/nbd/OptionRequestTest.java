package io.jrbd.protocol.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

class OptionRequestTest {
    @Test
    void shouldExposeItsPayloadAsData() {
        ByteBuf data = Unpooled.wrappedBuffer(new byte[] {1, 2, 3});
        OptionRequest r = new OptionRequest(NbdOption.GO, data);
        try {
            assertEquals(NbdOption.GO, r.option());
            assertSame(data, r.data());
            assertSame(r.content(), r.data());
        } finally {
            r.release();
        }
    }

    @Test
    void shouldReleaseItsPayloadWithItself() {
        ByteBuf data = Unpooled.buffer(1).writeByte(9);
        OptionRequest r = new OptionRequest(NbdOption.LIST, data);

        assertTrue(r.release());
        assertEquals(0, data.refCnt());
    }

    @Test
    void shouldDescribeItselfByOptionNameAndLength() {
        OptionRequest known = new OptionRequest(NbdOption.SET_META_CONTEXT, Unpooled.wrappedBuffer(new byte[5]));
        OptionRequest unknown = new OptionRequest(0xFFFFFFFF, Unpooled.EMPTY_BUFFER);
        try {
            assertEquals("SET_META_CONTEXT (5 bytes)", known.toString());
            assertEquals("option 4294967295 (0 bytes)", unknown.toString());
        } finally {
            known.release();
            unknown.release();
        }
    }
}
