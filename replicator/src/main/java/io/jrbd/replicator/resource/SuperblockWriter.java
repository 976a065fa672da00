package io.jrbd.replicator.resource;

import io.jrbd.metadata.md.Superblock;
import java.util.function.UnaryOperator;

/**
 * How a resource's collaborators change its superblock: the change is applied to the superblock
 * as it is when the metadata lock is held, so concurrent changes (the applier's progress, a
 * resync's end) never undo each other. Never called for a resource that is down; ignored if it is.
 */
@FunctionalInterface
interface SuperblockWriter {
    void persist(UnaryOperator<Superblock> change);
}
