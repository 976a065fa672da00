package io.jrbd.systest;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real {@code bin/jrbd serve} process on a free loopback port, with Netty's leak detector
 * at PARANOID. Closing it kills the process by its PID if it is still alive.
 */
final class ServeProcess implements AutoCloseable {
    private static final Pattern LISTENING = Pattern.compile("listening on 127\\.0\\.0\\.1:(\\d+)");

    private final Process process;
    private final Path log;
    private final int port;
    private final String exportName;

    private ServeProcess(Process process, Path log, int port, String exportName) {
        this.process = process;
        this.log = log;
        this.port = port;
        this.exportName = exportName;
    }

    /** Starts {@code jrbd serve --file file [extra...]} and waits until it listens. */
    static ServeProcess start(Path file, String... extra) {
        List<String> argv = new ArrayList<>(List.of(Jrbd.launcher("jrbd"), "serve", "--file", file.toString(), "--port", "0"));
        argv.addAll(List.of(extra));
        String exportName = file.getFileName().toString();
        for (int i = 0; i < extra.length - 1; i++) {
            if (extra[i].equals("--export")) {
                exportName = extra[i + 1];
            }
        }
        try {
            Path log = Files.createTempFile(file.getParent(), "serve", ".log");
            ProcessBuilder pb = new ProcessBuilder(argv).redirectErrorStream(true).redirectOutput(log.toFile());
            pb.environment().put("JRBD_JAVA_OPTS", "-Dio.netty.leakDetection.level=paranoid -Xmx256m");
            Process p = pb.start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (System.nanoTime() < deadline) {
                Matcher m = LISTENING.matcher(Files.readString(log, StandardCharsets.UTF_8));
                if (m.find()) {
                    return new ServeProcess(p, log, Integer.parseInt(m.group(1)), exportName);
                }
                if (!p.isAlive()) {
                    fail("jrbd serve exited with " + p.exitValue() + " before listening:\n" + Files.readString(log));
                }
                Thread.sleep(50);
            }
            p.destroyForcibly();
            fail("jrbd serve did not listen within 30 s:\n" + Files.readString(log));
            throw new AssertionError("unreachable");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    int port() {
        return port;
    }

    long pid() {
        return process.pid();
    }

    String uri() {
        return "nbd://127.0.0.1:" + port + "/" + exportName;
    }

    boolean isAlive() {
        return process.isAlive();
    }

    String log() {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** kill -9: no shutdown hook, no flush, nothing. */
    void kill9() throws InterruptedException {
        Command.of("kill", "-9", Long.toString(process.pid())).ok();
        process.waitFor(10, TimeUnit.SECONDS);
        assertFalse(process.isAlive(), "jrbd serve survived kill -9");
    }

    /** SIGTERM, then the exit code. */
    int terminate() throws InterruptedException {
        Command.of("kill", "-TERM", Long.toString(process.pid())).ok();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            fail("jrbd serve did not stop within 30 s of SIGTERM:\n" + log());
        }
        return process.exitValue();
    }

    /**
     * Netty's PARANOID leak detector reports a leaked buffer with "LEAK:" once the garbage
     * collector has found it and another buffer is allocated: so collect, make one request,
     * then read the log.
     */
    void assertNoLeaks() throws InterruptedException {
        Path jcmd = Path.of(ProcessHandle.current().info().command().orElseThrow()).resolveSibling("jcmd");
        Command.of(jcmd.toString(), Long.toString(process.pid()), "GC.run").ok();
        Command.of("nbdinfo", "--size", uri()).ok();
        Thread.sleep(200);
        String text = log();
        assertFalse(text.contains("LEAK:"), "buffer leak reported:\n" + text);
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
