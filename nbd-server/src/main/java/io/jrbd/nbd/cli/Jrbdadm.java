package io.jrbd.nbd.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jrbd.metadata.md.Metadata;
import io.jrbd.metadata.store.BackingStore;
import io.jrbd.nbd.control.ControlClient;
import io.jrbd.nbd.control.ControlException;
import io.jrbd.replicator.config.ConfigException;
import io.jrbd.replicator.config.ConfigLoader;
import io.jrbd.replicator.config.NodeConfig;
import io.jrbd.replicator.config.NodeSettings;
import io.jrbd.replicator.config.ResourceConfig;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code jrbdadm}: the administrator's command, a thin client of the node daemon's control
 * socket (create-md and dump-md work on the metadata directly, without a daemon, like drbdadm).
 *
 * <p>Exit codes: 0 done; 1 refused or failed (one line on stderr saying why); 2 bad usage;
 * 3 no daemon listening.
 */
@Command(name = "jrbdadm", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = "Administer jrbd resources, as drbdadm administers DRBD resources.",
        subcommands = {Jrbdadm.CreateMd.class, Jrbdadm.DumpMd.class, Jrbdadm.Up.class, Jrbdadm.Down.class,
                Jrbdadm.Primary.class, Jrbdadm.Secondary.class, Jrbdadm.Connect.class, Jrbdadm.Disconnect.class,
                Jrbdadm.Invalidate.class, Jrbdadm.InvalidateRemote.class, Jrbdadm.NewCurrentUuid.class,
                Jrbdadm.PauseSync.class, Jrbdadm.ResumeSync.class, Jrbdadm.Verify.class, Jrbdadm.ResumeIo.class, Jrbdadm.Outdate.class, Jrbdadm.Attach.class,
                Jrbdadm.Detach.class, Jrbdadm.Adjust.class, Jrbdadm.Completion.class, Jrbdadm.Status.class, Jrbdadm.Events.class, Jrbdadm.WaitConnect.class, Jrbdadm.WaitSync.class, CommandLine.HelpCommand.class},
        footer = {"", "Exit codes: 0 done, 1 refused or failed, 2 bad usage, 3 no daemon answering (none listening, or",
                "the connection to it failed)."})
public final class Jrbdadm implements Runnable {
    static final int REFUSED = 1;
    static final int NO_DAEMON = 3;
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    @Option(names = {"-c", "--config"}, paramLabel = "DIR", scope = CommandLine.ScopeType.INHERIT,
            description = "Configuration folder (default: $JRBD_CONFIG or /etc/jrbd).")
    Path config;

