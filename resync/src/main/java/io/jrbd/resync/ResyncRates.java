package io.jrbd.resync;

import java.time.Duration;
import java.util.Objects;

/**
 * How fast a resync may go, in bytes per second: DRBD's {@code resync-rate}, {@code c-min-rate},
 * {@code c-max-rate}, {@code c-fill-target} and {@code c-plan-ahead}, validated when built.
 *
 * <p>Two forms of control, as in DRBD:
 * <ul>
 *   <li><b>fixed</b> ({@code dynamic = false}, DRBD's {@code c-plan-ahead 0}): resync goes at
 *       {@code targetRate};
 *   <li><b>dynamic</b> (the default): the controller keeps {@code fillTargetBytes} of resync data
 *       in flight, planning its corrections {@code planAhead} ahead, and starts from
 *       {@code targetRate}. Only DRBD's fill-target form is implemented: DRBD's delay-target form
 *       ({@code c-fill-target 0}, then {@code c-delay-target}) is not, so a dynamic controller
 *       needs a fill target above zero.
 * </ul>
 * In both forms {@code maxRate} is a ceiling that is never exceeded, and while the application
 * is busy resync drops to {@code minRate} (DRBD's {@code c-min-rate} throttle). DRBD's
 * {@code c-min-rate 0} ("never throttle") is spelt here as {@code minRate == maxRate}.
 *
 * @param targetRate      {@code resync-rate}: the fixed rate, and the dynamic controller's start
 * @param minRate         {@code c-min-rate}: the rate resync drops to while the application is busy
 * @param maxRate         {@code c-max-rate}: the ceiling, in both forms
 * @param dynamic         whether the fill-target controller runs ({@code c-plan-ahead > 0})
 * @param fillTargetBytes {@code c-fill-target}: resync bytes to keep in flight (dynamic form)
 * @param planAhead       {@code c-plan-ahead}: the controller's horizon, whole 100 ms steps
 */
public record ResyncRates(
        long targetRate,
        long minRate,
        long maxRate,
        boolean dynamic,
        long fillTargetBytes,
        Duration planAhead) {

    /** DRBD's {@code resync-rate} default: 250 KiB/s. */
    public static final long DEFAULT_TARGET_RATE = 250 * Sizes.KIB;
    /** DRBD's {@code c-min-rate} default: 250 KiB/s. */
    public static final long DEFAULT_MIN_RATE = 250 * Sizes.KIB;
    /** DRBD's {@code c-max-rate} default: 102400 KiB/s. */
    public static final long DEFAULT_MAX_RATE = 100 * Sizes.MIB;
    /**
     * 1 MiB, the usual first step of DRBD resync tuning. DRBD's own default, 100 sectors
     * (50 KiB), is what keeps resync near 40 MB/s on fast links.
     */
    public static final long DEFAULT_FILL_TARGET = Sizes.MIB;
    /** DRBD's {@code c-plan-ahead} default: 20, in 0.1 s units. */
    public static final Duration DEFAULT_PLAN_AHEAD = Duration.ofSeconds(2);
    /** The controller's step, DRBD's {@code SLEEP_TIME} (HZ/10); {@code planAhead} is whole steps of it. */
    public static final Duration STEP = Duration.ofMillis(100);
    /** DRBD's {@code c-plan-ahead} maximum: 300, in 0.1 s units. */
    public static final Duration MAX_PLAN_AHEAD = Duration.ofSeconds(30);
    /** No rate above this: 1 TiB/s keeps every byte count of a step far from overflow. */
    public static final long MAX_RATE_LIMIT = Sizes.TIB;

    public ResyncRates {
        Objects.requireNonNull(planAhead, "c-plan-ahead");
        requirePositiveRate("resync-rate", targetRate);
        if (minRate <= 0) {
            throw new IllegalArgumentException("c-min-rate must be above 0 bytes/s, got " + minRate
                    + "; to never throttle resync for application I/O set it equal to c-max-rate");
        }
        if (maxRate <= 0) {
            throw new IllegalArgumentException("c-max-rate must be above 0 bytes/s, got " + maxRate
                    + " (DRBD's 0 = unlimited is not supported; give the link's speed)");
        }
        requirePositiveRate("c-min-rate", minRate);
        requirePositiveRate("c-max-rate", maxRate);
        if (minRate > maxRate) {
            throw new IllegalArgumentException("c-min-rate " + Sizes.rate(minRate) + " exceeds c-max-rate "
                    + Sizes.rate(maxRate));
        }
        if (targetRate > maxRate) {
            throw new IllegalArgumentException("resync-rate " + Sizes.rate(targetRate)
                    + " exceeds c-max-rate " + Sizes.rate(maxRate) + "; raise c-max-rate too");
        }
        if (fillTargetBytes < 0) {
            throw new IllegalArgumentException("c-fill-target must not be negative, got " + fillTargetBytes);
        }
        if (planAhead.isNegative()) {
            throw new IllegalArgumentException("c-plan-ahead must not be negative, got " + planAhead);
        }
        if (planAhead.compareTo(MAX_PLAN_AHEAD) > 0) {
            throw new IllegalArgumentException("c-plan-ahead " + planAhead + " exceeds the maximum "
                    + MAX_PLAN_AHEAD);
        }
        if (dynamic) {
            if (fillTargetBytes == 0) {
                throw new IllegalArgumentException("c-fill-target must be above 0 bytes for the dynamic"
                        + " controller, got 0 (DRBD's c-delay-target form is not implemented; use dynamic"
                        + " = false for a fixed resync-rate)");
            }
            if (planAhead.compareTo(STEP) < 0) {
                throw new IllegalArgumentException("c-plan-ahead must be at least " + STEP.toMillis()
                        + " ms for the dynamic controller, got " + planAhead.toMillis()
                        + " ms (DRBD's c-plan-ahead 0 means dynamic = false)");
            }
        }
    }

    /** The defaults above: dynamic control, 1 MiB in flight, planned 2 s ahead, 250 KiB/s to 100 MiB/s. */
    public static ResyncRates defaults() {
        return new ResyncRates(DEFAULT_TARGET_RATE, DEFAULT_MIN_RATE, DEFAULT_MAX_RATE, true,
                DEFAULT_FILL_TARGET, DEFAULT_PLAN_AHEAD);
    }

    /**
     * A fixed rate ({@code c-plan-ahead 0}), the other settings at their defaults; c-max-rate
     * rises to the rate if below it, and c-min-rate falls to it if above.
     */
    public static ResyncRates fixed(long rate) {
        requirePositiveRate("resync-rate", rate);
        return new ResyncRates(rate, Math.min(DEFAULT_MIN_RATE, rate), Math.max(DEFAULT_MAX_RATE, rate),
                false, DEFAULT_FILL_TARGET, Duration.ZERO);
    }

    /** The controller's horizon in 100 ms steps; 0 in the fixed form. */
    public int planSteps() {
        return dynamic ? (int) (planAhead.toNanos() / STEP.toNanos()) : 0;
    }

    private static void requirePositiveRate(String key, long rate) {
        if (rate <= 0) {
            throw new IllegalArgumentException(key + " must be above 0 bytes/s, got " + rate);
        }
        if (rate > MAX_RATE_LIMIT) {
            throw new IllegalArgumentException(key + " " + rate + " bytes/s exceeds the limit of "
                    + Sizes.rate(MAX_RATE_LIMIT));
        }
    }
}
