package io.jrbd.systest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Pacemaker handlers {@code packaging/handlers/crm-fence-peer.sh} and
 * {@code crm-unfence-peer.sh} against a real one-node CIB ({@link OcfCluster}), called the way
 * the jrbd daemon calls them: no arguments, the resource and the peer in the environment. The
 * clone of r0 is in the CIB but stopped; a promotable {@code ocf:pacemaker:Stateful} clone
 * stands in for a clone that is Promoted somewhere.
 */
@Tag("cluster") // shell agent, Pacemaker and packaging: run once, on the default JDK (run-tests)
class OcfFenceHandlerTest {
    private static final String CONSTRAINT = "jrbd-fence-by-handler-r0-r0-clone";

    @TempDir
    Path dir;

    /** One handler run: exit code, stderr/stdout, and how long it took. */
    record Run(int rc, String output, double seconds) {
    }

    @Test
    void fence_peer_places_the_constraint_and_unfence_peer_removes_it() throws Exception {
        try (OcfCluster cluster = OcfCluster.start(dir.resolve("cluster"))) {
            cluster.createResource("""
                    <clone id="r0-clone">
                      <meta_attributes id="r0-clone-meta">
                        <nvpair id="r0-clone-promotable" name="promotable" value="true"/>
                        <nvpair id="r0-clone-target-role" name="target-role" value="Stopped"/>
                      </meta_attributes>
                      <primitive id="r0" class="ocf" provider="%s" type="jrbd">
                        <instance_attributes id="r0-params">
                          <nvpair id="r0-resource" name="resource" value="r0"/>
                        </instance_attributes>
                      </primitive>
                    </clone>
                    """.formatted(OcfCluster.PROVIDER));
            Path log = dir.resolve("fence.log");

            // The peer is not a node of this cluster: constraint placed, peer state unknown: 4.
            Run r = fence("r0", "bravo", Map.of("JRBD_FENCE_LOG", log.toString()));
            assertEquals(4, r.rc(), r.output());
            String c = constraints(cluster);
            assertTrue(c.contains("<rsc_location id=\"" + CONSTRAINT + "\" rsc=\"r0-clone\""), c);
            assertTrue(c.contains("role=\"Promoted\" score=\"-INFINITY\""), c);
            assertTrue(c.contains("attribute=\"#uname\" operation=\"ne\" value=\"" + OcfCluster.NODE + "\""), c);
            assertEquals(List.of("crm-fence-peer.sh: r0: constraint " + CONSTRAINT + " added: Promoted only on node1; "
                    + "peer state unknown to crm_mon; exit 4"), logLines(log));
            assertEquals(1, r.output().strip().lines().count(), "one line on stderr: " + r.output());

            // Again: nothing changes.
            r = fence("r0", "bravo", Map.of());
            assertEquals(4, r.rc(), r.output());
            assertTrue(r.output().contains(CONSTRAINT + " already in place"), r.output());
            assertEquals(1, count(constraints(cluster), "<rsc_location "), constraints(cluster));

            // A constraint of the same id that favours another node is replaced.
            Command.of(OcfTesterTest.tool("cibadmin"), "--replace", "--scope", "constraints", "--xml-text",
                    constraints(cluster).replace("value=\"node1\"", "value=\"bravo\"")).timeout(30).ok();
            assertTrue(constraints(cluster).contains("value=\"bravo\""));
            r = fence("r0", "bravo", Map.of());
            assertEquals(4, r.rc(), r.output());
            assertTrue(r.output().contains("replaced (it named another node)"), r.output());
            assertTrue(constraints(cluster).contains("operation=\"ne\" value=\"node1\""), constraints(cluster));

            // The peer is a node of the cluster that is down and not expected up: 7.
            Command.of(OcfTesterTest.tool("cibadmin"), "--create", "-o", "nodes", "--xml-text",
                    "<node id=\"2\" uname=\"bravo\"/>").timeout(30).ok();
            cluster.waitForMon(s -> s.contains("bravo"), 30, "bravo known to the cluster");
            r = fence("r0", "bravo", Map.of());
            assertEquals(7, r.rc(), r.output() + "\n" + cluster.mon());
            assertTrue(r.output().contains("peer down (shut down or fenced); exit 7"), r.output());

            // unfence-peer removes it; a second time there is nothing to remove.
            r = unfence("r0", Map.of("JRBD_FENCE_LOG", log.toString()));
            assertEquals(0, r.rc(), r.output());
            assertFalse(constraints(cluster).contains(CONSTRAINT), constraints(cluster));
            assertTrue(logLines(log).get(1).equals("crm-unfence-peer.sh: r0: constraint " + CONSTRAINT
                    + " removed: the Promoted role of r0-clone may run on any node again"), logLines(log).toString());
            r = unfence("r0", Map.of());
            assertEquals(0, r.rc(), r.output());
            assertTrue(r.output().contains("is not there; nothing to remove"), r.output());

            // No clone for the resource: fence-peer fails, unfence-peer has nothing to do.
            r = fence("r9", "bravo", Map.of());
            assertEquals(1, r.rc(), r.output());
            assertTrue(r.output().contains("no clone of an ocf:*:jrbd primitive with resource=r9 in the CIB; bravo NOT fenced"),
                    r.output());
            assertEquals(0, unfence("r9", Map.of()).rc());

            // A clone that the cluster has Promoted on the peer: this node's data is the stale one.
            cluster.createResource("""
                    <clone id="toy-clone">
                      <meta_attributes id="toy-clone-meta">
                        <nvpair id="toy-clone-promotable" name="promotable" value="true"/>
                        <nvpair id="toy-clone-clone-max" name="clone-max" value="1"/>
                      </meta_attributes>
                      <primitive id="toy" class="ocf" provider="pacemaker" type="Stateful">
                        <operations>
                          <op id="toy-monitor-promoted" name="monitor" interval="5s" role="Promoted" timeout="20s"/>
                          <op id="toy-monitor-unpromoted" name="monitor" interval="6s" role="Unpromoted" timeout="20s"/>
                        </operations>
                      </primitive>
                    </clone>
                    """);
            cluster.waitForMon(s -> s.contains("Promoted: [ " + OcfCluster.NODE + " ]"), 60, "toy promoted");
            r = fence("r0", OcfCluster.NODE, Map.of("JRBD_CRM_CLONE", "toy-clone"));
            assertEquals(1, r.rc(), r.output());
            assertTrue(r.output().contains("the cluster has toy-clone Promoted on node1: this node's data is not the one to protect"),
                    r.output());
            assertFalse(constraints(cluster).contains("jrbd-fence-by-handler-r0-toy-clone"), constraints(cluster));

            // No CIB to talk to (a network namespace of its own: Pacemaker's IPC is not there): 1 at once.
            r = run(List.of("unshare", "--net", script("crm-fence-peer.sh")), env("r0", "bravo", Map.of()));
            assertEquals(1, r.rc(), r.output());
            assertTrue(r.output().contains("cannot query the CIB") && r.output().contains("bravo NOT fenced"), r.output());
            assertTrue(r.seconds() < 10, "took " + r.seconds() + " s");
            r = run(List.of("unshare", "--net", script("crm-unfence-peer.sh")), env("r0", null, Map.of()));
            assertEquals(1, r.rc(), r.output());

            // A CIB that does not answer: the handler gives up at its timeout.
            Path slow = dir.resolve("slow-bin");
            Files.createDirectories(slow);
            OcfAgent.script(slow.resolve("cibadmin"), "#!/bin/sh\nexec sleep 60\n");
            Map<String, String> hang = new LinkedHashMap<>();
            hang.put("JRBD_FENCE_TIMEOUT", "3");
            hang.put("PATH", slow + ":/usr/sbin:/usr/bin:/sbin:/bin");
            r = fence("r0", "bravo", hang);
            assertEquals(1, r.rc(), r.output());
            assertTrue(r.output().contains("timed out after 3s"), r.output());
            assertTrue(r.seconds() < 8, "took " + r.seconds() + " s");
            r = unfence("r0", hang);
            assertEquals(1, r.rc(), r.output());
            assertTrue(r.seconds() < 8, "took " + r.seconds() + " s");
        }
    }

