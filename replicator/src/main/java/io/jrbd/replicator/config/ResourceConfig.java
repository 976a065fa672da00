package io.jrbd.replicator.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * One replicated device, as one {@code *.toml} file describes it: its name, size, replication
 * protocol, the options of its {@code [net]}, {@code [disk]} and {@code [handlers]} tables, and
 * exactly two nodes. Options whose table is absent have their defaults (DRBD's where DRBD has one).
 *
 * @param name        the resource name ({@code r0}), unique among a node's resources; also the NBD export name
 * @param size        the device size in bytes, a positive multiple of 512
 * @param protocol    when writes complete (A, B or C)
 * @param net         peer authentication, timers, buffers
 * @param splitBrain  {@code after-sb-0pri/1pri/2pri} of {@code [net]}
 * @param congestion  {@code on-congestion}, {@code congestion-fill}, {@code congestion-extents} of {@code [net]}
 * @param checksums   {@code verify-alg}, {@code csums-alg} of {@code [net]}
 * @param disk        {@code al-extents}, {@code fencing} of {@code [disk]}
 * @param resync      the resync rate controller ({@code resync-rate}, {@code c-*}) of {@code [disk]}
 * @param handlers    the {@code [handlers]} programs and their timeout
 * @param nodes       the nodes by name, in name order (unmodifiable)
 * @param source      the file this was read from, or null when built in code; named in error messages
 */
public record ResourceConfig(String name, long size, Protocol protocol, NetOptions net, SplitBrainPolicy splitBrain,
                             CongestionOptions congestion, ChecksumOptions checksums, DiskOptions disk,
                             ResyncOptions resync, Handlers handlers, Map<String, NodeConfig> nodes, Path source) {
    /** Nodes per resource; more peers may come later, as in DRBD 9. */
    public static final int NODES = 2;
    public static final long SECTOR = 512;

    static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}");

    /** A resource with the default split-brain, congestion, checksum, disk, resync and handler options. */
    public ResourceConfig(String name, long size, Protocol protocol, NetOptions net, Map<String, NodeConfig> nodes,
                          Path source) {
        this(name, size, protocol, net, SplitBrainPolicy.DEFAULT, CongestionOptions.defaults(DiskOptions.DEFAULT_AL_EXTENTS),
                ChecksumOptions.DEFAULTS, DiskOptions.DEFAULTS, ResyncOptions.DEFAULTS, Handlers.NONE, nodes, source);
    }

    public ResourceConfig {
        if (name == null) {
            throw new ConfigException("resource.name", "missing");
        }
        if (!NAME.matcher(name).matches()) {
            throw new ConfigException("resource.name", "'" + name
                    + "' is not a resource name (up to 63 letters, digits, '-', '_' or '.', starting with a letter or digit)");
        }
        if (size <= 0 || size % SECTOR != 0) {
            throw new ConfigException("resource.size", "'" + size + "' is not a positive multiple of 512 bytes");
        }
        if (protocol == null) {
            throw new ConfigException("resource.protocol", "missing");
        }
        if (net == null) {
            throw new ConfigException("net", "missing");
        }
        requirePresent("net", splitBrain);
        requirePresent("net", congestion);
        requirePresent("net", checksums);
        requirePresent("disk", disk);
        requirePresent("disk", resync);
        requirePresent("handlers", handlers);
        if (nodes == null || nodes.size() != NODES) {
            throw wrongNodeCount(nodes == null ? 0 : nodes.size());
        }
        Map<String, NodeConfig> sorted = new TreeMap<>();
        for (Map.Entry<String, NodeConfig> e : nodes.entrySet()) {
            if (e.getValue() == null || !e.getValue().name().equals(e.getKey())) {
                throw new ConfigException("nodes." + e.getKey(), "is keyed '" + e.getKey() + "' but named '"
                        + (e.getValue() == null ? null : e.getValue().name()) + "'");
            }
            sorted.put(e.getKey(), e.getValue());
        }
        List<NodeConfig> list = new ArrayList<>(sorted.values());
        for (int i = 1; i < list.size(); i++) {
            for (int j = 0; j < i; j++) {
                if (list.get(i).replication().equals(list.get(j).replication())) {
                    throw new ConfigException("nodes." + list.get(i).name() + ".replication", "'"
                            + Addresses.format(list.get(i).replication()) + "' is also nodes." + list.get(j).name()
                            + ".replication; each node needs its own address:port");
                }
            }
        }
        nodes = Collections.unmodifiableMap(new LinkedHashMap<>(sorted));
        checkAcrossTables(protocol, splitBrain, congestion, disk, nodes);
    }

    /** The rules that tie one table's setting to another's: DRBD's, and that a named node exists. */
    private static void checkAcrossTables(Protocol protocol, SplitBrainPolicy splitBrain, CongestionOptions congestion,
                                          DiskOptions disk, Map<String, NodeConfig> nodes) {
        if (splitBrain.discardNode() != null && !nodes.containsKey(splitBrain.discardNode())) {
            throw new ConfigException(SplitBrainPolicy.KEY_0PRI, "'" + splitBrain.noPrimarySpelling()
                    + "' names no node of this resource (its nodes are " + String.join(", ", nodes.keySet()) + ")");
        }
        if (congestion.pullAhead() && protocol != Protocol.A) {
            throw new ConfigException(CongestionOptions.KEY_ON_CONGESTION, "'" + congestion.onCongestion().spelling()
                    + "' needs resource.protocol A, found " + protocol + " (as in DRBD: under B and C a write waits for the peer)");
        }
        if (disk.fencing() == DiskOptions.Fencing.RESOURCE_AND_STONITH && protocol == Protocol.A) {
            throw new ConfigException(DiskOptions.KEY_FENCING, "'" + disk.fencing().spelling()
                    + "' needs resource.protocol B or C, found A (as in DRBD: under A the peer may lack acknowledged writes)");
        }
    }

    private static void requirePresent(String table, Object options) {
        if (options == null) {
            throw new ConfigException(table, "missing");
        }
    }

    static ConfigException wrongNodeCount(int found) {
        return new ConfigException("nodes", "a resource needs exactly " + NODES + " nodes, found " + found);
    }

    /** Whether {@code node} is one of this resource's nodes. */
    public boolean hasNode(String node) {
        return nodes.containsKey(node);
    }

    /** The node called {@code node}; throws {@link ConfigException} naming the resource's nodes if there is none. */
    public NodeConfig node(String node) {
        NodeConfig n = nodes.get(node);
        if (n == null) {
            throw new ConfigException(source, "nodes", "resource '" + name + "' has no node '" + node
                    + "' (its nodes are " + String.join(", ", nodes.keySet()) + ")");
        }
        return n;
    }

    /** The other node of the resource, seen from {@code node}. */
    public NodeConfig peerOf(String node) {
        NodeConfig self = node(node);
        for (NodeConfig n : nodes.values()) {
            if (n != self) {
                return n;
            }
        }
        throw new IllegalStateException("resource '" + name + "' has a single node");
    }

    /** The file this came from, for messages: the path, or "resource NAME" when built in code. */
    public String origin() {
        return source != null ? source.toString() : "resource " + name;
    }
}
