package io.jrbd.nbd.metrics;

import io.jrbd.replicator.resource.ExportControl;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * The node's metrics state: per resource, the write meter that outlives its devices and its
 * {@code up}/{@code down} cycles. Resource states are not kept here but read at each scrape
 * from the status maps the daemon hands to {@link #render}.
 */
public final class NodeMetrics {
    private final ConcurrentMap<String, WriteMeter> meters = new ConcurrentHashMap<>();

    /** Wraps {@code export} so the devices the resource offers through it are metered. */
    public ExportControl export(String resource, ExportControl export) {
        return new MeteredExport(export, meter(resource));
    }

    /** The resource went down: its last device's counts are kept, the device itself let go. */
    public void retire(String resource) {
        meter(resource).retire();
    }

    /** The page for {@code statuses} (one map per resource, each with its "resource" key). */
    public String render(List<Map<String, Object>> statuses) {
        List<ResourceSample> samples = new ArrayList<>(statuses.size());
        for (Map<String, Object> s : statuses) {
            WriteMeter m = meter(String.valueOf(s.get("resource")));
            samples.add(new ResourceSample(s, m.latency(), m.errors()));
        }
        return MetricsText.render(samples);
    }

    private WriteMeter meter(String resource) {
        return meters.computeIfAbsent(resource, r -> new WriteMeter());
    }
}
