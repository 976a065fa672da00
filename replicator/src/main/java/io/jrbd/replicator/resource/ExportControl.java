package io.jrbd.replicator.resource;

import io.jrbd.replicator.device.BlockDevice;

/**
 * The NBD export of a resource, as the resource drives it. Implemented by the NBD front end
 * (a higher module), so the engine never depends on it.
 */
public interface ExportControl {
    /** Offers {@code device} to NBD clients (the node became Primary). */
    void offer(BlockDevice device);

    /** Stops offering the device; clients that connect get a clear error. */
    void withdraw(String why);

    /** NBD clients connected to this export now. */
    int clients();

    /** The URI clients use, e.g. nbd://127.0.0.1:10809/r0. */
    String uri();
}
