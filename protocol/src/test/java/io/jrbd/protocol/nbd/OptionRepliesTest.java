package io.jrbd.protocol.nbd;

import static io.jrbd.protocol.nbd.TestBytes.ascii;
import static io.jrbd.protocol.nbd.TestBytes.concat;
import static io.jrbd.protocol.nbd.TestBytes.drain;
import static io.jrbd.protocol.nbd.TestBytes.hex;
import static io.jrbd.protocol.nbd.TestBytes.hexOf;
import static io.jrbd.protocol.nbd.TestBytes.pattern;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.junit.jupiter.api.Test;

class OptionRepliesTest {
    private static final ByteBufAllocator ALLOC = UnpooledByteBufAllocator.DEFAULT;
    private static final String REPLY_MAGIC = "0003e889045565a9";

    private static void assertBytes(String expectedHex, ByteBuf actual) {
        assertEquals(expectedHex.replaceAll("[\\s_|]", "").toLowerCase(), hexOf(drain(actual)));
    }

    @Test
    void shouldSendEighteenByteGreetingWithFixedNewstyleAndNoZeroes() {
        byte[] greeting = drain(OptionReplies.greeting(ALLOC));

        assertEquals(18, greeting.length);
        assertArrayEquals(concat(ascii("NBDMAGIC"), ascii("IHAVEOPT"), hex("0003")), greeting);
    }

    @Test
    void shouldAckWithTwentyByteHeaderAndNoData() {
        // magic | option GO (7) | ACK (1) | length 0
        assertBytes(REPLY_MAGIC + "00000007 00000001 00000000", OptionReplies.ack(ALLOC, NbdOption.GO));
    }

    @Test
    void shouldEchoTheOptionCodeVerbatim() {
        assertBytes(REPLY_MAGIC + "ffffffff 00000001 00000000", OptionReplies.ack(ALLOC, 0xFFFFFFFF));
    }

    @Test
    void shouldSendErrorWithTypeBit31AndItsMessage() {
        // option 42 | ERR_UNSUP 0x80000001 | length 3 | "no!"
        assertBytes(REPLY_MAGIC + "0000002a 80000001 00000003 6e6f21",
                OptionReplies.error(ALLOC, 42, NbdOptionReply.ERR_UNSUP, "no!"));
    }

    @Test
    void shouldCountErrorMessageLengthInUtf8Bytes() {
        // "é" is two bytes in UTF-8: the length field must say 2, not 1.
        assertBytes(REPLY_MAGIC + "00000006 80000006 00000002 c3a9",
                OptionReplies.error(ALLOC, NbdOption.INFO, NbdOptionReply.ERR_UNKNOWN, "é"));
    }

    @Test
    void shouldSendErrorWithEmptyMessage() {
        assertBytes(REPLY_MAGIC + "00000003 80000003 00000000",
                OptionReplies.error(ALLOC, NbdOption.LIST, NbdOptionReply.ERR_INVALID, ""));
    }

    @Test
    void shouldSendServerEntryWithNameLengthNameAndDescription() {
        // LIST (3) | SERVER (2) | length 4+4+3 | name length 4 | "disk" | "abc"
        assertBytes(REPLY_MAGIC + "00000003 00000002 0000000b 00000004 6469736b 616263",
                OptionReplies.server(ALLOC, NbdOption.LIST, "disk", "abc"));
    }

    @Test
    void shouldSendServerEntryWithoutDescription() {
        assertBytes(REPLY_MAGIC + "00000003 00000002 00000004 00000000",
                OptionReplies.server(ALLOC, NbdOption.LIST, "", ""));
    }

    @Test
    void shouldSendInfoExportOfTwelveBytes() {
        // GO | INFO (3) | length 12 | INFO_EXPORT 0 | size 8 | transmission flags 2
        assertBytes(REPLY_MAGIC + "00000007 00000003 0000000c 0000 0000000040000000 018d",
                OptionReplies.infoExport(ALLOC, NbdOption.GO, 1L << 30,
                        NbdFlags.HAS_FLAGS | NbdFlags.SEND_FLUSH | NbdFlags.SEND_FUA | NbdFlags.SEND_DF | NbdFlags.CAN_MULTI_CONN));
    }

