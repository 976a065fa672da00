package io.jrbd.nbd.wan;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.time.Duration;
import java.util.Arrays;

/** Measures round trips through the proxy; a main for the numbers in docs, and a helper for tests. */
final class DelayAccuracyProbe {
    private DelayAccuracyProbe() {
    }

    /** Round-trip times in nanoseconds of {@code n} one-byte ping-pongs over {@code s}, sorted. */
    static long[] roundTrips(Socket s, int n) throws IOException {
        OutputStream out = s.getOutputStream();
        InputStream in = s.getInputStream();
        long[] rtt = new long[n];
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            out.write(i & 0x7f);
            int b = in.read();
            rtt[i] = System.nanoTime() - t0;
            if (b != (i & 0x7f)) {
                throw new AssertionError("ping " + i + " came back as " + b);
            }
        }
        Arrays.sort(rtt);
        return rtt;
    }

    public static void main(String[] args) throws Exception {
        try (EchoServer echo = EchoServer.echo()) {
            long[] base;
            try (Socket s = new Socket("127.0.0.1", echo.port())) {
                s.setTcpNoDelay(true);
                roundTrips(s, 2000);
                base = roundTrips(s, 2000);
            }
            System.out.printf("direct loopback RTT: median %.1f us, p99 %.1f us%n", base[1000] / 1e3, base[1980] / 1e3);
            for (long micros : new long[] {0, 100, 1000, 20_000}) {
                try (WanProxy wan = WanProxy.start("127.0.0.1", 0, "127.0.0.1", echo.port(), Duration.ofNanos(micros * 1000), 0);
                        Socket s = new Socket("127.0.0.1", wan.address().getPort())) {
                    s.setTcpNoDelay(true);
                    int n = micros >= 20_000 ? 200 : 2000;
                    roundTrips(s, n / 2);
                    long[] rtt = roundTrips(s, n);
                    double expect = 2 * micros;
                    System.out.printf("delay %6d us: RTT min %.1f median %.1f p99 %.1f max %.1f us; median - 2*delay = %.1f us (%.1f us per direction)%n",
                            micros, rtt[0] / 1e3, rtt[n / 2] / 1e3, rtt[n * 99 / 100] / 1e3, rtt[n - 1] / 1e3,
                            rtt[n / 2] / 1e3 - expect, (rtt[n / 2] / 1e3 - expect) / 2);
                    System.out.printf("                proxy-side lateness: %s%n", wan.lateness());
                }
            }
        }
    }
}
