package io.jrbd.nbd.wan;

import jnr.ffi.LibraryLoader;
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
    private static final int PR_SET_TIMERSLACK = 29;
    private static final long SLACK_NANOS = 1;

    /** The one libc function needed. */
    public interface LibC {
        int prctl(int option, long arg2, long arg3, long arg4, long arg5);
    }

    private static final LibC LIBC = load();
    private static volatile boolean warned;

    private TimerSlack() {
    }

    private static LibC load() {
        if (!System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).contains("linux")) {
            return null;
        }
        try {
            return LibraryLoader.create(LibC.class).load("c");
        } catch (Throwable e) {
            LOG.debug("prctl not available: {}", e.toString());
            return null;
        }
    }

    /** Sets this thread's timer slack to 1 ns; returns whether it could. */
    static boolean minimise() {
        int rc = LIBC == null ? -1 : LIBC.prctl(PR_SET_TIMERSLACK, SLACK_NANOS, 0, 0, 0);
        if (rc != 0 && !warned) {
            warned = true;
            LOG.info("cannot lower the timer slack of event-loop threads (prctl rc {}): delays may run ~50 us late", rc);
        }
        return rc == 0;
    }
}
