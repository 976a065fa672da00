package io.jrbd.replicator.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class AddressesTest {
    @ParameterizedTest
    @CsvSource({
        "127.0.0.1:7789, 127.0.0.1:7789",
        "192.168.1.10:1, 192.168.1.10:1",
        "0.0.0.0:65535, 0.0.0.0:65535",
        "[::1]:7789, [0:0:0:0:0:0:0:1]:7789",
        "[fd00::1]:10809, [fd00:0:0:0:0:0:0:1]:10809",
        "' 10.0.0.1:7789 ', 10.0.0.1:7789",
    })
    void shouldParseIpLiteralsWithAPort(String text, String formatted) {
        InetSocketAddress a = Addresses.parse(text);
        assertEquals(formatted, Addresses.format(a));
        assertEquals(a, Addresses.parse(formatted));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "7789", "127.0.0.1", "localhost:7789", "db1.example.com:7789", "256.1.1.1:7789",
        "01.2.3.4:7789", "1.2.3:7789", "::1:7789", "[::1]", "[127.0.0.1]:7789", "[zz::1]:7789", "127.0.0.1:-1",
        "127.0.0.1:port", "127.0.0.1:123456"})
    void shouldRejectHostNamesAndMalformedAddresses(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Addresses.parse(text));
        assertEquals("'" + text + "' is not an address: use IP:PORT, e.g. 192.168.1.10:7789 or [fd00::1]:7789", e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"127.0.0.1:0", "127.0.0.1:65536", "[::1]:99999"})
    void shouldRejectPortsOutOfRange(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Addresses.parse(text));
        assertTrue(e.getMessage().startsWith("'" + text + "': port "), e.getMessage());
        assertTrue(e.getMessage().endsWith(" is not in 1..65535"), e.getMessage());
    }
}
