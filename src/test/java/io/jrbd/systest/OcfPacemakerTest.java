package io.jrbd.systest;

import static io.jrbd.systest.TwoNodes.ALPHA;
import static io.jrbd.systest.TwoNodes.BRAVO;
import static io.jrbd.systest.TwoNodes.RESOURCE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent under a real Pacemaker: a one-node cluster (corosync and pacemakerd started by
 * hand on loopback) runs node alpha of a jrbd pair as a promotable clone; bravo runs outside the
 * cluster. Pacemaker starts the instance, reads the promotion score, promotes it; when the
 * daemon is killed, the monitor reports a failed Primary and Pacemaker recovers it (demote,
 * stop, start, promote); target-role=Stopped takes it down and stops the daemon.
 */
@Tag("cluster") // shell agent, Pacemaker and packaging: run once, on the default JDK (run-tests)
class OcfPacemakerTest {
    private static final String CLONE = "r0-clone";
    private static final String PRIMITIVE = "r0";

    @TempDir
    Path dir;

    @Test
    void pacemaker_promotes_the_clone_recovers_a_dead_primary_and_stops_it() throws Exception {
        try (TwoNodes nodes = TwoNodes.synced(dir.resolve("pair"), new TwoNodes.Options().size("16M"));
                OcfAgent agent = new OcfAgent(nodes.node(ALPHA).confDir, ALPHA, dir.resolve("agent"));
                OcfCluster cluster = OcfCluster.start(dir.resolve("cluster"))) {
            nodes.jrbdadm(ALPHA, "secondary", RESOURCE).assertOk();
            nodes.jrbdadm(ALPHA, "down", RESOURCE).assertOk();
            nodes.stop(ALPHA);

            cluster.createResource(cloneXml(agent.params));
            String promoted = cluster.waitForMon(s -> s.contains("Promoted: [ " + OcfCluster.NODE + " ]"), 90, "r0 promoted");
            assertTrue(promoted.contains("master-" + PRIMITIVE) && promoted.contains("10000"),
                    "the promotion score is published: " + promoted);
            JsonNode alpha = nodes.statusJson(ALPHA);
            assertEquals("Primary", alpha.path("role").asText(), alpha.toString());
            nodes.waitFor(BRAVO, s -> s.path("peer").path("role").asText().equals("Primary"), 30, "bravo sees alpha Primary");

            // The daemon dies: the Promoted monitor says 9, Pacemaker recovers the instance in place.
            long pid = agent.recordedDaemonPid().orElseThrow();
            OcfAgent.kill9(ProcessHandle.of(pid).orElseThrow());
            OcfCluster.waitUntil(() -> {
                long now = agent.recordedDaemonPid().orElse(pid);
                JsonNode s = nodes.quickStatus(ALPHA);
                return now != pid && s != null && s.path("role").asText().equals("Primary");
            }, 90, "Pacemaker to bring alpha back as Primary", () -> cluster.mon() + "\n" + TwoNodes.tail(cluster.log(), 6000));
            String log = cluster.log();
            assertTrue(log.contains("promoted (failed)"), "the monitor reported a failed Primary:\n" + log.lines()
                    .filter(l -> l.contains("Result of")).reduce("", (a, b) -> a + b + "\n"));
            assertNotEquals(pid, agent.recordedDaemonPid().orElseThrow());
            cluster.waitForMon(s -> s.contains("Promoted: [ " + OcfCluster.NODE + " ]"), 60, "r0 promoted again");

            cluster.setMeta(CLONE, "target-role", "Stopped");
            OcfCluster.waitUntil(() -> agent.daemons().isEmpty() && agent.recordedDaemonPid().isEmpty(), 90,
                    "Pacemaker to stop r0 and the agent its daemon", cluster::mon);
            cluster.waitForMon(s -> !s.contains("Promoted:") && !s.contains("Unpromoted:"), 30, "no instance left");
            nodes.waitFor(BRAVO, s -> s.path("peer").path("disk").asText().equals("DUnknown"), 30, "bravo sees alpha gone");
        }
    }

    /** The promotable clone, as docs/ha.md configures it (one instance here: the cluster has one node). */
    private static String cloneXml(Map<String, String> params) {
        StringBuilder attrs = new StringBuilder();
        params.forEach((k, v) -> attrs.append("<nvpair id=\"r0-").append(k).append("\" name=\"").append(k)
                .append("\" value=\"").append(v).append("\"/>\n"));
        return """
                <clone id="%s">
                  <meta_attributes id="r0-clone-meta">
                    <nvpair id="r0-clone-promotable" name="promotable" value="true"/>
                    <nvpair id="r0-clone-promoted-max" name="promoted-max" value="1"/>
                    <nvpair id="r0-clone-promoted-node-max" name="promoted-node-max" value="1"/>
                    <nvpair id="r0-clone-clone-max" name="clone-max" value="1"/>
                    <nvpair id="r0-clone-clone-node-max" name="clone-node-max" value="1"/>
                    <nvpair id="r0-clone-notify" name="notify" value="true"/>
                  </meta_attributes>
                  <primitive id="%s" class="ocf" provider="%s" type="jrbd">
                    <instance_attributes id="r0-params">
                %s    </instance_attributes>
                    <operations>
                      <op id="r0-monitor-promoted" name="monitor" interval="3s" role="Promoted" timeout="30s"/>
                      <op id="r0-monitor-unpromoted" name="monitor" interval="4s" role="Unpromoted" timeout="30s"/>
                      <op id="r0-start" name="start" interval="0" timeout="120s"/>
                      <op id="r0-stop" name="stop" interval="0" timeout="100s"/>
                      <op id="r0-promote" name="promote" interval="0" timeout="90s"/>
                      <op id="r0-demote" name="demote" interval="0" timeout="90s"/>
                    </operations>
                  </primitive>
                </clone>
                """.formatted(CLONE, PRIMITIVE, OcfCluster.PROVIDER, attrs);
    }
}
