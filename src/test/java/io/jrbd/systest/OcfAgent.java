package io.jrbd.systest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The OCF resource agent {@code ocf/jrbd} of the checkout, called the way Pacemaker calls it:
 * one action as argument, everything else in {@code OCF_*} environment variables. It manages
 * one node of a {@link TwoNodes} pair, keeps its state in a folder of its own, and finds fake
 * {@code crm_attribute} / {@code crm_master} first on its PATH that record their arguments
 * (there is no cluster), so a test can read the promotion scores the agent published.
 *
 * <p>{@link #close()} kills, by PID, every daemon the agent started for this node and asserts
 * that none of them reported a Netty buffer leak.
 */
final class OcfAgent implements AutoCloseable {
    static final String OCF_ROOT = "/usr/lib/ocf";
    static final int SUCCESS = 0;
    static final int ERR_GENERIC = 1;
    static final int ERR_ARGS = 2;
    static final int ERR_UNIMPLEMENTED = 3;
    static final int ERR_INSTALLED = 5;
    static final int ERR_CONFIGURED = 6;
    static final int NOT_RUNNING = 7;
    static final int RUNNING_PROMOTED = 8;
    static final int FAILED_PROMOTED = 9;

    final Path confDir;
    final String node;
    final Path dir;
    final Path runDir;
    final Path daemonLog;
    final Path fakeBin;
    final Path calls;
    /** Parameters ({@code OCF_RESKEY_*}, without the prefix) every call gets unless a test changes them. */
    final Map<String, String> params = new LinkedHashMap<>();

    /** One action's outcome: the exit code and stdout and stderr merged. */
    record Run(String action, int rc, String output) {
        /** The text after {@code ocf-exit-reason:}, or "" without one. */
        String exitReason() {
            for (String line : output.split("\n")) {
                int at = line.indexOf("ocf-exit-reason:");
                if (at >= 0) {
                    return line.substring(at + "ocf-exit-reason:".length());
                }
            }
            return "";
        }

        Run expect(int expected) {
            assertEquals(expected, rc, action + " returned " + rc + ", expected " + expected + "; output:\n" + output);
            return this;
        }
    }

    /** An agent for {@code node} of a pair whose folders live under {@code confDir}; its own files go to {@code dir}. */
    OcfAgent(Path confDir, String node, Path dir) throws IOException {
        this.confDir = confDir;
        this.node = node;
        this.dir = dir;
        this.runDir = dir.resolve("run");
        this.daemonLog = dir.resolve(node + "-agent-daemon.log");
        this.fakeBin = dir.resolve("fake-bin");
        this.calls = dir.resolve("crm-calls");
        Files.createDirectories(fakeBin);
        for (String tool : List.of("crm_attribute", "crm_master")) {
            script(fakeBin.resolve(tool), "#!/bin/sh\necho \"" + tool + " $*\" >>'" + calls + "'\nexit 0\n");
        }
        params.put("resource", TwoNodes.RESOURCE);
        params.put("config", confDir.toString());
        params.put("node", node);
        params.put("jrbdadm", Jrbd.launcher("jrbdadm"));
        params.put("run_dir", runDir.toString());
        params.put("daemon_log", daemonLog.toString());
        params.put("java_opts", TwoNodes.JAVA_OPTS);
        params.put("wait_connect", "10");
    }

    static Path agentPath() {
        return Jrbd.home().resolve("ocf").resolve("jrbd");
    }

    /** Writes an executable file. */
    static void script(Path file, String text) throws IOException {
        Files.writeString(file, text, StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    /** The environment Pacemaker would give a recurring operation, plus the fake tools on PATH. */
    Map<String, String> environment(Map<String, String> params, Map<String, String> extra) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("OCF_ROOT", OCF_ROOT);
        env.put("OCF_RA_VERSION_MAJOR", "1");
        env.put("OCF_RA_VERSION_MINOR", "1");
        env.put("OCF_RESOURCE_INSTANCE", "jrbd-" + TwoNodes.RESOURCE);
        env.put("OCF_RESOURCE_TYPE", "jrbd");
        env.put("OCF_RESOURCE_PROVIDER", "jrbd");
        env.put("OCF_RESKEY_CRM_meta_interval", "10000");
        env.put("OCF_RESKEY_CRM_meta_timeout", "60000");
        env.put("PATH", fakeBin + ":" + System.getenv().getOrDefault("PATH", "/usr/bin:/bin") + ":/usr/sbin:/sbin");
        env.put("HA_SBIN_DIR", fakeBin.toString());
        String javaHome = System.getenv("JAVA_HOME");
        if (javaHome != null) {
            env.put("JAVA_HOME", javaHome); // the launchers use the JDK the tests run on
        }
        params.forEach((k, v) -> {
            if (v != null) {
                env.put("OCF_RESKEY_" + k, v);
            }
        });
        env.putAll(extra);
        return env;
    }

    /** Runs one action with the standing parameters. */
    Run run(String action) {
        return run(action, Map.of(), Map.of());
    }

    /** A probe: monitor with interval 0, as Pacemaker runs it when it does not know the state. */
    Run probe() {
        return run("monitor", Map.of(), Map.of("OCF_RESKEY_CRM_meta_interval", "0"));
    }

    /**
     * Runs one action; {@code paramChanges} replace standing parameters (a null value removes
     * one), {@code extraEnv} adds or replaces environment variables.
     */
    Run run(String action, Map<String, String> paramChanges, Map<String, String> extraEnv) {
        Map<String, String> p = new LinkedHashMap<>(params);
        p.putAll(paramChanges);
        p.values().removeIf(v -> v == null);
        Map<String, String> env = environment(p, extraEnv);
        // Only the variables given here: the test JVM's own OCF_* must not leak in.
        List<String> argv = new ArrayList<>(List.of("env", "-i"));
        env.forEach((k, v) -> argv.add(k + "=" + v));
        argv.add(agentPath().toString());
        argv.add(action);
        long t0 = System.nanoTime();
        Command.Result r = Command.of(argv).timeout(180).run();
        System.out.printf("ocf/jrbd %s -> %d in %.1f s%n", action, r.exitCode(), (System.nanoTime() - t0) / 1e9);
        return new Run(action, r.exitCode(), r.output());
    }

    /** The promotion-score commands recorded so far, one per line, and forgets them. */
    List<String> takeScoreCalls() {
        try {
            if (!Files.exists(calls)) {
                return List.of();
            }
            List<String> lines = Files.readAllLines(calls, StandardCharsets.UTF_8);
            Files.delete(calls);
            return lines;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The last promotion-score command recorded (and forgets them all); fails if there was none. */
    String lastScoreCall() {
        List<String> all = takeScoreCalls();
        assertTrue(!all.isEmpty(), "the agent published no promotion score");
        return all.get(all.size() - 1);
    }

    /** The PID the agent recorded for the daemon it started, if that file exists. */
    Optional<Long> recordedDaemonPid() {
        Path file = runDir.resolve("daemon-" + node + ".pid");
        try {
            if (!Files.exists(file)) {
                return Optional.empty();
            }
            String text = Files.readString(file).trim();
            return text.isEmpty() ? Optional.empty() : Optional.of(Long.parseLong(text));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Every live process that is a daemon of this node's configuration folder: the recorded PID and
     * any other process whose command line names {@code confDir} with {@code --node NODE} (the
     * folder is a fresh temporary one, so these are this test's processes only).
     */
    List<ProcessHandle> daemons() {
        String marker = "-c " + confDir + " --node " + node;
        List<ProcessHandle> found = new ArrayList<>();
        ProcessHandle.allProcesses().forEach(h -> {
            String line = h.info().commandLine().orElse("");
            if (line.contains("io.jrbd.nbd.cli.Jrbd daemon") && line.contains(marker)) {
                found.add(h);
            }
        });
        recordedDaemonPid().flatMap(ProcessHandle::of).filter(ProcessHandle::isAlive).ifPresent(h -> {
            if (found.stream().noneMatch(f -> f.pid() == h.pid())
                    && h.info().commandLine().orElse("").contains(marker)) {
                found.add(h);
            }
        });
        return found;
    }

    /** Kills one process by PID with SIGKILL and waits for it. */
    static void kill9(ProcessHandle h) {
        Command.of("kill", "-9", Long.toString(h.pid())).run();
        try {
            h.onExit().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            fail("process " + h.pid() + " survived kill -9: " + e);
        }
    }

    String daemonLogText() {
        try {
            return Files.exists(daemonLog) ? Files.readString(daemonLog, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        for (ProcessHandle h : daemons()) {
            kill9(h);
        }
        String log = daemonLogText();
        assertTrue(!log.contains("LEAK:"), "Netty reported a buffer leak in the daemon the agent started:\n" + log);
    }
}
