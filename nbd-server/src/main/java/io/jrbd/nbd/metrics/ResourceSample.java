package io.jrbd.nbd.metrics;

import io.jrbd.replicator.engine.LatencyHistogram;
import java.util.Map;

/**
 * What one scrape knows of one resource.
 *
 * @param status       the resource's status map, as {@code Resource.status()} (or the daemon, for a
 *                     resource that is down) returns it
 * @param writeLatency the application's write latencies on this node, over every device it exported
 * @param writeErrors  failed application writes by kind label ({@code io}, {@code sync}, ...); a kind
 *                     missing counts 0
 */
public record ResourceSample(Map<String, Object> status, LatencyHistogram.Snapshot writeLatency,
        Map<String, Long> writeErrors) {
}
