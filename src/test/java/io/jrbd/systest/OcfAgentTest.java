package io.jrbd.systest;

import static io.jrbd.systest.OcfAgent.ERR_ARGS;
import static io.jrbd.systest.OcfAgent.ERR_CONFIGURED;
import static io.jrbd.systest.OcfAgent.ERR_GENERIC;
import static io.jrbd.systest.OcfAgent.ERR_INSTALLED;
import static io.jrbd.systest.OcfAgent.ERR_UNIMPLEMENTED;
import static io.jrbd.systest.OcfAgent.FAILED_PROMOTED;
import static io.jrbd.systest.OcfAgent.NOT_RUNNING;
import static io.jrbd.systest.OcfAgent.RUNNING_PROMOTED;
import static io.jrbd.systest.OcfAgent.SUCCESS;
import static io.jrbd.systest.TwoNodes.ALPHA;
import static io.jrbd.systest.TwoNodes.BRAVO;
import static io.jrbd.systest.TwoNodes.RESOURCE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The OCF agent called directly, action by action, as Pacemaker calls it, on node alpha of a
 * real pair whose peer bravo runs: every return code of the OCF API, the promotion score it
 * publishes (through fake crm_attribute / crm_master that record their arguments), the node
 * that comes back still Primary, and validate-all's answers to bad parameters.
 */
@Tag("cluster") // shell agent, Pacemaker and packaging: run once, on the default JDK (run-tests)
class OcfAgentTest {
    /** Pacemaker 2.1.5's feature set: the agent then uses crm_attribute --promotion. */
    private static final Map<String, String> PACEMAKER_2_1 = Map.of("OCF_RESKEY_crm_feature_set", "3.16.1");

    @TempDir
    Path dir;

    /** A synced pair (alpha UpToDate, bravo UpToDate and up), with alpha stopped for the agent to start. */
    private static TwoNodes pairWithAlphaStopped(Path dir) throws Exception {
        TwoNodes nodes = TwoNodes.synced(dir, new TwoNodes.Options().size("16M"));
        try {
            nodes.jrbdadm(ALPHA, "secondary", RESOURCE).assertOk();
            nodes.jrbdadm(ALPHA, "down", RESOURCE).assertOk();
            nodes.stop(ALPHA);
        } catch (Throwable e) {
            nodes.close();
            throw e;
        }
        return nodes;
    }

    private static OcfAgent.Run run(OcfAgent agent, String action) {
        return agent.run(action, Map.of(), PACEMAKER_2_1);
    }

