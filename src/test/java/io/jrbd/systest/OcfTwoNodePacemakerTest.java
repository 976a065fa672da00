package io.jrbd.systest;

import static io.jrbd.systest.TwoNodes.ALPHA;
import static io.jrbd.systest.TwoNodes.BRAVO;
import static io.jrbd.systest.TwoNodes.RESOURCE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jrbd.nbd.control.ControlClient;
import io.jrbd.nbd.control.ControlException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent as a promotable clone in a real two-node cluster: alpha and bravo are network
 * namespaces joined by a veth pair ({@link OcfNetns}), each runs its own corosync and
 * Pacemaker ({@link OcfNetnsCluster}) and, started by the agent, its own jrbd daemon bound to
 * the namespace's address. r0 has {@code fencing = "resource-only"} and the Pacemaker handlers
 * {@code packaging/handlers/crm-fence-peer.sh} / {@code crm-unfence-peer.sh}.
 *
 * <ol>
 * <li>Pacemaker promotes one node; the other is Unpromoted; both are UpToDate.
 * <li>The Secondary's daemon is killed: the Primary's fence-peer handler puts the
 * "Promoted only here" constraint into the CIB; Pacemaker restarts the Secondary, which is
 * resynced; the unfence-peer handler removes the constraint.
 * <li>The Primary's machine dies (link cut, every process of the namespace SIGKILLed):
 * Pacemaker promotes the survivor, which gets a marker written through NBD.
 * <li>The dead machine comes back still Primary (its daemon restarted and promoted by hand
 * before its cluster stack rejoins: the trap of ocf-notes.md). Whatever Pacemaker decides, the
 * survivor's data must win: the marker stays on the survivor, the survivor is never a
 * SyncTarget, and the old Primary either becomes Secondary and takes the survivor's data, or
 * is refused (StandAlone).
 * </ol>
 */
@Tag("cluster") // shell agent, Pacemaker and packaging: run once, on the default JDK (run-tests)
class OcfTwoNodePacemakerTest {
    private static final String CLONE = "r0-clone";
    private static final String PRIMITIVE = "r0";
    private static final String CONSTRAINT = "jrbd-fence-by-handler-" + RESOURCE + "-" + CLONE;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long MARKER_OFFSET = 4L << 20;
    private static final int MARKER_LENGTH = 64 << 10;

    @TempDir
    Path dir;

    private OcfNetns net;
    private Path conf;
    private Path fenceLog;

    @Test
    void survivor_keeps_its_data_when_the_old_primary_returns_and_fencing_constraints_come_and_go() throws Exception {
        long t0 = System.nanoTime();
        try (OcfNetns ns = OcfNetns.create(dir.resolve("ns"), List.of(ALPHA, BRAVO))) {
            net = ns;
            configure();
            initialSync();
            phase("initial sync", t0);
            Map<String, String> env = new LinkedHashMap<>();
            env.put("JRBD_FENCE_LOG", fenceLog.toString());
            String javaHome = System.getenv("JAVA_HOME");
            if (javaHome != null) {
                env.put("JAVA_HOME", javaHome);
            }
            try (OcfNetnsCluster cluster = OcfNetnsCluster.start(net, env)) {
                phase("cluster up", t0);
                run(cluster, t0);
            }
            for (String n : TwoNodes.NODES) {
                String log = daemonLogs(n);
                assertFalse(log.contains("LEAK:"), "Netty reported a buffer leak on " + n + ":\n" + log);
            }
        }
        phase("cleaned up", t0);
    }

