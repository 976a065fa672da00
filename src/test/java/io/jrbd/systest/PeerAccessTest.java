package io.jrbd.systest;

import static io.jrbd.systest.TwoNodes.ALPHA;
import static io.jrbd.systest.TwoNodes.BRAVO;
import static io.jrbd.systest.TwoNodes.RESOURCE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Who may talk to a node: a peer without the secret may not replicate, a client of a Secondary may not write. */
class PeerAccessTest {
    private static final int ERR_POLICY = 0x80000002;

    @TempDir
    Path dir;

    @Test
    void a_peer_with_the_wrong_shared_secret_is_refused_and_receives_no_data() throws Exception {
        TwoNodes.Options options = new TwoNodes.Options().size("64M").secret(BRAVO, "not-the-same-secret-at-all");
        try (TwoNodes nodes = TwoNodes.start(dir, options)) {
            Command.Result wait = nodes.jrbdadm(ALPHA, "wait-connect", "--timeout", "4", RESOURCE);
            assertEquals(1, wait.exitCode(), "the nodes connected with different secrets: " + wait.output());
            assertTrue(wait.output().contains("is not connected after"), wait.output());

            nodes.jrbdadm(ALPHA, "primary", "--force", RESOURCE).assertOk();
            String out = Command.of("qemu-io", "-f", "raw", "-c", "write -P 0x5a 0 2M", "-c", "flush", "-c",
                    "read -P 0x5a 0 2M", nodes.uri(ALPHA)).ok();
            assertFalse(out.contains("Pattern verification failed"), out);
            Thread.sleep(3000); // three connect intervals: time for anything to leak through
            JsonNode alpha = nodes.statusJson(ALPHA);
            assertTrue(alpha.path("degraded").asBoolean(), alpha.toString());
            assertNotEquals("Connected", alpha.path("connection").asText(), alpha.toString());
            assertEquals("DUnknown", alpha.path("peer").path("disk").asText(), alpha.toString());
            assertTrue(alpha.path("outOfSyncBytes").asLong() >= (2 << 20), alpha.toString());
            JsonNode bravo = nodes.statusJson(BRAVO);
            assertNotEquals("Connected", bravo.path("connection").asText(), bravo.toString());
            assertEquals("Inconsistent", bravo.path("disk").asText(), bravo.toString());

            String logs = nodes.log(ALPHA) + nodes.log(BRAVO);
            assertTrue(logs.contains("failed authentication (wrong shared secret?)"), "no log says the authentication failed:\n"
                    + logs);
            assertFalse(logs.contains("connected to alpha") || logs.contains("connected to bravo"), logs);
            assertAllZero(nodes.disk(BRAVO));
        }
    }

    private static void assertAllZero(Path file) throws Exception {
        byte[] buf = new byte[1 << 20];
        long at = 0;
        try (InputStream in = Files.newInputStream(file)) {
            int n;
            while ((n = in.read(buf)) > 0) {
                for (int i = 0; i < n; i++) {
                    if (buf[i] != 0) {
                        throw new AssertionError(file + " has data at byte " + (at + i) + ": it received a write");
                    }
                }
                at += n;
            }
        }
        assertEquals(64L << 20, at, file + " size");
    }

    @Test
    void a_client_of_the_secondary_gets_an_nbd_error_and_the_node_logs_why() throws Exception {
        try (TwoNodes nodes = TwoNodes.synced(dir, new TwoNodes.Options().size("64M"))) {
            Command.Result info = Command.of("nbdinfo", nodes.uri(BRAVO)).run();
            assertNotEquals(0, info.exitCode(), "nbdinfo succeeded against the Secondary:\n" + info.output());
            // libnbd reports the refusal of GO (not the server's text); the reason is in the node's log and the reply.
            assertTrue(info.output().contains("server replied with error to opt_go request"), info.output());
            String log = nodes.log(BRAVO);
            assertTrue(log.matches("(?s).*127\\.0\\.0\\.1:\\d+: (GO|INFO) for 'r0' refused: resource r0 is Secondary on node bravo.*"),
                    "bravo does not log why it refused:\n" + log);

            // The precise NBD answer: GO is refused with NBD_REP_ERR_POLICY and the reason as text.
            try (RawNbdClient c = RawNbdClient.connect(nodes.nbdPort(BRAVO))) {
                c.clientFlags(3);
                c.option(RawNbdClient.OPT_GO, RawNbdClient.infoPayload(RESOURCE));
                RawNbdClient.OptionReply r = c.optionReply();
                assertEquals(ERR_POLICY, r.type(), "reply type " + Integer.toHexString(r.type()) + ": " + r.text());
                assertTrue(r.text().contains("Secondary"), r.text());
            }
            // And the Primary's export serves at the same moment.
            assertEquals(Long.toString(64L << 20), Command.of("nbdinfo", "--size", nodes.uri(ALPHA)).ok().strip());
        }
    }
}