    @Option(names = "--node", paramLabel = "NAME", scope = CommandLine.ScopeType.INHERIT,
            description = "This node's name (default: $JRBD_NODE or the host name).")
    String node;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    static CommandLine commandLine() {
        return new CommandLine(new Jrbdadm()).setExecutionExceptionHandler((e, cmd, parsed) -> {
            PrintWriter err = cmd.getErr();
            if (e instanceof ControlException ce) {
                err.println("jrbdadm: " + ce.getMessage());
                // No daemon, or one that went away mid-answer: the same for a script (try again, or start it).
                return ce.kind() == ControlException.Kind.NO_DAEMON || ce.kind() == ControlException.Kind.IO
                        ? NO_DAEMON : REFUSED;
            }
            err.println("jrbdadm: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
            return REFUSED;
        });
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required (see jrbdadm --help)");
    }

    Path configDir() {
        return NodeName.configDir(config);
    }

    String nodeName() {
        return NodeName.resolve(node);
    }

    NodeSettings settings() {
        List<ResourceConfig> all = ConfigLoader.loadDirectory(configDir());
        return ConfigLoader.nodeSettings(all, nodeName());
    }

    /** The resources a command names: one, or every one of this node for "all". */
    List<ResourceConfig> resources(String name) {
        List<ResourceConfig> mine = settings().resources();
        if (name.equals("all")) {
            return mine;
        }
        for (ResourceConfig r : mine) {
            if (r.name().equals(name)) {
                return List.of(r);
            }
        }
        List<String> known = new ArrayList<>();
        mine.forEach(r -> known.add(r.name()));
        throw new ConfigException("resource", "no resource '" + name + "' is configured for node " + nodeName() + " in "
                + configDir() + " (known: " + String.join(", ", known) + ")");
    }

    JsonNode call(String command, String resource, ObjectNode args) throws ControlException {
        NodeSettings s = settings();
        try (ControlClient client = ControlClient.connect(s.controlSocket(), configDir())) {
            return client.request(command, resource, args == null ? JSON.createObjectNode() : args);
        }
    }

    /** Commands that only pass a resource name to the daemon. */
    abstract static class Simple implements Callable<Integer> {
        @CommandLine.ParentCommand
        Jrbdadm adm;

        @Parameters(paramLabel = "RESOURCE", description = "Resource name, or all.")
        String resource;

        abstract String command();

        ObjectNode args() {
            return null;
        }

        @Override
        public Integer call() throws Exception {
            adm.resources(resource); // a typo is caught here with the list of known names
            adm.call(command(), resource, args());
            return 0;
        }
    }

    @Command(name = "create-md", mixinStandardHelpOptions = true,
            description = {"Write fresh metadata for the resource on this node (no daemon needed).",
                    "Creates a missing backing file sparse. Refuses to overwrite valid metadata without --force."},
            footer = {"", "Example:", "  jrbdadm -c /etc/jrbd create-md r0"})
    static final class CreateMd implements Callable<Integer> {
        @CommandLine.ParentCommand
        Jrbdadm adm;

        @Parameters(paramLabel = "RESOURCE", description = "Resource name, or all.")
        String resource;

        @Option(names = "--force", description = "Overwrite valid metadata (the node forgets its generation and bitmap).")
        boolean force;

        @Override
        public Integer call() throws Exception {
            String node = adm.nodeName();
            for (ResourceConfig r : adm.resources(resource)) {
                NodeConfig n = r.node(node);
                if (n.internalMetadata()) {
                    Metadata.createInternal(n.disk(), r.size(), r.name(), node, force).close();
                    System.out.println("jrbdadm: " + r.name() + ": new internal metadata at the end of " + n.disk()
                            + " (disk Inconsistent)");
                    continue;
                }
                if (!Files.exists(n.disk())) {
                    BackingStore.open(n.disk(), r.size(), false).close();
                }
                Metadata.create(n.metaDisk(), r.size(), r.name(), node, force).close();
                System.out.println("jrbdadm: " + r.name() + ": new metadata in " + n.metaDisk() + " (disk Inconsistent)");
            }
            return 0;
        }
    }

    @Command(name = "dump-md", mixinStandardHelpOptions = true,
            description = "Print the resource's metadata on this node readably (no daemon needed).",
            footer = {"", "Example:", "  jrbdadm dump-md --json r0"})
    static final class DumpMd implements Callable<Integer> {
        @CommandLine.ParentCommand
        Jrbdadm adm;

        @Parameters(paramLabel = "RESOURCE", description = "Resource name, or all.")
        String resource;

        @Option(names = "--json", description = "Print JSON instead of text.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            String node = adm.nodeName();
            for (ResourceConfig r : adm.resources(resource)) {
                NodeConfig n = r.node(node);
                if (n.internalMetadata()) {
                    try (Metadata md = Metadata.openInternalReadOnly(n.disk(), r.size())) {
                        System.out.println(json ? JSON.writeValueAsString(md.dumpJson()) : md.dump());
                    }
                    continue;
                }
                Path md = n.metaDisk();
                System.out.println(json ? JSON.writeValueAsString(Metadata.dumpJson(md)) : Metadata.dump(md));
            }
            return 0;
        }
    }

    @Command(name = "up", mixinStandardHelpOptions = true, description = "Attach the resource and connect to its peer, as Secondary.",
            footer = {"", "Example:", "  jrbdadm up r0"})
    static final class Up extends Simple {
        @Override
        String command() {
            return "up";
        }
    }

    @Command(name = "down", mixinStandardHelpOptions = true, description = "Disconnect and detach the resource (a Primary is demoted first).",
            footer = {"", "Example:", "  jrbdadm down r0"})
    static final class Down extends Simple {
        @Override
        String command() {
            return "down";
        }
    }

    @Command(name = "primary", mixinStandardHelpOptions = true,
            description = {"Promote: export the device on this node. Refused while the peer is Primary or the local",
                    "disk is not UpToDate; --force makes this node's data the one that counts (initial sync, disaster",
                    "recovery) and starts a full resync to the peer."},
            footer = {"", "Examples:", "  jrbdadm primary r0", "  jrbdadm primary --force r0   # first sync after create-md"})
    static final class Primary extends Simple {
        @Option(names = "--force", description = "Promote even with data that is not UpToDate.")
        boolean force;

        @Override
        String command() {
            return "primary";
        }

        @Override
        ObjectNode args() {
            return JSON.createObjectNode().put("force", force);
        }
    }

    @Command(name = "secondary", mixinStandardHelpOptions = true,
            description = "Demote: stop exporting. Refused while NBD clients are connected.",
            footer = {"", "Example:", "  jrbdadm secondary r0"})
    static final class Secondary extends Simple {
        @Override
        String command() {
            return "secondary";
        }
    }

    @Command(name = "connect", mixinStandardHelpOptions = true,
            description = {"Connect to the peer again after disconnect. After a split brain, run it with",
                    "--discard-my-data on the victim (as Secondary): its changes are overwritten by the peer's."},
            footer = {"", "Examples:", "  jrbdadm connect r0", "  jrbdadm connect --discard-my-data r0   # split-brain victim"})
    static final class Connect extends Simple {
        @Option(names = "--discard-my-data", description = "This node is the split-brain victim: resync it from the peer.")
        boolean discardMyData;

        @Override
        String command() {
            return "connect";
        }

        @Override
        ObjectNode args() {
            return JSON.createObjectNode().put("discardMyData", discardMyData);
        }
    }

    @Command(name = "invalidate", mixinStandardHelpOptions = true,
            description = "This node's data is bad: mark every block out of sync and take a full sync from the peer (Secondary only).",
            footer = {"", "Example:", "  jrbdadm invalidate r0 && jrbdadm wait-sync r0"})
    static final class Invalidate extends Simple {
        @Override
        String command() {
            return "invalidate";
        }
    }

    @Command(name = "invalidate-remote", mixinStandardHelpOptions = true,
            description = "The peer's data is bad: it takes a full sync from this node (the peer must be Secondary).",
            footer = {"", "Example:", "  jrbdadm invalidate-remote r0"})
    static final class InvalidateRemote extends Simple {
        @Override
        String command() {
            return "invalidate-remote";
        }
    }

    @Command(name = "new-current-uuid", mixinStandardHelpOptions = true,
            description = {"Start a new data generation. With --clear-bitmap on a connected pair of freshly created",
                    "disks, both become UpToDate without the initial sync (only if the disks really are identical,",
                    "e.g. both empty)."},
            footer = {"", "Examples:", "  jrbdadm new-current-uuid r0", "  jrbdadm new-current-uuid --clear-bitmap r0   # skip the initial sync"})
    static final class NewCurrentUuid extends Simple {
        @Option(names = "--clear-bitmap", description = "Also clear the bitmap; the connected peer adopts the generation.")
        boolean clearBitmap;

        @Override
        String command() {
            return "new-current-uuid";
        }

        @Override
        ObjectNode args() {
            return JSON.createObjectNode().put("clearBitmap", clearBitmap);
        }
    }

    @Command(name = "verify", mixinStandardHelpOptions = true,
            description = {"Online verify: compare every block with the peer by digest (verify-alg), re-check each",
                    "difference once writes in flight have settled, mark what still differs out of sync on both",
                    "nodes and print it as ranges (offset+length). Disconnect and connect to resync them."},
            footer = {"", "Examples:", "  jrbdadm verify r0", "  jrbdadm verify --no-wait r0 && jrbdadm status r0",
                    "  jrbdadm disconnect r0 && jrbdadm connect r0   # then: resync what verify found"})
    static final class Verify implements Callable<Integer> {
        @CommandLine.ParentCommand
        Jrbdadm adm;

        @Parameters(paramLabel = "RESOURCE", description = "Resource name, or all.")
        String resource;

        @Option(names = "--no-wait", description = "Start it and return; progress and result are in status.")
        boolean noWait;

        @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "0", description = "Stop waiting after this long (0: wait until done).")
        double timeout;

        @Override
        public Integer call() throws Exception {
            adm.resources(resource);
            JsonNode result = adm.call("verify", resource, JSON.createObjectNode().put("noWait", noWait).put("timeout", timeout));
            for (JsonNode r : result) {
                String name = r.path("resource").asText();
                if (!r.path("finished").asBoolean()) {
                    System.out.println(name + ": verify running (see jrbdadm status " + name + ")");
                    continue;
                }
                System.out.println(name + ": " + r.path("summary").asText());
                for (JsonNode range : r.path("ranges")) {
                    System.out.println("  out of sync: " + range.asText());
                }
            }
            return 0;
        }
    }

