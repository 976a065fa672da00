package io.jrbd.resync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ResyncRateControllerTest {
    private static final long KIB = 1024;
    private static final long MIB = 1024 * KIB;
    private static final Duration NO_LATENCY = Duration.ZERO;

    @ParameterizedTest(name = "{0} bytes/s")
    @ValueSource(longs = {250 * KIB, MIB, 10 * MIB, 100 * MIB})
    void shouldHoldFixedRateWithinTwoPercentOverTenSeconds(long rate) {
        ResyncRates rates = ResyncRates.fixed(rate);
        SimulatedResync sim = new SimulatedResync(rates, 4 * KIB, Duration.ofMillis(5), 0);

        long bytes = sim.run(Duration.ofSeconds(10));

        assertWithin(10 * rate, bytes, 0.02);
        assertTrue(bytes <= 10 * rate, bytes + " > " + 10 * rate);
        assertEquals(rate, sim.controller.currentRate());
    }

    @Test
    void shouldHoldFixedRateWhenCallerSleepsAsTold() {
        long rate = 10 * MIB;
        long grain = 64 * KIB;
        FakeClock clock = new FakeClock(0);
        ResyncRateController controller = new ResyncRateController(ResyncRates.fixed(rate), clock);
        long end = Duration.ofSeconds(10).toNanos();
        long bytes = 0;
        int wakeups = 0;

        while (clock.nanos() < end) {
            wakeups++;
            long wait = controller.nanosUntilPermit(grain, clock.nanos());
            if (wait > 0) {
                clock.advance(wait);
                continue;
            }
            assertEquals(grain, controller.permit(grain, clock.nanos()));
            controller.issued(grain);
            bytes += grain;
        }

        assertWithin(10 * rate, bytes, 0.02);
        assertTrue(wakeups <= 2 * bytes / grain + 2, "woke " + wakeups + " times for " + bytes / grain + " permits");
    }

    @Test
    void shouldGrantPartOfARequestLargerThanTheBucket() {
        FakeClock clock = new FakeClock(0);
        ResyncRateController controller = new ResyncRateController(ResyncRates.fixed(1_000_000), clock);

        clock.advance(Duration.ofSeconds(5));

        long bucket = 100_000;
        assertEquals(bucket, controller.permit(4 * MIB, clock.nanos()));
        assertEquals(0, controller.nanosUntilPermit(4 * MIB, clock.nanos()));
        controller.issued(bucket);
        assertEquals(0, controller.permit(4 * MIB, clock.nanos()));
        assertEquals(Duration.ofMillis(100).toNanos(), controller.nanosUntilPermit(4 * MIB, clock.nanos()));
    }

    @Test
    void shouldStartFromResyncRateAndConvergeToFillTarget() {
        long fill = 2 * MIB;
        ResyncRates rates = new ResyncRates(250 * KIB, 250 * KIB, 100 * MIB, true, fill, Duration.ofSeconds(2));
        SimulatedResync sim = new SimulatedResync(rates, 4 * KIB, Duration.ofMillis(40), 0);

        long firstStep = sim.run(Duration.ofMillis(100));
        sim.run(Duration.ofSeconds(20));
        long bytes = sim.run(Duration.ofSeconds(5));

        assertWithin(2 * 250 * KIB / 10, firstStep, 0.05);
        assertWithin(fill, sim.averageInFlight(), 0.10);
        assertWithin(5 * fill * 1000 / 40, bytes, 0.10);
    }

    @Test
    void shouldFillToTargetAgainstASlowPeerAndGoAtItsRate() {
        long fill = MIB;
        long peerRate = 20 * MIB;
        ResyncRates rates = new ResyncRates(250 * KIB, 250 * KIB, 100 * MIB, true, fill, Duration.ofSeconds(2));
        SimulatedResync sim = new SimulatedResync(rates, 4 * KIB, Duration.ofMillis(2), peerRate);

        sim.run(Duration.ofSeconds(20));
        long bytes = sim.run(Duration.ofSeconds(5));

        assertWithin(fill, sim.averageInFlight(), 0.10);
        assertWithin(5 * peerRate, bytes, 0.03);
    }

    @Test
    void shouldNeverExceedMaxRateInAnySecond() {
        long max = 10 * MIB;
        ResyncRates rates = new ResyncRates(max, 250 * KIB, max, true, 64 * MIB, Duration.ofSeconds(2));
        SimulatedResync sim = new SimulatedResync(rates, 4 * KIB, NO_LATENCY, 0);

        long last = 0;
        for (int second = 0; second < 30; second++) {
            last = sim.run(Duration.ofSeconds(1));
            assertTrue(last <= max, "second " + second + ": " + last + " bytes > c-max-rate " + max);
        }

        assertWithin(max, last, 0.02);
        assertEquals(max, sim.controller.currentRate());
    }

    @Test
    void shouldThrottleToMinRateWhileApplicationIsBusyAndRecoverWhenIdle() {
        long min = 250 * KIB;
        ResyncRates rates = new ResyncRates(250 * KIB, min, 100 * MIB, true, MIB, Duration.ofSeconds(2));
        SimulatedResync sim = new SimulatedResync(rates, 4 * KIB, Duration.ofMillis(50), 0);
        sim.run(Duration.ofSeconds(15));
        long before = sim.run(Duration.ofSeconds(5));

        sim.applicationBytesPerTurn(4 * KIB);
        sim.run(Duration.ofSeconds(1));
        long busy = sim.run(Duration.ofSeconds(9));
        assertTrue(sim.controller.throttled());

        sim.applicationBytesPerTurn(0);
        sim.run(Duration.ofSeconds(15));
        long after = sim.run(Duration.ofSeconds(5));

        assertWithin(5 * MIB * 1000 / 50, before, 0.10);
        assertTrue(busy <= 9 * min, "busy: " + busy + " > " + 9 * min);
        assertTrue(busy >= 9 * min * 8 / 10, "busy: " + busy + " far under c-min-rate " + 9 * min);
        assertFalse(sim.controller.throttled());
        assertWithin(before, after, 0.10);
    }

    @Test
    void shouldThrottleFixedRateToMinRateWhileApplicationIsBusy() {
        long rate = 10 * MIB;
        long min = MIB;
        ResyncRates rates = new ResyncRates(rate, min, 100 * MIB, false, MIB, Duration.ZERO);
        SimulatedResync sim = new SimulatedResync(rates, 4 * KIB, NO_LATENCY, 0);

        long idle = sim.run(Duration.ofSeconds(5));
        sim.applicationBytesPerTurn(KIB);
        sim.run(Duration.ofSeconds(1));
        long busy = sim.run(Duration.ofSeconds(5));
        long busyRate = sim.controller.currentRate();
        sim.applicationBytesPerTurn(0);
        sim.run(Duration.ofMillis(200));
        long recovered = sim.run(Duration.ofSeconds(5));

        assertWithin(5 * rate, idle, 0.02);
        assertEquals(min, busyRate);
        assertWithin(5 * min, busy, 0.03);
        assertWithin(5 * rate, recovered, 0.02);
    }

    @Test
    void shouldNotThrottleForLightApplicationIo() {
        ResyncRates rates = ResyncRates.fixed(10 * MIB);
        SimulatedResync sim = new SimulatedResync(rates, 4 * KIB, NO_LATENCY, 0);
        sim.applicationBytesPerTurn(ResyncRateController.BUSY_BYTES / 100 - 1);

        long bytes = sim.run(Duration.ofSeconds(5));

        assertFalse(sim.controller.throttled());
        assertWithin(50 * MIB, bytes, 0.02);
    }

    @ParameterizedTest(name = "dynamic = {0}")
    @ValueSource(booleans = {false, true})
    void shouldPermitNothingWhilePausedAndGoOnAfterResume(boolean dynamic) {
        ResyncRates rates = new ResyncRates(MIB, 250 * KIB, 100 * MIB, dynamic, MIB, Duration.ofSeconds(2));
        SimulatedResync sim = new SimulatedResync(rates, 4 * KIB, Duration.ofMillis(10), 0);
        sim.run(Duration.ofSeconds(2));
        ResyncRateController controller = sim.controller;

        controller.pause();
        long paused = sim.run(Duration.ofSeconds(3));

        assertTrue(controller.paused());
        assertEquals(0, paused);
        assertEquals(0, controller.permit(4 * KIB, sim.clock.nanos()));
        assertEquals(Long.MAX_VALUE, controller.nanosUntilPermit(4 * KIB, sim.clock.nanos()));
        assertEquals(0, controller.currentRate());
        assertEquals(0, controller.inFlight(), "acknowledgements still arrive while paused");

        controller.resume();
        long resumed = sim.run(Duration.ofSeconds(2));

        assertFalse(controller.paused());
        assertTrue(resumed > 0);
        assertTrue(controller.currentRate() > 0);
    }

    @Test
    void shouldRejectAcknowledgingMoreThanIsInFlight() {
        ResyncRateController controller = new ResyncRateController(ResyncRates.defaults(), new FakeClock(0));
        controller.issued(4096);

        IllegalStateException e = assertThrows(IllegalStateException.class, () -> controller.acknowledged(8192));

        assertEquals("acknowledged 8192 bytes of resync but only 4096 are in flight (issued 4096,"
                + " acknowledged 0)", e.getMessage());
        assertEquals(4096, controller.inFlight());
    }

    @Test
    void shouldRejectNonPositiveRequestsAndNegativeCounts() {
        ResyncRateController controller = new ResyncRateController(ResyncRates.defaults(), new FakeClock(0));

        assertEquals("wantedBytes must be above 0, got 0",
                assertThrows(IllegalArgumentException.class, () -> controller.permit(0, 0)).getMessage());
        assertEquals("wantedBytes must be above 0, got -1",
                assertThrows(IllegalArgumentException.class, () -> controller.nanosUntilPermit(-1, 0)).getMessage());
        assertEquals("issued bytes must not be negative, got -4096",
                assertThrows(IllegalArgumentException.class, () -> controller.issued(-4096)).getMessage());
        assertEquals("application I/O bytes must not be negative, got -1",
                assertThrows(IllegalArgumentException.class, () -> controller.applicationIo(-1, 0)).getMessage());
    }

    @Test
    void shouldTreatAClockGoingBackAsStandingStill() {
        FakeClock clock = new FakeClock(Duration.ofSeconds(10).toNanos());
        ResyncRateController controller = new ResyncRateController(ResyncRates.fixed(MIB), clock);
        clock.advance(Duration.ofSeconds(1));
        long granted = controller.permit(MIB, clock.nanos());

        assertEquals(granted, controller.permit(MIB, 0));
    }

    private static void assertWithin(long expected, long actual, double fraction) {
        double error = Math.abs(actual - expected) / (double) expected;
        assertTrue(error <= fraction, "expected " + expected + " within " + fraction * 100 + "%, got " + actual
                + " (" + String.format("%.2f", error * 100) + "% off)");
    }
}
