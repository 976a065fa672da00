package io.jrbd.nbd.cli;

import io.jrbd.nbd.daemon.NodeDaemon;
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

    @Override
    public Integer call() throws Exception {
        String name = NodeName.resolve(node);
        Path dir = NodeName.configDir(config);
        NodeDaemon daemon = new NodeDaemon(dir, name, ioThreads, eventLoops).start();
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
