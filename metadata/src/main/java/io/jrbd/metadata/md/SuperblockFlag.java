package io.jrbd.metadata.md;

import java.util.ArrayList;
import java.util.List;

/** The bits of the superblock's flags word. A bit's position never changes once released. */
public enum SuperblockFlag {
    /** The local data is consistent (not mid-resync). */
    CONSISTENT(0),
    /** This node was Primary when the superblock was written. */
    WAS_PRIMARY(1),
    /** This node was Primary and did not stop cleanly. */
    CRASHED_PRIMARY(2),
    /** The peer is known to be Outdated. */
    PEER_OUTDATED(3),
    /** The next resync must be a full sync. */
    FULL_SYNC_NEEDED(4),
    /** The bitmap on disk was written by a clean stop: it is complete. */
    BITMAP_VALID(5),
    /**
     * The node was Primary when it lost its peer: of two Primaries after a split brain, it is
     * the older one ({@code discard-younger-primary}). Cleared when a resync or catch-up ends.
     */
    PRIMARY_AT_SPLIT(6);

    private final int bit;

    SuperblockFlag(int bit) {
        this.bit = bit;
    }

    public int bit() {
        return bit;
    }

    public int mask() {
        return 1 << bit;
    }

    public boolean isSetIn(int flags) {
        return (flags & mask()) != 0;
    }

    /** {@code flags} with this flag set or cleared. */
    public int applyTo(int flags, boolean set) {
        return set ? flags | mask() : flags & ~mask();
    }

    /** Every bit any flag uses. */
    public static int knownMask() {
        int mask = 0;
        for (SuperblockFlag flag : values()) {
            mask |= flag.mask();
        }
        return mask;
    }

    /** The names of the flags set in {@code flags}, in bit order; unknown bits as {@code bit7}. */
    public static List<String> names(int flags) {
        List<String> names = new ArrayList<>();
        for (SuperblockFlag flag : values()) {
            if (flag.isSetIn(flags)) {
                names.add(flag.name());
            }
        }
        int unknown = flags & ~knownMask();
        for (int bit = 0; bit < Integer.SIZE; bit++) {
            if ((unknown & (1 << bit)) != 0) {
                names.add("bit" + bit);
            }
        }
        return names;
    }
}
