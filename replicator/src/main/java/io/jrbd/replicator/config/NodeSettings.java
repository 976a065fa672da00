package io.jrbd.replicator.config;

import java.nio.file.Path;
import java.util.List;

/**
 * What one node's daemon needs beyond each resource: the settings every resource of the node must
 * agree on, and the resources the node takes part in.
 *
 * @param node           the node's name
 * @param controlSocket  the daemon's control socket, the same in every resource that has this node
 * @param resources      the resources that have this node, by name (unmodifiable)
 */
public record NodeSettings(String node, Path controlSocket, List<ResourceConfig> resources) {
    public NodeSettings {
        resources = List.copyOf(resources);
    }
}
