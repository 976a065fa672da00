package io.jrbd.replicator.config;

import static io.jrbd.replicator.config.ConfigFiles.VALID;
import static io.jrbd.replicator.config.ConfigFiles.withHandlers;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.jrbd.replicator.config.Handlers.Handler;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The {@code [handlers]} table: programs that must exist and be executable when the file is read. */
class HandlersKeysTest {
    @TempDir
    Path dir;

    private Path script;

    @BeforeEach
    void writeAScript() throws IOException {
        script = executable("notify.sh", "rwxr-xr-x");
    }

    private Path executable(String name, String permissions) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, "#!/bin/sh\nexit 0\n");
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(permissions));
        return p;
    }

    private ResourceConfig load(String text) {
        return ConfigLoader.load(ConfigFiles.write(dir, "r0.toml", text));
    }

    private void assertRejected(String text, String expected) {
        Path file = ConfigFiles.write(dir, "r0.toml", text);
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(file));
        assertEquals(file + ": " + expected, e.getMessage());
        assertEquals(file, e.file());
    }

    @Test
    void shouldHaveNoHandlersAndA60sTimeoutWithoutATable() {
        Handlers h = load(VALID).handlers();
        assertEquals(Handlers.NONE, h);
        assertEquals(Map.of(), h.programs());
        assertEquals(Duration.ofSeconds(60), h.timeout());
        for (Handler handler : Handler.values()) {
            assertEquals(Optional.empty(), h.program(handler));
        }
    }

    @ParameterizedTest
    @EnumSource(Handler.class)
    void shouldReadEachHandler(Handler handler) {
        Handlers h = load(withHandlers(handler.spelling() + " = \"" + script + "\"")).handlers();
        assertEquals(Optional.of(script), h.program(handler));
        assertEquals(Map.of(handler, script), h.programs());
        assertEquals(Handlers.DEFAULT_TIMEOUT, h.timeout());
    }

    @Test
    void shouldReadEveryHandlerAndTheTimeout() {
        StringBuilder text = new StringBuilder();
        for (Handler handler : Handler.values()) {
            text.append(handler.spelling()).append(" = \"").append(script).append("\"\n");
        }
        Handlers h = load(withHandlers(text + "handler-timeout = \"90s\"")).handlers();
        assertEquals(Handler.values().length, h.programs().size());
        assertEquals(Duration.ofSeconds(90), h.timeout());
        assertEquals("handlers.pri-lost-after-sb", Handler.PRI_LOST_AFTER_SB.key());
    }

    @Test
    void shouldRejectAProgramThatDoesNotExist() {
        Path missing = dir.resolve("nope.sh");
        assertRejected(withHandlers("split-brain = \"" + missing + "\""), "handlers.split-brain: '" + missing + "' does not exist");
    }

    @Test
    void shouldRejectAProgramThatIsNotExecutable() throws IOException {
        Path plain = executable("plain.sh", "rw-r--r--");
        assertRejected(withHandlers("fence-peer = \"" + plain + "\""), "handlers.fence-peer: '" + plain + "' is not executable");
    }

    @Test
    void shouldRejectAFolder() {
        assertRejected(withHandlers("out-of-sync = \"" + dir + "\""), "handlers.out-of-sync: '" + dir + "' is not a file");
    }

    @Test
    void shouldReportValueProblemsBeforeMissingPrograms() {
        Path missing = dir.resolve("nope.sh");
        assertRejected(withHandlers("split-brain = \"" + missing + "\"\nhandler-timeout = \"0s\""),
                "handlers.handler-timeout: '0ms' is out of range 1s..10m");
    }

    @Test
    void shouldRejectBadValues() {
        assertRejected(withHandlers("split-brain = \"notify.sh\""), "handlers.split-brain: 'notify.sh' is not an absolute path");
        assertRejected(withHandlers("unfence-peer = \"\""), "handlers.unfence-peer: '' is not a path");
        assertRejected(withHandlers("before-resync-target = 1"), "handlers.before-resync-target: expected a string, found a number (1)");
        assertRejected(withHandlers("after-resync-target = [\"/bin/true\"]"),
                "handlers.after-resync-target: expected a string, found an array");
        assertRejected(withHandlers("handler-timeout = \"11m\""), "handlers.handler-timeout: '11m' is out of range 1s..10m");
        assertRejected(withHandlers("handler-timeout = \"500ms\""), "handlers.handler-timeout: '500ms' is out of range 1s..10m");
        assertRejected(withHandlers("handler-timeout = 60"), "handlers.handler-timeout: '60' is not a duration (use ms, s or m)");
        assertRejected(withHandlers("split-brian = \"/bin/true\""), "handlers.split-brian: unknown key (did you mean split-brain?)");
        assertRejected(withHandlers("initial-split-brain = \"/bin/true\""), "handlers.initial-split-brain: unknown key (known keys: "
                + "split-brain, fence-peer, unfence-peer, before-resync-target, after-resync-target, pri-lost-after-sb, "
                + "out-of-sync, handler-timeout)");
        assertRejected("handlers = \"/bin/true\"\n" + VALID, "handlers: expected a table, found a string ('/bin/true')");
    }

    @Test
    void shouldCheckPathsWhenBuiltInCode() {
        Map<Handler, Path> relative = new EnumMap<>(Handler.class);
        relative.put(Handler.SPLIT_BRAIN, Path.of("notify.sh"));
        ConfigException e = assertThrows(ConfigException.class, () -> new Handlers(relative, Handlers.DEFAULT_TIMEOUT));
        assertEquals("handlers.split-brain: 'notify.sh' is not an absolute path", e.getMessage());
        Handlers h = new Handlers(Map.of(Handler.OUT_OF_SYNC, Path.of("/nowhere/x")), Duration.ofSeconds(5));
        assertThrows(UnsupportedOperationException.class, () -> h.programs().clear());
        ConfigException installed = assertThrows(ConfigException.class, h::checkInstalled);
        assertEquals("handlers.out-of-sync: '/nowhere/x' does not exist", installed.getMessage());
    }
}
