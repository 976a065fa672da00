package io.jrbd.nbd.cli;

import io.jrbd.nbd.daemon.NodeDaemon;
import io.jrbd.nbd.metrics.MetricsServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import sun.misc.Signal;

/** {@code jrbd daemon}: the node process. */
@Command(name = "daemon", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = {"Run this node's daemon: every resource configured for the node, driven by jrbdadm through the",
                "control socket. Resources start down; 'jrbdadm up RES' attaches one. SIGTERM or SIGINT bring",
                "every resource down cleanly and exit 0."},
        footer = {"", "Example:", "  jrbd daemon -c /etc/jrbd --node alpha"})
final class DaemonCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger("jrbd");

    @Option(names = {"-c", "--config"}, paramLabel = "DIR", description = "Configuration folder (default: $JRBD_CONFIG or /etc/jrbd).")
    Path config;

    @Option(names = "--node", paramLabel = "NAME", description = "This node's name in the configuration (default: $JRBD_NODE or the host name).")
    String node;

    @Option(names = "--io-threads", defaultValue = "8", description = "Disk I/O threads per resource (default: ${DEFAULT-VALUE}).")
    int ioThreads;

    @Option(names = "--event-loops", defaultValue = "2", description = "Network threads for peer links (default: ${DEFAULT-VALUE}).")
    int eventLoops;

    @Option(names = "--metrics", paramLabel = "HOST:PORT", description = "Serve Prometheus metrics at "
            + "http://HOST:PORT/metrics (default: $JRBD_METRICS; off if neither is set or the value is empty). "
            + "Binds only that address: 0.0.0.0:PORT for every interface.")
    String metrics;

    @Override
    public Integer call() throws Exception {
        String name = NodeName.resolve(node);
        Path dir = NodeName.configDir(config);
        String metricsAt = metrics != null ? metrics : System.getenv().getOrDefault("JRBD_METRICS", "");
        InetSocketAddress metricsAddress = metricsAt.isBlank() ? null
                : MetricsServer.parseAddress(metricsAt, metrics != null ? "--metrics" : "JRBD_METRICS");
        NodeDaemon daemon = new NodeDaemon(dir, name, ioThreads, eventLoops).start();
        if (metricsAddress != null) {
            try {
                daemon.startMetrics(metricsAddress);
            } catch (IOException e) {
                daemon.close();
                throw new IOException("cannot serve metrics on " + metricsAt + ": " + e.getMessage(), e);
            }
        }
        LOG.info("jrbd daemon {} running as node {} (pid {})", VersionProvider.version(), name, ProcessHandle.current().pid());
        CountDownLatch stop = new CountDownLatch(1);
        Signal.handle(new Signal("TERM"), s -> stop.countDown());
        Signal.handle(new Signal("INT"), s -> stop.countDown());
        stop.await();
        LOG.info("stopping: bringing every resource down");
        daemon.close();
        LOG.info("stopped");
        return 0;
    }
}
