package io.jrbd.bench;

import io.jrbd.metadata.md.DiskState;
import io.jrbd.metadata.md.Metadata;
import io.jrbd.metadata.md.SuperblockFlag;
import io.jrbd.nbd.wan.WanProxy;
import io.jrbd.replicator.config.ConfigLoader;
import io.jrbd.replicator.config.Protocol;
import io.jrbd.replicator.config.ResourceConfig;
import io.jrbd.replicator.device.BlockDevice;
import io.jrbd.replicator.resource.ExportControl;
import io.jrbd.replicator.resource.Resource;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Two nodes of one resource in this JVM, as two daemons would run them: alpha (Primary) and
 * bravo (Secondary), each with its own event loops, backing file and metadata in a temporary
 * folder. Alpha reaches bravo's replication port through a {@link WanProxy}, so every byte
 * between them is delayed by {@code rtt / 2} in each direction.
 *
 * <pre>
 *   benchmark thread --write--> alpha (ReplicatedDevice) --TCP--> WanProxy (rtt/2 each way) --TCP--> bravo
 *                   <--done---                           <--acks--                          <--acks--
 * </pre>
 *
 * <p>Start-up: identical backing files (pre-filled, see {@link BenchFiles#PREFILL_PROPERTY}),
 * metadata for both nodes marking them UpToDate in one generation (no initial sync; see
 * {@link #FULL_SYNC_PROPERTY} for the full-sync path), bravo up, alpha up, wait until
 * connected, {@code primary} on alpha, wait until alpha sees bravo Connected and UpToDate;
 * then the proxy's delay is set to {@code rtt / 2} (so a full sync, if asked for, runs
 * undelayed). The device is what alpha offers to its export.
 */
public final class ReplicationHarness implements BenchTarget {
    static final String RESOURCE = "r0";
    static final Duration START_TIMEOUT = Duration.ofMinutes(3);
    static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(10);

    /**
     * {@code -Djrbd.bench.fullSync=true}: start both disks Inconsistent and make alpha the
     * source of a full initial sync ({@code primary --force}), as {@code jrbd quickstart} does.
     * By default both start UpToDate in the same generation and no sync runs.
     */
    static final String FULL_SYNC_PROPERTY = "jrbd.bench.fullSync";

    /**
     * {@code -Djrbd.bench.directLink=true} (only with an RTT of 0): alpha connects to bravo
     * directly, without the proxy, so that what is measured (CPU, allocation) is the engine's
     * alone.
     */
    static final String DIRECT_LINK_PROPERTY = "jrbd.bench.directLink";

    private final Protocol protocol;
    private final double rttMs;
    private final Path dir;
    private final EventLoopGroup alphaLoops;
    private final EventLoopGroup bravoLoops;
    private Resource alpha;
    private Resource bravo;
    private WanProxy wan;
    private volatile BlockDevice device;
    private double syncSeconds;

    private ReplicationHarness(Protocol protocol, double rttMs, Path dir, int eventLoops) {
        this.protocol = protocol;
        this.rttMs = rttMs;
        this.dir = dir;
        this.alphaLoops = loops("alpha", eventLoops);
        this.bravoLoops = loops("bravo", eventLoops);
    }

    /** Two nodes connected, in sync, alpha Primary, with {@code rttMs} between them. */
    public static ReplicationHarness start(Protocol protocol, double rttMs, int ioThreads, int eventLoops) throws Exception {
        if (rttMs < 0) {
            throw new IllegalArgumentException("rttMs " + rttMs + " is negative");
        }
        ReplicationHarness h = new ReplicationHarness(protocol, rttMs, BenchFiles.workDirectory("jrbd-bench-" + protocol + "-"),
                eventLoops);
        try {
            h.bringUp(ioThreads);
            return h;
        } catch (Exception | Error e) {
            h.close();
            throw e;
        }
    }

    /** Daemon threads, so that a node whose close hangs (see {@link #close()}) cannot keep the fork alive. */
    private static EventLoopGroup loops(String node, int n) {
        DefaultThreadFactory threads = new DefaultThreadFactory("bench-" + node + "-loop", true);
        return Epoll.isAvailable() ? new EpollEventLoopGroup(n, threads) : new NioEventLoopGroup(n, threads);
    }

    private void bringUp(int ioThreads) throws Exception {
        int alphaPort = freePort();
        int bravoPort = freePort();
        while (Math.abs(bravoPort - alphaPort) < 2) { // the kernel may hand out a closed probe's port again
            bravoPort = freePort();
        }
        ResourceConfig config = ConfigLoader.parse(toml(alphaPort, bravoPort), dir.resolve(RESOURCE + ".toml"));
        boolean prefill = BenchFiles.prefill();
        boolean fullSync = Boolean.getBoolean(FULL_SYNC_PROPERTY);
        long generation = new SplittableRandom().nextLong() | 1;
        for (String node : new String[] {"alpha", "bravo"}) {
            // Same seed on both nodes: the two backing files start identical.
            BenchFiles.createBackingFile(config.node(node).disk(), SIZE, prefill);
            try (Metadata md = Metadata.create(config.node(node).metaDisk(), SIZE, RESOURCE, node, true)) {
                if (!fullSync) {
                    // What `drbdadm new-current-uuid --clear-bitmap` does for a new pair whose disks
                    // are known to be identical: both UpToDate in one data generation, no initial sync.
                    md.writeSuperblock(md.superblock().withDiskState(DiskState.UP_TO_DATE).with(SuperblockFlag.CONSISTENT)
                            .withCurrentGen(generation));
                }
            }
        }
        boolean direct = Boolean.getBoolean(DIRECT_LINK_PROPERTY);
        if (direct && rttMs != 0) {
            throw new IllegalArgumentException("-D" + DIRECT_LINK_PROPERTY + "=true needs rttMs 0, not " + rttMs);
        }
        // The initial sync (if any) runs undelayed; the benchmark's delay is set once bravo is UpToDate.
        wan = direct ? null : WanProxy.start("127.0.0.1", 0, "127.0.0.1", bravoPort, Duration.ZERO, 0);
        bravo = new Resource(config, "bravo", bravoLoops, PooledByteBufAllocator.DEFAULT, new Export("bravo"), null,
                ioThreads);
        alpha = new Resource(config, "alpha", alphaLoops, PooledByteBufAllocator.DEFAULT, new Export("alpha"),
                direct ? null : wan.address(), ioThreads);
        bravo.up();
        alpha.up();
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        await(deadline, "alpha connected to bravo", alpha::connectedToPeer);
        alpha.primary(fullSync);
        long syncStart = System.nanoTime();
        await(deadline, "bravo UpToDate after the initial sync (alpha " + RESOURCE + " SyncSource -> Connected)",
                () -> "Connected".equals(alpha.connectionState()) && "UpToDate".equals(alpha.peerDiskState())
                        && "UpToDate".equals(bravo.diskState()));
        syncSeconds = (System.nanoTime() - syncStart) / 1e9;
        if (device == null) {
            throw new IllegalStateException("alpha is Primary but offered no device to its export");
        }
        if (wan != null) {
            wan.setDelay(Duration.ofNanos(Math.round(rttMs * 1_000_000 / 2)));
        }
    }

    private String toml(int alphaPort, int bravoPort) {
        StringBuilder b = new StringBuilder();
        b.append("[resource]\nname = \"").append(RESOURCE).append("\"\nsize = \"").append(SIZE >> 20).append("M\"\n")
                .append("protocol = \"").append(protocol.name()).append("\"\n\n");
        // DRBD's defaults for everything else: what an administrator who sets nothing runs.
        b.append("[net]\nshared-secret = \"jrbd-benchmark-secret\"\n\n");
        int[] ports = {alphaPort, bravoPort};
        String[] nodes = {"alpha", "bravo"};
        for (int i = 0; i < 2; i++) {
            String n = nodes[i];
            b.append("[nodes.").append(n).append("]\n")
                    .append("replication = \"127.0.0.1:").append(ports[i]).append("\"\n")
                    .append("nbd = \"127.0.0.1:").append(ports[i] + 1).append("\"\n")
                    .append("disk = \"").append(dir.resolve(n + ".img")).append("\"\n")
                    .append("meta-disk = \"").append(dir.resolve(n + ".md")).append("\"\n")
                    .append("control-socket = \"").append(dir.resolve(n + ".sock")).append("\"\n\n");
        }
        return b.toString();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private interface Condition {
        boolean holds();
    }

    private void await(long deadline, String what, Condition condition) throws InterruptedException {
        while (!condition.holds()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("gave up after " + START_TIMEOUT.toSeconds() + " s waiting for " + what
                        + "; alpha " + alpha.status() + "; bravo " + bravo.status());
            }
            TimeUnit.MILLISECONDS.sleep(20);
        }
    }

    @Override
    public BlockDevice device() {
        return device;
    }

    /** The simulated link between alpha and bravo (null with a direct link). */
    public WanProxy wan() {
        return wan;
    }

    /** The Primary. */
    public Resource alpha() {
        return alpha;
    }

    @Override
    public void check() {
        if (!alpha.connectedToPeer() || !"Connected".equals(alpha.connectionState())) {
            Map<String, Object> s = alpha.status();
            throw new IllegalStateException("alpha lost bravo during the measurement (writes completed degraded, the "
                    + "numbers are not protocol " + protocol + "'s): alpha " + s + "; bravo " + bravo.status());
        }
    }

    @Override
    public String describe() {
        String link = wan == null ? "direct TCP" : "WanProxy " + wan.address() + " (one-way delay "
                + wan.delay().toNanos() / 1e6 + " ms)";
        return "alpha (Primary) -> " + link + " -> bravo, protocol " + protocol + ", in " + dir + "; initial sync of " + (SIZE >> 20) + " MiB took "
                + String.format("%.1f", syncSeconds) + " s";
    }

    /**
     * Disconnects first and waits for both sides to notice, then closes each node, giving up on
     * a node after {@link #CLOSE_TIMEOUT}. Both guard against a deadlock the engine had until
     * 0a77e22 ({@code Resource.close()} held the resource's monitor while {@code PeerLink.close()}
     * waited for a channel to close on an event loop that was blocked entering
     * {@code disconnected()} or {@code housekeeping()} of the same resource): a hang in teardown
     * must not stall the whole suite. Nothing the benchmark measured depends on the close.
     */
    @Override
    public void close() {
        try {
            disconnect(alpha);
            disconnect(bravo);
            closeWithin(alpha, "alpha");
            closeWithin(bravo, "bravo");
        } finally {
            if (wan != null) {
                wan.close();
            }
            // Not waited for: a loop stuck in the deadlock above would never terminate.
            alphaLoops.shutdownGracefully(0, 2, TimeUnit.SECONDS);
            bravoLoops.shutdownGracefully(0, 2, TimeUnit.SECONDS);
            BenchFiles.deleteTree(dir);
        }
    }

    private static void closeWithin(Resource r, String node) {
        if (r == null) {
            return;
        }
        Thread closer = new Thread(r::close, "bench-close-" + node);
        closer.setDaemon(true);
        closer.start();
        try {
            closer.join(CLOSE_TIMEOUT.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (closer.isAlive()) {
            System.err.println("jrbd-bench: " + node + ": Resource.close() did not return within " + CLOSE_TIMEOUT.toSeconds()
                    + " s (a deadlock in the engine's shutdown?); leaving it to the fork's exit");
        }
    }

    private static void disconnect(Resource r) {
        if (r == null || !r.isUp()) {
            return;
        }
        try {
            r.disconnect();
        } catch (Exception e) {
            System.err.println("jrbd-bench: disconnect: " + e.getMessage());
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (r.connectedToPeer() && System.nanoTime() < deadline) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
    }

    /** Captures the device alpha offers when it becomes Primary; nobody connects over NBD. */
    private final class Export implements ExportControl {
        private final String node;

        Export(String node) {
            this.node = node;
        }

        @Override
        public void offer(BlockDevice d) {
            if (node.equals("alpha")) {
                device = d;
            }
        }

        @Override
        public void withdraw(String why) {
            if (node.equals("alpha")) {
                device = null;
            }
        }

        @Override
        public int clients() {
            return 0;
        }

        @Override
        public String uri() {
            return "bench://" + node + "/" + RESOURCE;
        }
    }
}
