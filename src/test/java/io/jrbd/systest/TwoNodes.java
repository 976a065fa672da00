package io.jrbd.systest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jrbd.nbd.control.ControlClient;
import io.jrbd.nbd.control.ControlException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * Two real {@code bin/jrbd daemon} processes, alpha and bravo, replicating resource r0 over
 * loopback on free ports, with short timers so failures are noticed in about a second. Every
 * process it starts is killed by PID on {@link #close()}, which then asserts that neither
 * daemon's log reports a Netty buffer leak (the daemons run with the PARANOID detector).
 */
final class TwoNodes implements AutoCloseable {
    static final String RESOURCE = "r0";
    static final String ALPHA = "alpha";
    static final String BRAVO = "bravo";
    static final List<String> NODES = List.of(ALPHA, BRAVO);
    static final String JAVA_OPTS = "-Dio.netty.leakDetection.level=paranoid -Xmx256m";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What the configuration files say; the defaults are the short timers every test uses. */
    static final class Options {
        String size = "128M";
        String protocol = "C";
        String journalSize = "64M";
        Map<String, String> secrets = new LinkedHashMap<>(Map.of(ALPHA, "0123456789abcdef-secret", BRAVO,
                "0123456789abcdef-secret"));

        Options size(String s) {
            size = s;
            return this;
        }

        Options protocol(String p) {
            protocol = p;
            return this;
        }

        Options journalSize(String s) {
            journalSize = s;
            return this;
        }

        Options secret(String node, String secret) {
            secrets.put(node, secret);
            return this;
        }

        /** Extra lines for the {@code [net]} table, e.g. {@code after-sb-0pri = "discard-zero-changes"}. */
        final List<String> netLines = new ArrayList<>();
        /** Extra tables after {@code [net]}, e.g. a {@code [disk]} table. */
        final StringBuilder tables = new StringBuilder();

        /** Metadata at the end of each node's disk file instead of a separate file. */
        boolean internalMetadata;

        Options internalMetadata() {
            internalMetadata = true;
            return this;
        }

        /** DRBD's default timers (ping-interval 10 s, timeout 6 s) instead of the tests' short ones. */
        boolean drbdTimers;

        Options drbdTimers() {
            drbdTimers = true;
            return this;
        }

        Options net(String line) {
            netLines.add(line);
            return this;
        }

        Options table(String text) {
            tables.append(text).append("\n\n");
            return this;
        }
    }

    /** One node: its folders, ports, files and (while running) its daemon process. */
    final class Node {
        final String name;
        final Path confDir;
        final Path disk;
        final Path metaDisk;
        final Path socket;
        final Path log;
        final int replicationPort;
        final int nbdPort;
        Process process;
        final List<Long> pids = new ArrayList<>();

        Node(String name, int replicationPort, int nbdPort) {
            this.name = name;
            this.confDir = dir.resolve(name);
            this.disk = dir.resolve(RESOURCE + "-" + name + ".img");
            this.metaDisk = dir.resolve(RESOURCE + "-" + name + ".md");
            this.socket = dir.resolve(name + ".sock");
            this.log = dir.resolve(name + ".log");
            this.replicationPort = replicationPort;
            this.nbdPort = nbdPort;
        }
    }

    final Path dir;
    final Options options;
    private final Map<String, Node> nodes = new LinkedHashMap<>();

    private TwoNodes(Path dir, Options options) {
        this.dir = dir;
        this.options = options;
        java.util.Set<Integer> taken = new java.util.HashSet<>();
        for (String n : NODES) {
            nodes.put(n, new Node(n, freePort(taken), freePort(taken)));
        }
    }

    /** Writes both configurations and creates metadata; starts nothing. */
    static TwoNodes configure(Path dir, Options options) throws IOException {
        TwoNodes t = new TwoNodes(dir, options);
        for (String n : NODES) {
            Node node = t.node(n);
            Files.createDirectories(node.confDir);
            Files.writeString(node.confDir.resolve(RESOURCE + ".toml"), t.config(n), StandardCharsets.UTF_8);
            t.jrbdadm(n, "create-md", RESOURCE).assertOk();
        }
        return t;
    }

    /** Configured, both daemons started, r0 up on both (as Secondary, Inconsistent, connecting). */
    static TwoNodes start(Path dir, Options options) throws Exception {
        TwoNodes t = configure(dir, options);
        try {
            for (String n : NODES) {
                t.startDaemon(n);
            }
            for (String n : NODES) {
                t.jrbdadm(n, "up", RESOURCE).assertOk();
            }
        } catch (Throwable e) {
            t.killAll();
            throw e;
        }
        return t;
    }

    /** Started, alpha promoted with --force and the initial full sync to bravo finished. */
    static TwoNodes synced(Path dir, Options options) throws Exception {
        TwoNodes t = start(dir, options);
        try {
            t.jrbdadm(ALPHA, "wait-connect", "--timeout", "30", RESOURCE).assertOk();
            t.jrbdadm(ALPHA, "primary", "--force", RESOURCE).assertOk();
            t.jrbdadm(ALPHA, "wait-sync", "--timeout", "120", RESOURCE).assertOk();
            t.waitFor(BRAVO, s -> s.path("disk").asText().equals("UpToDate"), 60, "bravo UpToDate after the initial sync");
        } catch (Throwable e) {
            t.killAll();
            throw e;
        }
        return t;
    }

    /** The TOML file of one node: both nodes' addresses, this node's secret. */
    String config(String forNode) {
        StringBuilder b = new StringBuilder();
        b.append("[resource]\nname = \"").append(RESOURCE).append("\"\nsize = \"").append(options.size)
                .append("\"\nprotocol = \"").append(options.protocol).append("\"\n\n");
        b.append("[net]\nshared-secret = \"").append(options.secrets.get(forNode)).append("\"\n")
                .append(options.drbdTimers ? "timeout = \"3s\"\nconnect-interval = \"4s\"\n"
                        : "ping-interval = \"1s\"\nping-timeout = \"500ms\"\ntimeout = \"800ms\"\nconnect-interval = \"1s\"\n")
                .append("journal-size = \"").append(options.journalSize).append("\"\n");
        for (String line : options.netLines) {
            b.append(line).append("\n");
        }
        b.append("\n").append(options.tables);
        for (Node n : nodes.values()) {
            b.append("[nodes.").append(n.name).append("]\n");
            b.append("replication = \"127.0.0.1:").append(n.replicationPort).append("\"\n");
            b.append("nbd = \"127.0.0.1:").append(n.nbdPort).append("\"\n");
            b.append("disk = \"").append(n.disk).append("\"\n");
            b.append("meta-disk = \"").append(options.internalMetadata ? "internal" : n.metaDisk.toString()).append("\"\n");
            b.append("control-socket = \"").append(n.socket).append("\"\n\n");
        }
        return b.toString();
    }

    Node node(String name) {
        Node n = nodes.get(name);
        assertNotNull(n, "no node " + name);
        return n;
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A free port not in {@code taken} (which it joins): the kernel may hand the same
     * ephemeral port out twice once the probing socket is closed.
     */
    static int freePort(java.util.Set<Integer> taken) {
        while (true) {
            int port = freePort();
            if (taken.add(port)) {
                return port;
            }
        }
    }

    // ------------------------------------------------------------------ processes

    /** Starts the node's daemon and waits until its control socket answers. */
    void startDaemon(String name) throws Exception {
        Node n = node(name);
        if (n.process != null && n.process.isAlive()) {
            fail(name + "'s daemon is already running (pid " + n.process.pid() + ")");
        }
        long logStart = Files.exists(n.log) ? Files.size(n.log) : 0;
        ProcessBuilder pb = new ProcessBuilder(Jrbd.launcher("jrbd"), "daemon", "-c", n.confDir.toString(), "--node", name)
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(n.log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().put("JRBD_JAVA_OPTS", JAVA_OPTS);
        n.process = pb.start();
        n.pids.add(n.process.pid());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            String text = logSince(n, logStart);
            if (text.contains("running as node " + name)) {
                try (ControlClient c = ControlClient.connect(n.socket)) {
                    return;
                } catch (ControlException e) {
                    // not yet
                }
            }
            if (!n.process.isAlive()) {
                fail(name + "'s daemon exited with " + n.process.exitValue() + " while starting:\n" + text);
            }
            Thread.sleep(50);
        }
        fail(name + "'s daemon did not open its control socket within 30 s:\n" + logSince(n, logStart));
    }

    /** Restarts a stopped or killed node: daemon, then {@code up}. */
    void start(String name) throws Exception {
        startDaemon(name);
        jrbdadm(name, "up", RESOURCE).assertOk();
    }

    long pid(String name) {
        Node n = node(name);
        assertNotNull(n.process, name + "'s daemon was never started");
        return n.process.pid();
    }

    boolean alive(String name) {
        Node n = node(name);
        return n.process != null && n.process.isAlive();
    }

    /** kill -9 by PID: no shutdown hook, nothing flushed. */
    void kill9(String name) throws Exception {
        Node n = node(name);
        Command.of("kill", "-9", Long.toString(n.process.pid())).ok();
        n.process.waitFor(10, TimeUnit.SECONDS);
        assertFalse(n.process.isAlive(), name + "'s daemon survived kill -9");
    }

    /** SIGTERM; asserts the daemon exits 0 within 60 s. */
    void stop(String name) throws Exception {
        Node n = node(name);
        Command.of("kill", "-TERM", Long.toString(n.process.pid())).ok();
        if (!n.process.waitFor(20, TimeUnit.SECONDS)) {
            fail(name + "'s daemon did not stop within 20 s of SIGTERM:\n" + log(name) + "\n--- threads:\n"
                    + threadDump(n.process.pid()));
        }
        assertEquals(0, n.process.exitValue(), name + "'s daemon exit code after SIGTERM; log:\n" + log(name));
    }

    /** jcmd Thread.print of a daemon, for failure messages. */
    static String threadDump(long pid) {
        Path jcmd = Path.of(ProcessHandle.current().info().command().orElseThrow()).resolveSibling("jcmd");
        return Command.of(jcmd.toString(), Long.toString(pid), "Thread.print").timeout(30).run().output();
    }

    // ------------------------------------------------------------------ administration

    /** {@code bin/jrbdadm -c DIR --node NAME args...}: the real command line, stderr merged into the output. */
    Command.Result jrbdadm(String name, String... args) {
        Node n = node(name);
        List<String> argv = new ArrayList<>(List.of(Jrbd.launcher("jrbdadm"), "-c", n.confDir.toString(), "--node", name));
        argv.addAll(List.of(args));
        return Command.of(argv).timeout(180).run();
    }

    /** {@code jrbdadm status --json r0}, parsed: r0's object. */
    JsonNode statusJson(String name) {
        String out = jrbdadm(name, "status", "--json", RESOURCE).assertOk();
        try {
            JsonNode array = JSON.readTree(out);
            assertEquals(1, array.size(), "status --json of one resource: " + out);
            return array.get(0);
        } catch (IOException e) {
            throw new AssertionError("status --json is not JSON: " + out, e);
        }
    }

    /**
     * r0's status straight from the control socket (the same JSON as {@code status --json}, without a JVM
     * start per poll); null while the daemon does not answer.
     */
    JsonNode quickStatus(String name) {
        try {
            JsonNode array = ControlClient.call(node(name).socket, "status", RESOURCE, JSON.createObjectNode());
            return array.get(0);
        } catch (ControlException e) {
            return null;
        }
    }

    /** Polls the node's status until the condition holds; fails with the last status otherwise. */
    JsonNode waitFor(String name, Predicate<JsonNode> condition, double timeoutSeconds, String what) throws InterruptedException {
        long deadline = System.nanoTime() + (long) (timeoutSeconds * 1e9);
        JsonNode last = null;
        while (true) {
            last = quickStatus(name);
            if (last != null && condition.test(last)) {
                return last;
            }
            if (System.nanoTime() > deadline) {
                fail("timed out after " + timeoutSeconds + " s waiting for " + what + " on " + name + "; status: " + last
                        + "\n--- " + name + " log tail:\n" + tail(log(name), 4000));
            }
            Thread.sleep(100);
        }
    }

    /** Waits until bravo has applied everything alpha (Primary) has sequenced, with nothing out of sync. */
    void waitReplicated(String primary, String secondary, double timeoutSeconds) throws InterruptedException {
        JsonNode p = waitFor(primary, s -> s.has("lastSeq") && s.path("connection").asText().equals("Connected")
                && s.path("outOfSyncBytes").asLong(-1) == 0, timeoutSeconds, "connected, nothing out of sync");
        long last = p.path("lastSeq").asLong();
        waitFor(secondary, s -> s.path("appliedSeq").asLong(-2) >= last && s.path("disk").asText().equals("UpToDate"),
                timeoutSeconds, "appliedSeq >= " + last);
    }

    String uri(String name) {
        return "nbd://127.0.0.1:" + node(name).nbdPort + "/" + RESOURCE;
    }

    int nbdPort(String name) {
        return node(name).nbdPort;
    }

    Path disk(String name) {
        return node(name).disk;
    }

    String log(String name) {
        return logSince(node(name), 0);
    }

    private static String logSince(Node n, long offset) {
        try {
            if (!Files.exists(n.log)) {
                return "";
            }
            try (InputStream in = Files.newInputStream(n.log)) {
                in.skipNBytes(Math.min(offset, Files.size(n.log)));
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String tail(String text, int chars) {
        return text.length() <= chars ? text : "..." + text.substring(text.length() - chars);
    }

    /** The SHA-256 of the first {@code length} bytes of {@code file} (the data area of a disk with internal metadata). */
    static String sha256(Path file, long length) throws Exception {
        java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
        try (java.io.InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 20];
            long left = length;
            while (left > 0) {
                int n = in.read(buf, 0, (int) Math.min(buf.length, left));
                if (n < 0) {
                    break;
                }
                md.update(buf, 0, n);
                left -= n;
            }
        }
        return java.util.HexFormat.of().formatHex(md.digest());
    }

    static String sha256(Path file) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        byte[] buf = new byte[1 << 20];
        try (InputStream in = Files.newInputStream(file)) {
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    // ------------------------------------------------------------------ cleanup

    private void killAll() {
        for (Node n : nodes.values()) {
            for (long pid : n.pids) {
                ProcessHandle.of(pid).ifPresent(h -> {
                    h.destroyForcibly();
                    try {
                        h.onExit().get(10, TimeUnit.SECONDS);
                    } catch (Exception e) {
                        // reported by the leak check below if it matters
                    }
                });
            }
        }
    }

    /**
     * Kills every daemon this harness started (by PID), then asserts no "LEAK:" in either log. Netty reports a
     * leaked buffer once the collector has found it and another buffer is allocated, so the running daemons are
     * made to collect first and given a ping interval (pings allocate) to report.
     */
    @Override
    public void close() {
        boolean collected = false;
        for (Node n : nodes.values()) {
            if (n.process != null && n.process.isAlive()) {
                Path jcmd = Path.of(ProcessHandle.current().info().command().orElseThrow()).resolveSibling("jcmd");
                Command.of(jcmd.toString(), Long.toString(n.process.pid()), "GC.run").timeout(30).run();
                collected = true;
            }
        }
        if (collected) {
            try {
                Thread.sleep(1200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        killAll();
        StringBuilder leaks = new StringBuilder();
        for (Node n : nodes.values()) {
            String text = log(n.name);
            if (text.contains("LEAK:")) {
                leaks.append("--- ").append(n.name).append(" log:\n").append(text);
            }
        }
        assertEquals("", leaks.toString(), "Netty reported a buffer leak");
    }
}
