package io.jrbd.resync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ResyncRatesTest {
    private static final long KIB = 1024;
    private static final long MIB = 1024 * KIB;

    @Test
    void shouldDefaultToDrbdDynamicControllerWithAOneMebibyteFill() {
        ResyncRates rates = ResyncRates.defaults();

        assertEquals(250 * KIB, rates.targetRate());
        assertEquals(250 * KIB, rates.minRate());
        assertEquals(100 * MIB, rates.maxRate());
        assertTrue(rates.dynamic());
        assertEquals(MIB, rates.fillTargetBytes());
        assertEquals(Duration.ofSeconds(2), rates.planAhead());
        assertEquals(20, rates.planSteps());
    }

    @Test
    void shouldBuildAFixedRateThatFitsBetweenMinAndMax() {
        ResyncRates slow = ResyncRates.fixed(100 * KIB);
        ResyncRates fast = ResyncRates.fixed(400 * MIB);

        assertFalse(slow.dynamic());
        assertEquals(0, slow.planSteps());
        assertEquals(100 * KIB, slow.minRate());
        assertEquals(400 * MIB, fast.maxRate());
        assertEquals(250 * KIB, fast.minRate());
    }

    @Test
    void shouldCountPlanStepsInWholeTenthsOfASecond() {
        ResyncRates rates = new ResyncRates(MIB, MIB, MIB, true, MIB, Duration.ofMillis(1250));

        assertEquals(12, rates.planSteps());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "zero resync-rate| 0| 256000| 104857600| true| 1048576| 2000|"
            + " resync-rate must be above 0 bytes/s, got 0",
        "negative resync-rate| -1| 256000| 104857600| true| 1048576| 2000|"
            + " resync-rate must be above 0 bytes/s, got -1",
        "zero c-min-rate| 256000| 0| 104857600| true| 1048576| 2000|"
            + " c-min-rate must be above 0 bytes/s, got 0; to never throttle resync"
            + " for application I/O set it equal to c-max-rate",
        "zero c-max-rate| 256000| 256000| 0| true| 1048576| 2000|"
            + " c-max-rate must be above 0 bytes/s, got 0 (DRBD's 0 = unlimited is"
            + " not supported; give the link's speed)",
        "min above max| 256000| 209715200| 104857600| true| 1048576| 2000|"
            + " c-min-rate 200 MiB/s exceeds c-max-rate 100 MiB/s",
        "target above max| 209715200| 256000| 104857600| true| 1048576| 2000|"
            + " resync-rate 200 MiB/s exceeds c-max-rate 100 MiB/s; raise c-max-rate"
            + " too",
        "rate past the limit| 256000| 256000| 2199023255553| true| 1048576| 2000|"
            + " c-max-rate 2199023255553 bytes/s exceeds the limit of 1 TiB/s",
        "negative fill| 256000| 256000| 104857600| false| -5| 0|"
            + " c-fill-target must not be negative, got -5",
        "zero fill, dynamic| 256000| 256000| 104857600| true| 0| 2000|"
            + " c-fill-target must be above 0 bytes for the dynamic controller, got 0"
            + " (DRBD's c-delay-target form is not implemented; use dynamic = false"
            + " for a fixed resync-rate)",
        "zero plan-ahead, dynamic| 256000| 256000| 104857600| true| 1048576| 0|"
            + " c-plan-ahead must be at least 100 ms for the dynamic controller, got"
            + " 0 ms (DRBD's c-plan-ahead 0 means dynamic = false)",
        "negative plan-ahead| 256000| 256000| 104857600| false| 1048576| -100|"
            + " c-plan-ahead must not be negative, got PT-0.1S",
        "plan-ahead past 30 s| 256000| 256000| 104857600| true| 1048576| 31000|"
            + " c-plan-ahead PT31S exceeds the maximum PT30S",
    })
    void shouldRefuseSettingsNamingKeyAndValue(String title, long target, long min, long max, boolean dynamic,
            long fill, long planAheadMillis, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ResyncRates(target, min, max, dynamic, fill, Duration.ofMillis(planAheadMillis)));

        assertEquals(message, e.getMessage());
    }

    @Test
    void shouldAcceptFixedRateWithoutFillOrPlan() {
        ResyncRates rates = new ResyncRates(MIB, KIB, 10 * MIB, false, 0, Duration.ZERO);

        assertEquals(0, rates.planSteps());
    }

    @Test
    void shouldRefuseMissingPlanAhead() {
        NullPointerException e = assertThrows(NullPointerException.class,
                () -> new ResyncRates(MIB, KIB, 10 * MIB, false, 0, null));

        assertEquals("c-plan-ahead", e.getMessage());
    }
}
