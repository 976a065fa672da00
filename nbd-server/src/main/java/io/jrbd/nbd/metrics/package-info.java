/**
 * Metrics for Prometheus (DESIGN.md section 8): {@link io.jrbd.nbd.metrics.MetricsServer} answers
 * {@code GET /metrics} in the text exposition format 0.0.4, which
 * {@link io.jrbd.nbd.metrics.MetricsText} renders from each resource's status map and the
 * write-latency histogram and error counts its devices keep ({@link io.jrbd.nbd.metrics.NodeMetrics}).
 * Off unless the daemon is given {@code --metrics HOST:PORT}; the names are documented in
 * docs/operations.md.
 */
package io.jrbd.nbd.metrics;
