package io.jrbd.replicator.config;

import java.time.Duration;

/**
 * The resync rate controller, from {@code [disk]}, with DRBD's defaults and limits
 * ({@code drbd_limits.h}; DRBD counts in KiB, sectors and tenths of a second, jrbd in bytes and
 * durations). Rates are bytes per second.
 *
 * <pre>
 * key             default  limits
 * resync-rate     250K     1K..4G per second: the fixed rate, and the dynamic controller's first plan
 * c-plan-ahead    2s       0 (fixed rate at resync-rate) or 100ms..30s: the dynamic controller's horizon
 * c-fill-target   0        0..512M in flight; 0 = steer by c-delay-target (DRBD: 50K)
 * c-delay-target  1s       100ms..10s: the resync round trip to aim for
 * c-max-rate      100M     250K..4G per second
 * c-min-rate      250K     0..4G per second, &lt;= c-max-rate: resync is throttled to this while the
 *                          application does I/O (0 = never throttle)
 * </pre>
 *
 * @param resyncRate   the rate of a fixed-rate resync, and where a dynamic one starts
 * @param planAhead    the dynamic controller's planning horizon; zero = fixed rate
 * @param fillTarget   bytes the dynamic controller keeps in flight; 0 = steer by {@code delayTarget}
 * @param delayTarget  the round trip the dynamic controller aims for when {@code fillTarget} is 0
 * @param maxRate      the most the dynamic controller ever asks for
 * @param minRate      the rate a resync keeps while the application does I/O
 */
public record ResyncOptions(long resyncRate, Duration planAhead, long fillTarget, Duration delayTarget, long maxRate,
                            long minRate) {
    public static final String KEY_RESYNC_RATE = "disk.resync-rate";
    public static final String KEY_PLAN_AHEAD = "disk.c-plan-ahead";
    public static final String KEY_FILL_TARGET = "disk.c-fill-target";
    public static final String KEY_DELAY_TARGET = "disk.c-delay-target";
    public static final String KEY_MAX_RATE = "disk.c-max-rate";
    public static final String KEY_MIN_RATE = "disk.c-min-rate";

    public static final long DEFAULT_RESYNC_RATE = 250L << 10;
    public static final Duration DEFAULT_PLAN_AHEAD = Duration.ofSeconds(2);
    public static final long DEFAULT_FILL_TARGET = 0;
    public static final Duration DEFAULT_DELAY_TARGET = Duration.ofSeconds(1);
    public static final long DEFAULT_MAX_RATE = 100L << 20;
    public static final long DEFAULT_MIN_RATE = 250L << 10;

    public static final long MIN_RESYNC_RATE = 1L << 10;
    public static final long MAX_RATE_LIMIT = 4L << 30;
    public static final Duration MIN_PLAN_AHEAD = Duration.ofMillis(100);
    public static final Duration MAX_PLAN_AHEAD = Duration.ofSeconds(30);
    public static final long MAX_FILL_TARGET = 512L << 20;
    public static final Duration MIN_DELAY_TARGET = Duration.ofMillis(100);
    public static final Duration MAX_DELAY_TARGET = Duration.ofSeconds(10);
    public static final long MIN_MAX_RATE = 250L << 10;

    public static final ResyncOptions DEFAULTS = new ResyncOptions(DEFAULT_RESYNC_RATE, DEFAULT_PLAN_AHEAD,
            DEFAULT_FILL_TARGET, DEFAULT_DELAY_TARGET, DEFAULT_MAX_RATE, DEFAULT_MIN_RATE);

    public ResyncOptions {
        checkRate(KEY_RESYNC_RATE, resyncRate, MIN_RESYNC_RATE, "");
        if (planAhead == null) {
            throw new ConfigException(KEY_PLAN_AHEAD, "missing");
        }
        if (!planAhead.isZero() && (planAhead.compareTo(MIN_PLAN_AHEAD) < 0 || planAhead.compareTo(MAX_PLAN_AHEAD) > 0)) {
            throw new ConfigException(KEY_PLAN_AHEAD, "'" + Durations.format(planAhead) + "' is out of range "
                    + Durations.format(MIN_PLAN_AHEAD) + ".." + Durations.format(MAX_PLAN_AHEAD)
                    + " (or 0 for a fixed rate at resync-rate)");
        }
        if (fillTarget < 0 || fillTarget > MAX_FILL_TARGET) {
            throw new ConfigException(KEY_FILL_TARGET, Sizes.format(fillTarget) + " is out of range 0.."
                    + Sizes.format(MAX_FILL_TARGET) + " (0 = steer by c-delay-target)");
        }
        if (delayTarget == null) {
            throw new ConfigException(KEY_DELAY_TARGET, "missing");
        }
        if (delayTarget.compareTo(MIN_DELAY_TARGET) < 0 || delayTarget.compareTo(MAX_DELAY_TARGET) > 0) {
            throw new ConfigException(KEY_DELAY_TARGET, "'" + Durations.format(delayTarget) + "' is out of range "
                    + Durations.format(MIN_DELAY_TARGET) + ".." + Durations.format(MAX_DELAY_TARGET));
        }
        checkRate(KEY_MAX_RATE, maxRate, MIN_MAX_RATE, "");
        checkRate(KEY_MIN_RATE, minRate, 0, " (0 = never throttle)");
        if (minRate > maxRate) {
            throw new ConfigException(KEY_MIN_RATE, Sizes.formatRate(minRate) + " is more than " + KEY_MAX_RATE
                    + " (" + Sizes.formatRate(maxRate) + ")");
        }
    }

    /** Whether the controller is off and resync runs at {@link #resyncRate()} ({@code c-plan-ahead = 0}). */
    public boolean fixedRate() {
        return planAhead.isZero();
    }

    @Override
    public String toString() {
        return "ResyncOptions[resyncRate=" + Sizes.formatRate(resyncRate) + ", planAhead=" + Durations.format(planAhead)
                + ", fillTarget=" + Sizes.format(fillTarget) + ", delayTarget=" + Durations.format(delayTarget)
                + ", maxRate=" + Sizes.formatRate(maxRate) + ", minRate=" + Sizes.formatRate(minRate) + "]";
    }

    private static void checkRate(String key, long rate, long min, String note) {
        if (rate < min || rate > MAX_RATE_LIMIT) {
            throw new ConfigException(key, Sizes.formatRate(rate) + " is out of range "
                    + (min == 0 ? "0" : Sizes.formatRate(min)) + ".." + Sizes.formatRate(MAX_RATE_LIMIT) + note);
        }
    }
}
