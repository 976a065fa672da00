package io.jrbd.replicator.resource;

import io.jrbd.replicator.config.Handlers;
import io.jrbd.replicator.config.ResourceConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the administrator's handler scripts ({@code [handlers]} in the configuration), as DRBD
 * runs its handlers: with the resource and the peer in the environment, and a time limit. A
 * handler that is not configured is skipped; one that fails or overruns is logged, never fatal.
 */
public final class HandlerRunner {
    private static final Logger LOG = LoggerFactory.getLogger(HandlerRunner.class);

    private final String resource;
    private final String node;
    private final Function<String, Optional<Path>> scripts;
    private final Duration timeout;

    public HandlerRunner(String resource, String node, Function<String, Optional<Path>> scripts, Duration timeout) {
        this.resource = resource;
        this.node = node;
        this.scripts = scripts;
        this.timeout = timeout;
    }

    /** The program {@code config} names for the handler spelled {@code name}, if any. */
    static Optional<Path> program(ResourceConfig config, String name) {
        for (Handlers.Handler h : Handlers.Handler.values()) {
            if (h.spelling().equals(name)) {
                return config.handlers().program(h);
            }
        }
        return Optional.empty();
    }

    /** Starts handler {@code name} in the background, if configured; returns at once. */
    public void run(String name, String peer) {
        Optional<Path> script = scripts.apply(name);
        if (script.isEmpty()) {
            return;
        }
        Thread t = new Thread(() -> runAndWait(name, script.get(), peer), "jrbd-handler-" + name);
        t.setDaemon(true);
        t.start();
    }

    /**
     * Runs handler {@code name} and waits for it (up to the timeout); returns its exit code, or
     * -1 if it is not configured, could not start, or overran (then it is killed).
     */
    public int runAndWait(String name, String peer) {
        Optional<Path> script = scripts.apply(name);
        return script.map(p -> runAndWait(name, p, peer)).orElse(-1);
    }

    private int runAndWait(String name, Path script, String peer) {
        ProcessBuilder pb = new ProcessBuilder(script.toString());
        Map<String, String> env = pb.environment();
        env.put("JRBD_RESOURCE", resource);
        env.put("JRBD_NODE_NAME", node);
        env.put("JRBD_PEER", peer);
        env.put("JRBD_HANDLER", name);
        // drbd's names, so scripts written for DRBD find what they expect
        env.put("DRBD_RESOURCE", resource);
        env.put("DRBD_PEER", peer);
        pb.redirectErrorStream(true);
        pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        LOG.warn("{}: running the {} handler {}", resource, name, script);
        try {
            Process p = pb.start();
            // What the handler says goes to the daemon's log, line by line, as DRBD logs its helpers' output.
            Thread out = new Thread(() -> logOutput(name, p), "jrbd-handler-output-" + name);
            out.setDaemon(true);
            out.start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                LOG.error("{}: the {} handler {} did not finish within {} ms; killed", resource, name, script,
                        timeout.toMillis());
                return -1;
            }
            int code = p.exitValue();
            LOG.warn("{}: the {} handler {} exited with {}", resource, name, script, code);
            return code;
        } catch (IOException e) {
            LOG.error("{}: cannot run the {} handler {}: {}", resource, name, script, e.getMessage());
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    private void logOutput(String name, Process p) {
        try (java.io.BufferedReader r = new java.io.BufferedReader(
                new java.io.InputStreamReader(p.getInputStream(), java.nio.charset.StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                LOG.info("{}: {} handler: {}", resource, name, line);
            }
        } catch (IOException e) {
            // the handler was killed or closed its output: nothing more to log
        }
    }
}
