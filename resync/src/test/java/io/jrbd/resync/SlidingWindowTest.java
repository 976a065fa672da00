package io.jrbd.resync;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class SlidingWindowTest {
    private static final long MS = 1_000_000;

    @Test
    void shouldForgetWhatFellOutOfTheWindow() {
        SlidingWindow window = new SlidingWindow(100 * MS, 10, 1000 * MS);

        window.add(5, 1000 * MS);
        window.add(7, 1055 * MS);

        assertEquals(12, window.sum(1099 * MS));
        assertEquals(7, window.sum(1100 * MS));
        assertEquals(7, window.sum(1149 * MS));
        assertEquals(0, window.sum(1150 * MS));
    }

    @Test
    void shouldReuseASlotForALaterTurnOfTheRing() {
        SlidingWindow window = new SlidingWindow(100 * MS, 10, 0);

        window.add(5, 3 * MS);
        window.add(9, 103 * MS);

        assertEquals(9, window.sum(105 * MS));
    }

    @Test
    void shouldMeasureRateOverTheTimeCoveredSoFar() {
        SlidingWindow window = new SlidingWindow(10_000 * MS, 20, 0);

        window.add(1000, 100 * MS);

        assertEquals(0.0, window.ratePerSecond(0));
        assertEquals(2000.0, window.ratePerSecond(500 * MS), 1e-9);
        assertEquals(100.0, window.ratePerSecond(10_000 * MS - 1), 1e-3);
    }

    @Test
    void shouldMeasureRateOverTheWholeWindowOnceItIsFull() {
        SlidingWindow window = new SlidingWindow(10_000 * MS, 20, 0);
        for (long t = 0; t < 30_000; t += 100) {
            window.add(100, t * MS);
        }

        assertEquals(1000.0, window.ratePerSecond(30_000 * MS - 1), 1.0);
    }
}
