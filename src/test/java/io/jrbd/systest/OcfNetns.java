package io.jrbd.systest;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Two "machines" on one host: a network namespace per node, joined by a veth pair
 * ({@code 10.213.77.1} and {@code .2}), each with a mount and UTS namespace of its own held
 * open by a {@code sleep} process (the holder). Everything a node runs is started with
 * {@code nsenter} into the holder's namespaces, so the node has its own host name (the node
 * name: Pacemaker's {@code #uname}, the agent's default {@code node}), its own
 * {@code /var/lib/pacemaker}, {@code /var/lib/corosync} and {@code /var/log/pacemaker} (bind
 * mounts of folders of the test), and a private tmpfs on {@code /run} and {@code /dev/shm}
 * (corosync's pid file, Pacemaker's IPC, the agent's state). {@code /run/jrbd-log} is the
 * node's folder {@code log} of the test.
 *
 * <pre>
 *   host netns           netns jrbd-TAG-alpha            netns jrbd-TAG-bravo
 *   (the test JVM)       jvTAGa 10.213.77.1/24 <--veth--> jvTAGb 10.213.77.2/24
 * </pre>
 *
 * <p>{@link #close()} kills every process in both network namespaces by PID (SIGKILL; a
 * caller stops its daemons gently first), deletes the namespaces (which takes the veth pair
 * with them) and checks that nothing is left.
 */
final class OcfNetns implements AutoCloseable {
    static final String SUBNET = "10.213.77.";

    /** One node: its namespace, address, folder and holder process. */
    static final class Node {
        final String name;
        final String netns;
        final String veth;
        final String address;
        final Path dir;
        Process holder;

        Node(String name, String netns, String veth, String address, Path dir) {
            this.name = name;
            this.netns = netns;
            this.veth = veth;
            this.address = address;
            this.dir = dir;
        }

        Path log() {
            return dir.resolve("log");
        }
    }

    private final Map<String, Node> nodes = new LinkedHashMap<>();
    private final List<String> created = new ArrayList<>();

    private OcfNetns() {
    }

    /** Creates the namespaces, the veth pair and the holders of {@code names} (two of them). */
    static OcfNetns create(Path dir, List<String> names) throws Exception {
        if (names.size() != 2) {
            throw new IllegalArgumentException("a veth pair joins two nodes, not " + names);
        }
        for (String tool : List.of("ip", "nsenter", "unshare", "mount")) {
            Command.requireTool(tool);
        }
        String tag = Integer.toHexString(0x10000 + ThreadLocalRandom.current().nextInt(0xeffff));
        OcfNetns n = new OcfNetns();
        try {
            for (int i = 0; i < 2; i++) {
                String name = names.get(i);
                n.nodes.put(name, new Node(name, "jrbd-" + tag + "-" + name, "jv" + tag + (char) ('a' + i),
                        SUBNET + (i + 1), dir.resolve(name)));
            }
            n.build();
        } catch (Throwable e) {
            n.close();
            throw e;
        }
        return n;
    }

    private void build() throws Exception {
        List<Node> both = new ArrayList<>(nodes.values());
        for (Node node : both) {
            Command.of("ip", "netns", "add", node.netns).ok();
            created.add(node.netns);
        }
        Command.of("ip", "link", "add", both.get(0).veth, "type", "veth", "peer", "name", both.get(1).veth).ok();
        for (Node node : both) {
            Command.of("ip", "link", "set", node.veth, "netns", node.netns).ok();
            Command.of("ip", "-n", node.netns, "addr", "add", node.address + "/24", "dev", node.veth).ok();
            Command.of("ip", "-n", node.netns, "link", "set", "lo", "up").ok();
            Command.of("ip", "-n", node.netns, "link", "set", node.veth, "up").ok();
            startHolder(node);
        }
    }

    /** The holder: a shell that sets up the node's mounts and host name, then sleeps as their anchor. */
    private static void startHolder(Node node) throws Exception {
        Path pcmk = node.dir.resolve("var-lib-pacemaker");
        for (String sub : List.of("cib", "pengine", "blackbox", "cores")) {
            Files.createDirectories(pcmk.resolve(sub));
        }
        Files.createDirectories(node.dir.resolve("var-lib-corosync"));
        Files.createDirectories(node.dir.resolve("var-log-pacemaker"));
        Files.createDirectories(node.log());
        // Pacemaker's daemons run as hacluster: they need their folders, and a way through the test's folders.
        Command.of("chown", "-R", "hacluster:haclient", pcmk.toString(), node.dir.resolve("var-log-pacemaker").toString()).ok();
        for (Path p = node.dir; p != null && p.getNameCount() > 1; p = p.getParent()) {
            if (p.toString().equals(System.getProperty("java.io.tmpdir"))) {
                break;
            }
            Command.of("chmod", "o+x", p.toString()).ok();
        }
        String script = """
                set -e
                hostname %1$s
                mount -t tmpfs -o mode=755 jrbd-systest-run /run
                mkdir -p /run/crm /run/resource-agents /run/jrbd-log
                chown hacluster:haclient /run/crm
                chmod 750 /run/crm
                mount -t tmpfs -o mode=1777 jrbd-systest-shm /dev/shm
                mount --bind '%2$s/var-lib-pacemaker' /var/lib/pacemaker
                mount --bind '%2$s/var-lib-corosync' /var/lib/corosync
                mount --bind '%2$s/var-log-pacemaker' /var/log/pacemaker
                mount --bind '%2$s/log' /run/jrbd-log
                echo ready
                exec sleep 2147483647
                """.formatted(node.name, node.dir);
        Path out = node.dir.resolve("holder.out");
        node.holder = new ProcessBuilder("ip", "netns", "exec", node.netns, "unshare", "--mount", "--uts",
                "--propagation", "private", "sh", "-c", script)
                .redirectErrorStream(true).redirectOutput(out.toFile()).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .start();
        OcfCluster.waitUntil(() -> OcfCluster.read(out).contains("ready") && node.holder.info().command().orElse("").endsWith("sleep"),
                10, node.name + "'s namespaces", () -> OcfCluster.read(out));
    }

    Node node(String name) {
        Node n = nodes.get(name);
        if (n == null) {
            throw new IllegalArgumentException("no node " + name + " (nodes: " + nodes.keySet() + ")");
        }
        return n;
    }

    List<Node> nodes() {
        return List.copyOf(nodes.values());
    }

    /** {@code nsenter} into the node's namespaces, then {@code argv}. */
    List<String> in(String name, List<String> argv) {
        List<String> all = new ArrayList<>(List.of("nsenter", "-t", Long.toString(node(name).holder.pid()), "-m", "-n", "-u", "--"));
        all.addAll(argv);
        return all;
    }

    /** Runs a command on the node to completion. */
    Command.Result run(String name, String... argv) {
        return Command.of(in(name, List.of(argv))).timeout(60).run();
    }

    /** Starts a long-running program on the node; its output goes to {@code out}. */
    Process start(String name, List<String> argv, Path out, Map<String, String> env) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(in(name, argv)).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(out.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().putAll(env);
        return pb.start();
    }

    /** Takes the link down on both ends: the nodes no longer reach each other. */
    void cut() {
        for (Node n : nodes.values()) {
            Command.of("ip", "-n", n.netns, "link", "set", n.veth, "down").ok();
        }
    }

    /** Brings the link up again. */
    void restore() {
        for (Node n : nodes.values()) {
            Command.of("ip", "-n", n.netns, "link", "set", n.veth, "up").ok();
        }
    }

    /** The PIDs of every process in the node's network namespace (the holder included). */
    List<Long> pids(String name) {
        Command.Result r = Command.of("ip", "netns", "pids", node(name).netns).timeout(30).run();
        List<Long> pids = new ArrayList<>();
        for (String line : r.output().split("\n")) {
            if (line.strip().matches("\\d+")) {
                pids.add(Long.parseLong(line.strip()));
            }
        }
        return pids;
    }

    /** SIGKILLs every process of the node except its holder: the machine died, its disks stay. */
    void killAllButHolder(String name) {
        long holder = node(name).holder.pid();
        for (long pid : pids(name)) {
            if (pid != holder) {
                ProcessHandle.of(pid).ifPresent(OcfNetns::kill9);
            }
        }
    }

    static void kill9(ProcessHandle h) {
        h.destroyForcibly();
        try {
            h.onExit().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            // the namespace check in close() reports what survived
        }
    }

    /** Kills every process in both namespaces by PID, deletes the namespaces and checks nothing is left. */
    @Override
    public void close() {
        StringBuilder left = new StringBuilder();
        for (String netns : created) {
            Node node = nodes.values().stream().filter(n -> n.netns.equals(netns)).findFirst().orElseThrow();
            for (long pid : pids(node.name)) {
                ProcessHandle.of(pid).ifPresent(OcfNetns::kill9);
            }
            if (node.holder != null) {
                kill9(node.holder.toHandle());
            }
            List<Long> still = pids(node.name);
            if (!still.isEmpty()) {
                left.append(netns).append(": processes ").append(still).append(" survived SIGKILL; ");
            }
            Command.Result del = Command.of("ip", "netns", "delete", netns).timeout(30).run();
            if (del.exitCode() != 0) {
                left.append(netns).append(": ").append(del.output().strip()).append("; ");
            }
        }
        String links = Command.of("ip", "-o", "link").timeout(30).run().output();
        for (Node n : nodes.values()) {
            if (links.contains(n.veth + "@") || links.contains(n.veth + ":")) {
                left.append("veth ").append(n.veth).append(" is still there; ");
            }
        }
        String netnsList = Command.of("ip", "netns", "list").timeout(30).run().output();
        for (String netns : created) {
            if (netnsList.contains(netns)) {
                left.append("namespace ").append(netns).append(" is still there; ");
            }
        }
        if (!left.isEmpty()) {
            fail("cleaning up the namespaces: " + left);
        }
    }

    static String text(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "(cannot read " + file + ": " + e.getMessage() + ")";
        }
    }
}
