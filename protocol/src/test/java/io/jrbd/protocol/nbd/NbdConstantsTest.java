package io.jrbd.protocol.nbd;

import static io.jrbd.protocol.nbd.TestBytes.ascii;
import static io.jrbd.protocol.nbd.TestBytes.int64;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The protocol numbers against the values written in the NBD spec (doc/proto.md). */
class NbdConstantsTest {
    @Test
    void shouldSpellTheHandshakeMagicsInAscii() {
        assertArrayEquals(ascii("NBDMAGIC"), int64(NbdMagic.NBDMAGIC));
        assertArrayEquals(ascii("IHAVEOPT"), int64(NbdMagic.IHAVEOPT));
    }

    @Test
    void shouldUseTheSpecMagicNumbers() {
        assertEquals(0x0003e889045565a9L, NbdMagic.OPTION_REPLY);
        assertEquals(0x25609513, NbdMagic.REQUEST);
        assertEquals(0x67446698, NbdMagic.SIMPLE_REPLY);
        assertEquals(0x668e33ef, NbdMagic.STRUCTURED_REPLY);
    }

    @ParameterizedTest
    @CsvSource({"0, READ", "1, WRITE", "2, DISC", "3, FLUSH", "4, TRIM", "5, CACHE", "6, WRITE_ZEROES",
            "7, BLOCK_STATUS", "8, command 8", "65535, command 65535"})
    void shouldNameCommandsBySpecNumber(int type, String name) {
        assertEquals(name, NbdCommand.name(type));
    }

    @Test
    void shouldNumberCommandsAsTheSpec() {
        assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 6, 7}, new int[] {NbdCommand.READ, NbdCommand.WRITE, NbdCommand.DISC,
                NbdCommand.FLUSH, NbdCommand.TRIM, NbdCommand.CACHE, NbdCommand.WRITE_ZEROES, NbdCommand.BLOCK_STATUS});
    }

    @ParameterizedTest
    @CsvSource({"0, OK", "1, EPERM", "5, EIO", "12, ENOMEM", "22, EINVAL", "28, ENOSPC", "75, EOVERFLOW",
            "95, ENOTSUP", "108, ESHUTDOWN", "2, error 2", "-1, error -1"})
    void shouldNameErrorsByTheirErrnoValue(int error, String name) {
        assertEquals(name, NbdError.name(error));
    }

    @ParameterizedTest
    @CsvSource({"1, EXPORT_NAME", "2, ABORT", "3, LIST", "4, PEEK_EXPORT", "5, STARTTLS", "6, INFO", "7, GO",
            "8, STRUCTURED_REPLY", "9, LIST_META_CONTEXT", "10, SET_META_CONTEXT", "11, EXTENDED_HEADERS",
            "0, option 0", "12, option 12", "-1, option 4294967295"})
    void shouldNameOptionsBySpecNumberAndUnknownOnesUnsigned(int option, String name) {
        assertEquals(name, NbdOption.name(option));
    }

    @Test
    void shouldNumberInfoTypesAsTheSpec() {
        assertArrayEquals(new int[] {0, 1, 2, 3},
                new int[] {NbdOption.INFO_EXPORT, NbdOption.INFO_NAME, NbdOption.INFO_DESCRIPTION, NbdOption.INFO_BLOCK_SIZE});
    }

    @Test
    void shouldSetBit31OnEveryOptionErrorReplyAndOnNothingElse() {
        int[] errors = {NbdOptionReply.ERR_UNSUP, NbdOptionReply.ERR_POLICY, NbdOptionReply.ERR_INVALID,
                NbdOptionReply.ERR_PLATFORM, NbdOptionReply.ERR_TLS_REQD, NbdOptionReply.ERR_UNKNOWN,
                NbdOptionReply.ERR_SHUTDOWN, NbdOptionReply.ERR_BLOCK_SIZE_REQD, NbdOptionReply.ERR_TOO_BIG};
        for (int i = 0; i < errors.length; i++) {
            assertEquals(0x80000000L + i + 1, Integer.toUnsignedLong(errors[i]), "error reply #" + (i + 1));
            assertTrue(NbdOptionReply.isError(errors[i]));
        }
        for (int ok : new int[] {NbdOptionReply.ACK, NbdOptionReply.SERVER, NbdOptionReply.INFO, NbdOptionReply.META_CONTEXT}) {
            assertFalse(NbdOptionReply.isError(ok), "reply type " + ok);
        }
        assertArrayEquals(new int[] {1, 2, 3, 4}, new int[] {NbdOptionReply.ACK, NbdOptionReply.SERVER,
                NbdOptionReply.INFO, NbdOptionReply.META_CONTEXT});
    }

    @Test
    void shouldNumberChunkTypesAsTheSpec() {
        assertEquals(0, ChunkType.NONE);
        assertEquals(1, ChunkType.OFFSET_DATA);
        assertEquals(2, ChunkType.OFFSET_HOLE);
        assertEquals(5, ChunkType.BLOCK_STATUS);
        assertEquals(32769, ChunkType.ERROR);
        assertEquals(32770, ChunkType.ERROR_OFFSET);
    }

    @Test
    void shouldPlaceTransmissionFlagsOnTheSpecBits() {
        int[] flags = {NbdFlags.HAS_FLAGS, NbdFlags.READ_ONLY, NbdFlags.SEND_FLUSH, NbdFlags.SEND_FUA, NbdFlags.ROTATIONAL,
                NbdFlags.SEND_TRIM, NbdFlags.SEND_WRITE_ZEROES, NbdFlags.SEND_DF, NbdFlags.CAN_MULTI_CONN,
                NbdFlags.SEND_RESIZE, NbdFlags.SEND_CACHE, NbdFlags.SEND_FAST_ZERO};
        for (int bit = 0; bit < flags.length; bit++) {
            assertEquals(1 << bit, flags[bit], "transmission flag on bit " + bit);
        }
    }

    @Test
    void shouldPlaceCommandHandshakeAndStatusFlagsOnTheSpecBits() {
        assertArrayEquals(new int[] {1, 2, 4, 8, 16}, new int[] {NbdFlags.CMD_FUA, NbdFlags.CMD_NO_HOLE, NbdFlags.CMD_DF,
                NbdFlags.CMD_REQ_ONE, NbdFlags.CMD_FAST_ZERO});
        assertArrayEquals(new int[] {1, 2, 1, 2, 3}, new int[] {NbdFlags.FIXED_NEWSTYLE, NbdFlags.NO_ZEROES,
                NbdFlags.C_FIXED_NEWSTYLE, NbdFlags.C_NO_ZEROES, NbdFlags.KNOWN_CLIENT_FLAGS});
        assertEquals(1, NbdFlags.REPLY_DONE);
        assertArrayEquals(new int[] {1, 2}, new int[] {NbdFlags.STATE_HOLE, NbdFlags.STATE_ZERO});
    }

    @Test
    void shouldCarryTheMessageInMalformedOptionException() {
        MalformedOptionException e = new MalformedOptionException("name of 9 bytes runs past the payload");
        assertEquals("name of 9 bytes runs past the payload", e.getMessage());
    }
}
