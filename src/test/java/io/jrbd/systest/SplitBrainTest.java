package io.jrbd.systest;

import static io.jrbd.systest.TwoNodes.ALPHA;
import static io.jrbd.systest.TwoNodes.BRAVO;
import static io.jrbd.systest.TwoNodes.RESOURCE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Both nodes write while apart. At the next connect the split brain is detected, both go
 * StandAlone and neither store changes; a victim chosen by hand ({@code connect
 * --discard-my-data}) or by an automatic policy is then resynced from the other, bitmap-based.
 */
class SplitBrainTest {
    private static final long MIB = 1 << 20;

    @TempDir
    Path dir;

    @Test
    void a_split_brain_is_refused_without_touching_either_store_then_resolved_by_discard_my_data() throws Exception {
        Path handler = dir.resolve("split-brain.sh");
        java.nio.file.Files.writeString(handler, "#!/bin/sh\necho \"$JRBD_HANDLER $JRBD_RESOURCE $JRBD_NODE_NAME $JRBD_PEER\" >> "
                + dir.resolve("handler-$JRBD_NODE_NAME.txt") + "\n");
        handler.toFile().setExecutable(true);
        try (TwoNodes nodes = TwoNodes.synced(dir, new TwoNodes.Options().size("64M")
                .table("[handlers]\nsplit-brain = \"" + handler + "\""))) {
            split(nodes, true);
            write(nodes, ALPHA, 0xA1, 0, 4);
            write(nodes, BRAVO, 0xB2, 8, 2);
            String alphaBefore = TwoNodes.sha256(nodes.disk(ALPHA));
            String bravoBefore = TwoNodes.sha256(nodes.disk(BRAVO));
            assertNotEquals(alphaBefore, bravoBefore);

            heal(nodes);
            for (String n : List.of(ALPHA, BRAVO)) {
                JsonNode s = nodes.waitFor(n, st -> st.path("refused").asText().contains("SPLIT BRAIN"), 30,
                        n + " to refuse the split brain");
                assertEquals("StandAlone", s.path("connection").asText(), s.toString());
                assertEquals("SPLIT_BRAIN", s.path("lastConnect").path("outcome").asText(), s.toString());
                assertEquals(90, s.path("lastConnect").path("rule").asInt(), s.toString());
                assertTrue(nodes.log(n).contains("SPLIT BRAIN detected"), nodes.log(n));
            }
            Thread.sleep(2000); // a wrong resync would have begun by now
            for (String n : List.of(ALPHA, BRAVO)) {
                Path record = dir.resolve("handler-" + n + ".txt");
                assertTrue(java.nio.file.Files.exists(record), "the split-brain handler did not run on " + n);
                String peer = n.equals(ALPHA) ? BRAVO : ALPHA;
                assertEquals("split-brain r0 " + n + " " + peer, java.nio.file.Files.readString(record).lines().findFirst().orElse(""));
            }
            assertEquals(alphaBefore, TwoNodes.sha256(nodes.disk(ALPHA)), "alpha's store changed");
            assertEquals(bravoBefore, TwoNodes.sha256(nodes.disk(BRAVO)), "bravo's store changed");

            nodes.jrbdadm(BRAVO, "connect", "--discard-my-data", RESOURCE).assertFailure("a split-brain victim must be Secondary");
            nodes.jrbdadm(BRAVO, "disconnect", RESOURCE).assertOk();
            nodes.jrbdadm(BRAVO, "secondary", RESOURCE).assertOk();
            nodes.jrbdadm(BRAVO, "connect", "--discard-my-data", RESOURCE).assertOk();
            nodes.jrbdadm(ALPHA, "disconnect", RESOURCE).assertOk();
            nodes.jrbdadm(ALPHA, "connect", RESOURCE).assertOk();
            nodes.jrbdadm(ALPHA, "wait-sync", "--timeout", "60", RESOURCE).assertOk();
            nodes.waitFor(BRAVO, st -> st.path("disk").asText().equals("UpToDate"), 30, "bravo UpToDate");
            assertEquals(TwoNodes.sha256(nodes.disk(ALPHA)), TwoNodes.sha256(nodes.disk(BRAVO)), "stores differ after the resync");
            assertEquals(alphaBefore, TwoNodes.sha256(nodes.disk(ALPHA)), "the survivor's data changed");
            String bravoLog = nodes.log(BRAVO);
            assertTrue(bravoLog.contains("bitmap-based resync from alpha"), bravoLog);
            JsonNode a = nodes.statusJson(ALPHA);
            assertEquals(a.path("generations").asText(), nodes.statusJson(BRAVO).path("generations").asText(),
                    "both nodes end on the same generations");
        }
    }

