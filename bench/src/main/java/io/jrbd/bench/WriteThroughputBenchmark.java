package io.jrbd.bench;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Throughput of 4 KiB writes with {@code iodepth} in flight: each operation waits for a free
 * slot (one earlier write completed, once the first {@code iodepth} are out) and submits the
 * next write, so in steady state operations per second are completions per second. Random
 * 4 KiB-aligned offsets over the 256 MiB device, no FUA, no flush.
 *
 * <p>Counting: an iteration also counts the up to {@code iodepth} writes still in flight at its
 * end (their slots were taken, their completions fall in the next iteration or the teardown);
 * at 2 s iterations that is at most 2.5% (128 of ~5,000 writes at RTT 50 ms, protocol C).
 *
 * <p>{@link CpuCounter} adds the JVM's CPU time (all of both nodes, proxy and load generator).
 *
 * <p>Goal (issue 3): protocol C at RTT 0 at least 0.8x standalone; at RTT 20 ms with iodepth
 * 128 at least 0.5x of RTT 0 (the link is kept full).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class WriteThroughputBenchmark extends WriteBenchmarkBase {
    /** Writes kept in flight. */
    @Param({"1", "16", "128"})
    public int iodepth;

    private WriteSlots slots;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        target = startTarget();
        slots = new WriteSlots(target.device(), iodepth, 42);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        try {
            if (slots != null) {
                slots.close();
            }
        } finally {
            target.close();
        }
    }

    @Benchmark
    public void write4k(CpuCounter cpu) {
        slots.submit();
    }
}