    private void run(OcfNetnsCluster cluster, long t0) throws Exception {
        // 1. One Promoted, one Unpromoted, both UpToDate.
        cluster.cibadmin(ALPHA, "--create", "-o", "resources", "--xml-text", cloneXml()).assertOk();
        String mon = cluster.waitForMon(ALPHA, s -> promoted(s) != null && s.contains("Unpromoted: ["), 120,
                "one node promoted, the other unpromoted");
        String primary = promoted(mon);
        String secondary = primary.equals(ALPHA) ? BRAVO : ALPHA;
        waitFor(primary, s -> s.path("role").asText().equals("Primary") && s.path("disk").asText().equals("UpToDate")
                && s.path("peer").path("disk").asText().equals("UpToDate"), 30, "Primary, both UpToDate");
        waitFor(secondary, s -> s.path("role").asText().equals("Secondary") && s.path("disk").asText().equals("UpToDate"), 30,
                "Secondary UpToDate");
        assertFalse(cluster.constraints(primary).contains(CONSTRAINT), "no fencing constraint while connected");
        phase(primary + " promoted, " + secondary + " unpromoted", t0);

        // 2. The Secondary's daemon dies: fence-peer on the Primary; resync; unfence-peer.
        OcfAgent.kill9(daemonOf(secondary));
        OcfCluster.waitUntil(() -> constraintNames(cluster, primary, primary), 30, "the fencing constraint",
                () -> cluster.constraints(primary) + "\n" + OcfCluster.read(fenceLog) + "\n" + TwoNodes.tail(daemonLogs(primary), 3000));
        assertTrue(OcfCluster.read(fenceLog).contains("crm-fence-peer.sh: r0: constraint " + CONSTRAINT
                + " added: Promoted only on " + primary + "; peer online in the cluster; exit 4"), OcfCluster.read(fenceLog));
        nbd(primary, "write -P 0x11 0 64k"); // tracked in the bitmap: the returning Secondary needs a resync
        phase("constraint placed by fence-peer", t0);
        OcfCluster.waitUntil(() -> !cluster.constraints(primary).contains(CONSTRAINT), 90,
                "the restarted Secondary to be resynced and unfence-peer to remove the constraint",
                () -> cluster.mon(primary) + "\n" + OcfCluster.read(fenceLog) + "\n" + TwoNodes.tail(daemonLogs(primary), 3000));
        waitFor(secondary, s -> s.path("disk").asText().equals("UpToDate") && s.path("connection").asText().equals("Connected"),
                30, "resynced");
        assertTrue(daemonLogs(primary).contains("fence-peer: " + secondary + " is fenced (exit 4)"), daemonLogs(primary));
        assertTrue(OcfCluster.read(fenceLog).contains("crm-unfence-peer.sh: r0: constraint " + CONSTRAINT + " removed"),
                OcfCluster.read(fenceLog));
        assertEquals(0x11, diskByte(secondary, 0), "the resync brought the Primary's write");
        cluster.waitForMon(primary, s -> primary.equals(promoted(s)) && s.contains("Unpromoted: [ " + secondary + " ]"), 60,
                "the Secondary back as Unpromoted");
        phase("resynced, constraint removed by unfence-peer", t0);

        // 3. The Primary's machine dies: Pacemaker promotes the survivor, which takes a write.
        String dead = primary;
        String survivor = secondary;
        net.cut();
        net.killAllButHolder(dead);
        cluster.waitForMon(survivor, s -> survivor.equals(promoted(s)), 60, "the survivor promoted");
        waitFor(survivor, s -> s.path("role").asText().equals("Primary"), 30, "survivor Primary");
        String afterFailover = cluster.constraints(survivor);
        boolean fencedAtPromotion = afterFailover.contains(CONSTRAINT);
        System.out.println("fencing constraint after the failover: " + (fencedAtPromotion ? "placed" : "none") + "\n" + afterFailover);
        nbd(survivor, "write -P 0x5a " + MARKER_OFFSET + " " + MARKER_LENGTH);
        assertMarker(survivor, "on the survivor after the failover");
        phase("failover to " + survivor, t0);

        // 4. The dead machine comes back believing it is Primary (its stale data promoted before
        //    its cluster stack rejoins). It must not win.
        startDaemonByHand(dead);
        jrbdadm(dead, "up", RESOURCE).assertOk();
        // With fencing on, a cut-off node's plain promotion waits for fence-peer, which cannot
        // succeed without the cluster: refused. Forcing it is how a stale Primary still happens
        // (an administrator overriding, or a node that never noticed the partition).
        jrbdadm(dead, "primary", RESOURCE).assertFailure("refusing to become Primary while " + survivor
                + " is not known to be outdated");
        jrbdadm(dead, "primary", "--force", RESOURCE).assertOk();
        assertEquals("Primary", status(dead).path("role").asText());
        List<String> survivorStates = new ArrayList<>();
        Thread watcher = watch(survivor, survivorStates);
        try {
            net.restore();
            cluster.startCorosync(dead);
            cluster.startPacemaker(dead);
            String settled = cluster.waitForMon(survivor, s -> s.contains("Online: [ alpha bravo ]") && promoted(s) != null
                    && s.contains("Unpromoted: [") && !s.contains("Promoted: [ alpha bravo ]"), 90,
                    "the cluster to settle on one Promoted instance");
            String winner = promoted(settled);
            phase("old Primary rejoined; Pacemaker keeps " + winner + " Promoted", t0);
            assertEquals(survivor, winner, "Pacemaker must keep the survivor Promoted, not the stale Primary:\n" + settled);
            cluster.log(dead).lines().filter(l -> l.contains("no promotion score")).limit(1).forEach(System.out::println);
            // The survivor lost its peer as Primary when the stale node's handshake was refused:
            // its fence-peer handler keeps the Promoted role on the survivor.
            OcfCluster.waitUntil(() -> constraintNames(cluster, survivor, survivor), 30, "the survivor's fencing constraint",
                    () -> cluster.constraints(survivor) + "\n" + OcfCluster.read(fenceLog));
            phase("constraint placed by the survivor's fence-peer", t0);
            JsonNode old = waitFor(dead, s -> s.path("role").asText().equals("Secondary")
                    && (s.path("connection").asText().equals("Connected") && s.path("disk").asText().equals("UpToDate")
                            || s.path("connection").asText().equals("StandAlone")), 60,
                    "the old Primary demoted, and resynced or refused");
            System.out.println("old Primary " + dead + " after rejoining: " + old);
            assertMarker(survivor, "on the survivor after the old Primary rejoined");
            if (old.path("connection").asText().equals("StandAlone")) {
                assertFalse(old.path("refused").asText().isEmpty(), "a StandAlone old Primary says why: " + old);
                // refused: resolve as docs/operations.md says, the survivor's data wins
                jrbdadm(dead, "connect", "--discard-my-data", RESOURCE).assertOk();
                jrbdadm(survivor, "connect", RESOURCE); // it may be connecting already
            }
            waitFor(dead, s -> s.path("disk").asText().equals("UpToDate") && s.path("connection").asText().equals("Connected"),
                    60, "resynced from the survivor");
            assertMarker(dead, "on the old Primary after its resync from the survivor");
            OcfCluster.waitUntil(() -> !cluster.constraints(survivor).contains(CONSTRAINT), 30,
                    "unfence-peer to remove the constraint after the resync",
                    () -> cluster.constraints(survivor) + "\n" + OcfCluster.read(fenceLog));
            phase("old Primary resynced from the survivor, constraint removed", t0);
            assertMarker(survivor, "on the survivor at the end");
            synchronized (survivorStates) {
                System.out.println("survivor " + survivor + " states seen: " + survivorStates);
                assertFalse(survivorStates.stream().anyMatch(s -> s.contains("SyncTarget") || s.contains("Inconsistent")),
                        "the survivor must never take data from the stale node: " + survivorStates);
            }
            cluster.waitForMon(survivor, s -> survivor.equals(promoted(s)) && s.contains("Unpromoted: [ " + dead + " ]"), 60,
                    "the old Primary back as Unpromoted");
        } finally {
            watcher.interrupt();
            watcher.join(5000);
        }
        System.out.println("fence handler log:\n" + OcfCluster.read(fenceLog));
        System.out.println("constraints at the end:\n" + cluster.constraints(survivor));
        phase("stale data did not win", t0);
    }

