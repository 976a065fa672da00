package io.jrbd.nbd.wan;

import io.jrbd.nbd.HostPort;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class WanParsingTest {
    @ParameterizedTest
    @CsvSource({
        "10ms, 10000000",
        "100us, 100000",
        "100µs, 100000",
        "0.1ms, 100000",
        "1.5s, 1500000000",
        "2S, 2000000000",
        "250ns, 250",
        "0, 0",
        "' 20ms ', 20000000",
    })
    void shouldParseDurationsWithUnits(String text, long nanos) {
        assertEquals(Duration.ofNanos(nanos), Durations.parse(text));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "10", "ms", "-1ms", "1.5ns", "10 min", "1e3ms", "5h"})
    void shouldRejectTextThatIsNotADuration(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Durations.parse(text));
        assertTrue(e.getMessage().contains("'" + text + "' is not a duration"), e.getMessage());
    }

    @ParameterizedTest
    @CsvSource({"20000000, 20ms", "100000, 100us", "1500000, 1500us", "2000000000, 2s", "0, 0ms", "250, 250ns"})
    void shouldFormatDurationsInTheLargestExactUnit(long nanos, String text) {
        assertEquals(text, Durations.format(Duration.ofNanos(nanos)));
    }

    @ParameterizedTest
    @CsvSource({"0, 0", "65536, 65536", "512K, 524288", "100M, 104857600", "100m, 104857600", "1G, 1073741824",
        "100MB/s, 104857600", "100MiB, 104857600", "10M/s, 10485760"})
    void shouldParseRatesAsPowersOf1024(String text, long bytesPerSecond) {
        assertEquals(bytesPerSecond, Rates.parse(text));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "M", "-1M", "1.5M", "100T", "fast"})
    void shouldRejectTextThatIsNotARate(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Rates.parse(text));
        assertTrue(e.getMessage().contains("is not a rate"), e.getMessage());
    }

    @ParameterizedTest
    @CsvSource({"0, unlimited", "104857600, 100 MiB/s", "1073741824, 1 GiB/s", "1500, 1500 bytes/s"})
    void shouldFormatRates(long bytesPerSecond, String text) {
        assertEquals(text, Rates.format(bytesPerSecond));
    }

    @ParameterizedTest
    @CsvSource({"127.0.0.1:7789, 127.0.0.1, 7789", "localhost:0, localhost, 0", "'[::1]:80', ::1, 80"})
    void shouldParseHostAndPort(String text, String host, int port) {
        assertEquals(new HostPort(host, port), HostPort.parse(text, "--target"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "127.0.0.1|--target '127.0.0.1' is not HOST:PORT",
        ":80|--target ':80' is not HOST:PORT",
        "host:|--target 'host:' is not HOST:PORT",
        "host:http|--target 'host:http': 'http' is not a port",
        "host:70000|--target 'host:70000': port 70000 is not in 0..65535",
        "::1:80|--target '::1:80': write an IPv6 address as [ADDRESS]:PORT",
    })
    void shouldNameTheOptionAndValueOfABadAddress(String text, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HostPort.parse(text, "--target"));
        assertEquals(message, e.getMessage());
    }
}
