package io.jrbd.replicator.generation;

/**
 * What a connect decides, from the deciding node's point of view ("SOURCE": this node sends).
 * {@link #mirror()} is what the peer decides about the same pair.
 *
 * <p>"Bitmap" outcomes resync the blocks set in either node's bitmap (the two bitmaps are
 * merged first, as DRBD's bitmap exchange does); "full" outcomes set every bit first.
 */
public enum SyncDecision {
    /** Same data: no resync (rule 40). */
    IN_SYNC,
    /** Both metadata just created (rule 10): no resync and no source until {@code primary --force} on one node. */
    BOTH_JUST_CREATED,
    /**
     * Both disks Inconsistent: no node may be a source, so no resync starts; an administrator
     * runs {@code primary --force} on the node whose data is to be kept.
     */
    NO_CONSISTENT_SOURCE,
    /**
     * Same current generation after a Primary crashed (rules 40, 41): resync, from this node, the
     * blocks its bitmap names, which hold the crashed Primary's activity log extents (set at attach).
     */
    IN_SYNC_AFTER_PRIMARY_CRASH_SOURCE,
    /** The mirror of {@link #IN_SYNC_AFTER_PRIMARY_CRASH_SOURCE}: this node receives. */
    IN_SYNC_AFTER_PRIMARY_CRASH_TARGET,
    /** This node is SyncSource, resyncing only what the bitmaps say. */
    BITMAP_SOURCE,
    /** This node is SyncTarget, bitmap-based. */
    BITMAP_TARGET,
    /** This node is SyncSource of a full sync. */
    FULL_SOURCE,
    /** This node is SyncTarget of a full sync. */
    FULL_TARGET,
    /**
     * Split brain with a common parent (rule 90: both bitmaps track the same generation): both
     * go StandAlone, nothing is overwritten; recoverable by a bitmap-based resync once a victim
     * is chosen ({@code --discard-my-data} or an after-split-brain policy).
     */
    SPLIT_BRAIN,
    /**
     * Split brain whose common ancestor is only in the histories (rule 100), or that cannot be
     * ordered (rule 41 with both Primary, jrbd's rule 95): StandAlone; resolving it costs a full sync.
     */
    SPLIT_BRAIN_UNRECOVERABLE,
    /** Nothing in common: "Unrelated data, aborting!", refuse to connect (StandAlone). */
    UNRELATED,
    /** This node is a consistent Primary and would become SyncTarget: refused (DRBD's {@code rr-conflict disconnect}). */
    REFUSED_PRIMARY_WOULD_BECOME_TARGET,
    /** The peer is a consistent Primary and would become SyncTarget of this node: refused. */
    REFUSED_PEER_PRIMARY_WOULD_BECOME_TARGET;

    /** The peer's outcome for the same pair: SOURCE and TARGET swap, the rest stay. */
    public SyncDecision mirror() {
        return switch (this) {
            case IN_SYNC_AFTER_PRIMARY_CRASH_SOURCE -> IN_SYNC_AFTER_PRIMARY_CRASH_TARGET;
            case IN_SYNC_AFTER_PRIMARY_CRASH_TARGET -> IN_SYNC_AFTER_PRIMARY_CRASH_SOURCE;
            case BITMAP_SOURCE -> BITMAP_TARGET;
            case BITMAP_TARGET -> BITMAP_SOURCE;
            case FULL_SOURCE -> FULL_TARGET;
            case FULL_TARGET -> FULL_SOURCE;
            case REFUSED_PRIMARY_WOULD_BECOME_TARGET -> REFUSED_PEER_PRIMARY_WOULD_BECOME_TARGET;
            case REFUSED_PEER_PRIMARY_WOULD_BECOME_TARGET -> REFUSED_PRIMARY_WOULD_BECOME_TARGET;
            default -> this;
        };
    }

    /** This node becomes SyncSource. */
    public boolean isSource() {
        return this == IN_SYNC_AFTER_PRIMARY_CRASH_SOURCE || this == BITMAP_SOURCE || this == FULL_SOURCE;
    }

    /** This node becomes SyncTarget. */
    public boolean isTarget() {
        return this == IN_SYNC_AFTER_PRIMARY_CRASH_TARGET || this == BITMAP_TARGET || this == FULL_TARGET;
    }

    /** A resync that sets every bit first. */
    public boolean isFullSync() {
        return this == FULL_SOURCE || this == FULL_TARGET;
    }

    /** Either kind of split brain. */
    public boolean isSplitBrain() {
        return this == SPLIT_BRAIN || this == SPLIT_BRAIN_UNRECOVERABLE;
    }

    /**
     * Whether the connection is kept. False: both nodes drop to StandAlone and nothing is
     * written (split brain, unrelated data, a refused Primary).
     */
    public boolean connects() {
        return !isSplitBrain() && this != UNRELATED && this != REFUSED_PRIMARY_WOULD_BECOME_TARGET
                && this != REFUSED_PEER_PRIMARY_WOULD_BECOME_TARGET;
    }
}