    @Test
    void unrelated_data_is_refused_with_a_clear_message() throws Exception {
        try (TwoNodes nodes = TwoNodes.start(dir, new TwoNodes.Options().size("16M"))) {
            for (String n : List.of(ALPHA, BRAVO)) {
                nodes.jrbdadm(n, "disconnect", RESOURCE).assertOk();
            }
            for (String n : List.of(ALPHA, BRAVO)) {
                nodes.jrbdadm(n, "primary", "--force", RESOURCE).assertOk();
                nodes.jrbdadm(n, "secondary", RESOURCE).assertOk();
            }
            String alphaBefore = TwoNodes.sha256(nodes.disk(ALPHA));
            heal(nodes);
            for (String n : List.of(ALPHA, BRAVO)) {
                JsonNode s = nodes.waitFor(n, st -> st.path("refused").asText().contains("Unrelated data"), 30,
                        n + " to refuse unrelated data");
                assertEquals("UNRELATED", s.path("lastConnect").path("outcome").asText(), s.toString());
                assertEquals("StandAlone", s.path("connection").asText());
            }
            assertEquals(alphaBefore, TwoNodes.sha256(nodes.disk(ALPHA)));
        }
    }

    @Test
    void discard_zero_changes_resyncs_the_node_that_wrote_nothing_from_a_secondary() throws Exception {
        String keep = policyRun("after-sb-0pri = \"discard-zero-changes\"", 3, 0, BRAVO);
        assertTrue(keep.contains("discard-zero-changes"), keep);
    }

    @Test
    void discard_least_changes_resyncs_the_node_that_wrote_less() throws Exception {
        policyRun("after-sb-0pri = \"discard-least-changes\"", 1, 5, ALPHA);
    }

    @Test
    void discard_younger_primary_resyncs_the_node_promoted_after_the_split() throws Exception {
        policyRun("after-sb-0pri = \"discard-younger-primary\"", 1, 5, BRAVO);
    }

    @Test
    void discard_node_resyncs_the_named_node() throws Exception {
        policyRun("after-sb-0pri = \"discard-node-alpha\"", 5, 1, ALPHA);
    }

    @Test
    void discard_secondary_with_one_primary_resyncs_the_secondary() throws Exception {
        try (TwoNodes nodes = TwoNodes.synced(dir, new TwoNodes.Options().size("32M").net("after-sb-1pri = \"discard-secondary\""))) {
            split(nodes, true);
            write(nodes, ALPHA, 0xA1, 0, 1);
            write(nodes, BRAVO, 0xB2, 4, 3);
            nodes.jrbdadm(BRAVO, "secondary", RESOURCE).assertOk();
            String survivor = TwoNodes.sha256(nodes.disk(ALPHA));
            heal(nodes);
            nodes.jrbdadm(ALPHA, "wait-sync", "--timeout", "60", RESOURCE).assertOk();
            nodes.waitFor(BRAVO, st -> st.path("disk").asText().equals("UpToDate"), 30, "bravo UpToDate");
            assertEquals(survivor, TwoNodes.sha256(nodes.disk(BRAVO)), "bravo was not resynced from alpha");
            assertTrue(nodes.log(ALPHA).contains("resolved automatically by after-sb-1pri discard-secondary"), nodes.log(ALPHA));
        }
    }

