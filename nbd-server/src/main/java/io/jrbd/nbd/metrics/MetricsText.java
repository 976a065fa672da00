package io.jrbd.nbd.metrics;

import io.jrbd.replicator.engine.LatencyHistogram;
import io.jrbd.replicator.engine.ReplicatedDevice;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Renders the page {@code GET /metrics} answers: every resource's state from its status map (the
 * keys {@code jrbdadm status --json} shows, docs/operations.md) and its write-latency histogram,
 * in the text exposition format 0.0.4. A pure function of its input.
 *
 * <p>States are one-hot: a gauge per state a resource can be in, 1 for the one it is in and 0
 * for the others, so {@code jrbd_connection_state{state="Connected"} == 0} alerts without
 * knowing every other state's name. A state not in the known list (a newer daemon's) is added
 * to it rather than dropped. Series labelled {@code peer} appear once the status names the
 * peer, i.e. while the resource is up.
 */
public final class MetricsText {
    static final List<String> ROLES = List.of("Primary", "Secondary");
    static final List<String> PEER_ROLES = List.of("Primary", "Secondary", "Unknown");
    static final List<String> DISK_STATES = List.of("Diskless", "Inconsistent", "Outdated", "Consistent", "UpToDate");
    static final List<String> PEER_DISK_STATES = List.of("DUnknown", "Diskless", "Inconsistent", "Outdated",
            "Consistent", "UpToDate");
    static final List<String> CONNECTION_STATES = List.of("StandAlone", "Connecting", "Connected", "SyncSource",
            "SyncTarget", "PausedSyncS", "VerifyS", "Ahead", "Behind");

    /** The {@code le} label of each latency bucket, in seconds, written as plain decimals (0.00005, 10, +Inf). */
    private static final String[] LE = new String[LatencyHistogram.buckets()];

    static {
        for (int i = 0; i < LE.length; i++) {
            long nanos = LatencyHistogram.upperBoundNanos(i);
            LE[i] = nanos == Long.MAX_VALUE ? "+Inf"
                    : BigDecimal.valueOf(nanos, 9).stripTrailingZeros().toPlainString();
        }
    }

    private MetricsText() {
    }

    public static String render(List<ResourceSample> resources) {
        Exposition x = new Exposition();

        x.family("jrbd_up", Exposition.GAUGE, "Whether the resource is up (attached) on this node.");
        for (ResourceSample r : resources) {
            x.sample("jrbd_up", up(r) ? 1 : 0, "resource", name(r));
        }

        x.family("jrbd_role", Exposition.GAUGE, "This node's role for the resource: 1 for the current role, 0 for the others.");
        for (ResourceSample r : resources) {
            oneHot(x, "jrbd_role", ROLES, text(r.status(), "role", "Secondary"), "role", "resource", name(r));
        }

        x.family("jrbd_disk_state", Exposition.GAUGE, "This node's disk state: 1 for the current state, 0 for the others.");
        for (ResourceSample r : resources) {
            oneHot(x, "jrbd_disk_state", DISK_STATES, text(r.status(), "disk", "Diskless"), "state", "resource", name(r));
        }

        x.family("jrbd_connection_state", Exposition.GAUGE,
                "The replication link to the peer: 1 for the current connection state, 0 for the others.");
        for (ResourceSample r : resources) {
            if (peer(r) != null) {
                oneHot(x, "jrbd_connection_state", CONNECTION_STATES, text(r.status(), "connection", "StandAlone"),
                        "state", "resource", name(r), "peer", peer(r));
            }
        }

        x.family("jrbd_peer_role", Exposition.GAUGE, "The peer's role as last reported (Unknown while not connected).");
        for (ResourceSample r : resources) {
            if (peer(r) != null) {
                oneHot(x, "jrbd_peer_role", PEER_ROLES, text(peerMap(r), "role", "Unknown"), "role",
                        "resource", name(r), "peer", peer(r));
            }
        }

        x.family("jrbd_peer_disk_state", Exposition.GAUGE,
                "The peer's disk state as last reported (DUnknown while not connected): 1 for the current state.");
        for (ResourceSample r : resources) {
            if (peer(r) != null) {
                oneHot(x, "jrbd_peer_disk_state", PEER_DISK_STATES, text(peerMap(r), "disk", "DUnknown"), "state",
                        "resource", name(r), "peer", peer(r));
            }
        }

        x.family("jrbd_out_of_sync_bytes", Exposition.GAUGE,
                "Bytes this node's bitmap marks as possibly different on the peer (to resync).");
        for (ResourceSample r : resources) {
            Long oos = number(r.status(), "outOfSyncBytes");
            if (peer(r) != null && oos != null) {
                x.sample("jrbd_out_of_sync_bytes", oos, "resource", name(r), "peer", peer(r));
            }
        }

        resync(x, resources, "jrbd_resync_done_bytes", "doneBytes",
                "Bytes the running resync has done (0 when none runs).");
        resync(x, resources, "jrbd_resync_total_bytes", "totalBytes",
                "Bytes the running resync has to do in all (0 when none runs).");
        resync(x, resources, "jrbd_resync_bytes_per_second", "bytesPerSecond",
                "Average rate of the running resync since it started (0 when none runs).");

        x.family("jrbd_replication_lag_writes", Exposition.GAUGE,
                "On a Primary: writes sequenced that the peer does not yet hold durably (lastSeq - peerSyncedSeq).");
        for (ResourceSample r : resources) {
            Long last = number(r.status(), "lastSeq");
            Long synced = number(r.status(), "peerSyncedSeq");
            if (peer(r) != null && last != null && synced != null && "Primary".equals(r.status().get("role"))) {
                x.sample("jrbd_replication_lag_writes", Math.max(0, last - synced), "resource", name(r), "peer", peer(r));
            }
        }

        x.family("jrbd_degraded", Exposition.GAUGE, "1 while this node is Primary without a connected peer.");
        for (ResourceSample r : resources) {
            Object degraded = r.status().get("degraded");
            if (degraded instanceof Boolean b) {
                x.sample("jrbd_degraded", b ? 1 : 0, "resource", name(r));
            }
        }

        x.family("jrbd_write_latency_seconds", Exposition.HISTOGRAM,
                "Latency of the application's writes, trims and zeroings that succeeded on this node while Primary, "
                        + "from entering the replication pipeline to completion.");
        for (ResourceSample r : resources) {
            if (up(r)) {
                latency(x, name(r), text(r.status(), "protocol", "unknown"), r.writeLatency());
            }
        }

        x.family("jrbd_write_errors_total", Exposition.COUNTER, "Application writes (and flushes) that failed, by kind.");
        for (ResourceSample r : resources) {
            if (up(r)) {
                for (ReplicatedDevice.WriteError kind : ReplicatedDevice.WriteError.values()) {
                    x.sample("jrbd_write_errors_total", r.writeErrors().getOrDefault(kind.label(), 0L),
                            "resource", name(r), "kind", kind.label());
                }
            }
        }
        return x.text();
    }

