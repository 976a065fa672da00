package io.jrbd.replicator.config;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * One node of a resource, from its {@code [nodes.NAME]} table: where it listens for its peer and for
 * NBD clients, its backing store and metadata, and its daemon's control socket.
 *
 * @param name           the node's name (the table key); the daemon is told which node it is
 * @param replication    the address this node's replication listener binds and its peer connects to;
 *                       an IP literal, never a wildcard
 * @param nbd            where this node serves the device over NBD while it is Primary
 * @param disk           the backing file or block device (absolute)
 * @param metaDisk       the metadata file or device (absolute, not the disk), or null for internal
 *                       metadata ({@code meta-disk = "internal"}: at the end of {@code disk}); see
 *                       {@link #internalMetadata()}
 * @param controlSocket  the daemon's Unix socket (absolute); the same for every resource of a node
 */
public record NodeConfig(String name, InetSocketAddress replication, InetSocketAddress nbd, Path disk, Path metaDisk,
                         Path controlSocket) {
    /** Where the control socket is when a node's table does not say. */
    public static final Path DEFAULT_CONTROL_SOCKET = Path.of("/run/jrbd/jrbd.sock");

    /** The {@code meta-disk} value that puts the metadata at the end of the disk, as DRBD's {@code meta-disk internal}. */
    public static final String INTERNAL = "internal";

    /** sun_path holds 108 bytes including the terminating NUL. */
    public static final int MAX_SOCKET_PATH_BYTES = 107;

    static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}");

    public NodeConfig {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new ConfigException("nodes." + name, "'" + name
                    + "' is not a node name (up to 63 letters, digits, '-', '_' or '.', starting with a letter or digit)");
        }
        String key = "nodes." + name + ".";
        if (replication == null) {
            throw new ConfigException(key + "replication", "missing");
        }
        if (replication.getAddress() == null) {
            throw new ConfigException(key + "replication", "'" + replication.getHostString() + "' is not resolved: use an IP address");
        }
        if (replication.getAddress().isAnyLocalAddress()) {
            throw new ConfigException(key + "replication", "'" + Addresses.format(replication)
                    + "' is a wildcard address; the peer must be able to connect to it, so name this node's own IP");
        }
        if (nbd == null) {
            throw new ConfigException(key + "nbd", "missing");
        }
        checkAbsolute(key + "disk", disk);
        if (metaDisk != null && !metaDisk.isAbsolute()) {
            throw new ConfigException(key + "meta-disk", "'" + metaDisk + "' is not an absolute path (or " + INTERNAL + ")");
        }
        checkAbsolute(key + "control-socket", controlSocket);
        if (metaDisk != null && disk.normalize().equals(metaDisk.normalize())) {
            throw new ConfigException(key + "meta-disk", "'" + metaDisk + "' is also the disk; metadata needs its own file or device"
                    + " (or " + INTERNAL + ", at the end of the disk)");
        }
        int socketBytes = controlSocket.toString().getBytes(StandardCharsets.UTF_8).length;
        if (socketBytes > MAX_SOCKET_PATH_BYTES) {
            throw new ConfigException(key + "control-socket", "'" + controlSocket + "' is " + socketBytes
                    + " bytes long; a Unix socket path has at most " + MAX_SOCKET_PATH_BYTES);
        }
    }

    /**
     * Whether the metadata is at the end of {@link #disk()} ({@code meta-disk = "internal"}); then
     * {@link #metaDisk()} is null.
     */
    public boolean internalMetadata() {
        return metaDisk == null;
    }

    private static void checkAbsolute(String key, Path path) {
        if (path == null) {
            throw new ConfigException(key, "missing");
        }
        if (!path.isAbsolute()) {
            throw new ConfigException(key, "'" + path + "' is not an absolute path");
        }
    }

    @Override
    public String toString() {
        return "NodeConfig[" + name + ", replication=" + Addresses.format(replication) + ", nbd=" + Addresses.format(nbd)
                + ", disk=" + disk + ", metaDisk=" + (metaDisk == null ? INTERNAL : metaDisk) + ", controlSocket=" + controlSocket + "]";
    }
}