    private static String constraints(OcfCluster cluster) {
        return Command.of(OcfTesterTest.tool("cibadmin"), "--query", "--scope", "constraints").timeout(30).ok();
    }

    private static String script(String name) {
        return Jrbd.home().resolve("packaging").resolve("handlers").resolve(name).toString();
    }

    /** The environment the jrbd daemon gives a handler (on node1, peer {@code peer}), plus {@code extra}. */
    private static Map<String, String> env(String resource, String peer, Map<String, String> extra) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PATH", "/usr/bin:/bin");
        env.put("JRBD_RESOURCE", resource);
        env.put("DRBD_RESOURCE", resource);
        env.put("JRBD_NODE_NAME", OcfCluster.NODE);
        if (peer != null) {
            env.put("JRBD_PEER", peer);
            env.put("DRBD_PEER", peer);
            env.put("JRBD_HANDLER", "fence-peer");
        } else {
            env.put("JRBD_HANDLER", "unfence-peer");
        }
        env.putAll(extra);
        return env;
    }

    private static Run fence(String resource, String peer, Map<String, String> extra) {
        return run(List.of(script("crm-fence-peer.sh")), env(resource, peer, extra));
    }

    private static Run unfence(String resource, Map<String, String> extra) {
        return run(List.of(script("crm-unfence-peer.sh")), env(resource, "bravo", extra));
    }

    /** Runs with exactly {@code env} (nothing inherited from the test JVM). */
    private static Run run(List<String> argv, Map<String, String> env) {
        List<String> all = new ArrayList<>(List.of("env", "-i"));
        env.forEach((k, v) -> all.add(k + "=" + v));
        all.addAll(argv);
        long t0 = System.nanoTime();
        Command.Result r = Command.of(all).timeout(60).run();
        double s = (System.nanoTime() - t0) / 1e9;
        System.out.printf("%s -> %d in %.1f s: %s%n", argv.get(argv.size() - 1), r.exitCode(), s, r.output().strip());
        return new Run(r.exitCode(), r.output(), s);
    }

    private static List<String> logLines(Path log) throws Exception {
        return Files.readAllLines(log).stream().map(l -> l.replaceFirst("^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d ", "")).toList();
    }

    private static int count(String text, String what) {
        int n = 0;
        for (int i = text.indexOf(what); i >= 0; i = text.indexOf(what, i + 1)) {
            n++;
        }
        return n;
    }
}