    private static void resync(Exposition x, List<ResourceSample> resources, String metric, String key, String help) {
        x.family(metric, Exposition.GAUGE, help);
        for (ResourceSample r : resources) {
            if (peer(r) != null && up(r)) {
                Object resync = r.status().get("resync");
                Long v = resync instanceof Map<?, ?> m ? number(m, key) : null;
                x.sample(metric, v == null ? 0 : v, "resource", name(r), "peer", peer(r));
            }
        }
    }

    private static void latency(Exposition x, String resource, String protocol, LatencyHistogram.Snapshot h) {
        long cumulative = 0;
        for (int i = 0; i < LE.length; i++) {
            cumulative += h.bucketCount(i);
            x.sample("jrbd_write_latency_seconds_bucket", cumulative, "resource", resource, "protocol", protocol, "le", LE[i]);
        }
        x.sample("jrbd_write_latency_seconds_sum", h.sumNanos() / 1e9, "resource", resource, "protocol", protocol);
        x.sample("jrbd_write_latency_seconds_count", cumulative, "resource", resource, "protocol", protocol);
    }

    /**
     * One sample per state of {@code known} (and {@code current} if it is not among them): 1 for
     * {@code current}, 0 for the rest. {@code labels} come before the state's own label.
     */
    private static void oneHot(Exposition x, String metric, List<String> known, String current, String stateLabel,
            String... labels) {
        List<String> states = known;
        if (!known.contains(current)) {
            states = new ArrayList<>(known);
            states.add(current);
        }
        String[] all = new String[labels.length + 2];
        System.arraycopy(labels, 0, all, 0, labels.length);
        all[labels.length] = stateLabel;
        for (String s : states) {
            all[labels.length + 1] = s;
            x.sample(metric, s.equals(current) ? 1 : 0, all);
        }
    }

    private static String name(ResourceSample r) {
        return text(r.status(), "resource", "");
    }

    private static boolean up(ResourceSample r) {
        return Boolean.TRUE.equals(r.status().get("up"));
    }

    private static Map<?, ?> peerMap(ResourceSample r) {
        return r.status().get("peer") instanceof Map<?, ?> m ? m : Map.of();
    }

    /** The peer's node name, or null if the status does not name one (the resource is down). */
    private static String peer(ResourceSample r) {
        Object node = peerMap(r).get("node");
        return node == null ? null : node.toString();
    }

    private static String text(Map<?, ?> m, String key, String otherwise) {
        Object v = m.get(key);
        return v == null ? otherwise : v.toString();
    }

    private static Long number(Map<?, ?> m, String key) {
        return m.get(key) instanceof Number n ? n.longValue() : null;
    }
}