    // ------------------------------------------------------------------ the jrbd pair

    private void configure() throws Exception {
        conf = dir.resolve("conf");
        Files.createDirectories(conf);
        fenceLog = dir.resolve("fence.log");
        Path handlers = Jrbd.home().resolve("packaging").resolve("handlers");
        StringBuilder b = new StringBuilder();
        b.append("""
                [resource]
                name = "r0"
                size = "16M"
                protocol = "C"

                [net]
                shared-secret = "0123456789abcdef-secret"
                ping-interval = "1s"
                ping-timeout = "500ms"
                timeout = "800ms"
                connect-interval = "1s"
                journal-size = "16M"

                [disk]
                fencing = "resource-only"

                [handlers]
                fence-peer = "%s"
                unfence-peer = "%s"

                """.formatted(handlers.resolve("crm-fence-peer.sh"), handlers.resolve("crm-unfence-peer.sh")));
        for (OcfNetns.Node n : net.nodes()) {
            b.append("[nodes.").append(n.name).append("]\n")
                    .append("replication = \"").append(n.address).append(":7789\"\n")
                    .append("nbd = \"").append(n.address).append(":10809\"\n")
                    .append("disk = \"").append(dir.resolve(RESOURCE + "-" + n.name + ".img")).append("\"\n")
                    .append("meta-disk = \"").append(dir.resolve(RESOURCE + "-" + n.name + ".md")).append("\"\n")
                    .append("control-socket = \"").append(socket(n.name)).append("\"\n\n");
        }
        Files.writeString(conf.resolve(RESOURCE + ".toml"), b.toString(), StandardCharsets.UTF_8);
        for (String n : TwoNodes.NODES) {
            jrbdadm(n, "create-md", RESOURCE).assertOk();
        }
    }

