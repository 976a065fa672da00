package io.jrbd.replicator.resource;

import io.jrbd.replicator.config.ResyncOptions;
import io.jrbd.replicator.engine.ResyncThrottle;
import io.jrbd.resync.ResyncRateController;
import io.jrbd.resync.ResyncRates;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The resync pipeline's {@link ResyncThrottle} over the rate controller, shared by the resync
 * driver and the application's write threads (the controller itself is single-threaded).
 *
 * <p>How the configuration maps: {@code c-plan-ahead 0} is the fixed form at
 * {@code resync-rate}; otherwise the dynamic form steers the resync data in flight toward
 * {@code c-fill-target}, or, when that is 0, toward a quarter second of {@code c-max-rate}
 * (jrbd's stand-in for DRBD's {@code c-delay-target}: the target acknowledges resync data
 * when it is durable, about every 100 ms, so less in flight would cap the rate below the maximum).
 */
final class RateThrottle implements ResyncThrottle {
    private static final long BLOCK = 4096;
    private static final long MAX_SLEEP_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    private ResyncRateController controller;

    RateThrottle(ResyncOptions o) {
        this.controller = controllerFor(o);
    }

    /** New settings ({@code jrbdadm adjust}); a pause stays in force. */
    synchronized void update(ResyncOptions o) {
        boolean paused = controller.paused();
        controller = controllerFor(o);
        if (paused) {
            controller.pause();
        }
    }

    private static ResyncRateController controllerFor(ResyncOptions o) {
        boolean dynamic = !o.planAhead().isZero();
        long fill = o.fillTarget() > 0 ? o.fillTarget() : Math.max(1L << 20, o.maxRate() / 4);
        long max = o.maxRate();
        long min = o.minRate() == 0 ? max : Math.min(o.minRate(), max); // c-min-rate 0: never throttled
        ResyncRates rates = new ResyncRates(Math.min(o.resyncRate(), max), min, max, dynamic, fill,
                dynamic ? o.planAhead() : ResyncRates.DEFAULT_PLAN_AHEAD);
        return new ResyncRateController(rates, System::nanoTime);
    }

    @Override
    public long acquire(long bytes) throws InterruptedException {
        while (true) {
            long wait;
            synchronized (this) {
                if (bytes == 0) {
                    if (!controller.paused()) {
                        return 0;
                    }
                    wait = MAX_SLEEP_NANOS;
                } else {
                    long granted = controller.permit(bytes);
                    long usable = granted >= bytes ? bytes : granted / BLOCK * BLOCK;
                    wait = controller.nanosUntilPermit(bytes);
                    if (usable > 0 && (usable == bytes || wait == 0 || usable >= BLOCK * 16)) {
                        controller.issued(usable);
                        return usable;
                    }
                }
            }
            LockSupport.parkNanos(Math.max(1_000_000, Math.min(wait, MAX_SLEEP_NANOS)));
            if (Thread.interrupted()) {
                throw new InterruptedException("resync throttle");
            }
        }
    }

    @Override
    public synchronized void applicationWrite(long bytes) {
        controller.applicationIo(bytes);
    }

    @Override
    public synchronized void acknowledged(long bytes) {
        // Holes travel as zeroing and cost no bandwidth: they were never issued, so never in flight.
        long inFlight = controller.inFlight();
        if (inFlight > 0) {
            controller.acknowledged(Math.min(bytes, inFlight));
        }
    }

    synchronized void pause() {
        controller.pause();
    }

    synchronized void resume() {
        controller.resume();
    }

    synchronized boolean paused() {
        return controller.paused();
    }

    /** The rate the controller allows now, bytes per second (for status). */
    synchronized long currentRate() {
        return controller.currentRate();
    }
}
