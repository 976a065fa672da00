package io.jrbd.nbd.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jrbd.metadata.md.Metadata;
import io.jrbd.metadata.store.BackingStore;
import io.jrbd.nbd.control.ControlClient;
import io.jrbd.nbd.control.ControlException;
import io.jrbd.replicator.config.Sizes;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code jrbd quickstart}: a two-node pair on this machine, synced, with alpha Primary; and
 * {@code --stop} to end it. Everything it does is what an administrator would do by hand
 * (docs/operations.md), so its configuration is a working example.
 */
@Command(name = "quickstart", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = {"Start a replicated device on localhost: nodes alpha and bravo (two daemons), resource r0,",
                "initial sync, alpha Primary. Prints the NBD URI. --stop stops both daemons."},
        footer = {"", "Examples:", "  jrbd quickstart --dir /var/tmp/jrbd --size 1G --protocol C",
                "  jrbd quickstart --dir /var/tmp/jrbd --stop"})
final class QuickstartCommand implements Callable<Integer> {
    static final String[] NODES = {"alpha", "bravo"};
    private static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = "--dir", paramLabel = "DIR", defaultValue = "jrbd-quickstart",
            description = "Folder for configuration, data, metadata, sockets and logs (default: ./${DEFAULT-VALUE}).")
    Path dir;

    @Option(names = "--size", paramLabel = "SIZE", defaultValue = "1G", description = "Device size (default: ${DEFAULT-VALUE}).")
    String size;

    @Option(names = "--protocol", defaultValue = "C", description = "A, B or C (default: ${DEFAULT-VALUE}).")
    String protocol;

    @Option(names = "--port", defaultValue = "10809", description = "alpha's NBD port; bravo uses the next (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--replication-port", defaultValue = "7789", description = "alpha's replication port; bravo uses the next (default: ${DEFAULT-VALUE}).")
    int replicationPort;

    @Option(names = "--stop", description = "Stop the two daemons of DIR and exit.")
    boolean stop;

    @Override
    public Integer call() throws Exception {
        Path base = dir.toAbsolutePath().normalize();
        if (stop) {
            return stopAll(base);
        }
        long bytes = Sizes.parse(size);
        Files.createDirectories(base);
        for (String node : NODES) {
            if (pidAlive(base, node)) {
                throw new IllegalStateException("a quickstart daemon for " + node + " is already running in " + base
                        + "; stop it first: jrbd quickstart --dir " + base + " --stop");
            }
        }
        String secret = HexFormat.of().formatHex(SecureRandom.getInstanceStrong().generateSeed(16));
        String config = config(base, Sizes.format(bytes).replace(" GiB", "G").replace(" MiB", "M").replace(" TiB", "T")
                .replace(" KiB", "K").replace(" bytes", ""), secret);
        for (String node : NODES) {
            Path conf = Files.createDirectories(base.resolve(node));
            Files.writeString(conf.resolve("r0.toml"), config, StandardCharsets.UTF_8);
            Path disk = base.resolve("r0-" + node + ".img");
            Files.deleteIfExists(disk);
            BackingStore.open(disk, bytes, false).close();
            Metadata.create(base.resolve("r0-" + node + ".md"), bytes, "r0", node, true).close();
            Files.deleteIfExists(base.resolve("r0-" + node + ".md.journal"));
        }
        for (String node : NODES) {
            startDaemon(base, node);
        }
        for (String node : NODES) {
            call(base, node, "up", null);
        }
        call(base, "alpha", "wait-connect", JSON.createObjectNode().put("timeout", 60));
        call(base, "alpha", "primary", JSON.createObjectNode().put("force", true));
        call(base, "alpha", "wait-sync", JSON.createObjectNode().put("timeout", 600));
        String jrbdadm = Path.of(System.getProperty("jrbd.home", ".")).resolve("bin/jrbdadm").toString();
        System.out.println();
        System.out.println("jrbd quickstart: resource r0 (" + Sizes.format(bytes) + ", protocol " + protocol + ") is replicated");
        System.out.println("  alpha  Primary    nbd://127.0.0.1:" + port + "/r0   log " + base.resolve("alpha.log"));
        System.out.println("  bravo  Secondary  (takes over with: " + jrbdadm + " -c " + base.resolve("bravo")
                + " --node bravo primary r0)");
        System.out.println();
        System.out.println("  nbdinfo nbd://127.0.0.1:" + port + "/r0");
        System.out.println("  " + jrbdadm + " -c " + base.resolve("alpha") + " --node alpha status r0");
        System.out.println("  " + System.getProperty("jrbd.home", ".") + "/bin/jrbd quickstart --dir " + base + " --stop");
        return 0;
    }

    private String config(Path base, String size, String secret) {
        StringBuilder b = new StringBuilder();
        b.append("# Written by jrbd quickstart: a two-node resource on one machine.\n");
        b.append("[resource]\nname = \"r0\"\nsize = \"").append(size).append("\"\nprotocol = \"").append(protocol).append("\"\n\n");
        b.append("[net]\nshared-secret = \"").append(secret).append("\"\nping-interval = \"2s\"\nping-timeout = \"500ms\"\n")
                .append("timeout = \"800ms\"\nconnect-interval = \"1s\"\n\n");
        for (int i = 0; i < NODES.length; i++) {
            String node = NODES[i];
            b.append("[nodes.").append(node).append("]\n");
            b.append("replication = \"127.0.0.1:").append(replicationPort + i).append("\"\n");
            b.append("nbd = \"127.0.0.1:").append(port + i).append("\"\n");
            b.append("disk = \"").append(base.resolve("r0-" + node + ".img")).append("\"\n");
            b.append("meta-disk = \"").append(base.resolve("r0-" + node + ".md")).append("\"\n");
            b.append("control-socket = \"").append(base.resolve(node + ".sock")).append("\"\n\n");
        }
        return b.toString();
    }

    private static void startDaemon(Path base, String node) throws IOException, InterruptedException {
        Path home = Path.of(System.getProperty("jrbd.home", "."));
        Path log = base.resolve(node + ".log");
        ProcessBuilder pb = new ProcessBuilder("setsid", home.resolve("bin/jrbd").toString(), "daemon", "-c",
                base.resolve(node).toString(), "--node", node)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        Process p = pb.start();
        Files.writeString(base.resolve(node + ".pid"), Long.toString(p.pid()));
        Path socket = base.resolve(node + ".sock");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new IllegalStateException(node + "'s daemon exited with " + p.exitValue() + "; see " + log);
            }
            try (ControlClient c = ControlClient.connect(socket)) {
                return;
            } catch (ControlException e) {
                TimeUnit.MILLISECONDS.sleep(100);
            }
        }
        throw new IllegalStateException(node + "'s daemon did not open " + socket + " within 30 s; see " + log);
    }

    private static JsonNode call(Path base, String node, String command, ObjectNode args) throws ControlException {
        try (ControlClient c = ControlClient.connect(base.resolve(node + ".sock"))) {
            return c.request(command, "r0", args == null ? JSON.createObjectNode() : args);
        }
    }

    private static boolean pidAlive(Path base, String node) throws IOException {
        Path pidFile = base.resolve(node + ".pid");
        if (!Files.exists(pidFile)) {
            return false;
        }
        long pid = Long.parseLong(Files.readString(pidFile).strip());
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    private static int stopAll(Path base) throws Exception {
        int stopped = 0;
        for (String node : List.of(NODES)) {
            Path pidFile = base.resolve(node + ".pid");
            if (!Files.exists(pidFile)) {
                continue;
            }
            long pid = Long.parseLong(Files.readString(pidFile).strip());
            var handle = ProcessHandle.of(pid);
            if (handle.isPresent() && handle.get().isAlive()) {
                handle.get().destroy(); // SIGTERM: the daemon brings its resources down cleanly
                try {
                    handle.get().onExit().get(60, TimeUnit.SECONDS);
                } catch (java.util.concurrent.TimeoutException e) {
                    handle.get().destroyForcibly();
                }
                stopped++;
            }
            Files.deleteIfExists(pidFile);
        }
        System.out.println("jrbd quickstart: stopped " + stopped + " daemon(s) in " + base);
        return 0;
    }
}
