package io.jrbd.systest;

import static io.jrbd.systest.TwoNodes.ALPHA;
import static io.jrbd.systest.TwoNodes.BRAVO;
import static io.jrbd.systest.TwoNodes.RESOURCE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** attach, detach, adjust, and every command's --help, with their refusals. */
class AdminCommandsTest {
    private static final List<String> COMMANDS = List.of("create-md", "dump-md", "up", "down", "attach", "detach", "adjust",
            "primary", "secondary", "connect", "disconnect", "invalidate", "invalidate-remote", "new-current-uuid", "verify",
            "pause-sync", "resume-sync", "resume-io", "outdate", "status", "wait-connect", "wait-sync");

    @TempDir
    Path dir;

    @Test
    void attach_detach_and_adjust_bring_a_resource_to_its_configuration() throws Exception {
        try (TwoNodes nodes = TwoNodes.configure(dir, new TwoNodes.Options().size("16M"))) {
            nodes.startDaemon(ALPHA);
            nodes.startDaemon(BRAVO);
            nodes.jrbdadm(ALPHA, "attach", RESOURCE).assertOk();
            assertEquals("StandAlone", nodes.statusJson(ALPHA).path("connection").asText(), "attach does not connect");
            assertEquals("Inconsistent", nodes.statusJson(ALPHA).path("disk").asText());
            nodes.jrbdadm(ALPHA, "attach", RESOURCE).assertFailure("r0 is already up");

            Command.Result adj = nodes.jrbdadm(BRAVO, "adjust", RESOURCE);
            assertEquals(0, adj.exitCode(), adj.output() + "\n" + nodes.log(BRAVO)); // down -> up (and connecting)
            assertTrue(nodes.statusJson(BRAVO).path("up").asBoolean());
            nodes.jrbdadm(ALPHA, "connect", RESOURCE).assertOk();
            nodes.jrbdadm(ALPHA, "wait-connect", "--timeout", "30", RESOURCE).assertOk();
            nodes.jrbdadm(ALPHA, "primary", "--force", RESOURCE).assertOk();
            nodes.jrbdadm(ALPHA, "wait-sync", "--timeout", "60", RESOURCE).assertOk();

            Path conf = nodes.node(ALPHA).confDir.resolve(RESOURCE + ".toml");
            String original = Files.readString(conf);
            Files.writeString(conf, original.replace("[net]\n", "[net]\nafter-sb-0pri = \"discard-zero-changes\"\n")
                    + "\n[disk]\nc-max-rate = \"20M\"\n");
            String out = nodes.jrbdadm(ALPHA, "adjust", RESOURCE).assertOk();
            assertTrue(out.contains("split-brain policies") && out.contains("resync rates"), out);
            assertTrue(nodes.log(ALPHA).contains("r0: adjusted: split-brain policies, resync rates"), nodes.log(ALPHA));
            assertTrue(nodes.jrbdadm(ALPHA, "adjust", RESOURCE).assertOk().contains("nothing changed"));

            Files.writeString(conf, Files.readString(conf).replace("protocol = \"C\"", "protocol = \"A\""));
            nodes.jrbdadm(ALPHA, "adjust", RESOURCE).assertFailure("protocol changed");
            assertEquals("C", nodes.statusJson(ALPHA).path("protocol").asText(), "a refused adjust changed the protocol");

            nodes.jrbdadm(ALPHA, "detach", RESOURCE).assertFailure("jrbd has no Diskless mode");
            nodes.jrbdadm(BRAVO, "detach", RESOURCE).assertOk();
            assertFalse(nodes.statusJson(BRAVO).path("up").asBoolean(true));
            assertEquals("Diskless", nodes.statusJson(BRAVO).path("disk").asText());
        }
    }

    @Test
    void every_command_has_help_with_an_example() throws Exception {
        try (TwoNodes nodes = TwoNodes.configure(dir, new TwoNodes.Options().size("16M"))) {
            for (String c : COMMANDS) {
                String help = nodes.jrbdadm(ALPHA, c, "--help").assertOk();
                assertTrue(help.contains("Usage: jrbdadm " + c), help);
                assertTrue(help.contains("Example"), c + " --help has no example:\n" + help);
            }
        }
    }
}
