package io.jrbd.replicator.config;

/**
 * The {@code [disk]} settings of a resource other than the resync controller ({@link ResyncOptions}).
 *
 * <pre>
 * key         default    limits
 * al-extents  1237       7..65534 (the metadata sets its own upper bound when it is attached)
 * fencing     dont-care  dont-care, resource-only, resource-and-stonith (needs protocol B or C)
 * </pre>
 *
 * @param alExtents  the activity log's hot extents (4 MiB each): what a crashed Primary resyncs
 * @param fencing    what a Primary does when it loses its peer
 */
public record DiskOptions(int alExtents, Fencing fencing) {
    public static final String KEY_AL_EXTENTS = "disk.al-extents";
    public static final String KEY_FENCING = "disk.fencing";

    public static final int DEFAULT_AL_EXTENTS = 1237;
    public static final int MIN_AL_EXTENTS = 7;
    public static final int MAX_AL_EXTENTS = 65534;

    public static final DiskOptions DEFAULTS = new DiskOptions(DEFAULT_AL_EXTENTS, Fencing.DONT_CARE);

    /** {@code fencing}, as DRBD's. */
    public enum Fencing {
        /** Do nothing to the peer. DRBD's default. */
        DONT_CARE("dont-care"),
        /** A Primary that loses its peer runs {@code fence-peer} to outdate it. */
        RESOURCE_ONLY("resource-only"),
        /** As resource-only, and I/O is suspended until {@code fence-peer} succeeds. */
        RESOURCE_AND_STONITH("resource-and-stonith");

        private final String spelling;

        Fencing(String spelling) {
            this.spelling = spelling;
        }

        /** The word in the resource file. */
        public String spelling() {
            return spelling;
        }

        /** The policy spelt exactly {@code text}; anything else throws {@link IllegalArgumentException} naming the text. */
        public static Fencing parse(String text) {
            return Keywords.parse(values(), Fencing::spelling, text);
        }
    }

    public DiskOptions {
        checkExtents(KEY_AL_EXTENTS, alExtents);
        if (fencing == null) {
            throw new ConfigException(KEY_FENCING, "missing");
        }
    }

    static void checkExtents(String key, int extents) {
        if (extents < MIN_AL_EXTENTS || extents > MAX_AL_EXTENTS) {
            throw new ConfigException(key, "'" + extents + "' is out of range " + MIN_AL_EXTENTS + ".." + MAX_AL_EXTENTS);
        }
    }
}
