package io.jrbd.replicator.resource;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One object of {@code jrbdadm events}, as {@code drbdsetup events2} names them: a
 * {@code resource}, its {@code connection} to the peer, its {@code device} (the local disk) and
 * its {@code peer-device} (the peer's disk as seen over the connection). The identity fields name
 * the object (they are on every line about it); the attributes are its state.
 *
 * <p>{@link #fromStatus} reads them from {@code Resource.status()} (the map that
 * {@code status --json} prints), so events and status never disagree:
 *
 * <pre>
 *   object       identity              attributes                     from status --json
 *   resource     name                  up role suspended              up role ioSuspended
 *   connection   name peer-node        connection role refused        connection peer.role refused+lastConnect.outcome
 *   device       name                  disk                           disk
 *   peer-device  name peer-node        replication peer-disk          connection peer.disk
 *                                      resync-suspended verify        resyncPaused verify lastVerify.outcome
 *                                      verify-differing [done]        lastVerify.differingBytes resync|verify
 * </pre>
 *
 * @param kind       resource, connection, device or peer-device
 * @param identity   the fields naming the object, in line order
 * @param attributes its state, in line order
 */
public record StateEventObject(String kind, Map<String, String> identity, Map<String, String> attributes) {
    public static final String RESOURCE = "resource";
    public static final String CONNECTION = "connection";
    public static final String DEVICE = "device";
    public static final String PEER_DEVICE = "peer-device";

    /** The resync (or verify) progress in percent, two decimals; only while one runs. */
    public static final String DONE = "done";

    public StateEventObject {
        identity = Collections.unmodifiableMap(new LinkedHashMap<>(identity));
        attributes = Collections.unmodifiableMap(new LinkedHashMap<>(attributes));
    }

    /** What tells this object from every other one: the kind and the identity. */
    public String key() {
        return kind + identity;
    }

    /**
     * The four objects of one resource, in the order {@code drbdsetup events2} lists them: resource,
     * connection, device, peer-device.
     *
     * @param status a resource's {@code status()} map; it needs {@code resource} and {@code peer.node}
     * @throws IllegalArgumentException if either is missing
     */
    public static List<StateEventObject> fromStatus(Map<String, ?> status) {
        String name = text(status, "resource", null);
        Map<String, ?> peer = map(status, "peer");
        String peerNode = text(peer, "node", null);
        if (name == null || peerNode == null) {
            throw new IllegalArgumentException("a status without " + (name == null ? "\"resource\"" : "\"peer.node\"")
                    + " has no events objects: " + status);
        }
        String connection = text(status, "connection", "StandAlone");
        List<StateEventObject> objects = new ArrayList<>(4);

        Map<String, String> attrs = new LinkedHashMap<>();
        attrs.put("up", Boolean.TRUE.equals(status.get("up")) ? "yes" : "no");
        attrs.put("role", text(status, "role", "Secondary"));
        attrs.put("suspended", Boolean.TRUE.equals(status.get("ioSuspended")) ? "fencing" : "no");
        objects.add(new StateEventObject(RESOURCE, Map.of("name", name), attrs));

        Map<String, String> ids = new LinkedHashMap<>();
        ids.put("name", name);
        ids.put("peer-node", peerNode);
        attrs = new LinkedHashMap<>();
        attrs.put("connection", connection);
        attrs.put("role", text(peer, "role", "Unknown"));
        attrs.put("refused", refused(status));
        objects.add(new StateEventObject(CONNECTION, ids, attrs));

        attrs = new LinkedHashMap<>();
        attrs.put("disk", text(status, "disk", "Diskless"));
        objects.add(new StateEventObject(DEVICE, Map.of("name", name), attrs));

        attrs = new LinkedHashMap<>();
        attrs.put("replication", replication(connection));
        attrs.put("peer-disk", text(peer, "disk", "DUnknown"));
        attrs.put("resync-suspended", Boolean.TRUE.equals(status.get("resyncPaused")) ? "user" : "no");
        Map<String, ?> lastVerify = map(status, "lastVerify");
        attrs.put("verify", status.get("verify") instanceof Map<?, ?> ? "running"
                : lastVerify.isEmpty() ? "none" : token(text(lastVerify, "outcome", "unknown")));
        attrs.put("verify-differing", text(lastVerify, "differingBytes", "0"));
        Map<String, ?> progress = status.get("verify") instanceof Map<?, ?> ? map(status, "verify") : map(status, "resync");
        if (!progress.isEmpty()) {
            attrs.put(DONE, percent(number(progress, "doneBytes"), number(progress, "totalBytes")));
        }
        objects.add(new StateEventObject(PEER_DEVICE, ids, attrs));
        return objects;
    }

    /** DRBD 9's replication state for a jrbd connection state: Off while not connected, Established when idle. */
    static String replication(String connection) {
        return switch (connection) {
            case "StandAlone", "Connecting", "Disconnecting" -> "Off";
            case "Connected" -> "Established";
            default -> connection;
        };
    }

    /** {@code no}, or why the last connect was refused, e.g. {@code split-brain}, {@code unrelated}. */
    private static String refused(Map<String, ?> status) {
        if (!(status.get("refused") instanceof String r) || r.isEmpty()) {
            return "no";
        }
        String outcome = text(map(status, "lastConnect"), "outcome", null);
        return outcome == null ? "yes" : token(outcome);
    }

    /** SPLIT_BRAIN_UNRECOVERABLE -> split-brain-unrecoverable. */
    private static String token(String enumName) {
        return enumName.toLowerCase(Locale.ROOT).replace('_', '-');
    }

    static String percent(long done, long total) {
        double p = total <= 0 ? 0.0 : Math.min(100.0, Math.max(0.0, 100.0 * done / total));
        return String.format(Locale.ROOT, "%.2f", p);
    }

    private static String text(Map<String, ?> m, String key, String otherwise) {
        Object v = m.get(key);
        return v == null ? otherwise : v.toString();
    }

    private static long number(Map<String, ?> m, String key) {
        return m.get(key) instanceof Number n ? n.longValue() : 0;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, ?> map(Map<String, ?> m, String key) {
        return m.get(key) instanceof Map<?, ?> v ? (Map<String, ?>) v : Map.of();
    }
}
