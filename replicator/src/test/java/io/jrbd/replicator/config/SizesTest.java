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
}
