package io.jrbd.systest;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * A one-node Pacemaker cluster on loopback, started by hand without systemd: corosync (knet
 * on 127.0.0.1) and pacemakerd in the foreground, a fresh CIB with STONITH off and a short
 * {@code dc-deadtime} so the node is DC in seconds, and the checkout's {@code ocf/} folder
 * installed as the OCF provider {@code jrbd-systest}.
 *
 * <p>Pacemaker keeps its CIB in the fixed folder {@code /var/lib/pacemaker/cib}, so only one
 * such cluster can run on a machine: it refuses to start while a corosync or pacemakerd runs, or
 * while a CIB that it did not write is there. {@link #close()} stops both daemons by PID
 * (SIGTERM, then SIGKILL for whatever of their process trees is left), removes the CIB and the
 * scheduler inputs it made, and the provider link.
 */
final class OcfCluster implements AutoCloseable {
    static final String NODE = "node1";
    static final String PROVIDER = "jrbd-systest";
    private static final Path CIB_DIR = Path.of("/var/lib/pacemaker/cib");
    private static final Path PENGINE_DIR = Path.of("/var/lib/pacemaker/pengine");
    private static final Path PROVIDER_LINK = Path.of(OcfAgent.OCF_ROOT, "resource.d", PROVIDER);
    /** The id of the CIB's option set: how a CIB left behind by an earlier run is recognised. */
    private static final String MARK = "jrbd-systest-options";

    final Path dir;
    private Process corosync;
    private Process pacemakerd;
    private final List<ProcessHandle> trees = new ArrayList<>();
    private final Set<String> pengineBefore = new HashSet<>();

    private OcfCluster(Path dir) {
        this.dir = dir;
    }

    /**
     * Starts corosync and Pacemaker and waits until the node is the DC. {@code dir} must be a
     * folder of the test's own temporary folder: both are opened to the hacluster user.
     */
    static OcfCluster start(Path dir) throws Exception {
        if (!"root".equals(System.getProperty("user.name"))) {
            fail("a Pacemaker cluster needs root (its daemons run as root and hacluster)");
        }
        for (String tool : List.of("corosync", "pacemakerd", "cibadmin", "crm_mon", "crm_resource")) {
            Command.requireTool(tool);
        }
        ProcessHandle.allProcesses().forEach(h -> {
            String cmd = h.info().command().orElse("");
            if (cmd.endsWith("/corosync") || cmd.endsWith("/pacemakerd")) {
                fail("a cluster already runs on this machine (" + cmd + ", pid " + h.pid() + "); this test needs it to itself");
            }
        });
        Files.createDirectories(dir);
        // Pacemaker's daemons run partly as hacluster and write one log here: let them through
        // this folder and its parent (the test's private temporary folder), and give them the file.
        for (Path p : List.of(dir, dir.getParent())) {
            Files.setPosixFilePermissions(p, java.nio.file.attribute.PosixFilePermissions.fromString("rwx--x--x"));
        }
        Command.of("install", "-o", "hacluster", "-g", "haclient", "-m", "660", "/dev/null",
                dir.resolve("pacemaker.log").toString()).ok();
        OcfCluster c = new OcfCluster(dir);
        try {
            c.prepareCib();
            c.installProvider();
            c.startDaemons();
        } catch (Throwable e) {
            c.close();
            throw e;
        }
        return c;
    }

    private void prepareCib() throws IOException {
        Path cib = CIB_DIR.resolve("cib.xml");
        if (Files.exists(cib)) {
            String text = Files.readString(cib, StandardCharsets.UTF_8);
            if (!text.contains(MARK)) {
                fail(cib + " exists and was not written by this test: refusing to replace a real cluster's configuration");
            }
        }
        removeCib();
        try (Stream<Path> s = Files.exists(PENGINE_DIR) ? Files.list(PENGINE_DIR) : Stream.empty()) {
            s.forEach(p -> pengineBefore.add(p.getFileName().toString()));
        }
        Path fresh = dir.resolve("cib.xml");
        Files.writeString(fresh, """
                <cib crm_feature_set="3.16.1" validate-with="pacemaker-3.7" epoch="1" num_updates="0" admin_epoch="0">
                  <configuration>
                    <crm_config>
                      <cluster_property_set id="%s">
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
                """.formatted(MARK), StandardCharsets.UTF_8);
        Files.createDirectories(CIB_DIR);
        Command.of("install", "-o", "hacluster", "-g", "haclient", "-m", "600", fresh.toString(), cib.toString()).ok();
    }

    private static void removeCib() throws IOException {
        if (!Files.isDirectory(CIB_DIR)) {
            return;
        }
        try (Stream<Path> s = Files.list(CIB_DIR)) {
            for (Path p : s.toList()) {
                String name = p.getFileName().toString();
                if (name.startsWith("cib")) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private void installProvider() throws IOException {
        Files.deleteIfExists(PROVIDER_LINK);
        Files.createSymbolicLink(PROVIDER_LINK, OcfAgent.agentPath().getParent());
    }

    private void startDaemons() throws Exception {
        Path conf = dir.resolve("corosync.conf");
        Files.writeString(conf, """
                totem {
                    version: 2
                    cluster_name: jrbd-systest
                    transport: knet
                    crypto_cipher: none
                    crypto_hash: none
                    token: 1000
                }
                nodelist {
                    node {
                        ring0_addr: 127.0.0.1
                        name: %s
                        nodeid: 1
                    }
                }
                quorum {
                    provider: corosync_votequorum
                }
                logging {
                    to_logfile: yes
                    logfile: %s
                    to_syslog: no
                    to_stderr: no
                    timestamp: on
                }
                """.formatted(NODE, dir.resolve("corosync.log")), StandardCharsets.UTF_8);
        corosync = new ProcessBuilder(OcfTesterTest.tool("corosync"), "-f", "-c", conf.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("corosync.out").toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        trees.add(corosync.toHandle());
        waitUntil(() -> Files.exists(dir.resolve("corosync.log"))
                && read(dir.resolve("corosync.log")).contains("ready to provide service"), 30, "corosync ready",
                () -> read(dir.resolve("corosync.out")) + read(dir.resolve("corosync.log")));

        ProcessBuilder pb = new ProcessBuilder(OcfTesterTest.tool("pacemakerd"))
                .redirectErrorStream(true).redirectOutput(dir.resolve("pacemakerd.out").toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().put("PCMK_logfile", dir.resolve("pacemaker.log").toString());
        pacemakerd = pb.start();
        trees.add(pacemakerd.toHandle());
        waitForMon(s -> s.contains("Current DC: " + NODE), 60, "node1 to become DC");
    }

    /** {@code crm_mon -1 -A}: the cluster's status with node attributes (promotion scores). */
    String mon() {
        return Command.of(OcfTesterTest.tool("crm_mon"), "-1", "-A", "--include=all").timeout(30).run().output();
    }

    /** Polls crm_mon until the condition holds; fails with its last output otherwise. */
    String waitForMon(Predicate<String> condition, double seconds, String what) throws InterruptedException {
        String[] last = {""};
        waitUntil(() -> condition.test(last[0] = mon()), seconds, what, () -> last[0] + "\n--- pacemaker.log tail:\n"
                + TwoNodes.tail(read(dir.resolve("pacemaker.log")), 6000));
        return last[0];
    }

    /** Adds XML to the CIB's resources section. */
    void createResource(String xml) {
        Command.of(OcfTesterTest.tool("cibadmin"), "--create", "-o", "resources", "--xml-text", xml).timeout(30).ok();
    }

    /** {@code crm_resource -r RSC --meta -p NAME -v VALUE}. */
    void setMeta(String resource, String name, String value) {
        Command.of(OcfTesterTest.tool("crm_resource"), "-r", resource, "--meta", "-p", name, "-v", value).timeout(30).ok();
    }

    String log() {
        return read(dir.resolve("pacemaker.log"));
    }

    interface Check {
        boolean holds() throws Exception;
    }

    interface Text {
        String get();
    }

    static void waitUntil(Check check, double seconds, String what, Text context) throws InterruptedException {
        long deadline = System.nanoTime() + (long) (seconds * 1e9);
        while (true) {
            try {
                if (check.holds()) {
                    return;
                }
            } catch (Exception e) {
                // not yet
            }
            if (System.nanoTime() > deadline) {
                fail("timed out after " + seconds + " s waiting for " + what + ":\n" + context.get());
            }
            Thread.sleep(250);
        }
    }

    static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "(cannot read " + file + ": " + e.getMessage() + ")";
        }
    }

    /** Stops pacemakerd (it stops the resources and its own daemons first), then corosync; by PID. */
    @Override
    public void close() {
        // Pacemaker's daemons are children of pacemakerd: note them before it goes.
        List<ProcessHandle> all = new ArrayList<>();
        for (ProcessHandle root : trees) {
            root.descendants().forEach(all::add);
            all.add(root);
        }
        stop(pacemakerd, 60);
        stop(corosync, 20);
        all.forEach(OcfCluster::killNow);
        try {
            removeCib();
            if (Files.isDirectory(PENGINE_DIR)) {
                try (Stream<Path> s = Files.list(PENGINE_DIR)) {
                    for (Path p : s.toList()) {
                        if (!pengineBefore.contains(p.getFileName().toString())) {
                            Files.deleteIfExists(p);
                        }
                    }
                }
            }
            Files.deleteIfExists(PROVIDER_LINK);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void stop(Process p, int seconds) {
        if (p == null || !p.isAlive()) {
            return;
        }
        Command.of("kill", "-TERM", Long.toString(p.pid())).run();
        try {
            if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
                killNow(p.toHandle());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** SIGKILL by PID; the handle knows the process's start time, so a reused PID is left alone. */
    private static void killNow(ProcessHandle h) {
        if (h.isAlive()) {
            h.destroyForcibly();
            try {
                h.onExit().get(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                // reported by the next test that finds a cluster running
            }
        }
    }
}
