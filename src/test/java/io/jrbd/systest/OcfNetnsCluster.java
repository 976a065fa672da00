package io.jrbd.systest;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A two-node corosync + Pacemaker cluster in the namespaces of an {@link OcfNetns}: corosync
 * (knet over the veth pair, {@code two_node}) and pacemakerd started by hand in the foreground
 * on each node, with a fresh CIB (STONITH off, {@code no-quorum-policy=ignore}, short
 * {@code dc-deadtime}) in each node's own {@code /var/lib/pacemaker/cib}. The checkout's
 * {@code ocf/} folder is the OCF provider {@code jrbd-systest-2n} (a link in the host's
 * {@code /usr/lib/ocf/resource.d}, shared by both nodes).
 *
 * <p>{@link #close()} stops pacemakerd (which stops the resources) and corosync on each node by
 * PID, SIGKILLs what is left of their process trees, and removes the provider link; the
 * namespaces themselves are the {@link OcfNetns}'s to clean.
 */
final class OcfNetnsCluster implements AutoCloseable {
    static final String PROVIDER = "jrbd-systest-2n";
    private static final Path PROVIDER_LINK = Path.of(OcfAgent.OCF_ROOT, "resource.d", PROVIDER);

    private final OcfNetns net;
    private final Map<String, String> env;
    private final Map<String, Process> corosync = new LinkedHashMap<>();
    private final Map<String, Process> pacemakerd = new LinkedHashMap<>();

    private OcfNetnsCluster(OcfNetns net, Map<String, String> env) {
        this.net = net;
        this.env = env;
    }

    /**
     * Writes each node's corosync.conf and CIB, starts both stacks and waits until both nodes
     * are online; {@code env} is added to pacemakerd's environment (agents and the daemons they
     * start inherit it).
     */
    static OcfNetnsCluster start(OcfNetns net, Map<String, String> env) throws Exception {
        for (String tool : List.of("corosync", "pacemakerd", "cibadmin", "crm_mon", "crm_resource")) {
            Command.requireTool(tool);
        }
        OcfNetnsCluster c = new OcfNetnsCluster(net, env);
        try {
            Files.deleteIfExists(PROVIDER_LINK);
            Files.createSymbolicLink(PROVIDER_LINK, OcfAgent.agentPath().getParent());
            for (OcfNetns.Node n : net.nodes()) {
                c.writeConfig(n);
            }
            for (OcfNetns.Node n : net.nodes()) {
                c.startCorosync(n.name);
            }
            for (OcfNetns.Node n : net.nodes()) {
                c.startPacemaker(n.name);
            }
            String first = net.nodes().get(0).name;
            c.waitForMon(first, s -> s.contains("Online: [ " + String.join(" ", names(net)) + " ]")
                    && s.contains("partition with quorum"), 60, "both nodes online");
        } catch (Throwable e) {
            c.close();
            throw e;
        }
        return c;
    }

    private static List<String> names(OcfNetns net) {
        return net.nodes().stream().map(n -> n.name).toList();
    }

    private void writeConfig(OcfNetns.Node node) throws Exception {
        StringBuilder list = new StringBuilder();
        int id = 1;
        for (OcfNetns.Node n : net.nodes()) {
            list.append("""
                        node {
                            ring0_addr: %s
                            name: %s
                            nodeid: %d
                        }
                    """.formatted(n.address, n.name, id++));
        }
        Files.writeString(node.dir.resolve("corosync.conf"), """
                totem {
                    version: 2
                    cluster_name: jrbd-systest-2n
                    transport: knet
                    crypto_cipher: none
                    crypto_hash: none
                    token: 1000
                }
                nodelist {
                %s}
                quorum {
                    provider: corosync_votequorum
                    two_node: 1
                }
                logging {
                    to_logfile: yes
                    logfile: %s
                    to_syslog: no
                    to_stderr: no
                    timestamp: on
                }
                """.formatted(list, node.dir.resolve("corosync.log")), StandardCharsets.UTF_8);
        Path cib = node.dir.resolve("var-lib-pacemaker").resolve("cib").resolve("cib.xml");
        Files.writeString(cib, """
                <cib crm_feature_set="3.16.1" validate-with="pacemaker-3.7" epoch="1" num_updates="0" admin_epoch="0">
                  <configuration>
                    <crm_config>
                      <cluster_property_set id="jrbd-systest-2n-options">
                        <nvpair id="opt-stonith-enabled" name="stonith-enabled" value="false"/>
                        <nvpair id="opt-no-quorum-policy" name="no-quorum-policy" value="ignore"/>
                        <nvpair id="opt-dc-deadtime" name="dc-deadtime" value="2s"/>
                      </cluster_property_set>
                    </crm_config>
                    <nodes/>
                    <resources/>
                    <constraints/>
                  </configuration>
                  <status/>
                </cib>
                """, StandardCharsets.UTF_8);
        Command.of("chown", "hacluster:haclient", cib.toString()).ok();
        Command.of("chmod", "600", cib.toString()).ok();
    }

    /** Starts corosync on the node and waits until it provides service. */
    void startCorosync(String name) throws Exception {
        OcfNetns.Node n = net.node(name);
        Path log = n.dir.resolve("corosync.log");
        long from = Files.exists(log) ? Files.size(log) : 0;
        corosync.put(name, net.start(name, List.of("corosync", "-f", "-c", n.dir.resolve("corosync.conf").toString()),
                n.dir.resolve("corosync.out"), Map.of()));
        OcfCluster.waitUntil(() -> OcfCluster.read(log).substring((int) Math.min(from, OcfCluster.read(log).length()))
                .contains("ready to provide service"), 30, name + "'s corosync", () -> OcfCluster.read(n.dir.resolve("corosync.out"))
                + OcfCluster.read(log));
    }

    /** Starts pacemakerd on the node (returns at once). */
    void startPacemaker(String name) throws Exception {
        OcfNetns.Node n = net.node(name);
        Map<String, String> e = new LinkedHashMap<>(env);
        e.put("PCMK_logfile", pacemakerLog(name).toString());
        pacemakerd.put(name, net.start(name, List.of("pacemakerd"), n.dir.resolve("pacemakerd.out"), e));
    }

    Path pacemakerLog(String name) {
        return net.node(name).dir.resolve("var-log-pacemaker").resolve("pacemaker.log");
    }

    /** The node crashes as far as the cluster is concerned: SIGKILL to pacemakerd, its daemons and corosync. */
    void crashStack(String name) {
        List<ProcessHandle> all = new ArrayList<>();
        for (Process p : List.of(pacemakerd.get(name), corosync.get(name))) {
            if (p != null) {
                p.descendants().forEach(all::add);
                all.add(p.toHandle());
            }
        }
        all.forEach(OcfNetns::kill9);
    }

    /** {@code crm_mon -1 -A} as seen from the node. */
    String mon(String name) {
        return net.run(name, "crm_mon", "-1", "-A", "--include=all").output();
    }

    String waitForMon(String name, Predicate<String> condition, double seconds, String what) throws InterruptedException {
        String[] last = {""};
        OcfCluster.waitUntil(() -> condition.test(last[0] = mon(name)), seconds, what + " (crm_mon on " + name + ")",
                () -> last[0] + "\n--- " + name + "'s pacemaker.log tail:\n" + TwoNodes.tail(OcfCluster.read(pacemakerLog(name)), 6000));
        return last[0];
    }

    /** {@code cibadmin ARGS} on the node. */
    Command.Result cibadmin(String name, String... args) {
        List<String> argv = new ArrayList<>(List.of("cibadmin"));
        argv.addAll(List.of(args));
        return net.run(name, argv.toArray(String[]::new));
    }

    /** The constraints section of the node's CIB. */
    String constraints(String name) {
        return cibadmin(name, "--query", "--scope", "constraints").assertOk();
    }

    String log(String name) {
        return OcfCluster.read(pacemakerLog(name));
    }

    /** Stops pacemakerd (and so the resources) on both nodes at once, then corosync; by PID. */
    @Override
    public void close() {
        List<ProcessHandle> trees = new ArrayList<>();
        for (Process p : pacemakerd.values()) {
            p.descendants().forEach(trees::add);
            if (p.isAlive()) {
                Command.of("kill", "-TERM", Long.toString(p.pid())).run();
            }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(45);
        for (Process p : pacemakerd.values()) {
            try {
                p.waitFor(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            OcfNetns.kill9(p.toHandle());
        }
        trees.forEach(OcfNetns::kill9);
        for (Process p : corosync.values()) {
            stop(p, 15);
        }
        try {
            Files.deleteIfExists(PROVIDER_LINK);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void stop(Process p, int seconds) {
        if (!p.isAlive()) {
            return;
        }
        Command.of("kill", "-TERM", Long.toString(p.pid())).run();
        try {
            if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
                OcfNetns.kill9(p.toHandle());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
