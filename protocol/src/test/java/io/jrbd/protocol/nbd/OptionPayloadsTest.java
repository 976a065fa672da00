package io.jrbd.protocol.nbd;

import static io.jrbd.protocol.nbd.TestBytes.ascii;
import static io.jrbd.protocol.nbd.TestBytes.concat;
import static io.jrbd.protocol.nbd.TestBytes.filled;
import static io.jrbd.protocol.nbd.TestBytes.hex;
import static io.jrbd.protocol.nbd.TestBytes.int16;
import static io.jrbd.protocol.nbd.TestBytes.int32;
import static io.jrbd.protocol.nbd.TestBytes.utf8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class OptionPayloadsTest {
    private interface Parser<T> {
        T parse(ByteBuf data) throws MalformedOptionException;
    }

    private static <T> T parse(Parser<T> parser, byte[] payload) throws MalformedOptionException {
        ByteBuf data = Unpooled.wrappedBuffer(payload);
        try {
            return parser.parse(data);
        } finally {
            data.release();
        }
    }

    private static OptionPayloads.InfoRequest info(byte[] payload) throws MalformedOptionException {
        return parse(OptionPayloads::parseInfo, payload);
    }

    private static OptionPayloads.MetaContextRequest meta(byte[] payload) throws MalformedOptionException {
        return parse(OptionPayloads::parseMetaContext, payload);
    }

    private static MalformedOptionException infoFails(byte[] payload) {
        return assertThrows(MalformedOptionException.class, () -> info(payload));
    }

    private static MalformedOptionException metaFails(byte[] payload) {
        return assertThrows(MalformedOptionException.class, () -> meta(payload));
    }

    private static void assertMentions(Exception e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "message '" + e.getMessage() + "' should mention " + part);
        }
    }

    /** Length-prefixed string. */
    private static byte[] str(byte[] bytes) {
        return concat(int32(bytes.length), bytes);
    }

    private static byte[] str(String s) {
        return str(utf8(s));
    }

    // ---- INFO / GO ----

    @Test
    void shouldParseInfoWithoutInformationRequests() throws Exception {
        // name length 4, "disk", count 0
        OptionPayloads.InfoRequest r = info(hex("00000004 6469736b 0000"));

        assertEquals("disk", r.exportName());
        assertEquals(0, r.infoTypes().length);
        assertFalse(r.asks(NbdOption.INFO_EXPORT));
    }

    @Test
    void shouldParseInfoWithSeveralInformationRequests() throws Exception {
        // empty (default) export name, three requests: BLOCK_SIZE, NAME, DESCRIPTION
        OptionPayloads.InfoRequest r = info(hex("00000000 0003 0003 0001 0002"));

        assertEquals("", r.exportName());
        assertArrayEquals(new int[] {NbdOption.INFO_BLOCK_SIZE, NbdOption.INFO_NAME, NbdOption.INFO_DESCRIPTION}, r.infoTypes());
        assertTrue(r.asks(NbdOption.INFO_BLOCK_SIZE));
        assertTrue(r.asks(NbdOption.INFO_NAME));
        assertFalse(r.asks(NbdOption.INFO_EXPORT));
    }

    @Test
    void shouldParseInfoWithOneInformationRequest() throws Exception {
        OptionPayloads.InfoRequest r = info(concat(str("vm-1"), int16(1), int16(NbdOption.INFO_BLOCK_SIZE)));

        assertEquals("vm-1", r.exportName());
        assertArrayEquals(new int[] {NbdOption.INFO_BLOCK_SIZE}, r.infoTypes());
    }

    @Test
    void shouldKeepUnknownInformationTypesUnsigned() throws Exception {
        OptionPayloads.InfoRequest r = info(hex("00000000 0002 ffff 8000"));

        assertArrayEquals(new int[] {0xFFFF, 0x8000}, r.infoTypes());
        assertTrue(r.asks(0xFFFF));
    }

    @Test
    void shouldParseInfoWithUtf8ExportName() throws Exception {
        assertEquals("dísk-ü€", info(concat(str("dísk-ü€"), int16(0))).exportName());
    }

    @Test
    void shouldRejectEmptyInfoPayload() {
        assertMentions(infoFails(new byte[0]), "export name");
    }

    @Test
    void shouldRejectInfoWhoseNameLengthIsCutShort() {
        infoFails(hex("000000"));
    }

    @Test
    void shouldRejectInfoWhenNameRunsPastThePayload() {
        // claims 5 name bytes, then only 4 bytes follow
        assertMentions(infoFails(hex("00000005 6469736b")), "5", "runs past");
    }

    @Test
    void shouldRejectInfoWhenNameLengthIsAbsurdWithoutAllocatingIt() {
        assertMentions(infoFails(hex("ffffffff 0000")), "4294967295", "4096");
    }

    @Test
    void shouldRejectInfoWithoutInformationCount() {
        assertMentions(infoFails(str("disk")), "count");
    }

    @Test
    void shouldRejectInfoWithHalfACount() {
        infoFails(concat(str("disk"), hex("00")));
    }

    @Test
    void shouldRejectInfoThatAnnouncesMoreRequestsThanItCarries() {
        assertMentions(infoFails(concat(str("disk"), int16(2), int16(0))), "2", "2 bytes");
    }

    @Test
    void shouldRejectInfoWithTrailingBytesAfterItsRequests() {
        assertMentions(infoFails(concat(str("disk"), int16(1), int16(0), hex("00"))), "1", "3 bytes");
    }

    @Test
    void shouldRejectInfoWithMaximumCountAndFewBytes() {
        assertMentions(infoFails(concat(str(""), int16(0xFFFF), int16(0))), "65535");
    }

    @Test
    void shouldRejectInfoWithOddTrailingByteAndZeroCount() {
        infoFails(concat(str("a"), int16(0), hex("ff")));
    }

    @ParameterizedTest
    @ValueSource(strings = {"ff", "c328", "c0af", "eda080", "e282", "f8888080 80"})
    void shouldRejectExportNameThatIsNotUtf8(String badName) {
        MalformedOptionException e = infoFails(concat(str(hex(badName)), int16(0)));
        assertMentions(e, "UTF-8");
    }

    @Test
    void shouldAcceptExportNameOfExactlyTheMaximumLength() throws Exception {
        byte[] name = filled(OptionPayloads.MAX_STRING_LENGTH, 'n');
        assertEquals(OptionPayloads.MAX_STRING_LENGTH, info(concat(str(name), int16(0))).exportName().length());
    }

    @Test
    void shouldRejectExportNameOneByteOverTheMaximumLength() {
        byte[] name = filled(OptionPayloads.MAX_STRING_LENGTH + 1, 'n');
        assertMentions(infoFails(concat(str(name), int16(0))), "4097", "4096");
    }

    // ---- LIST_META_CONTEXT / SET_META_CONTEXT ----

    @Test
    void shouldParseMetaContextWithoutQueries() throws Exception {
        // name "disk", query count 0
        OptionPayloads.MetaContextRequest r = meta(hex("00000004 6469736b 00000000"));

        assertEquals("disk", r.exportName());
        assertEquals(List.of(), r.queries());
    }

    @Test
    void shouldParseMetaContextWithOneQueryFromSpecBytes() throws Exception {
        // name "", 1 query, length 15, "base:allocation"
        OptionPayloads.MetaContextRequest r = meta(hex("00000000 00000001 0000000f 626173653a616c6c6f636174696f6e"));

        assertEquals("", r.exportName());
        assertEquals(List.of("base:allocation"), r.queries());
    }

    @Test
    void shouldParseMetaContextWithSeveralQueriesInOrder() throws Exception {
        OptionPayloads.MetaContextRequest r = meta(concat(str("disk"), int32(4),
                str("base:allocation"), str("qemu:dirty-bitmap:b0"), str(""), str("base:")));

        assertEquals("disk", r.exportName());
        assertEquals(List.of("base:allocation", "qemu:dirty-bitmap:b0", "", "base:"), r.queries());
    }

    @ParameterizedTest
    @ValueSource(longs = {0xFFFFFFFFL, 0x80000000L, 0x7FFFFFFFL, 0x40000001L, 2L})
    void shouldRejectQueryCountThatCannotFitWithoutAllocatingForIt(long count) {
        // One 4-byte slot is present; each claimed query would need at least 4 bytes.
        MalformedOptionException e = metaFails(concat(str("disk"), int32((int) count), int32(0)));
        assertMentions(e, Long.toString(count));
    }

    @Test
    void shouldRejectMetaContextWhoseQueryCountIsMissing() {
        assertMentions(metaFails(str("disk")), "query count");
    }

    @Test
    void shouldRejectMetaContextWhoseQueryCountIsCutShort() {
        metaFails(concat(str("disk"), hex("000000")));
    }

    @Test
    void shouldRejectMetaContextWhoseNameRunsPastThePayload() {
        metaFails(hex("00000010 6469736b 00000000"));
    }

    @Test
    void shouldRejectMetaContextWhenAQueryRunsPastThePayload() {
        // count 1, query claims 15 bytes, 4 present
        assertMentions(metaFails(concat(str(""), int32(1), int32(15), ascii("base"))), "meta-context query", "15");
    }

    @Test
    void shouldRejectMetaContextWithFewerQueriesThanAnnounced() {
        // count 3 with room for the 4-byte minimum of each, but only two real queries
        metaFails(concat(str(""), int32(3), str("a:b"), str("c:d")));
    }

    @Test
    void shouldRejectMetaContextWithTrailingBytesAfterItsQueries() {
        assertMentions(metaFails(concat(str("disk"), int32(1), str("base:allocation"), hex("00 00"))), "2 bytes");
    }

    @Test
    void shouldRejectMetaContextWithTrailingBytesAfterZeroQueries() {
        metaFails(concat(str("disk"), int32(0), hex("ff")));
    }

    @Test
    void shouldRejectQueryThatIsNotUtf8() {
        assertMentions(metaFails(concat(str(""), int32(1), str(hex("626173653a ff")))), "meta-context query", "UTF-8");
    }

    @Test
    void shouldRejectQueryWithAbsurdLengthWithoutAllocatingIt() {
        assertMentions(metaFails(concat(str(""), int32(1), int32(0xFFFFFFFF))), "4294967295");
    }

    @Test
    void shouldRejectQueryOverTheMaximumLength() {
        byte[] query = filled(OptionPayloads.MAX_STRING_LENGTH + 1, 'q');
        metaFails(concat(str(""), int32(1), str(query)));
    }

    @Test
    void shouldAcceptQueryOfExactlyTheMaximumLength() throws Exception {
        byte[] query = filled(OptionPayloads.MAX_STRING_LENGTH, 'q');
        assertEquals(OptionPayloads.MAX_STRING_LENGTH, meta(concat(str(""), int32(1), str(query))).queries().get(0).length());
    }

    @Test
    void shouldParseFromTheReaderIndexOfASlice() throws Exception {
        // The decoder hands out slices of a bigger buffer; parsing must start at the slice.
        ByteBuf whole = Unpooled.wrappedBuffer(concat(hex("deadbeef"), str("disk"), int16(1), int16(3), hex("cafe")));
        try {
            ByteBuf slice = whole.slice(4, 12);
            OptionPayloads.InfoRequest r = OptionPayloads.parseInfo(slice);
            assertEquals("disk", r.exportName());
            assertArrayEquals(new int[] {3}, r.infoTypes());
        } finally {
            whole.release();
        }
    }
}
