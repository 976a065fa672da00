package io.jrbd.replicator.resource;

import io.jrbd.replicator.config.ResourceConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;

/**
 * What {@code jrbdadm adjust} finds between the running configuration and a fresh one. What the
 * connection or the disk was built from (size, protocol, [net], the nodes) cannot change while
 * up; everything else can, and takes effect at once.
 */
final class ConfigAdjustment {

    /** A part of the configuration, named as the administrator reads it. */
    private record Part(String name, Function<ResourceConfig, Object> value) {
        boolean changed(ResourceConfig old, ResourceConfig fresh) {
            return !Objects.equals(value.apply(old), value.apply(fresh));
        }
    }

    private static final List<Part> FIXED = List.of(
            new Part("size", ResourceConfig::size),
            new Part("protocol", ResourceConfig::protocol),
            new Part("[net] connection settings", ResourceConfig::net),
            new Part("[nodes]", ResourceConfig::nodes));

    private static final List<Part> LIVE = List.of(
            new Part("split-brain policies", ResourceConfig::splitBrain),
            new Part("congestion", ResourceConfig::congestion),
            new Part("checksums", ResourceConfig::checksums),
            new Part("[disk] fencing/al-extents", ResourceConfig::disk),
            new Part("resync rates", ResourceConfig::resync),
            new Part("handlers", ResourceConfig::handlers));

    private ConfigAdjustment() {
    }

    /** Refuses, naming every part that cannot change while up, if any did: then nothing changes. */
    static void requireAdjustable(ResourceConfig old, ResourceConfig fresh) throws RefusedException {
        List<String> fixed = changed(FIXED, old, fresh);
        if (!fixed.isEmpty()) {
            throw new RefusedException(String.join(", ", fixed) + " changed in " + fresh.source()
                    + ": that needs 'jrbdadm down " + old.name() + "' and 'up' (nothing was changed)");
        }
    }

    /** The parts that changed, as the administrator reads them; empty if none did. */
    static List<String> changes(ResourceConfig old, ResourceConfig fresh) {
        return changed(LIVE, old, fresh);
    }

    private static List<String> changed(List<Part> parts, ResourceConfig old, ResourceConfig fresh) {
        List<String> names = new ArrayList<>();
        for (Part p : parts) {
            if (p.changed(old, fresh)) {
                names.add(p.name());
            }
        }
        return names;
    }
}
