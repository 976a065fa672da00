package io.jrbd.protocol.peer;

import static io.jrbd.protocol.peer.PeerBytes.counting;
import static io.jrbd.protocol.peer.PeerBytes.utf8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** What the message constructors and the enums promise, independently of the codec. */
class PeerMessageTest {
    @Test
    void shouldSpellRolesAndDiskStatesAsDrbdDoes() {
        assertEquals("Secondary", PeerRole.Secondary.name());
        assertEquals("Primary", PeerRole.Primary.name());
        String[] drbd = {"Diskless", "Attaching", "Inconsistent", "Outdated", "Consistent", "UpToDate"};
        for (int code = 0; code < drbd.length; code++) {
            DiskState s = DiskState.ofCode(code);
            assertEquals(drbd[code], s.name());
            assertEquals(code, s.code());
            assertSame(s, DiskState.valueOf(drbd[code]));
        }
        assertEquals(0, PeerRole.Secondary.code());
        assertEquals(1, PeerRole.Primary.code());
    }

    @Test
    void shouldReturnNullForUnknownCodes() {
        assertNull(DiskState.ofCode(6));
        assertNull(DiskState.ofCode(-1));
        assertNull(PeerRole.ofCode(2));
        assertNull(PeerMessageType.ofCode(0));
        assertNull(PeerMessageType.ofCode(5));
        assertNull(PeerMessageType.ofCode(51));
        assertNull(PeerMessageType.ofCode(0xFFFF));
    }

