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
import org.junit.jupiter.api.function.Executable;

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
        int[] codes = {1, 2, 3, 4, 10, 11, 12, 13, 20, 21, 22, 30, 31, 40, 41, 42, 43, 44, 45, 50};
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

    private static PeerMessage.State state(long size, long[] history, long outOfSyncBytes, int flags) {
        return new PeerMessage.State(PeerRole.Secondary, DiskState.UpToDate, size, 0, 0, 0, 0, 0, history,
                outOfSyncBytes, flags);
    }

    private static void rejects(String message, Executable constructor) {
        assertEquals(message, assertThrows(IllegalArgumentException.class, constructor).getMessage());
    }

    @Test
    void shouldCheckStateFields() {
        rejects("STATE role null and disk UpToDate must not be null",
                () -> new PeerMessage.State(null, DiskState.UpToDate, 0, 0, 0, 0, 0, 0, new long[4], 0, 0));
        rejects("STATE role Primary and disk null must not be null",
                () -> new PeerMessage.State(PeerRole.Primary, null, 0, 0, 0, 0, 0, 0, new long[4], 0, 0));
        rejects("STATE size 18446744073709551615 exceeds the limit of 9223372036854775807",
                () -> state(-1, new long[4], 0, 0));
        rejects("STATE history is null, must be exactly 4", () -> state(0, null, 0, 0));
        rejects("STATE history is 3 generations, must be exactly 4", () -> state(0, new long[3], 0, 0));
        rejects("STATE history is 5 generations, must be exactly 4", () -> state(0, new long[5], 0, 0));
        rejects("STATE outOfSyncBytes 18446744073709551615 exceeds the limit of 9223372036854775807",
                () -> state(0, new long[4], -1, 0));
        rejects("STATE flags 0x60 outside the known flags 0x1f", () -> state(0, new long[4], 0, 0x60));
        rejects("STATE flag JUST_CREATED with generations 0000000000000000:0000000000000000:0000000000000000:"
                + "0000000000000000:0000000000000000:0000000000000001, must all be zero",
                () -> state(0, new long[] {0, 0, 0, 1}, 0, PeerMessage.State.FLAG_JUST_CREATED));
        assertEquals(PeerMessage.State.FLAG_JUST_CREATED, state(0, new long[4], 0, 8).flags());
    }

    @Test
    void shouldNumberTheStateFlagsAsDocumented() {
        assertEquals(1, PeerMessage.State.FLAG_CRASHED_PRIMARY);
        assertEquals(2, PeerMessage.State.FLAG_DISCARD_MY_DATA);
        assertEquals(4, PeerMessage.State.FLAG_PRIMARY_AT_SPLIT);
        assertEquals(8, PeerMessage.State.FLAG_JUST_CREATED);
        assertEquals(16, PeerMessage.State.FLAG_AHEAD);
        assertEquals(0x1F, PeerMessage.State.KNOWN_FLAGS);
    }

    @Test
    void shouldKeepStateHistoryToItself() {
        long[] history = {1, 2, 3, 4};
        PeerMessage.State s = new PeerMessage.State(PeerRole.Primary, DiskState.UpToDate, 4096, 9, 1, 9,
                0xABCDEF0123456789L, 0x10, history, 512, PeerMessage.State.FLAG_PRIMARY_AT_SPLIT);
        history[0] = 99;
        s.history()[1] = 99;
        assertArrayEquals(new long[] {1, 2, 3, 4}, s.history());
        assertEquals(3, s.history(2));
        PeerMessage.State same = new PeerMessage.State(PeerRole.Primary, DiskState.UpToDate, 4096, 9, 1, 9,
                0xABCDEF0123456789L, 0x10, new long[] {1, 2, 3, 4}, 512, PeerMessage.State.FLAG_PRIMARY_AT_SPLIT);
        assertEquals(same, s);
        assertEquals(same.hashCode(), s.hashCode());
        assertNotEquals(s, new PeerMessage.State(PeerRole.Primary, DiskState.UpToDate, 4096, 9, 1, 9,
                0xABCDEF0123456789L, 0x10, new long[] {1, 2, 3, 5}, 512, PeerMessage.State.FLAG_PRIMARY_AT_SPLIT));
        assertEquals("STATE role=Primary disk=UpToDate size=4096 appliedSeq=9 journal=1..9"
                + " generations=ABCDEF0123456789:0000000000000010:0000000000000001:0000000000000002"
                + ":0000000000000003:0000000000000004 outOfSync=512 flags=0x4", s.toString());
    }

    @Test
    void shouldCheckSyncStartFields() {
        rejects("SYNC_START totalBytes 18446744073709551615 exceeds the limit of 9223372036854775807",
                () -> new PeerMessage.SyncStart(-1, true, 0));
        PeerMessage.SyncStart s = new PeerMessage.SyncStart(4096, false, 0xAB);
        assertFalse(s.full());
        assertEquals(0xAB, s.syncGeneration());
        assertEquals("SYNC_START totalBytes=4096 bitmap syncGeneration=00000000000000AB", s.toString());
    }

    @Test
    void shouldCheckOutOfSyncRuns() {
        rejects("OUT_OF_SYNC runs is null", () -> new PeerMessage.OutOfSync(null, true));
        rejects("OUT_OF_SYNC runs has 3 values, must be (offset, length) pairs",
                () -> new PeerMessage.OutOfSync(new long[3], true));
        rejects("OUT_OF_SYNC of 4097 runs exceeds the limit of 4096",
                () -> new PeerMessage.OutOfSync(new long[2 * 4097], true));
        rejects("OUT_OF_SYNC with no runs must be the last", () -> new PeerMessage.OutOfSync(new long[0], false));
        rejects("OUT_OF_SYNC run 0 at offset 0 has length -5, must be > 0",
                () -> new PeerMessage.OutOfSync(new long[] {0, -5}, true));
        rejects("OUT_OF_SYNC run 0 offset 18446744073709551615 exceeds the limit of 9223372036854775807",
                () -> new PeerMessage.OutOfSync(new long[] {-1, 5}, true));
        rejects("OUT_OF_SYNC run 1 at offset 100 starts before the end 200 of run 0: runs must be sorted and must"
                + " not overlap", () -> new PeerMessage.OutOfSync(new long[] {100, 100, 100, 100}, true));
    }

    @Test
    void shouldKeepOutOfSyncRunsToThemselves() {
        long[] runs = {0, 512, 4096, 1024};
        PeerMessage.OutOfSync m = new PeerMessage.OutOfSync(runs, false);
        runs[0] = 7;
        m.runs()[1] = 7;
        assertArrayEquals(new long[] {0, 512, 4096, 1024}, m.runs());
        assertEquals(2, m.runCount());
        assertEquals(4096, m.offset(1));
        assertEquals(1024, m.length(1));
        assertEquals(1536, m.totalBytes());
        assertThrows(IndexOutOfBoundsException.class, () -> m.offset(2));
        assertEquals(new PeerMessage.OutOfSync(new long[] {0, 512, 4096, 1024}, false), m);
        assertNotEquals(new PeerMessage.OutOfSync(new long[] {0, 512, 4096, 1024}, true), m);
        assertEquals(new PeerMessage.OutOfSync(new long[] {0, 512, 4096, 1024}, false).hashCode(), m.hashCode());
        assertEquals("OUT_OF_SYNC runs=2 bytes=1536 span=0..5120", m.toString());
        assertEquals("OUT_OF_SYNC runs=0 bytes=0 last", new PeerMessage.OutOfSync(new long[0], true).toString());
    }

    @Test
    void shouldCheckDigestRequestFields() {
        rejects("DIGEST_REQUEST block size 4095, must be a power of two from 512 to 1048576",
                () -> new PeerMessage.DigestRequest(1, 0, 4096, 4095, new byte[1]));
        rejects("DIGEST_REQUEST length 0, must be 1 to 8388608",
                () -> new PeerMessage.DigestRequest(1, 0, 0, 4096, new byte[1]));
        rejects("DIGEST_REQUEST length 4294963200, must be 1 to 8388608",
                () -> new PeerMessage.DigestRequest(1, 0, -4096, 4096, new byte[1]));
        rejects("DIGEST_REQUEST offset 9223372036854775807 + length 1 passes 9223372036854775807",
                () -> new PeerMessage.DigestRequest(1, Long.MAX_VALUE, 1, 4096, new byte[1]));
        rejects("DIGEST_REQUEST digests is null", () -> new PeerMessage.DigestRequest(1, 0, 4096, 4096, null));
        rejects("DIGEST_REQUEST digests of 0 bytes for 2 blocks, must be 2 x a digest length of 1 to 64",
                () -> new PeerMessage.DigestRequest(1, 0, 8192, 4096, new byte[0]));
        rejects("DIGEST_REQUEST digests of 3 bytes for 2 blocks, must be 2 x a digest length of 1 to 64",
                () -> new PeerMessage.DigestRequest(1, 0, 8192, 4096, new byte[3]));
        rejects("DIGEST_REQUEST digests of 130 bytes for 2 blocks, must be 2 x a digest length of 1 to 64",
                () -> new PeerMessage.DigestRequest(1, 0, 8192, 4096, new byte[130]));
    }

    @Test
    void shouldSplitDigestsByBlock() {
        byte[] digests = PeerBytes.pattern(3 * 32);
        PeerMessage.DigestRequest r = new PeerMessage.DigestRequest(9, 4096, 2 * 4096 + 100, 4096, digests);
        digests[0] ^= 1;
        assertEquals(3, r.blocks());
        assertEquals(32, r.digestLength());
        assertArrayEquals(PeerBytes.pattern(96), r.digests());
        assertArrayEquals(java.util.Arrays.copyOfRange(PeerBytes.pattern(96), 64, 96), r.digest(2));
        assertThrows(IndexOutOfBoundsException.class, () -> r.digest(3));
        assertEquals(new PeerMessage.DigestRequest(9, 4096, 2 * 4096 + 100, 4096, PeerBytes.pattern(96)), r);
        assertEquals("DIGEST_REQUEST id=9 offset=4096 length=8292 blockSize=4096 blocks=3 digestLength=32",
                r.toString());
    }

    @Test
    void shouldCheckDigestReplyFields() {
        rejects("DIGEST_REPLY block size 2097152, must be a power of two from 512 to 1048576",
                () -> new PeerMessage.DigestReply(1, 0, 4096, 2 << 20, new byte[1]));
        rejects("DIGEST_REPLY length 8388609, must be 1 to 8388608",
                () -> new PeerMessage.DigestReply(1, 0, (8 << 20) + 1, 512, new byte[2049]));
        rejects("DIGEST_REPLY differ is null, must be exactly 2 for 9 blocks",
                () -> new PeerMessage.DigestReply(1, 0, 9 * 512, 512, null));
        rejects("DIGEST_REPLY differ is 1 bytes, must be exactly 2 for 9 blocks",
                () -> new PeerMessage.DigestReply(1, 0, 9 * 512, 512, new byte[1]));
        rejects("DIGEST_REPLY differ has bits 0x80 set past block 8 in its last byte, must be 0",
                () -> new PeerMessage.DigestReply(1, 0, 9 * 512, 512, new byte[] {0, (byte) 0x81}));
        rejects("DIGEST_REPLY block 9 marked differing, outside 0..8",
                () -> PeerMessage.DigestReply.of(1, 0, 9 * 512, 512, java.util.BitSet.valueOf(new long[] {1L << 9})));
    }

    @Test
    void shouldReadDigestReplyBits() {
        java.util.BitSet differing = new java.util.BitSet();
        differing.set(0);
        differing.set(8);
        differing.set(15);
        PeerMessage.DigestReply r = PeerMessage.DigestReply.of(4, 0, 16 * 4096, 4096, differing);
        assertArrayEquals(new byte[] {0x01, (byte) 0x81}, r.differ());
        assertEquals(16, r.blocks());
        assertEquals(3, r.differingBlocks());
        assertTrue(r.differs(15));
        assertFalse(r.differs(14));
        assertThrows(IndexOutOfBoundsException.class, () -> r.differs(16));
        assertThrows(IndexOutOfBoundsException.class, () -> r.differs(-1));
        r.differ()[0] = 0;
        assertTrue(r.differs(0), "the message keeps its own bits");
        assertEquals(new PeerMessage.DigestReply(4, 0, 16 * 4096, 4096, new byte[] {0x01, (byte) 0x81}), r);
        assertEquals("DIGEST_REPLY id=4 offset=0 length=65536 blockSize=4096 differing=3/16", r.toString());
        assertEquals(0, PeerMessage.DigestReply.of(4, 0, 100, 512, new java.util.BitSet()).differingBlocks());
    }

    @Test
    void shouldCapInvalidateRequestReasons() {
        rejects("INVALIDATE_REQUEST reason of 1025 bytes exceeds the limit of 1024; use InvalidateRequest.truncating",
                () -> new PeerMessage.InvalidateRequest("x".repeat(1025)));
        rejects("INVALIDATE_REQUEST reason is null", () -> new PeerMessage.InvalidateRequest(null));
        assertEquals(1024, utf8(PeerMessage.InvalidateRequest.truncating("x".repeat(5000)).reason()).length);
        assertEquals("InvalidateRequest[reason=admin]", new PeerMessage.InvalidateRequest("admin").toString());
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
