package io.jrbd.replicator.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import com.fasterxml.jackson.dataformat.toml.TomlStreamReadException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.net.InetSocketAddress;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * Reads resource files: one TOML file per resource ({@code *.toml}) in a node's configuration folder,
 * by default {@code /etc/jrbd}.
 *
 * <pre>
 * [resource]   name, size, protocol = "C"
 * [net]        shared-secret (required), ping-interval = "10s", ping-timeout = "500ms", timeout = "6s",
 *              connect-interval = "10s", ko-count = 7, send-buffer = "8M", journal-size = "64M",
 *              after-sb-0pri / after-sb-1pri / after-sb-2pri = "disconnect", on-congestion = "block",
 *              congestion-fill = 0, congestion-extents = al-extents, verify-alg = "crc32c", csums-alg = ""
 * [disk]       al-extents = 1237, resync-rate = "250K", c-plan-ahead = "2s", c-fill-target = 0,
 *              c-delay-target = "1s", c-max-rate = "100M", c-min-rate = "250K", fencing = "dont-care"
 * [handlers]   split-brain, fence-peer, unfence-peer, before-resync-target, after-resync-target,
 *              pri-lost-after-sb, out-of-sync (absolute paths of executables), handler-timeout = "60s"
 * [nodes.NAME] replication, nbd, disk, meta-disk (a path or "internal"),
 *              control-socket = "/run/jrbd/jrbd.sock"   (exactly two)
 * </pre>
 *
 * <p>Only {@code [resource]}, {@code [net]} and {@code [nodes]} are required. Every problem is a
 * {@link ConfigException} naming the file, the dotted key and the value; unknown keys are errors, so a
 * typo never silently falls back to a default. The first problem found is reported; that the handlers
 * exist and are executable is checked last.
 */
public final class ConfigLoader {
    private ConfigLoader() {
    }

    public static final Path DEFAULT_DIRECTORY = Path.of("/etc/jrbd");
    public static final String SUFFIX = ".toml";

    private static final TomlMapper TOML = new TomlMapper();

    private static final Set<String> TOP_KEYS = keys("resource", "net", "disk", "handlers", "nodes");
    private static final Set<String> RESOURCE_KEYS = keys("name", "size", "protocol");
    private static final Set<String> NET_KEYS = keys("shared-secret", "ping-interval", "ping-timeout", "timeout",
            "connect-interval", "ko-count", "send-buffer", "journal-size", "after-sb-0pri", "after-sb-1pri",
            "after-sb-2pri", "on-congestion", "congestion-fill", "congestion-extents", "verify-alg", "csums-alg");
    private static final Set<String> DISK_KEYS = keys("al-extents", "resync-rate", "c-plan-ahead", "c-fill-target",
            "c-delay-target", "c-max-rate", "c-min-rate", "fencing");
    private static final Set<String> HANDLER_KEYS = handlerKeys();
    private static final Set<String> NODE_KEYS = keys("replication", "nbd", "disk", "meta-disk", "control-socket");

