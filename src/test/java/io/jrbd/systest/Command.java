package io.jrbd.systest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs an external program to completion, capturing its output; kills it (by PID) on timeout. */
final class Command {
    private final List<String> argv;
    private Map<String, String> env = Map.of();
    private Path workDir;
    private long timeoutSeconds = 120;

    private Command(List<String> argv) {
        this.argv = argv;
    }

    static Command of(String... argv) {
        return new Command(new ArrayList<>(Arrays.asList(argv)));
    }

    static Command of(List<String> argv) {
        return new Command(new ArrayList<>(argv));
    }

    Command env(Map<String, String> env) {
        this.env = env;
        return this;
    }

    Command in(Path dir) {
        this.workDir = dir;
        return this;
    }

    Command timeout(long seconds) {
        this.timeoutSeconds = seconds;
        return this;
    }

    Result run() {
        requireTool(argv.get(0));
        try {
            Path out = Files.createTempFile("jrbd-cmd", ".out");
            try {
                ProcessBuilder pb = new ProcessBuilder(argv).redirectErrorStream(true).redirectOutput(out.toFile());
                pb.environment().putAll(env);
                if (workDir != null) {
                    pb.directory(workDir.toFile());
                }
                Process p = pb.start();
                if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                    p.descendants().forEach(ProcessHandle::destroyForcibly);
                    p.destroyForcibly().waitFor();
                    fail(String.join(" ", argv) + " did not finish in " + timeoutSeconds + " s; output:\n" + Files.readString(out));
                }
                return new Result(String.join(" ", argv), p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
            } finally {
                Files.deleteIfExists(out);
            }
        } catch (IOException e) {
            throw new AssertionError("cannot run " + argv + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted running " + argv, e);
        }
    }

    /** Runs and asserts exit status 0. */
    String ok() {
        return run().assertOk();
    }

    /** Fails, never skips, when a tool the tests need is missing: ./run-tests installs them all. */
    static void requireTool(String name) {
        if (name.contains("/")) {
            return;
        }
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (Files.isExecutable(Path.of(dir, name))) {
                return;
            }
        }
        for (String dir : List.of("/usr/sbin", "/sbin")) {
            if (Files.isExecutable(Path.of(dir, name))) {
                return;
            }
        }
        fail(name + " is not installed; ./run-tests installs every tool the system tests need");
    }

    record Result(String command, int exitCode, String output) {
        String assertOk() {
            assertEquals(0, exitCode, command + " failed with exit code " + exitCode + "; output:\n" + output);
            return output;
        }

        /** Asserts a refusal (exit code 1) whose output contains {@code message}. */
        String assertFailure(String message) {
            assertEquals(1, exitCode, command + " should have been refused; output:\n" + output);
            org.junit.jupiter.api.Assertions.assertTrue(output.contains(message),
                    command + ": expected the message '" + message + "', got:\n" + output);
            return output;
        }
    }
}
