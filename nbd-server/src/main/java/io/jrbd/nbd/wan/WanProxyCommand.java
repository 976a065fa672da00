package io.jrbd.nbd.wan;

import io.jrbd.nbd.HostPort;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import io.jrbd.nbd.cli.VersionProvider;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;
import sun.misc.Signal;

/** {@code jrbd wan-proxy}: a simulated WAN link (delay, bandwidth cap, cut) in front of a TCP service. */
@Command(name = "wan-proxy", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = {"Forward TCP connections to a target through a simulated WAN link: every byte is delayed by",
                "the one-way delay in each direction (so a round trip takes twice the delay), optionally",
                "capped in bandwidth per direction. For tests and benchmarks where netem is not available.",
                "",
                "Runs until SIGTERM or SIGINT. Reads commands from standard input, one per line:",
                "  cut          reset every connection (both sides) and reset new ones until heal",
                "  heal         accept connections again",
                "  delay 5ms    set the one-way delay for bytes read from now on",
                "  status       log the counters",
                "End of input leaves the proxy running."},
        footer = {"", "Example:",
                "  jrbd wan-proxy --listen 127.0.0.1:7790 --target 10.0.0.2:7789 --delay 10ms --rate 100M",
                "  (then type 'cut', 'heal' or 'delay 50ms' on its standard input)"})
public final class WanProxyCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger("jrbd");

    @Option(names = "--listen", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:0",
            description = "Address to listen on; port 0 picks a free one (default: ${DEFAULT-VALUE}).")
    String listen;

    @Option(names = "--target", required = true, paramLabel = "HOST:PORT", description = "Where to forward connections.")
    String target;

    @Option(names = "--delay", paramLabel = "DURATION", defaultValue = "0ms", converter = DurationConverter.class,
            description = "One-way delay per direction, with us, ms or s (e.g. 100us, 10ms) (default: ${DEFAULT-VALUE}).")
    Duration delay;

    @Option(names = "--rate", paramLabel = "BYTES/S", defaultValue = "0", converter = RateConverter.class,
            description = "Bandwidth cap per direction in bytes per second, with K, M, G (powers of 1024); 0 for none (default: ${DEFAULT-VALUE}).")
    long rate;

    @Option(names = "--event-loops", defaultValue = "1", description = "Network event-loop threads (default: ${DEFAULT-VALUE}).")
    int eventLoops;

    /** The running proxy, once {@link #run} has started it. */
    volatile WanProxy proxy;

    public WanProxyCommand() {
    }

    @Override
    public Integer call() throws Exception {
        CountDownLatch stop = new CountDownLatch(1);
        Signal.handle(new Signal("TERM"), s -> stop.countDown());
        Signal.handle(new Signal("INT"), s -> stop.countDown());
        return run(System.in, stop);
    }

    /** Starts the proxy, obeys {@code control} lines until {@code stop} opens, then closes it. */
    int run(InputStream control, CountDownLatch stop) throws InterruptedException {
        HostPort from = HostPort.parse(listen, "--listen");
        HostPort to = HostPort.parse(target, "--target");
        if (to.port() == 0) {
            throw new IllegalArgumentException("--target '" + target + "': port 0 is not a port to connect to");
        }
        WanProxy p = WanProxy.start(from.host(), from.port(), to.host(), to.port(), delay, rate,
                io.netty.buffer.ByteBufAllocator.DEFAULT, eventLoops);
        proxy = p;
        LOG.info("wan-proxy listening on {} -> {}, one-way delay {}, rate {}",
                new HostPort(from.host(), p.address().getPort()), to, Durations.format(delay), Rates.format(rate));
        Thread reader = new Thread(() -> readCommands(control, new WanControl(p)), "wan-proxy-control");
        reader.setDaemon(true);
        reader.start();
        stop.await();
        LOG.info("stopping: {}", WanControl.status(p));
        p.close();
        return 0;
    }

    private static void readCommands(InputStream control, WanControl commands) {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(control, StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                try {
                    String reply = commands.apply(line);
                    if (reply != null) {
                        LOG.info("wan-proxy {}", reply);
                    }
                } catch (IllegalArgumentException e) {
                    LOG.warn("wan-proxy: {}", e.getMessage());
                }
            }
            LOG.debug("wan-proxy: end of standard input, commands no longer read");
        } catch (IOException e) {
            LOG.warn("wan-proxy: cannot read commands: {}", e.toString());
        }
    }

    /** Lets {@code --delay} take 100us, 10ms, 1s. */
    public static final class DurationConverter implements ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            try {
                return Durations.parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    /** Lets {@code --rate} take 100M, 1G. */
    public static final class RateConverter implements ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            try {
                return Rates.parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }
}
