package io.jrbd.nbd.wan;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.netty.buffer.UnpooledByteBufAllocator;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Real sockets on 127.0.0.1: an echo (or passive) server behind the proxy. Timing asserts are lower bounds. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class WanProxyTest {
    private static final long MS = 1_000_000L;
    /** Slack for a loaded 2-core machine; used only as an upper bound. */
    private static final long GENEROUS = 200 * MS;

    private EchoServer echo;

    @BeforeEach
    void startEcho() throws IOException {
        echo = EchoServer.echo();
    }

    @AfterEach
    void stopEcho() throws IOException {
        echo.close();
    }

    private static Socket connect(WanProxy wan) throws IOException {
        Socket s = new Socket("127.0.0.1", wan.address().getPort());
        s.setTcpNoDelay(true);
        s.setSoTimeout(10_000);
        return s;
    }

    private static long roundTripNanos(Socket s) throws IOException {
        long[] rtt = DelayAccuracyProbe.roundTrips(s, 1);
        return rtt[0];
    }

    @Test
    void shouldDelayARoundTripByTwiceTheOneWayDelay() throws Exception {
        for (Duration delay : new Duration[] {Duration.ofNanos(100_000), Duration.ofMillis(1), Duration.ofMillis(20)}) {
            try (WanProxy wan = WanProxy.start("127.0.0.1", 0, "127.0.0.1", echo.port(), delay, 0);
                    Socket s = connect(wan)) {
                for (int i = 0; i < 5; i++) {
                    long rtt = roundTripNanos(s);
                    long twice = 2 * delay.toNanos();
                    assertTrue(rtt >= twice, "delay " + delay + ": round trip " + rtt + " ns is shorter than " + twice);
                    assertTrue(rtt < twice + GENEROUS, "delay " + delay + ": round trip " + rtt + " ns");
                }
                assertTrue(wan.lateness().chunks() >= 10, wan.lateness().toString());
            }
        }
    }

    @Test
    void shouldDeliver64MiBInOrderAndIntactInBothDirections() throws Exception {
        int total = 64 << 20;
        try (WanProxy wan = WanProxy.start("127.0.0.1", 0, "127.0.0.1", echo.port(), Duration.ofMillis(2), 0);
                Socket s = connect(wan)) {
            CompletableFuture<byte[]> sent = CompletableFuture.supplyAsync(() -> {
                try {
                    MessageDigest sha = MessageDigest.getInstance("SHA-256");
                    Random random = new Random(42);
                    byte[] buf = new byte[100_003]; // odd size: chunk boundaries never line up
                    OutputStream out = s.getOutputStream();
                    for (int left = total; left > 0; ) {
                        int n = Math.min(left, buf.length);
                        random.nextBytes(buf);
                        out.write(buf, 0, n);
                        sha.update(buf, 0, n);
                        left -= n;
                    }
                    return sha.digest();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            InputStream in = s.getInputStream();
            byte[] buf = new byte[65536];
            long received = 0;
            while (received < total) {
                int n = in.read(buf);
                if (n < 0) {
                    fail("EOF after " + received + " of " + total + " bytes");
                }
                sha.update(buf, 0, n);
                received += n;
            }
            assertArrayEquals(sent.get(60, TimeUnit.SECONDS), sha.digest(), "the echo differs from what was sent");
            assertEquals(total, wan.bytesForwarded(Direction.CLIENT_TO_TARGET));
            assertEquals(total, wan.bytesForwarded(Direction.TARGET_TO_CLIENT));
            assertEquals(1, wan.connectionsAccepted());
        }
    }

    @Test
    void shouldNotSendFasterThanTheRateCap() throws Exception {
        long rate = 4L << 20;
        int total = 6 << 20;
        try (EchoServer passive = EchoServer.passive();
                WanProxy wan = WanProxy.start("127.0.0.1", 0, "127.0.0.1", passive.port(), Duration.ofMillis(5), rate);
                Socket s = connect(wan)) {
            long t0 = System.nanoTime();
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    s.getOutputStream().write(new byte[total]);
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            Socket far = passive.nextAccepted(10, TimeUnit.SECONDS);
            assertNotNull(far, "the proxy did not connect to the target");
            InputStream in = far.getInputStream();
            byte[] buf = new byte[65536];
            long received = 0;
            while (received < total) {
                int n = in.read(buf);
                assertTrue(n >= 0, "EOF after " + received);
                received += n;
            }
            long elapsed = System.nanoTime() - t0;
            writer.get(10, TimeUnit.SECONDS);
            long minimum = total * 1_000_000_000L / rate + 5 * MS;
            assertTrue(elapsed >= minimum, total + " bytes at " + rate + " B/s took " + elapsed + " ns < " + minimum);
            assertTrue(elapsed < 10 * minimum, "took " + elapsed + " ns: the link does not stay full");
        }
    }

    @Test
    void shouldResetConnectionsOnCutRefuseNewOnesAndAcceptAgainOnHeal() throws Exception {
        try (WanProxy wan = WanProxy.start("127.0.0.1", 0, "127.0.0.1", echo.port(), Duration.ofMillis(1), 0);
                Socket before = connect(wan)) {
            roundTripNanos(before);
            // bytes still in the delay line when the link is cut are dropped, not delivered
            wan.setDelay(Duration.ofSeconds(2));
            before.getOutputStream().write("lost".getBytes(StandardCharsets.US_ASCII));

            assertEquals(1, wan.cut());
            assertTrue(wan.isCut());
            assertClosedByPeer(before);
            String end = echo.awaitEnd(10, TimeUnit.SECONDS);
            assertNotNull(end, "the target side was not closed by the cut");
            assertEquals(1, wan.bytesForwarded(Direction.CLIENT_TO_TARGET), "only the first ping went through");

            wan.setDelay(Duration.ofMillis(1));
            try (Socket during = connect(wan)) {
                assertClosedByPeer(during);
            }
            assertEquals(1, wan.connectionsRefused());
            assertEquals(1, wan.connectionsAccepted());

            wan.heal();
            try (Socket after = connect(wan)) {
                long rtt = roundTripNanos(after);
                assertTrue(rtt >= 2 * MS, "round trip " + rtt + " ns after heal");
            }
            assertEquals(2, wan.connectionsAccepted());
        }
    }

    private static void assertClosedByPeer(Socket s) throws IOException {
        s.setSoTimeout(10_000);
        try {
            int b = s.getInputStream().read();
            assertEquals(-1, b, "expected EOF or reset, got a byte");
        } catch (SocketTimeoutException e) {
            fail("the connection was neither closed nor reset within 10 s");
        } catch (IOException e) {
            // reset: what a cut link does
        }
    }

    @Test
    void shouldApplyANewDelayToLaterRoundTrips() throws Exception {
        try (WanProxy wan = WanProxy.start("127.0.0.1", 0, "127.0.0.1", echo.port(), Duration.ofMillis(1), 0);
                Socket s = connect(wan)) {
            long first = roundTripNanos(s);
            assertTrue(first >= 2 * MS && first < 2 * MS + GENEROUS, "round trip " + first + " ns");
            wan.setDelay(Duration.ofMillis(150));
            assertEquals(Duration.ofMillis(150), wan.delay());
            long second = roundTripNanos(s);
            assertTrue(second >= 300 * MS, "round trip after setDelay(150ms): " + second + " ns");
            assertTrue(second < 300 * MS + GENEROUS, "round trip after setDelay(150ms): " + second + " ns");
        }
    }

    @Test
    void shouldCloseTheTargetWhenTheClientCloses() throws Exception {
        try (WanProxy wan = WanProxy.start("127.0.0.1", 0, "127.0.0.1", echo.port(), Duration.ofMillis(5), 0)) {
            Socket s = connect(wan);
            roundTripNanos(s);
            s.close();
            assertEquals("eof", echo.awaitEnd(10, TimeUnit.SECONDS), "the echo server did not see the close");
            waitUntil(() -> wan.activeConnections() == 0, "both legs closed");
        }
    }

    @Test
    void shouldDeliverWhatIsQueuedBeforeClosingTheClientWhenTheTargetCloses() throws Exception {
        try (EchoServer passive = EchoServer.passive();
                WanProxy wan = WanProxy.start("127.0.0.1", 0, "127.0.0.1", passive.port(), Duration.ofMillis(50), 0);
                Socket s = connect(wan)) {
            Socket far = passive.nextAccepted(10, TimeUnit.SECONDS);
            assertNotNull(far);
            long t0 = System.nanoTime();
            far.getOutputStream().write("goodbye".getBytes(StandardCharsets.US_ASCII));
            far.close(); // while "goodbye" is still in the delay line
            byte[] got = s.getInputStream().readNBytes(7);
            long elapsed = System.nanoTime() - t0;
            assertEquals("goodbye", new String(got, StandardCharsets.US_ASCII));
            assertTrue(elapsed >= 50 * MS, "delivered after " + elapsed + " ns");
            assertEquals(-1, s.getInputStream().read(), "the client should see EOF after the last bytes");
        }
    }

    @Test
    void shouldReleaseEveryBufferWhateverHappensToTheConnections() throws Exception {
        UnpooledByteBufAllocator alloc = new UnpooledByteBufAllocator(true);
        try (WanProxy wan = WanProxy.start("127.0.0.1", 0, "127.0.0.1", echo.port(), Duration.ofMillis(1), 0, alloc, 1)) {
            try (Socket s = connect(wan)) { // delivered and echoed
                s.getOutputStream().write(new byte[1 << 20]);
                s.getInputStream().readNBytes(1 << 20);
            }
            Socket cutOff = connect(wan); // queued when the link is cut
            roundTripNanos(cutOff);
            wan.setDelay(Duration.ofSeconds(5));
            cutOff.getOutputStream().write(new byte[256 << 10]);
            waitUntil(() -> alloc.metric().usedDirectMemory() + alloc.metric().usedHeapMemory() > 0, "bytes queued");
            wan.cut();
            assertClosedByPeer(cutOff);
            cutOff.close();
            wan.heal();
            Socket atClose = connect(wan); // queued when the proxy closes
            atClose.getOutputStream().write(new byte[64 << 10]);
            Thread.sleep(100);
            wan.close();
            atClose.close();
        }
        assertEquals(0, alloc.metric().usedDirectMemory(), "direct bytes still allocated");
        assertEquals(0, alloc.metric().usedHeapMemory(), "heap bytes still allocated");
    }

    @Test
    void shouldCloseTheClientWhenTheTargetRefuses() throws Exception {
        int deadPort;
        try (java.net.ServerSocket probe = new java.net.ServerSocket(0)) {
            deadPort = probe.getLocalPort();
        }
        try (WanProxy wan = WanProxy.start("127.0.0.1", 0, "127.0.0.1", deadPort, Duration.ofMillis(1), 0);
                Socket s = connect(wan)) {
            assertClosedByPeer(s);
        }
    }

    @Test
    void shouldRejectBadArgumentsNamingTheValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WanProxy.start("127.0.0.1", 0, "127.0.0.1", 80, Duration.ofMillis(-1), 0));
        assertTrue(e.getMessage().contains("PT-0.001S is negative"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> WanProxy.start("127.0.0.1", 0, "127.0.0.1", 80, Duration.ZERO, -5));
        assertTrue(e.getMessage().contains("rate -5 bytes/s"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> WanProxy.start("127.0.0.1", 0, "127.0.0.1", 0, Duration.ZERO, 0));
        assertTrue(e.getMessage().contains("target port 0"), e.getMessage());
    }

    @Test
    void shouldReportABusyListenAddress() throws Exception {
        try (WanProxy first = WanProxy.start("127.0.0.1", 0, "127.0.0.1", echo.port(), Duration.ZERO, 0)) {
            int port = first.address().getPort();
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> WanProxy.start("127.0.0.1", port, "127.0.0.1", echo.port(), Duration.ZERO, 0));
            assertTrue(e.getMessage().startsWith("cannot listen on 127.0.0.1:" + port), e.getMessage());
        }
    }

    interface Condition {
        boolean holds() throws Exception;
    }

    static void waitUntil(Condition c, String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!c.holds()) {
            if (System.nanoTime() > deadline) {
                fail("not within 10 s: " + what);
            }
            Thread.sleep(5);
        }
    }
}
