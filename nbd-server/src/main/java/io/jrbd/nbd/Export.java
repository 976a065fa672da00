package io.jrbd.nbd;

import io.jrbd.replicator.device.BlockDevice;

/** A device offered to NBD clients under a name. */
public record Export(String name, String description, BlockDevice device) {
    public Export {
        if (name.isEmpty()) {
            throw new IllegalArgumentException("an export needs a name; the empty name means 'the default export'");
        }
    }
}