    @Test
    void shouldWriteExportSizeAsUnsigned64Bits() {
        byte[] reply = drain(OptionReplies.infoExport(ALLOC, NbdOption.INFO, -1L, 0xFFFF));

        assertEquals(32, reply.length);
        assertEquals("ffffffffffffffff" + "ffff", hexOf(reply).substring(44));
    }

    @Test
    void shouldSendInfoNameAsTypeThenText() {
        // INFO (6) | INFO (3) | length 2+4 | INFO_NAME 1 | "disk"
        assertBytes(REPLY_MAGIC + "00000006 00000003 00000006 0001 6469736b",
                OptionReplies.infoText(ALLOC, NbdOption.INFO, NbdOption.INFO_NAME, "disk"));
    }

    @Test
    void shouldSendInfoDescriptionCountingUtf8Bytes() {
        assertBytes(REPLY_MAGIC + "00000007 00000003 00000005 0002 e282ac",
                OptionReplies.infoText(ALLOC, NbdOption.GO, NbdOption.INFO_DESCRIPTION, "€"));
    }

    @Test
    void shouldSendInfoBlockSizeOfFourteenBytes() {
        // GO | INFO | length 14 | INFO_BLOCK_SIZE 3 | min 512 | preferred 4096 | max 32 MiB
        assertBytes(REPLY_MAGIC + "00000007 00000003 0000000e 0003 00000200 00001000 02000000",
                OptionReplies.infoBlockSize(ALLOC, NbdOption.GO, 512, 4096, 32 << 20));
    }

    @Test
    void shouldSendMetaContextWithIdAndName() {
        // SET_META_CONTEXT (10) | META_CONTEXT (4) | length 4+15 | id 1 | "base:allocation"
        assertBytes(REPLY_MAGIC + "0000000a 00000004 00000013 00000001 626173653a616c6c6f636174696f6e",
                OptionReplies.metaContext(ALLOC, NbdOption.SET_META_CONTEXT, 1, "base:allocation"));
    }

    @Test
    void shouldSendTenByteExportNameReplyWhenNoZeroesWasNegotiated() {
        byte[] reply = drain(OptionReplies.exportName(ALLOC, 0x0000000100000000L, NbdFlags.HAS_FLAGS | NbdFlags.READ_ONLY, true));

        assertEquals(10, reply.length);
        assertArrayEquals(hex("0000000100000000 0003"), reply);
    }

    @Test
    void shouldPadExportNameReplyWith124ZeroesByDefault() {
        byte[] reply = drain(OptionReplies.exportName(ALLOC, 4096, NbdFlags.HAS_FLAGS, false));

        assertEquals(134, reply.length);
        assertArrayEquals(concat(hex("0000000000001000 0001"), new byte[124]), reply);
    }

    @Test
    void shouldNotWrapExportNameReplyInAnOptionReplyHeader() {
        byte[] reply = drain(OptionReplies.exportName(ALLOC, 0x0003e889045565a9L, 0, true));
        // The first 8 bytes are the size, whatever it is, and nothing precedes it.
        assertArrayEquals(hex(REPLY_MAGIC + "0000"), reply);
    }

    @Test
    void shouldPreviewShortPayloadInFull() {
        ByteBuf data = Unpooled.wrappedBuffer(hex("0102ff"));
        try {
            assertEquals("0102ff", OptionReplies.preview(data));
            assertEquals(0, data.readerIndex(), "preview must not consume the payload");
        } finally {
            data.release();
        }
    }

    @Test
    void shouldPreviewFirst32BytesFromTheReaderIndexAndMarkTheRest() {
        ByteBuf data = Unpooled.wrappedBuffer(pattern(40));
        try {
            data.skipBytes(2);
            String preview = OptionReplies.preview(data);
            assertEquals(hexOf(java.util.Arrays.copyOfRange(pattern(40), 2, 34)) + "...", preview);
            assertEquals(2, data.readerIndex());
        } finally {
            data.release();
        }
    }

    @Test
    void shouldPreviewExactly32BytesWithoutEllipsis() {
        ByteBuf data = Unpooled.wrappedBuffer(pattern(32));
        try {
            assertEquals(hexOf(pattern(32)), OptionReplies.preview(data));
        } finally {
            data.release();
        }
    }

    @Test
    void shouldPreviewEmptyPayloadAsEmptyString() {
        assertEquals("", OptionReplies.preview(Unpooled.EMPTY_BUFFER));
    }
}
