package io.jrbd.systest;

import static io.jrbd.systest.TwoNodes.ALPHA;
import static io.jrbd.systest.TwoNodes.BRAVO;
import static io.jrbd.systest.TwoNodes.RESOURCE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every refusal of jrbdadm, and every configuration error: exit code 1 and one line saying why. */
class RefusalsTest {
    @TempDir
    Path dir;

    /** Asserts a refusal: exit 1, exactly one line, starting "jrbdadm: " and containing {@code text}. */
    static void assertRefused(Command.Result r, String text) {
        assertEquals(1, r.exitCode(), r.command() + " should be refused; output:\n" + r.output());
        String out = r.output().strip();
        assertEquals(1, out.lines().count(), "a refusal is one line: " + out);
        assertTrue(out.startsWith("jrbdadm: "), out);
        assertTrue(out.contains(text), "'" + out + "' lacks '" + text + "'");
    }

    @Test
    void role_and_up_commands_refuse_what_would_be_unsafe() throws Exception {
        try (TwoNodes nodes = TwoNodes.start(dir, new TwoNodes.Options().size("64M"))) {
            nodes.jrbdadm(ALPHA, "wait-connect", "--timeout", "30", RESOURCE).assertOk();

            // A fresh node is Inconsistent: it may only become Primary by force.
            assertRefused(nodes.jrbdadm(BRAVO, "primary", RESOURCE), "the local disk is Inconsistent, not UpToDate");
            assertEquals("Secondary", nodes.statusJson(BRAVO).path("role").asText());

            // up twice
            assertRefused(nodes.jrbdadm(ALPHA, "up", RESOURCE), "r0 is already up");

            // unknown resources
            for (String cmd : new String[] {"up", "primary", "secondary", "down", "status"}) {
                assertRefused(nodes.jrbdadm(ALPHA, cmd, "r9"), "no resource 'r9' is configured for node alpha");
            }

            nodes.jrbdadm(ALPHA, "primary", "--force", RESOURCE).assertOk();
            nodes.jrbdadm(ALPHA, "wait-sync", "--timeout", "60", RESOURCE).assertOk();
            nodes.waitFor(BRAVO, s -> s.path("peer").path("role").asText().equals("Primary"), 15, "bravo to see alpha Primary");

            // Two Primaries while connected: refused, even when bravo is UpToDate, and with --force.
            assertRefused(nodes.jrbdadm(BRAVO, "primary", RESOURCE), "peer alpha is Primary");
            assertRefused(nodes.jrbdadm(BRAVO, "primary", "--force", RESOURCE), "peer alpha is Primary");
            assertEquals("Secondary", nodes.statusJson(BRAVO).path("role").asText());

            // secondary while a client is in transmission
            try (RawNbdClient client = RawNbdClient.transmission(nodes.nbdPort(ALPHA), RESOURCE, false)) {
                nodes.waitFor(ALPHA, s -> s.path("nbdClients").asInt() == 1, 10, "the client to be counted");
                assertRefused(nodes.jrbdadm(ALPHA, "secondary", RESOURCE), "1 NBD client is connected to " + nodes.uri(ALPHA));
                assertEquals("Primary", nodes.statusJson(ALPHA).path("role").asText());
                client.request(0, RawNbdClient.DISC, 1, 0, 0);
            }
            nodes.waitFor(ALPHA, s -> s.path("nbdClients").asInt() == 0, 10, "the client to be gone");
            nodes.jrbdadm(ALPHA, "secondary", RESOURCE).assertOk();
            assertEquals("Secondary", nodes.statusJson(ALPHA).path("role").asText());
            // Now that alpha is Secondary, bravo (UpToDate, same generation) may be promoted without force.
            nodes.jrbdadm(BRAVO, "primary", RESOURCE).assertOk();
            assertEquals("Primary", nodes.statusJson(BRAVO).path("role").asText());

            // A command for a node whose daemon is not running: exit 3.
            nodes.stop(ALPHA);
            Command.Result noDaemon = nodes.jrbdadm(ALPHA, "status", RESOURCE);
            assertEquals(3, noDaemon.exitCode(), noDaemon.output());
        }
    }

