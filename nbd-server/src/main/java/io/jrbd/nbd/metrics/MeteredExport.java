package io.jrbd.nbd.metrics;

import io.jrbd.replicator.device.BlockDevice;
import io.jrbd.replicator.resource.ExportControl;

/** A resource's export that shows the {@link WriteMeter} each device it offers, and otherwise passes through. */
final class MeteredExport implements ExportControl {
    private final ExportControl export;
    private final WriteMeter meter;

    MeteredExport(ExportControl export, WriteMeter meter) {
        this.export = export;
        this.meter = meter;
    }

    @Override
    public void offer(BlockDevice device) {
        meter.offered(device);
        export.offer(device);
    }

    @Override
    public void withdraw(String why) {
        // The device keeps completing what is in flight while it drains: it stays metered.
        export.withdraw(why);
    }

    @Override
    public int clients() {
        return export.clients();
    }

    @Override
    public String uri() {
        return export.uri();
    }
}