    @Command(name = "attach", mixinStandardHelpOptions = true,
            description = "Attach the disk and metadata without connecting to the peer (StandAlone, Secondary); 'connect' joins.",
            footer = {"", "Example:", "  jrbdadm attach r0 && jrbdadm connect r0"})
    static final class Attach extends Simple {
        @Override
        String command() {
            return "attach";
        }
    }

    @Command(name = "detach", mixinStandardHelpOptions = true,
            description = {"Give up the disk: disconnect and detach (like down). jrbd has no Diskless mode, so it is",
                    "refused on a Primary."},
            footer = {"", "Example:", "  jrbdadm detach r0"})
    static final class Detach extends Simple {
        @Override
        String command() {
            return "detach";
        }
    }

    @Command(name = "adjust", mixinStandardHelpOptions = true,
            description = {"Read the configuration folder again and bring the resource to it: up if it is down; if it is",
                    "up, apply changed split-brain policies, congestion, checksums, fencing, al-extents, resync rates and",
                    "handlers at once. Size, protocol, [net] and [nodes] changes need down and up (refused, nothing changes)."},
            footer = {"", "Example:", "  jrbdadm adjust r0   # after editing /etc/jrbd/r0.toml"})
    static final class Adjust extends Simple {
        @Override
        String command() {
            return "adjust";
        }