    /**
     * Every resource file ({@code *.toml}, not hidden) in {@code dir}, sorted by resource name.
     * Resource names must be unique, and no two resources may use the same replication address.
     */
    public static List<ResourceConfig> loadDirectory(Path dir) {
        if (!Files.exists(dir)) {
            throw ConfigException.about(dir, "configuration directory " + dir + " does not exist");
        }
        if (!Files.isDirectory(dir)) {
            throw new ConfigException(dir, "", "is not a directory");
        }
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir)) {
            for (Path p : stream) {
                String n = p.getFileName().toString();
                if (n.endsWith(SUFFIX) && !n.startsWith(".") && Files.isRegularFile(p)) {
                    files.add(p);
                }
            }
        } catch (IOException e) {
            throw new ConfigException(dir, "", "cannot list: " + message(e), e);
        }
        if (files.isEmpty()) {
            throw ConfigException.about(dir, "no resource files (*" + SUFFIX + ") in " + dir);
        }
        files.sort(Comparator.comparing(p -> p.getFileName().toString()));

        Map<String, ResourceConfig> byName = new HashMap<>();
        Map<InetSocketAddress, String> replicationUsers = new HashMap<>();
        List<ResourceConfig> all = new ArrayList<>();
        for (Path file : files) {
            ResourceConfig r = load(file);
            ResourceConfig other = byName.putIfAbsent(r.name(), r);
            if (other != null) {
                throw new ConfigException(file, "resource.name", "'" + r.name() + "' is already defined in " + other.source());
            }
            for (NodeConfig n : r.nodes().values()) {
                String here = "nodes." + n.name() + ".replication";
                String user = replicationUsers.putIfAbsent(n.replication(), r.name() + " (" + file + ", " + here + ")");
                if (user != null) {
                    throw new ConfigException(file, here, "'" + Addresses.format(n.replication())
                            + "' is already used by resource " + user + "; each resource needs its own port");
                }
            }
            all.add(r);
        }
        all.sort(Comparator.comparing(ResourceConfig::name));
        return List.copyOf(all);
    }

    /** One resource file. */
    public static ResourceConfig load(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new ConfigException(file, "", "cannot read: " + message(e), e);
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new ConfigException(file, "", "is not UTF-8 text", e);
        }
        return parse(text, file);
    }

    /** A resource from TOML text; {@code file} (may be null) is only used to name where problems are. */
    public static ResourceConfig parse(String toml, Path file) {
        JsonNode root;
        try {
            root = TOML.readTree(toml);
        } catch (TomlStreamReadException e) {
            throw new ConfigException(file, "", "line " + syntaxErrorLine(e) + ": " + e.getOriginalMessage() + " (TOML syntax error)", e);
        } catch (IOException e) {
            throw new ConfigException(file, "", "cannot parse: " + message(e), e);
        }
        try {
            return fromTree(root == null ? TOML.createObjectNode() : (ObjectNode) root, file);
        } catch (ConfigException e) {
            throw e.inFile(file);
        }
    }

    /**
     * The settings of {@code node} that all of its resources must agree on (today: the control socket),
     * and the resources it is part of. Throws when no resource has the node, or when two resources give
     * it different control sockets (naming both files).
     */
    public static NodeSettings nodeSettings(List<ResourceConfig> resources, String node) {
        List<ResourceConfig> mine = new ArrayList<>();
        ResourceConfig first = null;
        for (ResourceConfig r : resources) {
            if (!r.hasNode(node)) {
                continue;
            }
            mine.add(r);
            if (first == null) {
                first = r;
            } else if (!r.node(node).controlSocket().equals(first.node(node).controlSocket())) {
                throw new ConfigException(r.source(), "nodes." + node + ".control-socket", "'" + r.node(node).controlSocket()
                        + "' differs from '" + first.node(node).controlSocket() + "' in " + first.origin()
                        + "; all resources of a node share one control socket");
            }
        }
        if (first == null) {
            Set<String> known = new TreeSet<>();
            resources.forEach(r -> known.addAll(r.nodes().keySet()));
            throw new ConfigException(null, "", "no resource has a node named '" + node + "' (nodes: "
                    + (known.isEmpty() ? "none" : String.join(", ", known)) + ")");
        }
        mine.sort(Comparator.comparing(ResourceConfig::name));
        return new NodeSettings(node, first.node(node).controlSocket(), mine);
    }

    private static ResourceConfig fromTree(ObjectNode root, Path file) {
        Table top = new Table(root, "");
        top.checkKeys(TOP_KEYS);

        Table res = top.table("resource");
        res.checkKeys(RESOURCE_KEYS);
        String name = res.string("name", true);
        long size = res.size("size", null);
        String protocolText = res.string("protocol", false);
        Protocol protocol = protocolText == null ? Protocol.C : res.parse("protocol", protocolText, Protocol::parse);

        Table net = top.table("net");
        net.checkKeys(NET_KEYS);
        String secret = net.string("shared-secret", true);
        NetOptions options = new NetOptions(secret,
                net.duration("ping-interval", NetOptions.DEFAULT_PING_INTERVAL),
                net.duration("ping-timeout", NetOptions.DEFAULT_PING_TIMEOUT),
                net.duration("timeout", NetOptions.DEFAULT_TIMEOUT),
                net.duration("connect-interval", NetOptions.DEFAULT_CONNECT_INTERVAL),
                net.integer("ko-count", NetOptions.DEFAULT_KO_COUNT),
                net.size("send-buffer", NetOptions.DEFAULT_SEND_BUFFER),
                net.size("journal-size", NetOptions.DEFAULT_JOURNAL_SIZE));

        Table diskTable = top.table("disk");
        diskTable.checkKeys(DISK_KEYS);
        DiskOptions diskOptions = diskOptions(diskTable);
        ResyncOptions resync = resyncOptions(diskTable);
        SplitBrainPolicy splitBrain = SplitBrainPolicy.parse(net.string("after-sb-0pri", false),
                net.string("after-sb-1pri", false), net.string("after-sb-2pri", false));
        CongestionOptions congestion = congestionOptions(net, diskOptions.alExtents());
        ChecksumOptions checksums = ChecksumOptions.parse(net.string("verify-alg", false), net.string("csums-alg", false));

        Table handlersTable = top.table("handlers");
        handlersTable.checkKeys(HANDLER_KEYS);
        Handlers handlers = handlers(handlersTable);

        Table nodesTable = top.table("nodes");
        if (nodesTable.node.size() != ResourceConfig.NODES) {
            throw ResourceConfig.wrongNodeCount(nodesTable.node.size());
        }
        Map<String, NodeConfig> nodes = new LinkedHashMap<>();
        for (Iterator<String> it = nodesTable.node.fieldNames(); it.hasNext(); ) {
            String nodeName = it.next();
            Table n = nodesTable.table(nodeName);
            n.checkKeys(NODE_KEYS);
            InetSocketAddress replication = n.address("replication");
            InetSocketAddress nbd = n.address("nbd");
            Path disk = n.path("disk", null);
            Path metaDisk = NodeConfig.INTERNAL.equals(n.string("meta-disk", true)) ? null : n.path("meta-disk", null);
            Path controlSocket = n.path("control-socket", NodeConfig.DEFAULT_CONTROL_SOCKET);
            nodes.put(nodeName, new NodeConfig(nodeName, replication, nbd, disk, metaDisk, controlSocket));
        }
        ResourceConfig config = new ResourceConfig(name, size, protocol, options, splitBrain, congestion, checksums,
                diskOptions, resync, handlers, nodes, file);
        handlers.checkInstalled();
        return config;
    }

    private static DiskOptions diskOptions(Table disk) {
        String fencing = disk.string("fencing", false);
        return new DiskOptions(disk.integer("al-extents", DiskOptions.DEFAULT_AL_EXTENTS),
                fencing == null ? DiskOptions.Fencing.DONT_CARE : disk.parse("fencing", fencing, DiskOptions.Fencing::parse));
    }

    private static ResyncOptions resyncOptions(Table disk) {
        return new ResyncOptions(
                disk.rate("resync-rate", ResyncOptions.DEFAULT_RESYNC_RATE),
                disk.duration("c-plan-ahead", ResyncOptions.DEFAULT_PLAN_AHEAD),
                disk.size("c-fill-target", ResyncOptions.DEFAULT_FILL_TARGET),
                disk.duration("c-delay-target", ResyncOptions.DEFAULT_DELAY_TARGET),
                disk.rate("c-max-rate", ResyncOptions.DEFAULT_MAX_RATE),
                disk.rate("c-min-rate", ResyncOptions.DEFAULT_MIN_RATE));
    }

    /** The congestion keys of {@code [net]}; {@code congestion-extents} defaults to {@code al-extents}, as in DRBD. */
    private static CongestionOptions congestionOptions(Table net, int alExtents) {
        String onCongestion = net.string("on-congestion", false);
        return new CongestionOptions(onCongestion == null ? CongestionOptions.OnCongestion.BLOCK
                : net.parse("on-congestion", onCongestion, CongestionOptions.OnCongestion::parse),
                net.size("congestion-fill", 0L),
                net.integer("congestion-extents", alExtents));
    }

    private static Handlers handlers(Table table) {
        Map<Handlers.Handler, Path> programs = new EnumMap<>(Handlers.Handler.class);
        for (Handlers.Handler h : Handlers.Handler.values()) {
            if (table.has(h.spelling())) {
                programs.put(h, table.path(h.spelling(), null));
            }
        }
        return new Handlers(programs, table.duration("handler-timeout", Handlers.DEFAULT_TIMEOUT));
    }

    private static Set<String> handlerKeys() {
        List<String> keys = new ArrayList<>();
        for (Handlers.Handler h : Handlers.Handler.values()) {
            keys.add(h.spelling());
        }
        keys.add("handler-timeout");
        return keys(keys.toArray(new String[0]));
    }

    /** One TOML table and its dotted path, with typed getters whose errors name the key. */
    private static final class Table {
        final ObjectNode node;
        final String path;

        Table(ObjectNode node, String path) {
            this.node = node;
            this.path = path;
        }

        boolean has(String k) {
            return node.has(k);
        }

        String key(String k) {
            return path.isEmpty() ? k : path + "." + k;
        }

        void checkKeys(Set<String> known) {
            for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
                String k = it.next();
                if (!known.contains(k)) {
                    String guess = closest(k, known);
                    throw new ConfigException(key(k), "unknown key (" + (guess != null ? "did you mean " + guess + "?"
                            : "known keys: " + String.join(", ", known)) + ")");
                }
            }
        }

        /** A sub-table; an absent one reads as empty, so its required keys are reported as missing. */
        Table table(String k) {
            JsonNode v = node.get(k);
            if (v == null) {
                return new Table(node.objectNode(), key(k));
            }
            if (!v.isObject()) {
                throw new ConfigException(key(k), "expected a table, found " + describe(v));
            }
            return new Table((ObjectNode) v, key(k));
        }

        String string(String k, boolean required) {
            JsonNode v = node.get(k);
            if (v == null) {
                if (required) {
                    throw new ConfigException(key(k), "missing");
                }
                return null;
            }
            if (!v.isTextual()) {
                throw new ConfigException(key(k), "expected a string, found " + describe(v));
            }
            return v.textValue();
        }

        <T> T parse(String k, String text, Function<String, T> parser) {
            try {
                return parser.apply(text);
            } catch (IllegalArgumentException e) {
                throw new ConfigException(key(k), e.getMessage());
            }
        }

        /** "1G" or a TOML integer of bytes. */
        long size(String k, Long dflt) {
            JsonNode v = node.get(k);
            if (v == null) {
                if (dflt == null) {
                    throw new ConfigException(key(k), "missing");
                }
                return dflt;
            }
            if (v.isTextual() || v.isIntegralNumber()) {
                return parse(k, v.asText(), Sizes::parse);
            }
            throw new ConfigException(key(k), "'" + v.asText() + "' is not a size: use bytes or a number with K, M, G or T");
        }

        /** "250K", "250K/s" or a TOML integer of bytes per second. */
        long rate(String k, long dflt) {
            JsonNode v = node.get(k);
            if (v == null) {
                return dflt;
            }
            if (v.isTextual() || v.isIntegralNumber()) {
                return parse(k, v.asText(), Sizes::parseRate);
            }
            throw new ConfigException(key(k), "'" + v.asText()
                    + "' is not a rate: use bytes per second or a number with K, M, G or T, optionally followed by /s");
        }

        Duration duration(String k, Duration dflt) {
            JsonNode v = node.get(k);
            if (v == null) {
                return dflt;
            }
            if (!v.isValueNode() || v.isNull()) {
                throw new ConfigException(key(k), "expected a duration (use ms, s or m), found " + describe(v));
            }
            return parse(k, v.asText(), Durations::parse);
        }

        int integer(String k, int dflt) {
            JsonNode v = node.get(k);
            if (v == null) {
                return dflt;
            }
            if (!v.isIntegralNumber() || !v.canConvertToInt()) {
                throw new ConfigException(key(k), "expected an integer, found " + describe(v));
            }
            return v.intValue();
        }

        InetSocketAddress address(String k) {
            return parse(k, string(k, true), Addresses::parse);
        }

        Path path(String k, Path dflt) {
            String text = string(k, dflt == null);
            if (text == null) {
                return dflt;
            }
            if (text.isEmpty()) {
                throw new ConfigException(key(k), "'' is not a path");
            }
            try {
                return Path.of(text);
            } catch (InvalidPathException e) {
                throw new ConfigException(key(k), "'" + text + "' is not a path: " + e.getReason());
            }
        }
    }

    private static String describe(JsonNode v) {
        if (v.isObject()) {
            return "a table";
        }
        if (v.isArray()) {
            return "an array";
        }
        if (v.isTextual()) {
            return "a string ('" + v.textValue() + "')";
        }
        if (v.isBoolean()) {
            return "a boolean (" + v.asText() + ")";
        }
        if (v.isNumber()) {
            return "a number (" + v.asText() + ")";
        }
        return "'" + v.asText() + "'";
    }

    /** The jackson TOML lexer reports a duplicate key after it has read the newline that ends it. */
    private static int syntaxErrorLine(TomlStreamReadException e) {
        JsonLocation loc = e.getLocation();
        int line = loc == null ? 0 : loc.getLineNr();
        if (line > 1 && loc.getColumnNr() == 1 && "Duplicate key".equals(e.getOriginalMessage())) {
            return line - 1;
        }
        return line;
    }

    /** A known key within edit distance 2 of a misspelt one, or null. */
    static String closest(String typo, Set<String> known) {
        String best = null;
        int bestDistance = 3;
        for (String k : known) {
            int d = distance(typo, k);
            if (d < bestDistance) {
                best = k;
                bestDistance = d;
            }
        }
        return best;
    }

    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    private static Set<String> keys(String... keys) {
        return Collections.unmodifiableSet(new LinkedHashSet<>(List.of(keys)));
    }

    private static String message(IOException e) {
        if (e instanceof NoSuchFileException) {
            return "no such file";
        }
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof FileSystemException f && f.getReason() != null) {
            return f.getReason();
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
}
