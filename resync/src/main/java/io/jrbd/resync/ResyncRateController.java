package io.jrbd.resync;

import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * Decides how many resync bytes may be issued now, as DRBD's resync controller does
 * ({@code drbd_rs_controller}, {@code drbd_rs_c_min_rate_throttle}). It owns no thread and no
 * timer: the resync loop asks it, and it works out what the time passed since the last question
 * allows. One thread uses it; every {@code nowNanos} comes from the clock it was built with.
 *
 * <p><b>Fixed form</b> ({@link ResyncRates#dynamic()} false): a token bucket filling at
 * {@code resync-rate}, holding at most one 100 ms step of it (never less than
 * {@link #MIN_BURST} or one second of the rate, whichever is smaller), empty at the start.
 *
 * <p><b>Dynamic form</b>: every 100 ms step the controller compares the resync data in flight
 * ({@link #issued} minus {@link #acknowledged}) with {@code c-fill-target}, spreads the
 * difference (less what is already planned) evenly over the {@code c-plan-ahead} steps of a
 * plan, and allows, for the step starting now, what was acknowledged in the step just ended
 * plus this step's share of the plan. The allowance comes evenly over the step, not in one
 * burst at its start, so what is in flight when the next step measures it is the pipe's steady
 * fill. What a step leaves unused (the part of a block the caller could not take) carries
 * over, as far as the step's ceiling leaves room; otherwise the loss would hold the fill below
 * its target for good. With nothing in flight and nothing acknowledged (the start)
 * it aims for two {@code resync-rate}s over the plan instead, so the first steps go at about
 * {@code resync-rate}.
 *
 * <p><b>Both forms</b>: a step never allows more than {@code c-max-rate}; and while the
 * application is busy (more than {@link #BUSY_BYTES} of application I/O in the last
 * {@link #BUSY_WINDOW}), no more than {@code c-min-rate}. While paused ({@code pause-sync})
 * nothing is allowed.
 *
 * <p>{@link #permit} only answers; {@link #issued} spends. A caller that issues in blocks
 * rounds the permit down to its block and, when that is 0, waits {@link #nanosUntilPermit}.
 */
public final class ResyncRateController {
    /** Application I/O within {@link #BUSY_WINDOW} above which the application is busy: DRBD's 64 sectors. */
    public static final long BUSY_BYTES = 32 * Sizes.KIB;
    /** How far back application I/O counts. */
    public static final Duration BUSY_WINDOW = Duration.ofMillis(100);
    /** The fixed form's bucket holds at least this much, so one resync request of it always fits. */
    public static final long MIN_BURST = 64 * Sizes.KIB;

    private static final int BUSY_SLOTS = 10;

    private final ResyncRates rates;
    private final LongSupplier clock;
    private final long stepNanos = ResyncRates.STEP.toNanos();
    private final SlidingWindow applicationIo;
    private final long[] plan;

    private long lastNanos;
    private double tokens;
    private boolean paused;
    private boolean busy;
    private long issued;
    private long acknowledged;

    private int planHead;
    private long planTotal;
    private long nextStepNanos;
    private long ackedThisStep;
    private long stepBudget;

    public ResyncRateController(ResyncRates rates, LongSupplier nanoClock) {
        this.rates = Objects.requireNonNull(rates, "rates");
        this.clock = Objects.requireNonNull(nanoClock, "nanoClock");
        long now = nanoClock.getAsLong();
        this.applicationIo = new SlidingWindow(BUSY_WINDOW.toNanos(), BUSY_SLOTS, now);
        this.plan = new long[rates.planSteps()];
        restart(now);
    }

    public ResyncRates rates() {
        return rates;
    }

    /**
     * Bytes of resync that may be issued now, at most {@code wantedBytes}; 0 means wait (see
     * {@link #nanosUntilPermit}). Spends nothing: {@link #issued} does.
     */
    public long permit(long wantedBytes, long nowNanos) {
        requirePositive("wantedBytes", wantedBytes);
        advance(nowNanos);
        if (paused || tokens < 1) {
            return 0;
        }
        return Math.min(wantedBytes, (long) tokens);
    }

    public long permit(long wantedBytes) {
        return permit(wantedBytes, clock.getAsLong());
    }

    /**
     * 0 if {@link #permit} would now grant {@code wantedBytes}, or as much as ever comes at once
     * (the bucket's size in the fixed form, the step's whole allowance in the dynamic one);
     * otherwise how long to wait before asking again: until the bucket holds it (fixed form) or
     * until the next step (dynamic form). {@link Long#MAX_VALUE} while paused.
     */
    public long nanosUntilPermit(long wantedBytes, long nowNanos) {
        requirePositive("wantedBytes", wantedBytes);
        advance(nowNanos);
        if (paused) {
            return Long.MAX_VALUE;
        }
        if (rates.dynamic()) {
            double need = Math.max(1, Math.min(wantedBytes, stepBudget));
            if (tokens >= need) {
                return 0;
            }
            long untilStep = nextStepNanos - lastNanos;
            if (stepBudget == 0) {
                return untilStep;
            }
            long accrued = (long) Math.ceil((need - tokens) * stepNanos / stepBudget);
            return Math.max(1, Math.min(untilStep, accrued));
        }
        long rate = fixedRate();
        double need = Math.min(wantedBytes, burst(rate));
        if (tokens >= need) {
            return 0;
        }
        return Math.max(1, (long) Math.ceil((need - tokens) * 1e9 / rate));
    }

    public long nanosUntilPermit(long wantedBytes) {
        return nanosUntilPermit(wantedBytes, clock.getAsLong());
    }

    /** Resync bytes sent (requested) to the peer: spends the permit, counts as in flight. */
    public void issued(long bytes) {
        requireNotNegative("issued bytes", bytes);
        issued += bytes;
        tokens -= bytes;
    }

    /** Resync bytes the peer has written and acknowledged: no longer in flight. */
    public void acknowledged(long bytes) {
        requireNotNegative("acknowledged bytes", bytes);
        if (bytes > inFlight()) {
            throw new IllegalStateException("acknowledged " + bytes + " bytes of resync but only "
                    + inFlight() + " are in flight (issued " + issued + ", acknowledged " + acknowledged + ")");
        }
        acknowledged += bytes;
        ackedThisStep += bytes;
    }

    /** Application I/O seen on the device (not resync's own): while it is busy, resync slows to c-min-rate. */
    public void applicationIo(long bytes, long nowNanos) {
        requireNotNegative("application I/O bytes", bytes);
        applicationIo.add(bytes, Math.max(nowNanos, lastNanos));
        advance(nowNanos);
    }

    public void applicationIo(long bytes) {
        applicationIo(bytes, clock.getAsLong());
    }

    /** {@code pause-sync}: nothing is permitted until {@link #resume}. Data in flight may still be acknowledged. */
    public void pause() {
        paused = true;
        tokens = 0;
        stepBudget = 0;
    }

    /** {@code resume-sync}: starts afresh from now, the plan empty, as at the start of a resync. */
    public void resume() {
        if (paused) {
            paused = false;
            restart(Math.max(clock.getAsLong(), lastNanos));
        }
    }

    public boolean paused() {
        return paused;
    }

    /** Whether application I/O held resync to c-min-rate when last asked. */
    public boolean throttled() {
        return busy;
    }

    /**
     * The rate allowed when last asked, bytes/s, for status: the fixed form's rate, or the
     * dynamic form's allowance for the current step per second; 0 while paused.
     */
    public long currentRate() {
        if (paused) {
            return 0;
        }
        if (rates.dynamic()) {
            return (long) (stepBudget * 1e9 / stepNanos);
        }
        return fixedRate();
    }

    /** Resync bytes issued and not yet acknowledged. */
    public long inFlight() {
        return issued - acknowledged;
    }

    public long issuedBytes() {
        return issued;
    }

    public long acknowledgedBytes() {
        return acknowledged;
    }

    private void restart(long nowNanos) {
        lastNanos = nowNanos;
        tokens = 0;
        stepBudget = 0;
        Arrays.fill(plan, 0);
        planHead = 0;
        planTotal = 0;
        ackedThisStep = 0;
        nextStepNanos = nowNanos;
    }

    private void advance(long nowNanos) {
        long now = Math.max(nowNanos, lastNanos);
        busy = applicationIo.sum(now) > BUSY_BYTES;
        if (!paused) {
            if (rates.dynamic()) {
                advanceSteps(now);
            } else {
                long rate = fixedRate();
                tokens = Math.min(burst(rate), tokens + rate * ((now - lastNanos) / 1e9));
            }
        }
        lastNanos = now;
    }

    /** Runs the steps that began since the last question, and paces the current one up to now. */
    private void advanceSteps(long now) {
        long behind = (now - nextStepNanos) / stepNanos;
        if (behind > plan.length) {
            nextStepNanos += (behind - plan.length) * stepNanos;
        }
        long cursor = lastNanos;
        while (nextStepNanos <= now) {
            tokens += stepBudget * (double) (nextStepNanos - cursor) / stepNanos;
            cursor = nextStepNanos;
            step();
            nextStepNanos += stepNanos;
        }
        if (busy) {
            long ceiling = bytesPerStep(rates.minRate());
            stepBudget = Math.min(stepBudget, ceiling);
            tokens = Math.min(tokens, ceiling);
        }
        tokens += stepBudget * (double) (now - cursor) / stepNanos;
    }

    /** One 100 ms step of the dynamic controller: sets this step's allowance. */
    private void step() {
        long acked = ackedThisStep;
        ackedThisStep = 0;
        long inFlight = inFlight();
        int steps = plan.length;
        long want = inFlight == 0 && acked == 0
                ? 2 * bytesPerStep(rates.targetRate()) * steps
                : rates.fillTargetBytes();
        long perStep = (want - inFlight - planTotal) / steps;
        for (int i = 0; i < steps; i++) {
            plan[i] += perStep;
        }
        planTotal += perStep * steps;
        long correction = plan[planHead];
        plan[planHead] = 0;
        planHead = planHead + 1 == steps ? 0 : planHead + 1;
        planTotal -= correction;
        long ceiling = bytesPerStep(busy ? rates.minRate() : rates.maxRate());
        stepBudget = Math.max(0, Math.min(ceiling, acked + correction));
        tokens = Math.min(tokens, ceiling - stepBudget);
    }

    private long fixedRate() {
        return Math.min(rates.targetRate(), busy ? rates.minRate() : rates.maxRate());
    }

    private long burst(long rate) {
        return Math.max(bytesPerStep(rate), Math.min(MIN_BURST, rate));
    }

    private long bytesPerStep(long rate) {
        return (long) (rate * (stepNanos / 1e9));
    }

    private static void requirePositive(String what, long value) {
        if (value <= 0) {
            throw new IllegalArgumentException(what + " must be above 0, got " + value);
        }
    }

    private static void requireNotNegative(String what, long value) {
        if (value < 0) {
            throw new IllegalArgumentException(what + " must not be negative, got " + value);
        }
    }
}
