package io.jrbd.systest;

import static io.jrbd.systest.TwoNodes.ALPHA;
import static io.jrbd.systest.TwoNodes.RESOURCE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The judges of resource-agents run on {@code ocf/jrbd}: {@code ocf-tester} drives the agent
 * through its whole life (start, stop, promote, demote, notify, probes, repeated actions)
 * against a real pair whose peer daemon runs, and the meta-data is validated against the
 * {@code ra-api-1.dtd} that ocf-tester uses.
 */
@Tag("cluster") // shell agent, Pacemaker and packaging: run once, on the default JDK (run-tests)
class OcfTesterTest {
    private static final Path DTD = Path.of("/usr/share/resource-agents/ra-api-1.dtd");

    @TempDir
    Path dir;

    @Test
    void ocf_tester_passes_the_agent_against_a_real_pair() throws Exception {
        try (TwoNodes nodes = TwoNodes.synced(dir.resolve("pair"), new TwoNodes.Options().size("16M"));
                OcfAgent agent = new OcfAgent(nodes.node(ALPHA).confDir, ALPHA, dir.resolve("agent"))) {
            // alpha is handed to the agent stopped, with UpToDate data; bravo's daemon runs, r0 up.
            nodes.jrbdadm(ALPHA, "secondary", RESOURCE).assertOk();
            nodes.jrbdadm(ALPHA, "down", RESOURCE).assertOk();
            nodes.stop(ALPHA);

            List<String> argv = new ArrayList<>(List.of("env", "-i"));
            agent.environment(agent.params, java.util.Map.of()).forEach((k, v) -> {
                if (!k.startsWith("OCF_")) { // ocf-tester sets the OCF_ variables itself, from -o
                    argv.add(k + "=" + v);
                }
            });
            argv.add(tool("ocf-tester"));
            argv.addAll(List.of("-n", "jrbd-test"));
            agent.params.forEach((k, v) -> argv.addAll(List.of("-o", k + "=" + v)));
            argv.add(OcfAgent.agentPath().toString());
            Command.Result r = Command.of(argv).timeout(400).run();

            String context = r.output() + "\n--- daemon log (tail):\n" + TwoNodes.tail(agent.daemonLogText(), 4000);
            assertEquals(0, r.exitCode(), "ocf-tester failed:\n" + context);
            assertTrue(r.output().contains("passed all tests"), context);
            // It ended with stop: the daemon the agent started is gone, and scores were published.
            assertEquals(List.of(), agent.daemons(), "the agent left its daemon running");
            List<String> scores = agent.takeScoreCalls();
            assertTrue(scores.stream().anyMatch(s -> s.endsWith("-v 10000")), "no score for UpToDate: " + scores);
            assertTrue(scores.get(scores.size() - 1).endsWith("-D"), "stop leaves a score behind: " + scores);
            // bravo saw alpha come and go and is still fine.
            nodes.waitFor(TwoNodes.BRAVO, s -> s.path("disk").asText().equals("UpToDate"), 30, "bravo UpToDate");
        }
    }

    @Test
    void meta_data_is_valid_against_the_ra_api_dtd_and_documents_every_parameter() throws Exception {
        Command.Result md = Command.of(OcfAgent.agentPath().toString(), "meta-data").run();
        assertEquals(0, md.exitCode(), md.output());
        Path xml = dir.resolve("meta-data.xml");
        Files.writeString(xml, md.output(), StandardCharsets.UTF_8);
        assertTrue(md.output().contains("<!DOCTYPE resource-agent SYSTEM \"ra-api-1.dtd\">"), md.output());

        Command.of(tool("xmllint"), "--noout", "--dtdvalid", DTD.toString(), xml.toString()).ok();
        // ocf-tester's own form: --valid, resolving the DOCTYPE beside the DTD.
        Command.of("sh", "-c", "xmllint --noout --valid - < '" + xml + "'").in(DTD.getParent()).ok();
        // resource-agents' stricter grammar (roles must be Promoted/Unpromoted).
        Command.of(tool("xmllint"), "--noout", "--relaxng", DTD.resolveSibling("metadata.rng").toString(), xml.toString()).ok();

        String text = md.output();
        for (String p : List.of("resource", "config", "node", "jrbdadm", "jrbd", "run_dir", "daemon_log", "java_opts",
                "stop_daemon", "wait_connect", "score_uptodate", "score_uptodate_disconnected", "score_consistent")) {
            assertTrue(text.contains("<parameter name=\"" + p + "\""), "parameter " + p + " is not in the meta-data");
        }
        for (String a : List.of("start", "stop", "promote", "demote", "notify", "monitor", "validate-all", "meta-data")) {
            assertTrue(text.contains("<action name=\"" + a + "\""), "action " + a + " is not in the meta-data");
        }
        assertTrue(text.contains("role=\"Promoted\"") && text.contains("role=\"Unpromoted\""), text);

        // Pacemaker and ocf-tester (as root) read the meta-data as an unprivileged user too.
        if (!"root".equals(System.getProperty("user.name"))) {
            return;
        }
        Command.Result asNobody = Command.of("su", "nobody", "-s", "/bin/sh", "-c", OcfAgent.agentPath() + " meta-data").run();
        assertEquals(0, asNobody.exitCode(), asNobody.output());
        assertEquals(text, asNobody.output());
    }

    /** The absolute path of a tool (ocf-tester lives in /usr/sbin, which a user's PATH may lack). */
    static String tool(String name) {
        Command.requireTool(name);
        for (String d : (System.getenv().getOrDefault("PATH", "") + ":/usr/sbin:/sbin:/usr/bin:/bin").split(":")) {
            Path p = Path.of(d.isEmpty() ? "." : d, name);
            if (Files.isExecutable(p)) {
                return p.toString();
            }
        }
        throw new AssertionError(name + " not found");
    }
}
