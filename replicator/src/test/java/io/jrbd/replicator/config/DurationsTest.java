package io.jrbd.replicator.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class DurationsTest {
    @ParameterizedTest
    @CsvSource({
        "500ms, 500",
        "10s, 10000",
        "2m, 120000",
        "0ms, 0",
        "0, 0",
        "' 0 ', 0",
        "' 6s ', 6000",
        "10S, 10000",
        "1500MS, 1500",
    })
    void shouldParseMillisecondsSecondsAndMinutes(String text, long millis) {
        assertEquals(Duration.ofMillis(millis), Durations.parse(text));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "10", "00", "5x", "1.5s", "-1s", "10 s", "s", "1h", "10sec", "9999999999s"})
    void shouldRejectTextThatIsNotADuration(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Durations.parse(text));
        assertEquals("'" + text + "' is not a duration (use ms, s or m)", e.getMessage());
    }

    @ParameterizedTest
    @CsvSource({
        "500, 500ms",
        "10000, 10s",
        "120000, 2m",
        "90000, 90s",
        "1500, 1500ms",
        "0, 0ms",
    })
    void shouldFormatTheShortestExactSpelling(long millis, String expected) {
        assertEquals(expected, Durations.format(Duration.ofMillis(millis)));
        assertEquals(Duration.ofMillis(millis), Durations.parse(expected));
    }
}
