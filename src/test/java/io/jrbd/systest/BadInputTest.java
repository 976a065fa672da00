package io.jrbd.systest;

import static io.jrbd.systest.RawNbdClient.BLOCK_STATUS;
import static io.jrbd.systest.RawNbdClient.DISC;
import static io.jrbd.systest.RawNbdClient.FLUSH;
import static io.jrbd.systest.RawNbdClient.READ;
import static io.jrbd.systest.RawNbdClient.TRIM;
import static io.jrbd.systest.RawNbdClient.WRITE;
import static io.jrbd.systest.RawNbdClient.WRITE_ZEROES;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Input no good client sends. Each case asserts the precise answer (an error reply, or a closed
 * connection and a log line) and then that the server still serves another client and still
 * holds the data written before.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BadInputTest {
    private static final long SIZE = 64L << 20;
    private static final int EPERM = 1;
    private static final int EINVAL = 22;
    private static final int ENOSPC = 28;
    private static final byte[] CANARY = "data that must outlive every bad request".getBytes(StandardCharsets.UTF_8);

    Path dir;
    ServeProcess server;
    String export = "disk.img";

    @BeforeAll
    void start() throws IOException {
        dir = Files.createTempDirectory("jrbd-bad-input");
        server = ServeProcess.start(dir.resolve(export), "--size", "64M");
        try (RawNbdClient c = RawNbdClient.transmission(server.port(), export, false)) {
            c.write(1, 4096, CANARY);
            assertEquals(0, c.simpleReply().error());
        }
    }

    @AfterEach
    void anotherClientIsServedAndTheDataIsIntact() throws IOException {
        assertTrue(server.isAlive(), "the server died:\n" + server.log());
        assertEquals(Long.toString(SIZE), Command.of("nbdinfo", "--size", server.uri()).ok().strip());
        try (RawNbdClient c = RawNbdClient.transmission(server.port(), export, false)) {
            assertArrayEquals(CANARY, c.read(99, 4096, CANARY.length));
        }
    }

    @AfterAll
    void stop() throws Exception {
        try {
            server.assertNoLeaks();
        } finally {
            server.close();
            Command.of("rm", "-rf", dir.toString()).ok();
        }
    }

    private void assertLogged(String text) throws InterruptedException {
        for (int i = 0; i < 50 && !server.log().contains(text); i++) {
            Thread.sleep(20);
        }
        assertTrue(server.log().contains(text), "log lacks '" + text + "':\n" + server.log());
    }

    // ---- handshake ----

    @Test
    void garbage_instead_of_client_flags_closes_that_connection() throws Exception {
        try (RawNbdClient c = RawNbdClient.connect(server.port())) {
            c.raw("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            c.expectClosed();
        }
        assertLogged("unknown client flags");
    }

    @Test
    void a_wrong_option_magic_closes_that_connection() throws Exception {
        try (RawNbdClient c = RawNbdClient.connect(server.port())) {
            c.clientFlags(3);
            c.raw(new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 7, 0, 0, 0, 0});
            c.expectClosed();
        }
        assertLogged("option magic 0x102030405060708");
    }

    @Test
    void an_oversize_option_closes_the_connection_without_waiting_for_its_payload() throws Exception {
        try (RawNbdClient c = RawNbdClient.connect(server.port())) {
            c.clientFlags(3);
            c.out.writeLong(RawNbdClient.IHAVEOPT);
            c.out.writeInt(RawNbdClient.OPT_GO);
            c.out.writeInt(0x7fffffff);
            c.out.flush();
            c.expectClosed();
        }
        assertLogged("payload of 2147483647 bytes exceeds the limit");
    }

    @Test
    void an_unknown_option_gets_err_unsup_and_the_handshake_goes_on() throws Exception {
        try (RawNbdClient c = RawNbdClient.connect(server.port())) {
            c.clientFlags(3);
            c.option(4242, "ignored payload".getBytes(StandardCharsets.US_ASCII));
            RawNbdClient.OptionReply r = c.optionReply();
            assertEquals(4242, r.option());
            assertEquals(RawNbdClient.ERR_UNSUP, r.type());
            c.go(export);
            assertArrayEquals(CANARY, c.read(5, 4096, CANARY.length));
        }
    }

    @Test
    void a_malformed_go_gets_err_invalid_and_the_handshake_goes_on() throws Exception {
        try (RawNbdClient c = RawNbdClient.connect(server.port())) {
            c.clientFlags(3);
            c.option(RawNbdClient.OPT_GO, new byte[] {0, 0, 1, 0, 'x'}); // name of 256 bytes in a 5-byte payload
            RawNbdClient.OptionReply r = c.optionReply();
            assertEquals(RawNbdClient.ERR_INVALID, r.type());
            assertTrue(r.text().contains("runs past the payload"), r.text());
            c.go(export);
        }
    }

    @Test
    void list_with_a_payload_gets_err_invalid_and_list_without_one_works() throws Exception {
        try (RawNbdClient c = RawNbdClient.connect(server.port())) {
            c.clientFlags(3);
            c.option(RawNbdClient.OPT_LIST, new byte[] {1, 2, 3});
            assertEquals(RawNbdClient.ERR_INVALID, c.optionReply().type());
            c.option(RawNbdClient.OPT_LIST, new byte[0]);
            RawNbdClient.OptionReply server = c.optionReply();
            assertEquals(RawNbdClient.REP_SERVER, server.type());
            assertTrue(server.text().endsWith(export), server.text());
            assertEquals(RawNbdClient.REP_ACK, c.optionReply().type());
        }
    }

    @Test
    void go_for_an_unknown_export_gets_err_unknown_and_the_empty_name_gets_the_default() throws Exception {
        try (RawNbdClient c = RawNbdClient.connect(server.port())) {
            c.clientFlags(3);
            assertEquals(RawNbdClient.ERR_UNKNOWN, c.goReply("no-such-export"));
            c.go("");
            assertEquals(SIZE, c.exportSize);
        }
    }

    @Test
    void export_name_for_an_unknown_export_closes_the_connection() throws Exception {
        try (RawNbdClient c = RawNbdClient.connect(server.port())) {
            c.clientFlags(3);
            c.option(RawNbdClient.OPT_EXPORT_NAME, "missing".getBytes(StandardCharsets.US_ASCII));
            c.expectClosed();
        }
        assertLogged("EXPORT_NAME for unknown export 'missing'");
    }

    @Test
    void export_name_for_the_default_export_enters_transmission() throws Exception {
        try (RawNbdClient c = RawNbdClient.connect(server.port())) {
            c.clientFlags(3); // NO_ZEROES: 10 bytes of reply, no padding
            c.option(RawNbdClient.OPT_EXPORT_NAME, new byte[0]);
            assertEquals(SIZE, c.in.readLong());
            int flags = c.in.readUnsignedShort();
            assertEquals(1, flags & 1, "HAS_FLAGS");
            assertArrayEquals(CANARY, c.read(3, 4096, CANARY.length));
        }
    }

    @Test
    void set_meta_context_before_structured_replies_gets_err_invalid() throws Exception {
        try (RawNbdClient c = RawNbdClient.connect(server.port())) {
            c.clientFlags(3);
            c.option(RawNbdClient.OPT_SET_META_CONTEXT, metaContextPayload(export, "base:allocation"));
            assertEquals(RawNbdClient.ERR_INVALID, c.optionReply().type());
        }
    }

    // ---- transmission: frames ----

    @Test
    void a_truncated_request_and_a_vanished_client_leave_the_server_serving() throws Exception {
        try (RawNbdClient c = RawNbdClient.transmission(server.port(), export, false)) {
            c.raw(new byte[] {0x25, 0x60, (byte) 0x95, 0x13, 0, 0, 0, 1, 0, 0});
        }
        try (RawNbdClient c = RawNbdClient.transmission(server.port(), export, false)) {
            // A WRITE header announcing 1 MiB, then half of it, then gone.
            c.request(0, WRITE, 7, 0, 1 << 20);
            c.raw(new byte[512 << 10]);
        }
        assertLogged("client disconnected");
    }

    @Test
    void a_wrong_request_magic_closes_that_connection() throws Exception {
        try (RawNbdClient c = RawNbdClient.transmission(server.port(), export, false)) {
            c.raw(new byte[28]);
            c.expectClosed();
        }
        assertLogged("request magic 0x0");
    }

    @Test
    void a_write_header_claiming_4_GiB_allocates_nothing_and_is_refused() throws Exception {
        try (RawNbdClient c = RawNbdClient.transmission(server.port(), export, false)) {
            c.request(0, WRITE, 8, 0, 0xffffffffL);
            RawNbdClient.SimpleReply r = c.simpleReply();
            assertEquals(8, r.cookie());
            assertEquals(EINVAL, r.error());
        }
        assertLogged("write payload of 4294967295 bytes exceeds the maximum of 33554432 (payload skipped)");
    }

    @Test
    void an_oversize_write_is_refused_and_its_payload_skipped_so_the_connection_stays_in_sync() throws Exception {
        try (RawNbdClient c = RawNbdClient.transmission(server.port(), export, false)) {
            c.write(9, 0, new byte[(32 << 20) + 1]);
            assertEquals(EINVAL, c.simpleReply().error());
            assertArrayEquals(CANARY, c.read(10, 4096, CANARY.length));
        }
    }

    // ---- transmission: requests that break rules get errors, the connection stays ----

    @Test
    void out_of_range_requests_get_einval_or_enospc_and_the_connection_stays_usable() throws Exception {
        try (RawNbdClient c = RawNbdClient.transmission(server.port(), export, false)) {
            long[][] cases = {
                // type, offset, length, expected error
                {READ, SIZE - 512, 1024, EINVAL},
                {READ, SIZE + 1, 0, EINVAL},
                {READ, -1L, 1, EINVAL},                 // offset 2^64 - 1
                {READ, Long.MIN_VALUE, 512, EINVAL},    // 2^63: must not look negative-and-small
                {WRITE_ZEROES, SIZE - 4096, 8192, ENOSPC},
                {WRITE_ZEROES, -4096L, 8192, ENOSPC},   // offset + length wraps to 4096
                {TRIM, SIZE, 1, EINVAL},
                {5, SIZE, 1, EINVAL},                   // CACHE
                {READ, 0, (32 << 20) + 1, EINVAL},      // longer than the maximum payload
                {42, 0, 0, EINVAL},                     // unknown command
            };
            long cookie = 100;
            for (long[] k : cases) {
                c.request(0, (int) k[0], cookie, k[1], k[2]);
                RawNbdClient.SimpleReply r = c.simpleReply();
                assertEquals(cookie, r.cookie());
                assertEquals(k[3], r.error(), "type " + k[0] + " at " + Long.toUnsignedString(k[1]) + "+" + k[2]);
                cookie++;
            }
            c.write(cookie, SIZE - 4096, new byte[8192]);
            assertEquals(ENOSPC, c.simpleReply().error());
            assertArrayEquals(CANARY, c.read(cookie + 1, 4096, CANARY.length));
        }
    }

    @Test
    void unknown_flags_and_block_status_without_a_context_get_einval() throws Exception {
        try (RawNbdClient c = RawNbdClient.transmission(server.port(), export, false)) {
            c.request(0x8000, READ, 1, 0, 512);
            assertEquals(EINVAL, c.simpleReply().error());
            c.request(1 << 1, READ, 2, 0, 512); // NO_HOLE belongs to WRITE_ZEROES
            assertEquals(EINVAL, c.simpleReply().error());
            c.request(1 << 2, READ, 3, 0, 512); // DF without structured replies
            assertEquals(EINVAL, c.simpleReply().error());
            c.request(0, BLOCK_STATUS, 4, 0, 512);
            assertEquals(EINVAL, c.simpleReply().error());
        }
    }

    @Test
    void zero_length_requests_succeed_and_touch_nothing() throws Exception {
        try (RawNbdClient c = RawNbdClient.transmission(server.port(), export, false)) {
            for (int type : new int[] {READ, TRIM, WRITE_ZEROES, 5}) {
                c.request(0, type, type, 4096, 0);
                RawNbdClient.SimpleReply r = c.simpleReply();
                assertEquals(0, r.error(), "type " + type);
            }
            c.write(77, 4096, new byte[0]);
            assertEquals(0, c.simpleReply().error());
        }
    }

    @Test
    void a_structured_read_past_the_end_gets_an_error_chunk() throws Exception {
        try (RawNbdClient c = RawNbdClient.transmission(server.port(), export, true)) {
            c.request(0, READ, 11, SIZE, 512);
            RawNbdClient.Chunk chunk = c.chunk();
            assertEquals(11, chunk.cookie());
            assertEquals((1 << 15) + 1, chunk.type(), "ERROR chunk");
            assertEquals(1, chunk.flags(), "DONE");
            assertEquals(EINVAL, java.nio.ByteBuffer.wrap(chunk.payload()).getInt());
            c.request(0, READ, 12, 4096, CANARY.length);
            RawNbdClient.Chunk data = c.chunk();
            assertEquals(1, data.type(), "OFFSET_DATA");
            assertEquals(4096, java.nio.ByteBuffer.wrap(data.payload()).getLong());
            assertArrayEquals(CANARY, Arrays.copyOfRange(data.payload(), 8, data.payload().length));
        }
    }

    // ---- many requests in flight ----

    @Test
    void pipelined_requests_all_get_replies_with_their_cookies() throws Exception {
        try (RawNbdClient c = RawNbdClient.transmission(server.port(), export, false)) {
            int n = 200;
            for (int i = 0; i < n; i++) {
                c.write(1000 + i, (8L << 20) + i * 4096L, new byte[4096]);
            }
            Set<Long> cookies = new HashSet<>();
            for (int i = 0; i < n; i++) {
                RawNbdClient.SimpleReply r = c.simpleReply();
                assertEquals(0, r.error());
                cookies.add(r.cookie());
            }
            assertEquals(n, cookies.size());
            assertTrue(cookies.contains(1000L) && cookies.contains(1000L + n - 1));
        }
    }

    @Test
    void a_client_that_hangs_up_with_reads_in_flight_is_dropped_quietly() throws Exception {
        for (int round = 0; round < 5; round++) {
            try (RawNbdClient c = RawNbdClient.transmission(server.port(), export, round % 2 == 0)) {
                for (int i = 0; i < 64; i++) {
                    c.request(0, READ, i, (long) i << 20, 1 << 20);
                }
            }
        }
        assertLogged("client disconnected");
    }

    @Test
    void disc_finishes_requests_in_flight_sends_no_reply_and_closes() throws Exception {
        try (RawNbdClient c = RawNbdClient.transmission(server.port(), export, false)) {
            for (int i = 0; i < 16; i++) {
                c.write(i, (16L << 20) + i * 65536L, new byte[65536]);
            }
            c.request(0, DISC, 999, 0, 0);
            for (int i = 0; i < 16; i++) {
                RawNbdClient.SimpleReply r = c.simpleReply();
                assertEquals(0, r.error());
                assertTrue(r.cookie() < 16, "DISC must get no reply; got cookie " + r.cookie());
            }
            c.expectClosed();
        }
    }

    @Test
    void a_flush_on_one_connection_covers_writes_completed_on_another() throws Exception {
        byte[] data = "multi-conn".getBytes(StandardCharsets.US_ASCII);
        try (RawNbdClient a = RawNbdClient.transmission(server.port(), export, false);
                RawNbdClient b = RawNbdClient.transmission(server.port(), export, false);
                RawNbdClient c = RawNbdClient.transmission(server.port(), export, false)) {
            assertEquals(0x100, a.transmissionFlags & 0x100, "CAN_MULTI_CONN");
            a.write(1, 32L << 20, data);
            assertEquals(0, a.simpleReply().error());
            b.request(0, FLUSH, 2, 0, 0);
            assertEquals(0, b.simpleReply().error());
            assertArrayEquals(data, c.read(3, 32L << 20, data.length));
        }
    }

    static byte[] metaContextPayload(String export, String... queries) {
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        java.io.DataOutputStream d = new java.io.DataOutputStream(b);
        try {
            byte[] name = export.getBytes(StandardCharsets.UTF_8);
            d.writeInt(name.length);
            d.write(name);
            d.writeInt(queries.length);
            for (String q : queries) {
                byte[] qb = q.getBytes(StandardCharsets.UTF_8);
                d.writeInt(qb.length);
                d.write(qb);
            }
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        return b.toByteArray();
    }
}
