package io.jrbd.bench;

import io.jrbd.replicator.config.Protocol;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What the write benchmarks share: the device under test ({@code protocol} = standalone, A, B
 * or C, and the simulated round trip {@code rttMs} to the peer) and its lifecycle. One target
 * per fork: set up once per trial (files, metadata, connect, initial sync), checked after
 * every iteration (a peer lost mid-run would turn the row into a standalone measurement, so it
 * fails the benchmark instead), torn down at the end.
 *
 * <p>The standalone device has no peer, so {@code rttMs} means nothing to it: run it with
 * {@code -p rttMs=0} (bench/jmh.sh does) rather than six identical rows.
 *
 * <p>The forked JVM gets the root pom's {@code jrbd.addOpens} flags (Chronicle Bytes needs
 * them), Chronicle's analytics switched off and a fixed 1 GiB heap; bench/jmh.sh passes the
 * flags from the pom itself with {@code -jvmArgsAppend}, which replaces these.
 */
@State(Scope.Benchmark)
@Fork(value = 1, jvmArgsAppend = {
        "--add-opens=java.base/java.lang=ALL-UNNAMED",
        "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
        "--add-opens=java.base/java.nio=ALL-UNNAMED",
        "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
        "--add-opens=java.base/jdk.internal.misc=ALL-UNNAMED",
        "--add-opens=java.base/jdk.internal.ref=ALL-UNNAMED",
        "--add-opens=java.base/java.io=ALL-UNNAMED",
        "--add-opens=java.base/java.util=ALL-UNNAMED",
        "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED",
        "--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED",
        "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED",
        "--add-exports=jdk.unsupported/sun.misc=ALL-UNNAMED",
        "--add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED",
        "-Dchronicle.analytics.disable=true",
        "-Xms1g", "-Xmx1g"})
@Warmup(iterations = 2, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 3, time = 2, timeUnit = TimeUnit.SECONDS)
public abstract class WriteBenchmarkBase {
    /** Disk I/O threads per node: {@code -Djrbd.bench.ioThreads}, default the daemon's (8). */
    static final int IO_THREADS = Integer.getInteger("jrbd.bench.ioThreads", 8);

    /** Network threads per node: {@code -Djrbd.bench.eventLoops}, default the daemon's (2). */
    static final int EVENT_LOOPS = Integer.getInteger("jrbd.bench.eventLoops", 2);

    /** {@code standalone} (no peer, the baseline) or a replication protocol. */
    @Param({"standalone", "A", "B", "C"})
    public String protocol;

    /** Simulated round-trip time to the peer in milliseconds (a delay of rttMs / 2 each way). */
    @Param({"0", "0.2", "1", "5", "20", "50"})
    public String rttMs;

    BenchTarget target;

    /** Starts the device under test for this trial. */
    final BenchTarget startTarget() throws Exception {
        double rtt = Double.parseDouble(rttMs);
        BenchTarget t = protocol.equals("standalone") ? StandaloneHarness.start(IO_THREADS)
                : ReplicationHarness.start(Protocol.parse(protocol), rtt, IO_THREADS, EVENT_LOOPS);
        System.out.println("jrbd-bench: " + t.describe());
        return t;
    }

    @TearDown(Level.Iteration)
    public void checkTarget() {
        target.check();
    }
}
