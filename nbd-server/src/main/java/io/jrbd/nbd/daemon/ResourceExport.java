package io.jrbd.nbd.daemon;

import io.jrbd.nbd.Export;
import io.jrbd.nbd.Exports;
import io.jrbd.nbd.NbdServer;
import io.jrbd.nbd.ServerLimits;
import io.jrbd.replicator.config.ResourceConfig;
import io.jrbd.replicator.device.BlockDevice;
import io.jrbd.replicator.resource.ExportControl;
import java.net.InetSocketAddress;

/**
 * A resource's NBD listener. It listens while the resource is up; the export has a device
 * only while the node is Primary, and a client of a Secondary hears why it cannot have it.
 */
final class ResourceExport implements ExportControl, AutoCloseable {
    private final Export export;
    private final NbdServer server;
    private final String uri;

    ResourceExport(ResourceConfig config, String node, int eventLoops) throws InterruptedException {
        InetSocketAddress nbd = config.node(node).nbd();
        this.export = new Export(config.name(), "jrbd resource " + config.name() + " on " + node, null);
        export.withdraw("resource " + config.name() + " is Secondary on node " + node + "; connect to its Primary");
        this.server = new NbdServer(new Exports().add(export), ServerLimits.DEFAULT, eventLoops).start(
                nbd.getHostString(), nbd.getPort());
        this.uri = "nbd://" + nbd.getHostString() + ":" + server.address().getPort() + "/" + config.name();
    }

    @Override
    public void offer(BlockDevice device) {
        export.offer(device);
    }

    @Override
    public void withdraw(String why) {
        export.withdraw(why);
    }

    @Override
    public int clients() {
        return export.clients();
    }

    @Override
    public String uri() {
        return uri;
    }

    @Override
    public void close() {
        server.close();
    }
}
