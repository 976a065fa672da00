package io.jrbd.nbd.cli;

import io.jrbd.metadata.store.BackingStore;
import io.jrbd.nbd.Causes;
import io.jrbd.nbd.Export;
import io.jrbd.nbd.Exports;
import io.jrbd.nbd.NbdServer;
import io.jrbd.nbd.ServerLimits;
import io.jrbd.replicator.config.Sizes;
import io.jrbd.replicator.device.StandaloneDevice;
import io.netty.buffer.PooledByteBufAllocator;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import sun.misc.Signal;

/** {@code jrbd serve}: one file or block device over NBD, no replication. */
@Command(name = "serve", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = {"Serve a file or block device over NBD on this node alone (no peer).",
                "The file is created sparse when it does not exist. SIGTERM or SIGINT flush and stop."},
        footer = {"", "Example:", "  jrbd serve --file /var/lib/jrbd/disk.img --size 1G",
                "  nbdinfo nbd://127.0.0.1:10809"})
final class ServeCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger("jrbd");

    @Option(names = "--file", required = true, paramLabel = "PATH", description = "Backing file or block device.")
    Path file;

    @Option(names = "--size", paramLabel = "SIZE", converter = SizeConverter.class,
            description = "Size (K, M, G, T suffixes), needed to create the file; an existing one must match.")
    Long size;

    @Option(names = "--bind", paramLabel = "HOST", defaultValue = "127.0.0.1", description = "Address to listen on (default: ${DEFAULT-VALUE}).")
    String bind;

    @Option(names = "--port", defaultValue = "10809", description = "TCP port; 0 picks a free one (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--export", paramLabel = "NAME", description = "Export name (default: the file's name). The empty name also selects it.")
    String exportName;

    @Option(names = "--description", defaultValue = "", description = "Export description shown by nbdinfo.")
    String description;

    @Option(names = "--read-only", description = "Refuse writes, trims and zeroing with EPERM.")
    boolean readOnly;

    @Option(names = "--io-threads", defaultValue = "8", description = "Threads doing disk I/O (default: ${DEFAULT-VALUE}).")
    int ioThreads;

    @Option(names = "--event-loops", defaultValue = "2", description = "Network event-loop threads (default: ${DEFAULT-VALUE}).")
    int eventLoops;

    @Override
    public Integer call() throws Exception {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("--port " + port + " is not a TCP port");
        }
        BackingStore store = BackingStore.open(file.toAbsolutePath(), size == null ? -1 : size, readOnly);
        StandaloneDevice device = new StandaloneDevice(store, PooledByteBufAllocator.DEFAULT, ioThreads);
        String name = exportName != null ? exportName : file.getFileName().toString();
        Exports exports = new Exports().add(new Export(name, description, device));
        NbdServer server = new NbdServer(exports, ServerLimits.DEFAULT, eventLoops);
        try {
            server.start(bind, port);
        } catch (Exception e) {
            device.close();
            server.close();
            throw new IllegalStateException("cannot listen on " + bind + ":" + port + ": " + Causes.rootMessage(e), e);
        }
        String host = server.address().getHostString();
        int actualPort = server.address().getPort();
        LOG.info("serving {} ({}{}) as export '{}'", store.path(), Sizes.format(store.size()), readOnly ? ", read-only" : "", name);
        LOG.info("listening on {}:{}", host, actualPort);
        LOG.info("connect with: nbdinfo nbd://{}:{}/{}", host, actualPort, name);

        CountDownLatch stop = new CountDownLatch(1);
        Signal.handle(new Signal("TERM"), s -> stop.countDown());
        Signal.handle(new Signal("INT"), s -> stop.countDown());
        stop.await();
        LOG.info("stopping: closing connections and flushing {}", store.path());
        server.close();
        device.close();
        LOG.info("stopped after {} fdatasync calls for {} flush requests", device.syncs(), device.flushRequests());
        return 0;
    }
}
