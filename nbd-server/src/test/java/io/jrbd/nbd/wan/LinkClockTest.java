package io.jrbd.nbd.wan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class LinkClockTest {
    private static final long MS = 1_000_000L;

    @Test
    void shouldDeliverUncappedBytesExactlyOneDelayAfterTheyWereRead() {
        LinkClock clock = new LinkClock();
        assertEquals(1_000 + 10 * MS, clock.deliveryTime(1_000, 65536, 10 * MS, 0));
        assertEquals(5 * MS + 10 * MS, clock.deliveryTime(5 * MS, 1, 10 * MS, 0));
    }

    @Test
    void shouldSerialiseChunksOnACappedLink() {
        LinkClock clock = new LinkClock();
        long rate = 1_000_000; // 1 byte per microsecond
        // 1000 bytes read at t=0 occupy the link until 1 ms, arrive 5 ms later
        assertEquals(6 * MS, clock.deliveryTime(0, 1000, 5 * MS, rate));
        // 1000 more read at once wait for the link: free at 1 ms, busy until 2 ms
        assertEquals(7 * MS, clock.deliveryTime(0, 1000, 5 * MS, rate));
        // read after the link went idle: starts at once
        assertEquals(10 * MS + 1 * MS + 5 * MS, clock.deliveryTime(10 * MS, 1000, 5 * MS, rate));
    }

    @Test
    void shouldNeverLetLaterBytesOvertakeAfterTheDelayShrinks() {
        LinkClock clock = new LinkClock();
        long first = clock.deliveryTime(0, 100, 50 * MS, 0);
        long second = clock.deliveryTime(1 * MS, 100, 1 * MS, 0);
        assertEquals(50 * MS, first);
        assertEquals(first, second, "bytes read after a smaller delay wait for those read before");
        assertEquals(60 * MS + 1 * MS, clock.deliveryTime(60 * MS, 100, 1 * MS, 0), "and no longer once they are out");
    }

    @Test
    void shouldCompareTimesBySubtractionAcrossNanoTimeOverflow() {
        LinkClock clock = new LinkClock();
        long t = Long.MAX_VALUE - MS;
        long first = clock.deliveryTime(t, 1000, 2 * MS, 1_000_000);
        assertEquals(t + 3 * MS, first); // wraps around, as nanoTime values may
        assertEquals(first + MS, clock.deliveryTime(t, 1000, 2 * MS, 1_000_000));
    }

    @ParameterizedTest
    @CsvSource({
        "1, 1000000000, 1",
        "1000, 1000000, 1000000",
        "1, 3, 333333334",          // rounded up: never faster than the cap
        "3000000001, 1000000000, 3000000001",
        "1, 20000000000, 1",        // above 9.2 GB/s the arithmetic goes through double
    })
    void shouldRoundSerialisationTimeUp(long bytes, long rate, long expectedNanos) {
        assertEquals(expectedNanos, LinkClock.serialisationNanos(bytes, rate));
    }

    @Test
    void shouldRejectANonPositiveRate() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LinkClock.serialisationNanos(1, 0));
        assertEquals("rate 0 bytes/s must be positive", e.getMessage());
    }

    @ParameterizedTest
    @CsvSource({
        // delay ns, rate B/s, limit
        "0, 0, 4194304",                       // floor
        "1000000, 104857600, 4194304",         // 1 ms x 100 MiB/s x 2 = 200 KiB -> floor
        "100000000, 104857600, 20971520",      // 100 ms x 100 MiB/s x 2 = 20 MiB
        "1000000000, 1073741824, 2147483648",  // 1 s x 1 GiB/s x 2: the cap is the user's choice
        "10000000, 0, 21474836",               // uncapped sized at 1 GiB/s: 10 ms -> 20 MiB-ish
        "100000000, 0, 214748364",             // 100 ms -> ~205 MiB
        "1000000000, 0, 268435456",            // uncapped limit at most 256 MiB
    })
    void shouldHoldTwiceTheBandwidthDelayProductBeforePushingBack(long delayNanos, long rate, long expected) {
        assertEquals(expected, LinkClock.queueLimit(delayNanos, rate));
    }
}
