package io.jrbd.nbd.metrics;

import io.jrbd.replicator.device.BlockDevice;
import io.jrbd.replicator.engine.LatencyHistogram;
import io.jrbd.replicator.engine.ReplicatedDevice;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One resource's write latency and errors over every device it has exported on this node. The
 * resource makes a new device at each promotion (and each {@code up}); Prometheus wants
 * counters that only grow, so the counts of each device that left are kept here and added to
 * the current one's.
 *
 * <p>Thread-safe: the resource offers devices under its own monitor, scrapes read from the
 * metrics thread. The lock here is held only to read atomics, never while calling out.
 */
final class WriteMeter {
    private static final ReplicatedDevice.WriteError[] KINDS = ReplicatedDevice.WriteError.values();

    private LatencyHistogram.Snapshot retiredLatency = LatencyHistogram.Snapshot.EMPTY;
    private final long[] retiredErrors = new long[KINDS.length];
    private ReplicatedDevice current;

    /** The resource exports {@code device} (became Primary). Devices of other kinds are not metered. */
    synchronized void offered(BlockDevice device) {
        if (device instanceof ReplicatedDevice d && d != current) {
            retire();
            current = d;
        }
    }

    /** The current device is gone for good (the resource went down): its counts become history. */
    synchronized void retire() {
        ReplicatedDevice d = current;
        if (d != null) {
            retiredLatency = retiredLatency.plus(d.writeLatency().snapshot());
            for (ReplicatedDevice.WriteError kind : KINDS) {
                retiredErrors[kind.ordinal()] += d.writeErrors(kind);
            }
            current = null;
        }
    }

    synchronized LatencyHistogram.Snapshot latency() {
        return current == null ? retiredLatency : retiredLatency.plus(current.writeLatency().snapshot());
    }

    /** Failed writes by kind label, every kind present. */
    synchronized Map<String, Long> errors() {
        Map<String, Long> m = new LinkedHashMap<>();
        for (ReplicatedDevice.WriteError kind : KINDS) {
            long n = retiredErrors[kind.ordinal()] + (current == null ? 0 : current.writeErrors(kind));
            m.put(kind.label(), n);
        }
        return m;
    }
}
