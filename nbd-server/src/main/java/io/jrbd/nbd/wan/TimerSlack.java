package io.jrbd.nbd.wan;

import io.jrbd.metadata.store.NativeIo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Linux rounds the timeouts of ordinary threads up by their "timer slack", 50 us by default, so an event loop
 * asked to wake in 100 us wakes in 150 us or more. {@link #minimise()} sets the calling thread's slack to 1 ns with
 * {@code prctl(PR_SET_TIMERSLACK)}; the delays of a {@link WanProxy} then come within a few tens of microseconds.
 * Where that is not possible (no libc binding, not Linux) it does nothing and says so once.
 */
final class TimerSlack {
    private static final Logger LOG = LoggerFactory.getLogger(TimerSlack.class);
    private static volatile boolean warned;

    private TimerSlack() {
    }

    /** Sets this thread's timer slack to 1 ns; returns whether it could. */
    static boolean minimise() {
        boolean done;
        try {
            done = NativeIo.minimiseTimerSlack();
        } catch (Throwable e) {
            done = false;
        }
        if (!done && !warned) {
            warned = true;
            LOG.info("cannot lower the timer slack of event-loop threads: delays may run ~50 us late");
        }
        return done;
    }
}
