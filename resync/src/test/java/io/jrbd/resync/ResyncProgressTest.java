package io.jrbd.resync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ResyncProgressTest {
    private static final long MIB = 1 << 20;

    private final FakeClock clock = new FakeClock(123_456_789);

    @Test
    void shouldCountDoneAndRemaining() {
        ResyncProgress progress = new ResyncProgress(4 * MIB, clock);

        progress.synced(MIB);

        assertEquals(MIB, progress.doneBytes());
        assertEquals(3 * MIB, progress.remainingBytes());
        assertEquals(25.0, progress.percent(), 1e-9);
        assertEquals(123_456_789, progress.startNanos());
    }

    @Test
    void shouldEstimateTimeLeftFromTheRecentRateNotTheAverage() {
        ResyncProgress progress = new ResyncProgress(1_000_000_000, clock);
        syncAtRate(progress, 10_000_000, Duration.ofSeconds(30));
        syncAtRate(progress, 1_000_000, Duration.ofSeconds(20));

        assertEquals(320_000_000, progress.doneBytes());
        assertEquals(1_000_000, progress.recentRate(), 20_000);
        assertEquals(680, progress.etaSeconds(), 14);
        assertEquals(6_400_000, progress.averageRate());
    }

    @Test
    void shouldMeasureTheRateSinceTheStartWhileTheWindowIsNotYetFull() {
        ResyncProgress progress = new ResyncProgress(1000 * MIB, clock);

        syncAtRate(progress, 4 * MIB, Duration.ofSeconds(3));

        assertEquals(4 * MIB, progress.recentRate(), 4 * MIB / 50);
    }

    @Test
    void shouldNotKnowTheTimeLeftWhileNothingMoves() {
        ResyncProgress progress = new ResyncProgress(MIB, clock);
        assertEquals(-1, progress.etaSeconds());

        progress.synced(4096);
        clock.advance(Duration.ofSeconds(11));

        assertEquals(0, progress.recentRate());
        assertEquals(-1, progress.etaSeconds());
    }

    @Test
    void shouldBeDoneWhenAllIsSyncedAndNotPassTheTotal() {
        ResyncProgress progress = new ResyncProgress(MIB, clock);

        progress.synced(MIB - 4096);
        progress.synced(8192);

        assertEquals(MIB, progress.doneBytes());
        assertEquals(100.0, progress.percent());
        assertEquals(0, progress.etaSeconds());
        assertTrue(progress.finished());
    }

    @Test
    void shouldBeDoneFromTheStartWithNothingToDo() {
        ResyncProgress progress = new ResyncProgress(0, clock);

        assertEquals(100.0, progress.percent());
        assertEquals(0, progress.etaSeconds());
        assertEquals("[==========]", progress.bar(10));
    }

    @ParameterizedTest(name = "{0} of 1000 in {1} cells: {2}")
    @CsvSource({
        "0,    20, [>...................]",
        "49,   20, [>...................]",
        "50,   20, [=>..................]",
        "300,  20, [======>.............]",
        "999,  20, [===================>]",
        "1000, 20, [====================]",
        "500,  1,  [>]",
        "1000, 1,  [=]",
    })
    void shouldDrawTheBarAsDrbdadmDoes(long done, int width, String bar) {
        ResyncProgress progress = new ResyncProgress(1000, clock);
        progress.synced(done);

        assertEquals(bar, progress.bar(width));
        assertEquals(width + 2, progress.bar(width).length());
    }

    @Test
    void shouldSayItAllInOneLine() {
        ResyncProgress progress = new ResyncProgress(4 * MIB, clock);
        clock.advance(Duration.ofSeconds(1));
        progress.synced(MIB);
        clock.advance(Duration.ofSeconds(3));

        assertEquals("[=====>..............] done:25.00% 1048576/4194304 bytes, 262144 bytes/s, eta 12 s",
                progress.toString());
    }

    @Test
    void shouldRefuseNegativeCountsAndWidths() {
        ResyncProgress progress = new ResyncProgress(MIB, clock);

        assertEquals("synced bytes must not be negative, got -1",
                assertThrows(IllegalArgumentException.class, () -> progress.synced(-1)).getMessage());
        assertEquals("width must be above 0, got 0",
                assertThrows(IllegalArgumentException.class, () -> progress.bar(0)).getMessage());
        assertEquals("totalBytes must not be negative, got -5",
                assertThrows(IllegalArgumentException.class, () -> new ResyncProgress(-5, clock)).getMessage());
    }

    private void syncAtRate(ResyncProgress progress, long bytesPerSecond, Duration duration) {
        long perTick = bytesPerSecond / 10;
        for (long t = 0; t < duration.toMillis(); t += 100) {
            clock.advance(Duration.ofMillis(100));
            progress.synced(perTick);
        }
    }
}