    // ------------------------------------------------------------------ configuration errors

    /** Starts a daemon on a configuration folder holding one file, asserting it exits non-zero saying {@code expected}. */
    private void assertDaemonRefusesConfig(String toml, String node, String... expected) throws Exception {
        Path conf = Files.createDirectories(dir.resolve("conf-" + System.nanoTime()));
        Path file = conf.resolve("r0.toml");
        Files.writeString(file, toml);
        ProcessBuilder pb = new ProcessBuilder(Jrbd.launcher("jrbd"), "daemon", "-c", conf.toString(), "--node", node)
                .redirectErrorStream(true);
        pb.environment().put("JRBD_JAVA_OPTS", TwoNodes.JAVA_OPTS);
        Path log = conf.resolve("daemon.log");
        pb.redirectOutput(log.toFile());
        Process p = pb.start();
        try {
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the daemon did not exit on a bad configuration:\n" + Files.readString(log));
            String out = Files.readString(log);
            assertNotEquals(0, p.exitValue(), "the daemon accepted a bad configuration:\n" + out);
            assertTrue(out.contains(file.toString()), "the error does not name the file " + file + ":\n" + out);
            for (String e : expected) {
                assertTrue(out.contains(e), "the error lacks '" + e + "':\n" + out);
            }
            // jrbdadm reads the same folder and refuses the same way, in one line.
            Command.Result adm = Command.of(Jrbd.launcher("jrbdadm"), "-c", conf.toString(), "--node", node, "up", "r0").run();
            assertRefused(adm, file + ": " + expected[0]);
        } finally {
            if (p.isAlive()) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    private String goodConfig() throws Exception {
        TwoNodes t = TwoNodes.configure(dir.resolve("good"), new TwoNodes.Options().size("16M"));
        return t.config(ALPHA);
    }

    @Test
    void the_daemon_refuses_bad_configurations_naming_file_key_and_problem() throws Exception {
        String good = goodConfig();
        assertTrue(good.contains("protocol = \"C\""), good);

        assertDaemonRefusesConfig(good.replace("protocol = \"C\"", "protocol = \"D\""), ALPHA,
                "resource.protocol: 'D' is not A, B or C");
        String noReplication = good.replaceFirst("(\\[nodes\\.bravo\\]\\n)replication = \"[^\"]*\"\\n", "$1");
        assertTrue(!noReplication.equals(good), "test setup: the bravo replication line was not removed");
        assertDaemonRefusesConfig(noReplication, ALPHA, "nodes.bravo.replication: missing");
        assertDaemonRefusesConfig(good.replace("timeout = \"800ms\"", "timeout = \"1s\""), ALPHA,
                "net.timeout: ", "must be less than net.ping-interval");
        assertDaemonRefusesConfig(good.replace("timeout = \"800ms\"", "timeout = \"5s\""), ALPHA,
                "net.timeout: ", "must be less than");
        assertDaemonRefusesConfig(good.replaceFirst("shared-secret = \"[^\"]*\"", "shared-secret = \"short\""), ALPHA,
                "net.shared-secret: must be 8 to 64");
        assertDaemonRefusesConfig(good.replace("ping-interval = \"1s\"", "ping-intervall = \"1s\""), ALPHA,
                "net.ping-intervall: unknown key (did you mean ping-interval?)");
        assertDaemonRefusesConfig(good.replace("size = \"16M\"", "size = \"lots\""), ALPHA, "resource.size: ");
    }

    @Test
    void a_daemon_for_a_node_the_configuration_does_not_name_is_refused() throws Exception {
        String good = goodConfig();
        Path conf = Files.createDirectories(dir.resolve("conf-node"));
        Files.writeString(conf.resolve("r0.toml"), good);
        Command.Result r = Command.of(Jrbd.launcher("jrbd"), "daemon", "-c", conf.toString(), "--node", "charlie").run();
        assertNotEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().contains("no resource has a node named 'charlie' (nodes: alpha, bravo)"), r.output());
    }
}
