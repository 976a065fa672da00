package io.jrbd.systest;

import static io.jrbd.systest.TwoNodes.ALPHA;
import static io.jrbd.systest.TwoNodes.BRAVO;
import static io.jrbd.systest.TwoNodes.RESOURCE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * resource-agents' {@code ocft} runs the cases of {@code ocf/ocft/jrbd} against node alpha of a
 * real pair whose peer bravo runs: what ocf-tester does not check (monitor returns 8 after
 * promote and 0 after demote, a probe of a Promoted instance, promote of a stopped instance,
 * validate-all's 2 / 5 / 6 and an unknown action's 3). The agent's parameters reach the cases
 * through the {@code OCFT_JRBD_*} variables that the configuration reads.
 */
@Tag("cluster") // shell agent, Pacemaker and packaging: run once, on the default JDK (run-tests)
class OcftTest {
    private static final String AGENT = "jrbd";

    @TempDir
    Path dir;

    /** A case of the configuration that must be there and must have checked ACTION → EXPECTED. */
    private record Required(String summary, String action, String expected) {
    }

    private static final List<Required> REQUIRED = List.of(
            new Required("start, then monitor is 0", "start", "OCF_SUCCESS"),
            new Required("start, then monitor is 0", "monitor", "OCF_SUCCESS"),
            new Required("promote, then monitor is 8", "promote", "OCF_SUCCESS"),
            new Required("promote, then monitor is 8", "monitor", "OCF_RUNNING_MASTER"),
            new Required("demote, then monitor is 0", "demote", "OCF_SUCCESS"),
            new Required("demote, then monitor is 0", "monitor", "OCF_SUCCESS"),
            new Required("stop, then monitor is 7", "stop", "OCF_SUCCESS"),
            new Required("stop, then monitor is 7", "monitor", "OCF_NOT_RUNNING"),
            new Required("validate-all without resource", "validate-all", "OCF_ERR_CONFIGURED"),
            new Required("validate-all with a resource not in the configuration folder", "validate-all", "OCF_ERR_CONFIGURED"),
            new Required("validate-all with a jrbdadm that does not exist", "validate-all", "OCF_ERR_INSTALLED"),
            new Required("unknown action", "ocft-no-such-action", "OCF_ERR_UNIMPLEMENTED"),
            new Required("meta-data without parameters", "meta-data", "OCF_SUCCESS"));

    @Test
    void ocft_runs_every_case_of_the_configuration_and_all_pass() throws Exception {
        Path configDir = Jrbd.home().resolve("ocf").resolve("ocft");
        List<String> declared = OcftRun.declaredCases(configDir.resolve(AGENT));
        for (Required r : REQUIRED) {
            assertTrue(declared.contains(r.summary()), "ocf/ocft/jrbd has no CASE \"" + r.summary() + "\": " + declared);
        }

        try (TwoNodes nodes = TwoNodes.synced(dir.resolve("pair"), new TwoNodes.Options().size("16M"));
                OcfAgent agent = new OcfAgent(nodes.node(ALPHA).confDir, ALPHA, dir.resolve("agent"))) {
            // As for ocf-tester: alpha stopped with UpToDate data, bravo's daemon running, r0 up there.
            nodes.jrbdadm(ALPHA, "secondary", RESOURCE).assertOk();
            nodes.jrbdadm(ALPHA, "down", RESOURCE).assertOk();
            nodes.stop(ALPHA);

            Path rscTmp = Files.createDirectories(dir.resolve("rsctmp"));
            Map<String, String> env = new LinkedHashMap<>();
            // The recording crm_attribute / crm_master first: no real cluster tool is ever called.
            env.put("PATH", agent.fakeBin + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
            env.put("LANG", "C");
            env.put("HA_RSCTMP", rscTmp.toString()); // ocft's .ocft_runlog goes there, not to /run
            String javaHome = System.getenv("JAVA_HOME");
            if (javaHome != null) {
                env.put("JAVA_HOME", javaHome);
            }
            env.put("OCFT_JRBD_AGENT_ROOT", OcfAgent.agentPath().getParent().toString());
            env.put("OCFT_JRBD_RESOURCE", agent.params.get("resource"));
            env.put("OCFT_JRBD_CONFIG", agent.params.get("config"));
            env.put("OCFT_JRBD_NODE", agent.params.get("node"));
            env.put("OCFT_JRBD_JRBDADM", agent.params.get("jrbdadm"));
            env.put("OCFT_JRBD_RUN_DIR", agent.params.get("run_dir"));
            env.put("OCFT_JRBD_DAEMON_LOG", agent.params.get("daemon_log"));
            env.put("OCFT_JRBD_JAVA_OPTS", agent.params.get("java_opts"));

            long t0 = System.nanoTime();
            OcftRun.Result r = OcftRun.makeAndTest(configDir, AGENT, env, dir.resolve("ocft"), 240);
            System.out.printf("ocft make + test of %d cases in %.1f s %s%n", r.cases().size(), (System.nanoTime() - t0) / 1e9,
                    r.isolated() ? "(overlay on /var/lib)" : "(in " + OcftRun.CASES_DIR + ")");
            r.timings().forEach(System.out::println);
            String context = r.describe() + "\n--- the last agent run of the last case (" + rscTmp.resolve(".ocft_runlog") + "):\n"
                    + OcftRun.read(rscTmp.resolve(".ocft_runlog")) + "\n--- daemon log (tail):\n"
                    + TwoNodes.tail(agent.daemonLogText(), 3000);

            // Everything declared was compiled and run: a configuration that compiles to nothing fails here.
            assertEquals(declared, r.compiled(), "ocft make did not compile every CASE:\n" + context);
            assertEquals(declared.size(), r.scripts(), "case scripts written by ocft make:\n" + context);
            assertEquals(declared, r.cases().stream().map(OcftRun.Case::summary).toList(),
                    "ocft test did not run every case:\n" + context);
            String failed = r.cases().stream().filter(c -> !c.passed())
                    .map(c -> "case " + c.number() + " '" + c.summary() + "': " + String.join(" | ", c.problems()))
                    .collect(Collectors.joining("\n"));
            assertEquals("", failed, "failed ocft cases:\n" + context);
            assertEquals(0, r.testExit(), "ocft test exit code:\n" + context);
            for (Required req : REQUIRED) {
                OcftRun.Case c = r.cases().stream().filter(x -> x.summary().equals(req.summary())).findFirst().orElseThrow();
                assertTrue(c.checked(req.action(), req.expected()),
                        "case '" + req.summary() + "' did not check " + req.action() + " -> " + req.expected() + ": " + c.checks());
            }

            // The last case stopped alpha: the daemon the agent started is gone; scores were published.
            assertEquals(List.of(), agent.daemons(), "the agent left its daemon running:\n" + context);
            List<String> scores = agent.takeScoreCalls();
            assertTrue(scores.stream().anyMatch(s -> s.endsWith("-v 10000")), "no score for UpToDate: " + scores);
            assertTrue(scores.get(scores.size() - 1).endsWith("-D"), "stop leaves a score behind: " + scores);
            nodes.waitFor(BRAVO, s -> s.path("disk").asText().equals("UpToDate"), 30, "bravo UpToDate");
        }
    }
}
