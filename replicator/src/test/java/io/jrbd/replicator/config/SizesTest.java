package io.jrbd.replicator.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class SizesTest {
    @ParameterizedTest
    @CsvSource({
        "4096, 4096",
        "512K, 524288",
        "512k, 524288",
        "100M, 104857600",
        "1G, 1073741824",
        "1GiB, 1073741824",
        "1gb, 1073741824",
        "2T, 2199023255552",
        "0, 0",
        "' 8M ', 8388608",
    })
    void shouldParseSizesAsPowersOf1024(String text, long expected) {
        assertEquals(expected, Sizes.parse(text));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "G", "12Q", "-1G", "1.5G", "9999999999T", "1 G B", "KB"})
    void shouldRejectTextThatIsNotASize(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Sizes.parse(text));
        assertTrue(e.getMessage().contains("is not a size"), e.getMessage());
    }

    @ParameterizedTest
    @CsvSource({
        "1073741824, 1 GiB",
        "268435456, 256 MiB",
        "1536, 1536 bytes",
        "1000, 1000 bytes",
        "3298534883328, 3 TiB",
    })
    void shouldFormatWholeUnitsAndOtherwiseBytes(long bytes, String expected) {
        assertEquals(expected, Sizes.format(bytes));
    }

    @ParameterizedTest
    @CsvSource({
        "250K, 256000",
        "250K/s, 256000",
        "100M/S, 104857600",
        "100MiB/s, 104857600",
        "4096, 4096",
        "' 1G/s ', 1073741824",
        "0, 0",
    })
    void shouldParseRatesWithOrWithoutPerSecond(String text, long expected) {
        assertEquals(expected, Sizes.parseRate(text));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "/s", "fast", "10M/h", "10M/ss", "-1K", "1.5M/s"})
    void shouldRejectTextThatIsNotARate(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Sizes.parseRate(text));
        assertEquals("'" + text + "' is not a rate: use bytes per second or a number with K, M, G or T, optionally followed by /s",
                e.getMessage());
    }

    @ParameterizedTest
    @CsvSource({"256000, 250 KiB/s", "104857600, 100 MiB/s", "500, 500 bytes/s"})
    void shouldFormatRates(long bytesPerSecond, String expected) {
        assertEquals(expected, Sizes.formatRate(bytesPerSecond));
    }
}
