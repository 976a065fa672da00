package io.jrbd.replicator.generation;

/**
 * The rule of DRBD's {@code drbd_uuid_compare} that decided, with the number DRBD 8.4 logs
 * ({@code uuid_compare()=N by rule R}) and a name in the style of DRBD 9's {@code rule=}.
 * Names DRBD 9 uses are marked "DRBD 9"; the others are jrbd's.
 *
 * <p>DRBD's rules are written from the deciding node's side: what one node logs as rule 50
 * ("my current is the peer's bitmap generation") the other logs as rule 70. {@link #mirror()}
 * gives the peer's rule; rules about both sides mirror to themselves.
 */
public enum Rule {
    /** Both current generations 0. DRBD 9: just-created-both. */
    JUST_CREATED_BOTH(10, "just-created-both"),
    /** My current generation is 0: full sync target. DRBD 9: just-created-self. */
    JUST_CREATED_SELF(20, "just-created-self"),
    /** The peer's current generation is 0: full sync source. DRBD 9: just-created-peer. */
    JUST_CREATED_PEER(30, "just-created-peer"),
    /**
     * Same current; my bitmap generation set, the peer's clear, and the peer's history shows it
     * finished the resync I was source of: I missed "resync finished" (DRBD 9:
     * sync-source-missed-finish). I am source; my generations are corrected
     * ({@link GenerationRules#repair}).
     */
    SOURCE_MISSED_FINISH(34, "sync-source-missed-finish"),
    /** The mirror of 34: the peer was my source and missed "resync finished"; I am target. */
    PEER_SOURCE_MISSED_FINISH(35, "sync-source-peer-missed-finish"),
    /** Same current; my bitmap generation set, the peer's clear, history does not match: I am source. */
    SOURCE_BITMAP_SET(36, "sync-source-bitmap-set"),
    /** The mirror of 36: I am target. */
    PEER_SOURCE_BITMAP_SET(37, "sync-source-peer-bitmap-set"),
    /** Same current, no crashed Primary: a link hiccup, nothing to resync. */
    SAME_CURRENT(40, "reconnected"),
    /** Same current, a node crashed as Primary: its activity log extents are resynced from it. DRBD 9: crashed-primary. */
    CRASHED_PRIMARY(40, "crashed-primary"),
    /** Same current, a node crashed as Primary, and a node is Primary now: the current Primary is source. */
    CURRENT_PRIMARY(41, "crashed-primary-current-primary"),
    /** My current is the peer's bitmap generation: bitmap target. DRBD 9: bitmap-peer. */
    BITMAP_PEER(50, "bitmap-peer"),
    /** My current is the peer's newest history and the peer's sync generation never reached me: bitmap target. */
    SYNC_GENERATION_LOST_PEER(51, "sync-generation-lost-peer"),
    /** My current is in the peer's history: full sync target. DRBD 9: history-peer. */
    HISTORY_PEER(60, "history-peer"),
    /** My bitmap generation is the peer's current: bitmap source. DRBD 9: bitmap-self. */
    BITMAP_SELF(70, "bitmap-self"),
    /** The peer's current is my newest history and my sync generation never reached it: bitmap source; mine is undone. */
    SYNC_GENERATION_LOST_SELF(71, "sync-generation-lost-self"),
    /** The peer's current is in my history: full sync source. DRBD 9: history-self. */
    HISTORY_SELF(80, "history-self"),
    /** Both bitmap generations equal and non-zero, currents differ: split brain. DRBD 9: bitmap-both. */
    BITMAP_BOTH(90, "bitmap-both"),
    /**
     * jrbd only: each side descends from the other (rule 50/51/60 and rule 70/71/80 both hold),
     * which only a reused generation or damaged metadata can produce. DRBD would take whichever
     * rule it checks first; jrbd refuses to guess and calls it an unrecoverable split brain.
     */
    CONFLICTING_ANCESTRY(95, "conflicting-ancestry"),
    /** A common ancestor only among the older generations: split brain, not auto-recoverable. DRBD 9: history-both. */
    HISTORY_BOTH(100, "history-both"),
    /** Nothing in common. DRBD 8.4 logs this as rule 100 too, followed by "Unrelated data, aborting!". */
    UNRELATED_DATA(100, "unrelated-data");

    private final int number;
    private final String ruleName;

    Rule(int number, String ruleName) {
        this.number = number;
        this.ruleName = ruleName;
    }

    /** The number DRBD 8.4 logs. */
    public int number() {
        return number;
    }

    /** The name logged after the number. */
    public String ruleName() {
        return ruleName;
    }

    /** The rule the peer decides by for the same pair. */
    public Rule mirror() {
        return switch (this) {
            case JUST_CREATED_SELF -> JUST_CREATED_PEER;
            case JUST_CREATED_PEER -> JUST_CREATED_SELF;
            case SOURCE_MISSED_FINISH -> PEER_SOURCE_MISSED_FINISH;
            case PEER_SOURCE_MISSED_FINISH -> SOURCE_MISSED_FINISH;
            case SOURCE_BITMAP_SET -> PEER_SOURCE_BITMAP_SET;
            case PEER_SOURCE_BITMAP_SET -> SOURCE_BITMAP_SET;
            case BITMAP_PEER -> BITMAP_SELF;
            case BITMAP_SELF -> BITMAP_PEER;
            case SYNC_GENERATION_LOST_PEER -> SYNC_GENERATION_LOST_SELF;
            case SYNC_GENERATION_LOST_SELF -> SYNC_GENERATION_LOST_PEER;
            case HISTORY_PEER -> HISTORY_SELF;
            case HISTORY_SELF -> HISTORY_PEER;
            default -> this;
        };
    }

    /** {@code rule 50 (bitmap-peer)}. */
    @Override
    public String toString() {
        return "rule " + number + " (" + ruleName + ")";
    }
}
