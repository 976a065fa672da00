/**
 * JMH benchmarks of the write path: 4 KiB write latency and throughput of a Primary replicating
 * to a Secondary over a simulated WAN (protocols A, B, C; round trips 0 to 50 ms), against the
 * standalone device as baseline. Both nodes run in the benchmark's JVM (see
 * {@link io.jrbd.bench.ReplicationHarness}); bench/jmh.sh runs the suite and writes the table
 * into docs/benchmarks.md.
 */
package io.jrbd.bench;
