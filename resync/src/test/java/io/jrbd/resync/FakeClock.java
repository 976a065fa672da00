package io.jrbd.resync;

import java.time.Duration;
import java.util.function.LongSupplier;

/** A nanosecond clock that moves only when a test moves it. */
final class FakeClock implements LongSupplier {
    private long nanos;

    FakeClock(long startNanos) {
        this.nanos = startNanos;
    }

    @Override
    public long getAsLong() {
        return nanos;
    }

    long nanos() {
        return nanos;
    }

    void advance(long deltaNanos) {
        nanos += deltaNanos;
    }

    void advance(Duration delta) {
        advance(delta.toNanos());
    }
}