        @Override
        public Integer call() throws Exception {
            adm.resources(resource);
            for (JsonNode line : adm.call(command(), resource, null)) {
                System.out.println(line.asText());
            }
            return 0;
        }
    }

    @Command(name = "completion", mixinStandardHelpOptions = true,
            description = "Print a bash completion script for jrbdadm (commands and options).",
            footer = {"", "Example:", "  jrbdadm completion > /etc/bash_completion.d/jrbdadm"})
    static final class Completion implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            System.out.print(picocli.AutoComplete.bash("jrbdadm", spec.parent().commandLine()));
            return 0;
        }
    }

    @Command(name = "resume-io", mixinStandardHelpOptions = true,
            description = {"Resume application I/O that fencing (resource-and-stonith) suspended because the fence-peer",
                    "handler did not succeed. Make sure the peer is down or cannot be promoted first."},
            footer = {"", "Example:", "  jrbdadm resume-io r0"})
    static final class ResumeIo extends Simple {
        @Override
        String command() {
            return "resume-io";
        }
    }

    @Command(name = "outdate", mixinStandardHelpOptions = true,
            description = "Mark this Secondary's data Outdated: it will not be promoted without --force (what fence-peer asks for).",
            footer = {"", "Example:", "  jrbdadm outdate r0"})
    static final class Outdate extends Simple {
        @Override
        String command() {
            return "outdate";
        }
    }

    @Command(name = "pause-sync", mixinStandardHelpOptions = true,
            description = "Hold the resync this node sends (PausedSyncS); application writes go on.",
            footer = {"", "Example:", "  jrbdadm pause-sync r0"})
    static final class PauseSync extends Simple {
        @Override
        String command() {
            return "pause-sync";
        }
    }

    @Command(name = "resume-sync", mixinStandardHelpOptions = true, description = "Let a paused resync go on.",
            footer = {"", "Example:", "  jrbdadm resume-sync r0"})
    static final class ResumeSync extends Simple {
        @Override
        String command() {
            return "resume-sync";
        }
    }

    @Command(name = "disconnect", mixinStandardHelpOptions = true,
            description = "Close the connection to the peer and stay StandAlone (a Primary keeps serving, tracking changes).",
            footer = {"", "Example:", "  jrbdadm disconnect r0"})
    static final class Disconnect extends Simple {
        @Override
        String command() {
            return "disconnect";
        }
    }

    @Command(name = "wait-connect", mixinStandardHelpOptions = true, description = "Wait until the resource is connected to its peer.",
            footer = {"", "Example:", "  jrbdadm wait-connect --timeout 30 r0"})
    static class WaitConnect extends Simple {
        @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "0", description = "Give up after this long (0: wait forever).")
        double timeout;

        @Override
        String command() {
            return "wait-connect";
        }

        @Override
        ObjectNode args() {
            return JSON.createObjectNode().put("timeout", timeout);
        }
    }

    @Command(name = "wait-sync", mixinStandardHelpOptions = true,
            description = "Wait until the resource is connected and both disks are UpToDate (no resync running).",
            footer = {"", "Example:", "  jrbdadm wait-sync --timeout 600 r0"})
    static final class WaitSync extends WaitConnect {
        @Override
        String command() {
            return "wait-sync";
        }
    }

    @Command(name = "events", mixinStandardHelpOptions = true,
            description = {"Print the state as 'exists' lines, then 'exists -', then one 'change' line per state change,",
                    "like drbdsetup events2: 'change resource name:r0 role:Primary'. Fields are key:value with no",
                    "spaces in values (docs/operations.md, Events). Runs until interrupted."},
            footer = {"", "Examples:", "  jrbdadm events r0", "  jrbdadm events --now all",
                    "  jrbdadm events --timestamps r0 | while read -r verb object fields; do ...; done"})
    static final class Events implements Callable<Integer> {
        @CommandLine.ParentCommand
        Jrbdadm adm;

        @Parameters(paramLabel = "RESOURCE", arity = "0..1", defaultValue = "all", description = "Resource name, or all (default).")
        String resource;

        @Option(names = "--now", description = "Print the exists lines and exit.")
        boolean now;

        @Option(names = "--timestamps", description = "Start each line with the time the daemon saw the change (ISO 8601).")
        boolean timestamps;

        /** Whoever read our output has gone (e.g. `| head`): stop quietly. */
        private static final class OutputClosed extends RuntimeException {
            private static final long serialVersionUID = 1L;

            OutputClosed() {
                super(null, null, false, false);
            }
        }

        @Override
        public Integer call() throws Exception {
            adm.resources(resource);
            NodeSettings s = adm.settings();
            java.io.PrintStream out = System.out;
            try (ControlClient client = ControlClient.connect(s.controlSocket(), adm.configDir())) {
                client.request("events", resource, JSON.createObjectNode().put("now", now), e -> {
                    String line = e.path("line").asText();
                    out.println(timestamps ? e.path("time").asText() + " " + line : line);
                    out.flush();
                    if (out.checkError()) {
                        throw new OutputClosed();
                    }
                });
            } catch (OutputClosed e) {
                return 0;
            }
            return 0;
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = "Show role, disk, connection, peer and resync progress, laid out like drbdadm status.",
            footer = {"", "Examples:", "  jrbdadm status r0", "  jrbdadm status --json all"})
    static final class Status implements Callable<Integer> {
        @CommandLine.ParentCommand
        Jrbdadm adm;

        @Parameters(paramLabel = "RESOURCE", arity = "0..1", defaultValue = "all", description = "Resource name, or all (default).")
        String resource;

        @Option(names = "--json", description = "Print the stable JSON form (see docs/operations.md).")
        boolean json;

        @Override
        public Integer call() throws Exception {
            adm.resources(resource);
            JsonNode result = adm.call("status", resource.equals("all") ? null : resource, null);
            System.out.println(json ? JSON.writeValueAsString(result) : StatusText.render(result));
            return 0;
        }
    }
}
