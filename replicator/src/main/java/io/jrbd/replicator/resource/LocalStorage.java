package io.jrbd.replicator.resource;

import io.jrbd.metadata.journal.Journal;
import io.jrbd.metadata.md.Metadata;
import io.jrbd.metadata.store.BackingStore;
import io.jrbd.replicator.config.NodeConfig;
import io.jrbd.replicator.config.ResourceConfig;
import io.jrbd.replicator.engine.ReplicationLog;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Where this node keeps a resource's data, metadata and journal, and opening them for
 * {@code up}: the metadata either internal (at the end of the data disk) or on a disk of its
 * own, the journal in a file beside the metadata.
 */
final class LocalStorage {

    /** The metadata and the disk it describes, opened together. */
    record Opened(Metadata md, BackingStore store) {
    }

    private LocalStorage() {
    }

    /**
     * Opens the metadata, then the disk; if the disk does not open, the metadata is closed
     * again. A disk that does not fit the configuration is refused, naming the resource.
     */
    static Opened open(ResourceConfig config, NodeConfig node) throws IOException, RefusedException {
        boolean internal = node.internalMetadata();
        Metadata m = internal ? Metadata.openInternal(node.disk(), config.size()) : Metadata.open(node.metaDisk(), config.size());
        try {
            m.activityLog().setCapacity(config.disk().alExtents());
            BackingStore s = internal ? BackingStore.openPrefix(node.disk(), config.size(), false)
                    : BackingStore.open(node.disk(), config.size(), false);
            return new Opened(m, s);
        } catch (IOException | IllegalArgumentException e) {
            m.close();
            if (e instanceof IllegalArgumentException) {
                throw new RefusedException(config.name() + ": " + e.getMessage());
            }
            throw e;
        }
    }

    /** The journal of replicated writes, in {@code <metadata file>.journal}. */
    static ReplicationLog openJournal(ResourceConfig config, NodeConfig node) throws IOException {
        Path beside = node.internalMetadata() ? node.disk() : node.metaDisk();
        Path path = beside.resolveSibling(beside.getFileName() + ".journal");
        return new JournalLog(Journal.open(path, config.net().journalSize()));
    }
}