    @Test
    void call_pri_lost_after_sb_runs_the_handler_on_the_losing_primary_and_overwrites_nothing() throws Exception {
        Path record = dir.resolve("pri-lost.txt");
        Path handler = dir.resolve("pri-lost.sh");
        java.nio.file.Files.writeString(handler, "#!/bin/sh\necho \"$JRBD_HANDLER $JRBD_NODE_NAME\" >> " + record + "\n");
        handler.toFile().setExecutable(true);
        try (TwoNodes nodes = TwoNodes.synced(dir, new TwoNodes.Options().size("32M")
                .net("after-sb-0pri = \"discard-least-changes\"").net("after-sb-1pri = \"call-pri-lost-after-sb\"")
                .table("[handlers]\npri-lost-after-sb = \"" + handler + "\""))) {
            split(nodes, true);
            write(nodes, ALPHA, 0xA1, 0, 1);  // alpha, still Primary, changed less: the 0pri verdict discards it
            write(nodes, BRAVO, 0xB2, 4, 3);
            nodes.jrbdadm(BRAVO, "secondary", RESOURCE).assertOk();
            String alphaBefore = TwoNodes.sha256(nodes.disk(ALPHA));
            heal(nodes);
            nodes.waitFor(ALPHA, st -> st.path("refused").asText().contains("SPLIT BRAIN"), 30, "alpha refuses");
            for (int i = 0; i < 50 && !java.nio.file.Files.exists(record); i++) {
                Thread.sleep(100);
            }
            assertEquals("pri-lost-after-sb alpha", java.nio.file.Files.readString(record).strip(),
                    "the handler runs on the losing Primary only");
            assertEquals(alphaBefore, TwoNodes.sha256(nodes.disk(ALPHA)), "a Primary's data was overwritten");
        }
    }

    /**
     * Splits a synced pair, writes {@code alphaMiB} on alpha and {@code bravoMiB} on bravo (promoted
     * by force after the split), demotes both and reconnects under {@code policy}: the victim's store
     * must end equal to the survivor's. Returns the victim's log.
     */
    private String policyRun(String policy, int alphaMiB, int bravoMiB, String victim) throws Exception {
        try (TwoNodes nodes = TwoNodes.synced(dir, new TwoNodes.Options().size("32M").net(policy))) {
            split(nodes, true);
            if (alphaMiB > 0) {
                write(nodes, ALPHA, 0xA1, 0, alphaMiB);
            }
            if (bravoMiB > 0) {
                write(nodes, BRAVO, 0xB2, 8, bravoMiB);
            }
            for (String n : List.of(ALPHA, BRAVO)) {
                nodes.jrbdadm(n, "secondary", RESOURCE).assertOk();
            }
            String survivorName = victim.equals(ALPHA) ? BRAVO : ALPHA;
            String survivor = TwoNodes.sha256(nodes.disk(survivorName));
            heal(nodes);
            nodes.waitFor(victim, st -> st.path("disk").asText().equals("UpToDate")
                    && st.path("connection").asText().equals("Connected")
                    && st.path("lastConnect").path("outcome").asText().equals("BITMAP_TARGET"), 60,
                    victim + " resynced as SyncTarget");
            assertEquals(survivor, TwoNodes.sha256(nodes.disk(victim)), victim + " does not hold " + survivorName + "'s data");
            assertEquals(survivor, TwoNodes.sha256(nodes.disk(survivorName)), "the survivor's data changed");
            String log = nodes.log(survivorName);
            assertTrue(log.contains("split brain detected and resolved automatically"), log);
            return log;
        }
    }

    /** Both nodes stop talking; bravo is promoted by force (so both are Primary). */
    private static void split(TwoNodes nodes, boolean promoteBravo) throws Exception {
        nodes.jrbdadm(ALPHA, "disconnect", RESOURCE).assertOk();
        nodes.jrbdadm(BRAVO, "disconnect", RESOURCE).assertOk();
        nodes.waitFor(ALPHA, s -> s.path("degraded").asBoolean(false), 15, "alpha degraded");
        if (promoteBravo) {
            nodes.jrbdadm(BRAVO, "primary", "--force", RESOURCE).assertOk();
        }
    }

    private static void heal(TwoNodes nodes) {
        nodes.jrbdadm(ALPHA, "connect", RESOURCE).assertOk();
        nodes.jrbdadm(BRAVO, "connect", RESOURCE).assertOk();
    }

    /** Writes {@code mib} MiB of {@code pattern} at {@code atMiB} through the node's NBD export, flushed. */
    private static void write(TwoNodes nodes, String node, int pattern, int atMiB, int mib) {
        List<String> argv = new ArrayList<>(List.of("qemu-io", "-f", "raw"));
        for (int i = 0; i < mib; i++) {
            argv.add("-c");
            argv.add("write -P " + pattern + " " + (atMiB + i) * MIB + " 1M");
        }
        argv.add("-c");
        argv.add("flush");
        argv.add(nodes.uri(node));
        Command.of(argv).timeout(60).ok();
    }
}