    /** Both daemons started by hand in their namespaces, the full sync, then everything down again. */
    private void initialSync() throws Exception {
        List<Process> daemons = new ArrayList<>();
        for (String n : TwoNodes.NODES) {
            daemons.add(startDaemonByHand(n));
        }
        for (String n : TwoNodes.NODES) {
            jrbdadm(n, "up", RESOURCE).assertOk();
        }
        jrbdadm(ALPHA, "wait-connect", "--timeout", "30", RESOURCE).assertOk();
        jrbdadm(ALPHA, "primary", "--force", RESOURCE).assertOk();
        jrbdadm(ALPHA, "wait-sync", "--timeout", "120", RESOURCE).assertOk();
        waitFor(BRAVO, s -> s.path("disk").asText().equals("UpToDate"), 60, "bravo UpToDate after the initial sync");
        jrbdadm(ALPHA, "secondary", RESOURCE).assertOk();
        for (String n : TwoNodes.NODES) {
            jrbdadm(n, "down", RESOURCE).assertOk();
        }
        for (Process p : daemons) {
            Command.of("kill", "-TERM", Long.toString(p.pid())).ok();
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                fail("a daemon did not stop within 20 s of SIGTERM");
            }
        }
    }

    private Path socket(String node) {
        return dir.resolve(node + ".sock");
    }

    /** The daemon launched in the node's namespaces (as the node's init would), answering on its socket. */
    private Process startDaemonByHand(String node) throws Exception {
        Path log = net.node(node).log().resolve("by-hand.log");
        Process p = net.start(node, List.of(Jrbd.launcher("jrbd"), "daemon", "-c", conf.toString(), "--node", node), log,
                Map.of("JRBD_JAVA_OPTS", TwoNodes.JAVA_OPTS));
        OcfCluster.waitUntil(() -> {
            if (!p.isAlive()) {
                fail(node + "'s daemon exited:\n" + OcfCluster.read(log));
            }
            try (ControlClient c = ControlClient.connect(socket(node))) {
                return true;
            }
        }, 30, node + "'s daemon", () -> OcfCluster.read(log));
        return p;
    }

    /** The node's daemon (whoever started it), found by its command line, which names this test's folder. */
    private ProcessHandle daemonOf(String node) {
        String marker = "io.jrbd.nbd.cli.Jrbd daemon -c " + conf + " --node " + node;
        return ProcessHandle.allProcesses().filter(h -> h.info().commandLine().orElse("").contains(marker)).findFirst()
                .orElseThrow(() -> new AssertionError("no daemon of " + node + " runs"));
    }

    private Command.Result jrbdadm(String node, String... args) {
        List<String> argv = new ArrayList<>(List.of(Jrbd.launcher("jrbdadm"), "-c", conf.toString(), "--node", node));
        argv.addAll(Arrays.asList(args));
        return Command.of(argv).timeout(120).run();
    }

    /** r0's status from the node's control socket (a path, so reachable from the host); null if no answer. */
    private JsonNode status(String node) {
        try {
            return ControlClient.call(socket(node), "status", RESOURCE, JSON.createObjectNode()).get(0);
        } catch (ControlException e) {
            return null;
        }
    }

    private JsonNode waitFor(String node, Predicate<JsonNode> condition, double seconds, String what) throws InterruptedException {
        JsonNode[] last = {null};
        OcfCluster.waitUntil(() -> (last[0] = status(node)) != null && condition.test(last[0]), seconds, what + " on " + node,
                () -> last[0] + "\n--- " + node + "'s daemon logs:\n" + TwoNodes.tail(daemonLogs(node), 4000));
        return last[0];
    }

    /** Records every distinct (role, disk, connection) of the node, polled every 100 ms. */
    private Thread watch(String node, List<String> seen) {
        Thread t = new Thread(() -> {
            String last = "";
            while (!Thread.currentThread().isInterrupted()) {
                JsonNode s = status(node);
                if (s != null) {
                    String now = s.path("role").asText() + "/" + s.path("disk").asText() + "/" + s.path("connection").asText();
                    if (!now.equals(last)) {
                        synchronized (seen) {
                            seen.add(now);
                        }
                        last = now;
                    }
                }
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "watch-" + node);
        t.setDaemon(true);
        t.start();
        return t;
    }

    private String daemonLogs(String node) {
        Path log = net.node(node).log();
        return OcfCluster.read(log.resolve("by-hand.log")) + OcfCluster.read(log.resolve("daemon.log"));
    }

    /** One qemu-io command against the node's NBD export, run inside its namespace. */
    private void nbd(String node, String command) {
        Command.Result r = net.run(node, "qemu-io", "-f", "raw", "-c", command, "-c", "flush",
                "nbd://" + net.node(node).address + ":10809/" + RESOURCE);
        assertEquals(0, r.exitCode(), r.output());
        assertFalse(r.output().toLowerCase().contains("error") || r.output().contains("failed"), r.output());
    }

    private int diskByte(String node, long offset) throws Exception {
        try (RandomAccessFile f = new RandomAccessFile(dir.resolve(RESOURCE + "-" + node + ".img").toFile(), "r")) {
            f.seek(offset);
            return f.read();
        }
    }

    private void assertMarker(String node, String when) throws Exception {
        byte[] b = new byte[MARKER_LENGTH];
        try (RandomAccessFile f = new RandomAccessFile(dir.resolve(RESOURCE + "-" + node + ".img").toFile(), "r")) {
            f.seek(MARKER_OFFSET);
            f.readFully(b);
        }
        for (int i = 0; i < b.length; i++) {
            if (b[i] != 0x5a) {
                fail("the survivor's marker is not " + when + ": byte " + i + " is " + b[i]);
            }
        }
    }

    // ------------------------------------------------------------------ Pacemaker

    /** Whether the fencing constraint is in the node's CIB and lets only {@code allowed} be Promoted. */
    private static boolean constraintNames(OcfNetnsCluster cluster, String node, String allowed) {
        String c = cluster.constraints(node);
        return c.contains(CONSTRAINT) && c.contains("operation=\"ne\" value=\"" + allowed + "\"") && c.contains("-INFINITY");
    }

    /** The node named in crm_mon's "Promoted: [ X ]" line, or null without exactly one. */
    private static String promoted(String mon) {
        for (String line : mon.split("\n")) {
            String l = line.strip();
            if (l.startsWith("* Promoted: [ ") || l.startsWith("Promoted: [ ")) {
                String inside = l.substring(l.indexOf('[') + 1, l.indexOf(']')).strip();
                return inside.contains(" ") ? null : inside;
            }
        }
        return null;
    }

    private String cloneXml() {
        Map<String, String> params = new LinkedHashMap<>();
        params.put("resource", RESOURCE);
        params.put("config", conf.toString());
        params.put("jrbdadm", Jrbd.launcher("jrbdadm"));
        params.put("daemon_log", "/run/jrbd-log/daemon.log");
        params.put("java_opts", TwoNodes.JAVA_OPTS);
        params.put("wait_connect", "10");
        StringBuilder attrs = new StringBuilder();
        params.forEach((k, v) -> attrs.append("<nvpair id=\"r0-").append(k).append("\" name=\"").append(k)
                .append("\" value=\"").append(v).append("\"/>\n"));
        return """
                <clone id="%s">
                  <meta_attributes id="r0-clone-meta">
                    <nvpair id="r0-clone-promotable" name="promotable" value="true"/>
                    <nvpair id="r0-clone-promoted-max" name="promoted-max" value="1"/>
                    <nvpair id="r0-clone-promoted-node-max" name="promoted-node-max" value="1"/>
                    <nvpair id="r0-clone-clone-max" name="clone-max" value="2"/>
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
                """.formatted(CLONE, PRIMITIVE, OcfNetnsCluster.PROVIDER, attrs);
    }

    private static void phase(String what, long t0) {
        System.out.printf("[%5.1f s] %s%n", (System.nanoTime() - t0) / 1e9, what);
    }
}
