package io.jrbd.nbd.wan;

import static io.jrbd.nbd.wan.WanProxyTest.waitUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class WanProxyCommandTest {
    private static final long MS = 1_000_000L;

    @Test
    void shouldBeDrivenByCommandsOnStandardInput() throws Exception {
        try (EchoServer echo = EchoServer.echo();
                PipedOutputStream control = new PipedOutputStream();
                PipedInputStream stdin = new PipedInputStream(control)) {
            WanProxyCommand cmd = new WanProxyCommand();
            new CommandLine(cmd).parseArgs("--listen", "127.0.0.1:0", "--target", "127.0.0.1:" + echo.port(),
                    "--delay", "10ms", "--rate", "100M");
            assertEquals(Duration.ofMillis(10), cmd.delay);
            assertEquals(100L << 20, cmd.rate);
            CountDownLatch stop = new CountDownLatch(1);
            CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> {
                try {
                    return cmd.run(stdin, stop);
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            waitUntil(() -> cmd.proxy != null, "proxy started");
            WanProxy wan = cmd.proxy;
            try (Socket s = connect(wan)) {
                assertTrue(rtt(s) >= 20 * MS);
                send(control, "# a comment, then a blank line\n\nbogus\ndelay 100ms\n");
                waitUntil(() -> wan.delay().equals(Duration.ofMillis(100)), "delay 100ms applied");
                long rtt = rtt(s);
                assertTrue(rtt >= 200 * MS, "round trip " + rtt + " ns after 'delay 100ms'");
                send(control, "cut\n");
                waitUntil(wan::isCut, "cut");
                s.setSoTimeout(10_000);
                try {
                    assertEquals(-1, s.getInputStream().read());
                } catch (IOException reset) {
                    // expected too
                }
            }
            send(control, "heal\ndelay 1ms\n");
            waitUntil(() -> !wan.isCut() && wan.delay().equals(Duration.ofMillis(1)), "healed");
            try (Socket s = connect(wan)) {
                assertTrue(rtt(s) >= 2 * MS);
            }
            stop.countDown();
            assertEquals(0, exit.get(20, TimeUnit.SECONDS));
        }
    }

    @Test
    void shouldRejectBadOptionsBeforeStarting() {
        WanProxyCommand cmd = new WanProxyCommand();
        CommandLine line = new CommandLine(cmd);
        StringWriter err = new StringWriter();
        line.setErr(new PrintWriter(err));
        assertEquals(2, line.execute("--target", "127.0.0.1:80", "--delay", "10 parsecs"));
        assertTrue(err.toString().contains("'10 parsecs' is not a duration"), err.toString());
        assertNull(cmd.proxy);
        WanProxyCommand noPort = new WanProxyCommand();
        new CommandLine(noPort).parseArgs("--target", "127.0.0.1:0");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> noPort.run(new java.io.ByteArrayInputStream(new byte[0]), new CountDownLatch(0)));
        assertTrue(e.getMessage().contains("port 0 is not a port to connect to"), e.getMessage());
    }

    @Test
    void shouldDocumentTheStandardInputCommandsInItsHelp() {
        String help = new CommandLine(new WanProxyCommand()).getUsageMessage();
        for (String word : new String[] {"cut", "heal", "delay 5ms", "status", "SIGTERM", "--rate", "--delay"}) {
            assertTrue(help.contains(word), "help lacks '" + word + "':\n" + help);
        }
    }

    @Test
    void shouldRunEachControlCommandAgainstTheProxy() throws Exception {
        try (EchoServer echo = EchoServer.echo();
                WanProxy wan = WanProxy.start("127.0.0.1", 0, "127.0.0.1", echo.port(), Duration.ZERO, 0)) {
            WanControl control = new WanControl(wan);
            assertNull(control.apply("   "));
            assertNull(control.apply("# cut"));
            assertEquals("delay: one-way delay 250us for bytes read from now on", control.apply("DELAY 0.25ms"));
            assertEquals(Duration.ofNanos(250_000), wan.delay());
            assertTrue(control.apply("cut").startsWith("cut: reset 0 connection(s)"));
            assertTrue(wan.isCut());
            assertTrue(control.apply("status").startsWith("status: cut, one-way delay 250us, rate unlimited"));
            assertEquals("heal: accepting connections", control.apply("heal"));
            assertTrue(!wan.isCut());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> control.apply("delay"));
            assertTrue(e.getMessage().startsWith("'delay': delay takes 1 argument"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> control.apply("delay soon"));
            assertTrue(e.getMessage().contains("'soon' is not a duration"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> control.apply("reboot now"));
            assertTrue(e.getMessage().startsWith("unknown command 'reboot now'"), e.getMessage());
        }
    }

    private static Socket connect(WanProxy wan) throws IOException {
        Socket s = new Socket("127.0.0.1", wan.address().getPort());
        s.setTcpNoDelay(true);
        s.setSoTimeout(10_000);
        return s;
    }

    private static long rtt(Socket s) throws IOException {
        return DelayAccuracyProbe.roundTrips(s, 1)[0];
    }

    private static void send(OutputStream control, String lines) throws IOException {
        control.write(lines.getBytes(StandardCharsets.UTF_8));
        control.flush();
    }
}
