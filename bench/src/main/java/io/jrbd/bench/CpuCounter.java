package io.jrbd.bench;

import java.lang.management.ManagementFactory;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * CPU time of the whole benchmark JVM (both nodes, the WAN proxy and the load generator)
 * during each measured iteration, as a JMH secondary result. In Throughput mode JMH divides
 * it by the iteration's time like the primary score, so {@code cpuNanos} reads as CPU
 * nanoseconds per second: divided by 1e9 it is the number of cores kept busy, and divided by
 * the primary score it is the CPU time per write.
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.OPERATIONS)
public class CpuCounter {
    private static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    /** Process CPU nanoseconds used during the iteration (set when it ends). */
    public long cpuNanos;

    private long start;

    @Setup(Level.Iteration)
    public void start() {
        cpuNanos = 0;
        start = OS.getProcessCpuTime();
    }

    @TearDown(Level.Iteration)
    public void stop() {
        cpuNanos = OS.getProcessCpuTime() - start;
    }
}