    @Test
    void the_agent_takes_a_node_through_start_promote_demote_and_stop() throws Exception {
        try (TwoNodes nodes = pairWithAlphaStopped(dir.resolve("pair"));
                OcfAgent agent = new OcfAgent(nodes.node(ALPHA).confDir, ALPHA, dir.resolve("agent"))) {
            agent.probe().expect(NOT_RUNNING);
            run(agent, "monitor").expect(NOT_RUNNING);
            run(agent, "demote").expect(NOT_RUNNING);
            OcfAgent.Run early = run(agent, "promote").expect(ERR_GENERIC);
            assertTrue(early.exitReason().contains("not started"), early.output());

            run(agent, "start").expect(SUCCESS);
            long pid = agent.recordedDaemonPid().orElseThrow();
            assertTrue(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "the daemon the agent started");
            assertEquals("Secondary", nodes.statusJson(ALPHA).path("role").asText());
            agent.takeScoreCalls();
            run(agent, "monitor").expect(SUCCESS);
            assertEquals("crm_attribute -p -v 10000", agent.lastScoreCall(), "UpToDate and connected");
            run(agent, "start").expect(SUCCESS);
            assertEquals(pid, agent.recordedDaemonPid().orElseThrow(), "a second start must not start a second daemon");

            run(agent, "promote").expect(SUCCESS);
            assertEquals("Primary", nodes.statusJson(ALPHA).path("role").asText());
            run(agent, "monitor").expect(RUNNING_PROMOTED);
            assertEquals("crm_attribute -p -v 10000", agent.lastScoreCall());
            agent.probe().expect(RUNNING_PROMOTED);
            run(agent, "promote").expect(SUCCESS);

            run(agent, "demote").expect(SUCCESS);
            assertEquals("Secondary", nodes.statusJson(ALPHA).path("role").asText());
            run(agent, "monitor").expect(SUCCESS);
            run(agent, "demote").expect(SUCCESS);

            // bravo is Primary: jrbd refuses the promotion, and the agent says why (after retrying
            // for the operation's time, in case bravo were dying).
            nodes.jrbdadm(BRAVO, "primary", RESOURCE).assertOk();
            OcfAgent.Run refused = agent.run("promote", Map.of(), Map.of("OCF_RESKEY_crm_feature_set", "3.16.1",
                    "OCF_RESKEY_CRM_meta_timeout", "8000")).expect(ERR_GENERIC);
            assertTrue(refused.exitReason().contains("peer bravo is Primary"), refused.output());
            run(agent, "monitor").expect(SUCCESS);
            nodes.jrbdadm(BRAVO, "secondary", RESOURCE).assertOk();

            Map<String, String> notify = new HashMap<>(PACEMAKER_2_1);
            notify.putAll(Map.of("OCF_RESKEY_CRM_meta_notify_type", "post", "OCF_RESKEY_CRM_meta_notify_operation", "promote",
                    "OCF_RESKEY_CRM_meta_notify_promote_uname", "bravo", "OCF_RESKEY_CRM_meta_notify_promote_resource", "r0:1"));
            agent.run("notify", Map.of(), notify).expect(SUCCESS);
            assertEquals("crm_attribute -p -v 10000", agent.lastScoreCall(), "post notifications refresh the score");

            run(agent, "stop").expect(SUCCESS);
            assertEquals("crm_attribute -p -D", agent.lastScoreCall(), "a stopped instance has no score");
            run(agent, "monitor").expect(NOT_RUNNING);
            assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false),
                    "stop stops the daemon it started once no resource is up");
            run(agent, "stop").expect(SUCCESS);
            nodes.waitFor(BRAVO, s -> s.path("disk").asText().equals("UpToDate"), 30, "bravo UpToDate");
        }
    }

    @Test
    void a_node_that_stayed_primary_is_reported_promoted_and_a_dead_primary_as_failed() throws Exception {
        try (TwoNodes nodes = pairWithAlphaStopped(dir.resolve("pair"));
                OcfAgent agent = new OcfAgent(nodes.node(ALPHA).confDir, ALPHA, dir.resolve("agent"))) {
            run(agent, "start").expect(SUCCESS);
            // The cluster lost alpha while it was Primary (promoted behind Pacemaker's back here).
            nodes.jrbdadm(ALPHA, "primary", RESOURCE).assertOk();
            agent.probe().expect(RUNNING_PROMOTED); // Pacemaker learns the truth when alpha rejoins
            // If Pacemaker starts it instead (it believed it stopped), it comes up Unpromoted.
            OcfAgent.Run start = run(agent, "start").expect(SUCCESS);
            assertTrue(start.output().contains("was Primary at start"), start.output());
            assertEquals("Secondary", nodes.statusJson(ALPHA).path("role").asText());
            run(agent, "monitor").expect(SUCCESS);

            // A Primary whose daemon dies is a failed Primary for the recurring monitor (9), so
            // Pacemaker recovers it: demote, stop and start succeed on the dead instance.
            run(agent, "promote").expect(SUCCESS);
            long pid = agent.recordedDaemonPid().orElseThrow();
            OcfAgent.kill9(ProcessHandle.of(pid).orElseThrow());
            OcfAgent.Run failed = run(agent, "monitor").expect(FAILED_PROMOTED);
            assertTrue(failed.exitReason().contains("not running"), failed.output());
            agent.probe().expect(NOT_RUNNING);
            run(agent, "demote").expect(SUCCESS);
            run(agent, "monitor").expect(NOT_RUNNING);
            run(agent, "stop").expect(SUCCESS);
            run(agent, "start").expect(SUCCESS);
            run(agent, "monitor").expect(SUCCESS);
            run(agent, "stop").expect(SUCCESS);
            run(agent, "monitor").expect(NOT_RUNNING);
            assertEquals(List.of(), agent.daemons(), "the agent left its daemon running");
        }
    }

    @Test
    void validate_all_answers_bad_parameters_with_the_ocf_codes() throws Exception {
        try (TwoNodes nodes = TwoNodes.configure(dir.resolve("pair"), new TwoNodes.Options().size("16M"));
                OcfAgent agent = new OcfAgent(nodes.node(ALPHA).confDir, ALPHA, dir.resolve("agent"))) {
            agent.run("validate-all").expect(SUCCESS);

            OcfAgent.Run noResource = agent.run("validate-all", nullValue("resource"), Map.of()).expect(ERR_CONFIGURED);
            assertTrue(noResource.exitReason().contains("resource is required"), noResource.output());
            OcfAgent.Run unknown = agent.run("validate-all", Map.of("resource", "r9"), Map.of()).expect(ERR_CONFIGURED);
            assertTrue(unknown.exitReason().contains("no resource 'r9'"), unknown.output());
            agent.run("validate-all", Map.of("resource", "bad name"), Map.of()).expect(ERR_CONFIGURED);
            agent.run("validate-all", Map.of("score_consistent", "five"), Map.of()).expect(ERR_CONFIGURED);
            agent.run("validate-all", Map.of(), Map.of("OCF_RESKEY_CRM_meta_promoted_max", "2")).expect(ERR_CONFIGURED);
            OcfAgent.Run wrongNode = agent.run("validate-all", Map.of("node", "charlie"), Map.of()).expect(ERR_ARGS);
            assertTrue(wrongNode.exitReason().contains("charlie"), wrongNode.output());

            Map<String, String> noJrbdadm = Map.of("jrbdadm", dir.resolve("nowhere/jrbdadm").toString());
            OcfAgent.Run missing = agent.run("validate-all", noJrbdadm, Map.of()).expect(ERR_INSTALLED);
            assertTrue(missing.exitReason().contains("jrbdadm"), missing.output());
            agent.run("validate-all", Map.of("config", dir.resolve("nowhere").toString()), Map.of()).expect(ERR_INSTALLED);
            // Where nothing can run, a probe says stopped and stop succeeds (a failed stop gets a node fenced).
            agent.run("monitor", noJrbdadm, Map.of("OCF_RESKEY_CRM_meta_interval", "0")).expect(NOT_RUNNING);
            agent.run("stop", noJrbdadm, Map.of()).expect(SUCCESS);
            agent.run("start", noJrbdadm, Map.of()).expect(ERR_INSTALLED);

            agent.run("frobnicate").expect(ERR_UNIMPLEMENTED);
            assertTrue(agent.run("meta-data", nullValue("resource"), Map.of()).expect(SUCCESS).output().contains("<resource-agent"));
        }
    }

    /** One row of the score table: the status jrbdadm reports, and what the agent must do with it. */
    private record Row(String role, String disk, String connection, String peerDisk, String refused, int rc, String score) {
    }

    @Test
    void the_promotion_score_follows_the_disk_state() throws Exception {
        // A stand-in jrbdadm prints a prepared status, so that states a real pair rarely shows
        // (Consistent, Outdated, a diskless Primary) are covered too.
        Path fake = Files.createDirectories(dir.resolve("fake-jrbd"));
        Path status = dir.resolve("status.json");
        OcfAgent.script(fake.resolve("jrbdadm"), "#!/bin/sh\ncase \" $* \" in *\" status \"*) cat '" + status
                + "'; exit 0 ;; esac\necho \"jrbdadm: refused by the stand-in: $*\" >&2\nexit 1\n");
        OcfAgent.script(fake.resolve("jrbd"), "#!/bin/sh\nexit 1\n");
        Path conf = Files.createDirectories(dir.resolve("conf"));
        try (OcfAgent agent = new OcfAgent(conf, ALPHA, dir.resolve("agent"))) {
            agent.params.put("jrbdadm", fake.resolve("jrbdadm").toString());
            List<Row> table = List.of(
                    new Row("Secondary", "UpToDate", "Connected", "UpToDate", null, SUCCESS, "-v 10000"),
                    new Row("Secondary", "UpToDate", "Connected", "Inconsistent", null, SUCCESS, "-v 10000"),
                    new Row("Secondary", "UpToDate", "Connecting", "DUnknown", null, SUCCESS, "-v 1000"),
                    new Row("Primary", "UpToDate", "Connecting", "DUnknown", null, RUNNING_PROMOTED, "-v 10000"),
                    new Row("Primary", "UpToDate", "Connected", "UpToDate", null, RUNNING_PROMOTED, "-v 10000"),
                    new Row("Secondary", "Consistent", "Connecting", "DUnknown", null, SUCCESS, "-v 5"),
                    new Row("Primary", "Consistent", "Connecting", "DUnknown", null, RUNNING_PROMOTED, "-v 5"),
                    new Row("Secondary", "Outdated", "Connected", "UpToDate", null, SUCCESS, "-D"),
                    new Row("Secondary", "Inconsistent", "SyncTarget", "UpToDate", null, SUCCESS, "-D"),
                    new Row("Secondary", "Diskless", "Connecting", "DUnknown", null, SUCCESS, "-D"),
                    new Row("Primary", "Diskless", "Connected", "UpToDate", null, FAILED_PROMOTED, "-D"),
                    new Row("Primary", "Inconsistent", "Connected", "UpToDate", null, FAILED_PROMOTED, "-D"),
                    new Row("Secondary", "UpToDate", "StandAlone", "DUnknown",
                            "SPLIT BRAIN detected, dropping the connection! (SPLIT_BRAIN by rule 90)", SUCCESS, "-D"),
                    new Row("Primary", "UpToDate", "StandAlone", "DUnknown",
                            "SPLIT BRAIN detected, dropping the connection! (SPLIT_BRAIN by rule 90)", RUNNING_PROMOTED, "-v 10000"),
                    new Row("Secondary", "Attaching", "Connecting", "DUnknown", null, SUCCESS, null));
            for (Row row : table) {
                Files.writeString(status, statusJson(row, true), StandardCharsets.UTF_8);
                agent.takeScoreCalls();
                OcfAgent.Run r = agent.run("monitor", Map.of(), PACEMAKER_2_1);
                assertEquals(row.rc(), r.rc(), row + ": monitor; output:\n" + r.output());
                List<String> calls = agent.takeScoreCalls();
                if (row.score() == null) {
                    assertEquals(List.of(), calls, row + ": the score must be left alone");
                } else {
                    assertEquals(List.of("crm_attribute -p " + row.score()), calls, row.toString());
                }
            }
            // Before Pacemaker 2.1 (no feature set >= 3.10.0 given) the agent uses crm_master.
            Files.writeString(status, statusJson(table.get(0), true), StandardCharsets.UTF_8);
            agent.run("monitor").expect(SUCCESS);
            assertEquals(List.of("crm_master -l reboot -v 10000"), agent.takeScoreCalls());
            // A resource that is down is not running, and its score is not touched by monitor.
            Files.writeString(status, statusJson(table.get(0), false), StandardCharsets.UTF_8);
            agent.run("monitor", Map.of(), PACEMAKER_2_1).expect(NOT_RUNNING);
            assertEquals(List.of(), agent.takeScoreCalls());
            // The scores are parameters.
            Files.writeString(status, statusJson(table.get(0), true), StandardCharsets.UTF_8);
            agent.run("monitor", Map.of("score_uptodate", "200"), PACEMAKER_2_1).expect(SUCCESS);
            assertEquals(List.of("crm_attribute -p -v 200"), agent.takeScoreCalls());
            Files.writeString(status, statusJson(table.get(5), true), StandardCharsets.UTF_8);
            agent.run("monitor", Map.of("score_consistent", "0"), PACEMAKER_2_1).expect(SUCCESS);
            assertEquals(List.of("crm_attribute -p -D"), agent.takeScoreCalls());
        }
    }

    /** {@code jrbdadm status --json r0} as the daemon prints it (Jackson, indented). */
    private static String statusJson(Row row, boolean up) throws Exception {
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ArrayNode array = json.createArrayNode();
        ObjectNode r = array.addObject();
        r.put("resource", RESOURCE).put("node", ALPHA).put("up", up).put("role", up ? row.role() : "Secondary")
                .put("protocol", "C").put("disk", up ? row.disk() : "Diskless")
                .put("connection", up ? row.connection() : "StandAlone");
        if (up) {
            r.put("generation", "0123456789abcdef");
            ObjectNode peer = r.putObject("peer");
            peer.put("node", BRAVO).put("role", row.peerDisk().equals("DUnknown") ? "Unknown" : "Secondary")
                    .put("disk", row.peerDisk());
            if (row.peerDisk().equals("DUnknown")) {
                peer.put("lastError", "cannot connect to bravo at /127.0.0.1:7789: \"refused\" {x} [y], z");
            }
            ObjectNode last = r.putObject("lastConnect");
            last.put("outcome", "NO_SYNC").put("rule", 40).put("why", "role: \"Primary\", disk: {Diskless}");
            if (row.refused() != null) {
                r.put("refused", row.refused());
            }
            r.put("outOfSyncBytes", 0).put("degraded", false).put("lastEvent", "up");
        }
        return json.writeValueAsString(array);
    }

    private static Map<String, String> nullValue(String key) {
        Map<String, String> m = new HashMap<>();
        m.put(key, null);
        return m;
    }
}
