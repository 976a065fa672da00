package io.jrbd.nbd;

import io.jrbd.replicator.device.BlockDevice;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A name clients connect to, and the device behind it when there is one. A replicated
 * resource's export has a device only while its node is Primary; otherwise clients get an
 * error saying why ({@link #unavailableReason()}).
 */
public final class Export {
    private final String name;
    private final String description;
    private volatile BlockDevice device;
    private volatile String unavailableReason;
    private final AtomicInteger clients = new AtomicInteger();

    public Export(String name, String description, BlockDevice device) {
        if (name.isEmpty()) {
            throw new IllegalArgumentException("an export needs a name; the empty name means 'the default export'");
        }
        this.name = name;
        this.description = description;
        this.device = device;
        this.unavailableReason = device == null ? "export '" + name + "' has no device" : null;
    }

    public String name() {
        return name;
    }

    public String description() {
        return description;
    }

    /** The device now, or null while the export is unavailable. */
    public BlockDevice device() {
        return device;
    }

    public String unavailableReason() {
        return unavailableReason;
    }

    public void offer(BlockDevice newDevice) {
        unavailableReason = null;
        device = newDevice;
    }

    public void withdraw(String why) {
        unavailableReason = why;
        device = null;
    }

    /** Connections in the transmission phase on this export. */
    public int clients() {
        return clients.get();
    }

    void clientStarted() {
        clients.incrementAndGet();
    }

    void clientEnded() {
        clients.decrementAndGet();
    }
}