    @Test
    void shouldKeepTheWireCodesOfEveryType() {
        int[] codes = {1, 2, 3, 4, 10, 11, 12, 13, 20, 21, 22, 30, 31, 40, 41, 50};
        PeerMessageType[] types = PeerMessageType.values();
        assertEquals(codes.length, types.length);
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < codes.length; i++) {
            assertEquals(codes[i], types[i].code(), types[i].name());
            assertSame(types[i], PeerMessageType.ofCode(codes[i]));
            assertTrue(seen.add(codes[i]));
        }
    }

    @Test
    void shouldAllowOnlyHandshakeMessagesBeforeAuth() {
        for (PeerMessageType t : PeerMessageType.values()) {
            boolean handshake = t == PeerMessageType.HELLO || t == PeerMessageType.AUTH
                    || t == PeerMessageType.AUTH_OK || t == PeerMessageType.GOODBYE;
            assertEquals(handshake, t.allowedBeforeAuth(), t.name());
        }
    }

    @Test
    void shouldCheckHelloFields() {
        assertThrows(IllegalArgumentException.class, () -> new PeerMessage.Hello("r0", "a", new byte[31]));
        assertThrows(IllegalArgumentException.class, () -> new PeerMessage.Hello("r0", "a", null));
        assertThrows(IllegalArgumentException.class, () -> new PeerMessage.Hello("", "a", counting(32)));
        assertThrows(IllegalArgumentException.class, () -> new PeerMessage.Hello("r0", "é".repeat(128), counting(32)),
                "256 bytes of UTF-8 although only 128 characters");
        assertThrows(IllegalArgumentException.class, () -> new PeerMessage.Hello("r0", "a\0b", counting(32)));
        assertThrows(IllegalArgumentException.class, () -> new PeerMessage.Hello("r0", "\ud800", counting(32)));
        assertThrows(IllegalArgumentException.class, () -> new PeerMessage.Hello(0, "r0", "a", counting(32)));
        assertThrows(IllegalArgumentException.class, () -> new PeerMessage.Hello(0x10000, "r0", "a", counting(32)));
        assertEquals(PeerWire.PROTOCOL_VERSION, new PeerMessage.Hello("r0", "a", counting(32)).protocolVersion());
    }

    @Test
    void shouldNotLetCallersChangeAMessageThroughItsArrays() {
        byte[] nonce = counting(32);
        PeerMessage.Hello hello = new PeerMessage.Hello("r0", "a", nonce);
        nonce[0] = 99;
        hello.nonce()[1] = 99;
        assertArrayEquals(counting(32), hello.nonce());
        byte[] hmac = counting(32);
        PeerMessage.Auth auth = new PeerMessage.Auth(hmac);
        hmac[0] = 99;
        assertArrayEquals(counting(32), auth.hmac());
        assertEquals(new PeerMessage.Auth(counting(32)), auth);
        assertEquals(new PeerMessage.Auth(counting(32)).hashCode(), auth.hashCode());
        assertFalse(auth.toString().contains("0"), "AUTH must not print the proof: " + auth);
    }

    @Test
    void shouldCheckStateFields() {
        assertThrows(IllegalArgumentException.class,
                () -> new PeerMessage.State(null, DiskState.UpToDate, 0, 0, 0, 0, 0, 0));
        assertThrows(IllegalArgumentException.class,
                () -> new PeerMessage.State(PeerRole.Primary, null, 0, 0, 0, 0, 0, 0));
        assertThrows(IllegalArgumentException.class,
                () -> new PeerMessage.State(PeerRole.Primary, DiskState.UpToDate, -1, 0, 0, 0, 0, 0));
    }

    @Test
    void shouldCheckRangesAndFlags() {
        ByteBuf four = Unpooled.wrappedBuffer(new byte[4]);
        assertThrows(IllegalArgumentException.class, () -> new PeerMessage.Data(1, -1, 0, four));
        assertThrows(IllegalArgumentException.class, () -> new PeerMessage.Data(1, Long.MAX_VALUE - 3, 0, four));
        assertThrows(IllegalArgumentException.class, () -> new PeerMessage.Data(1, 0, 4, four));
        assertThrows(IllegalArgumentException.class, () -> new PeerMessage.Data(1, 0, 0, null));
        assertEquals(1, four.refCnt(), "a rejected buffer stays the caller's");
        four.release();
        assertThrows(IllegalArgumentException.class, () -> new PeerMessage.Trim(1, 0, -1));
        assertThrows(IllegalArgumentException.class, () -> new PeerMessage.Trim(1, Long.MAX_VALUE, 1));
        assertThrows(IllegalArgumentException.class, () -> new PeerMessage.Zeroes(1, 0, 1, 4));
        assertThrows(IllegalArgumentException.class, () -> new PeerMessage.SyncStart(-1));
    }

    @Test
    void shouldRejectDataLargerThanOneFrame() {
        ByteBuf tooBig = Unpooled.buffer(PeerWire.MAX_DATA_LENGTH + 1).writerIndex(PeerWire.MAX_DATA_LENGTH + 1);
        try {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new PeerMessage.Data(1, 0, 0, tooBig));
            assertTrue(e.getMessage().contains(String.valueOf(PeerWire.MAX_DATA_LENGTH)), e.getMessage());
        } finally {
            tooBig.release();
        }
    }

    @Test
    void shouldKeepDataTypeThroughDerivedCopies() {
        PeerMessage.Data data = new PeerMessage.Data(3, 512, PeerWire.DATA_FUA, Unpooled.wrappedBuffer(new byte[] {1, 2}));
        PeerMessage.Data copy = data.copy();
        PeerMessage.Data dup = data.retainedDuplicate();
        try {
            assertEquals(data, copy);
            assertEquals(data, dup);
            assertEquals(3, copy.seq());
            assertEquals(512, dup.offset());
            assertTrue(dup.hasFlag(PeerWire.DATA_FUA));
            assertEquals(2, data.refCnt(), "the retained duplicate shares the count");
            assertNotEquals(data, new PeerMessage.Data(4, 512, PeerWire.DATA_FUA, Unpooled.EMPTY_BUFFER));
            assertFalse(data.toString().contains("content"), data.toString());
        } finally {
            copy.release();
            dup.release();
            data.release();
        }
        assertEquals(0, data.refCnt());
    }

    @Test
    void shouldCapGoodbyeReasons() {
        assertThrows(IllegalArgumentException.class, () -> new PeerMessage.Goodbye("x".repeat(1025)));
        assertThrows(IllegalArgumentException.class, () -> new PeerMessage.Goodbye(null));
        assertEquals(1024, utf8(PeerMessage.Goodbye.truncating("x".repeat(5000)).reason()).length);
        // 2-byte characters: cut before a character, never inside one.
        String cut = PeerMessage.Goodbye.truncating("x" + "é".repeat(600)).reason();
        assertEquals(1023, utf8(cut).length);
        assertTrue(cut.endsWith("é"));
        assertEquals("short", PeerMessage.Goodbye.truncating("short").reason());
        assertEquals("?", PeerMessage.Goodbye.truncating("\ud800").reason());
        assertEquals("null", PeerMessage.Goodbye.truncating(null).reason());
    }
}
