package io.jrbd.replicator.generation;

import io.jrbd.metadata.md.DiskState;
import java.util.Objects;

/**
 * What the connect-time decision knows about one side: its generations and the flags DRBD's
 * handshake uses. The local side is built from the superblock and the engine's state; the
 * peer's from what it sent at connect.
 *
 * @param name           the node's name; the two sides must differ (the both-crashed tie-break
 *                       of rule 40 uses it, as DRBD uses {@code RESOLVE_CONFLICTS})
 * @param generations    the node's generation identifiers
 * @param disk           the node's disk state; must be {@code Inconsistent} or better (a node
 *                       without a disk takes no part in the resync decision)
 * @param primary        the node is Primary now
 * @param crashedPrimary the node was Primary when it last stopped uncleanly and no resync has
 *                       completed since (DRBD's runtime {@code CRASHED_PRIMARY}): the
 *                       superblock's {@code CRASHED_PRIMARY} flag <em>as found at attach</em>, not
 *                       the flag a running Primary keeps set on disk
 * @param discardMyData  the node connects with {@code --discard-my-data}: it volunteers to be
 *                       the SyncTarget of a split brain
 */
public record NodeView(String name, Generations generations, DiskState disk, boolean primary, boolean crashedPrimary,
        boolean discardMyData) {

    public NodeView {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(generations, "generations");
        Objects.requireNonNull(disk, "disk");
        if (disk.code() < DiskState.INCONSISTENT.code()) {
            throw new IllegalArgumentException("node " + name + " has disk state " + disk
                    + ": the resync decision needs an attached disk (Inconsistent or better)");
        }
    }

    /** A Secondary with the given generations and disk, no flags. */
    public static NodeView secondary(String name, Generations generations, DiskState disk) {
        return new NodeView(name, generations, disk, false, false, false);
    }

    public NodeView withPrimary(boolean newPrimary) {
        return new NodeView(name, generations, disk, newPrimary, crashedPrimary, discardMyData);
    }

    public NodeView withCrashedPrimary(boolean newCrashedPrimary) {
        return new NodeView(name, generations, disk, primary, newCrashedPrimary, discardMyData);
    }

    public NodeView withDiscardMyData(boolean newDiscardMyData) {
        return new NodeView(name, generations, disk, primary, crashedPrimary, newDiscardMyData);
    }

    public NodeView withDisk(DiskState newDisk) {
        return new NodeView(name, generations, newDisk, primary, crashedPrimary, discardMyData);
    }

    public NodeView withGenerations(Generations newGenerations) {
        return new NodeView(name, newGenerations, disk, primary, crashedPrimary, discardMyData);
    }

    /** Outdated, Consistent or UpToDate: DRBD's {@code disk > D_INCONSISTENT}. */
    public boolean consistent() {
        return disk.code() > DiskState.INCONSISTENT.code();
    }

    /** Primary with Consistent or UpToDate data: DRBD never makes it a SyncTarget silently. */
    public boolean consistentPrimary() {
        return primary && disk.code() >= DiskState.CONSISTENT.code();
    }

    /** For the connect log line: {@code alpha CUR:BM:H1:H2:H3:H4 UpToDate Primary crashed-primary}. */
    public String describe() {
        return name + " " + generations + " " + disk + (primary ? " Primary" : " Secondary")
                + (crashedPrimary ? " crashed-primary" : "") + (discardMyData ? " discard-my-data" : "");
    }
}
