package io.jrbd.replicator.config;

/**
 * What the Primary does when the link cannot keep up, from {@code [net]}: keep waiting
 * ({@code block}), or stop shipping writes and resync later ({@code pull-ahead}: the peer goes
 * Behind, this node Ahead, as in DRBD). {@code pull-ahead} needs protocol A
 * ({@link ResourceConfig} checks).
 *
 * <pre>
 * key                 default              limits
 * on-congestion       block                block, pull-ahead
 * congestion-fill     0 (off)              0..10G: go Ahead when this much is in flight
 * congestion-extents  = disk.al-extents    7..65534: go Ahead when this many AL extents are active
 *                                          (only matters when smaller than al-extents)
 * </pre>
 *
 * @param onCongestion  block or pull-ahead
 * @param fill          bytes in flight that make the Primary go Ahead; 0 = no limit
 * @param extents       active activity-log extents that make the Primary go Ahead
 */
public record CongestionOptions(OnCongestion onCongestion, long fill, int extents) {
    public static final String KEY_ON_CONGESTION = "net.on-congestion";
    public static final String KEY_FILL = "net.congestion-fill";
    public static final String KEY_EXTENTS = "net.congestion-extents";

    public static final long MAX_FILL = 10L << 30;

    /** {@code on-congestion}. */
    public enum OnCongestion {
        /** Writers wait for room in the send buffer. DRBD's default. */
        BLOCK("block"),
        /** Past a congestion limit, stop shipping writes, mark them out of sync, resync when the link drains. */
        PULL_AHEAD("pull-ahead");

        private final String spelling;

        OnCongestion(String spelling) {
            this.spelling = spelling;
        }

        /** The word in the resource file. */
        public String spelling() {
            return spelling;
        }

        /** "block" or "pull-ahead", exactly; anything else throws {@link IllegalArgumentException} naming the text. */
        public static OnCongestion parse(String text) {
            return Keywords.parse(values(), OnCongestion::spelling, text);
        }
    }

    public CongestionOptions {
        if (onCongestion == null) {
            throw new ConfigException(KEY_ON_CONGESTION, "missing");
        }
        if (fill < 0 || fill > MAX_FILL) {
            throw new ConfigException(KEY_FILL, Sizes.format(fill) + " is out of range 0.." + Sizes.format(MAX_FILL) + " (0 = off)");
        }
        DiskOptions.checkExtents(KEY_EXTENTS, extents);
    }

    /** DRBD's defaults: block; no fill limit; the extent limit equal to {@code alExtents}. */
    public static CongestionOptions defaults(int alExtents) {
        return new CongestionOptions(OnCongestion.BLOCK, 0, alExtents);
    }

    /** Whether a congestion limit is in force: {@code pull-ahead}, otherwise writers simply wait. */
    public boolean pullAhead() {
        return onCongestion == OnCongestion.PULL_AHEAD;
    }
}
