package io.jrbd.bench;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Latency of one 4 KiB write at iodepth 1: submit, wait for the completion, repeat. Random
 * 4 KiB-aligned offsets over the 256 MiB device, no FUA, no flush. SampleTime gives the
 * distribution (p50, p99) of submit-to-callback time.
 *
 * <p>Goal (issue 3): protocol C p50 at most RTT + standalone p50 + 0.1 ms (the local write and
 * the send to the peer start together); protocol A p50 at most 1.1x standalone at every RTT.
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class WriteLatencyBenchmark extends WriteBenchmarkBase {
    private WriteSlots slots;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        target = startTarget();
        slots = new WriteSlots(target.device(), 1, 42);
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
    public void write4k() {
        slots.writeAndWait();
    }
}
