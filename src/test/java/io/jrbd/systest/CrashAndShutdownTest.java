package io.jrbd.systest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What happens to data when the server dies or is asked to stop. */
class CrashAndShutdownTest {
    @TempDir
    Path dir;

    @Test
    void data_written_before_a_flush_survives_kill_9_and_restart() throws Exception {
        Path disk = dir.resolve("disk.img");
        try (ServeProcess server = ServeProcess.start(disk, "--size", "64M")) {
            Command.of("qemu-io", "-f", "raw", "-c", "write -P 0x3c 0 4M", "-c", "write -P 0x3d 8M 4k", "-c", "flush",
                    server.uri()).ok();
            server.kill9();
        }
        try (ServeProcess again = ServeProcess.start(disk)) {
            String out = Command.of("qemu-io", "-f", "raw", "-r", "-c", "read -P 0x3c 0 4M", "-c", "read -P 0x3d 8M 4k",
                    "-c", "read -P 0 4M 4M", again.uri()).ok();
            assertFalse(out.contains("Pattern verification failed"), out);
            assertTrue(again.log().contains("serving " + disk), again.log());
        }
    }

    @Test
    void sigterm_flushes_and_exits_0_with_a_log_line() throws Exception {
        try (ServeProcess server = ServeProcess.start(dir.resolve("disk.img"), "--size", "64M")) {
            Command.of("qemu-io", "-f", "raw", "-c", "write -P 0x11 0 1M", server.uri()).ok();
            assertEquals(0, server.terminate(), server.log());
            assertTrue(server.log().contains("stopping: closing connections and flushing"), server.log());
        }
    }

    @Test
    void connect_and_disconnect_are_logged_one_line_each() throws Exception {
        try (ServeProcess server = ServeProcess.start(dir.resolve("disk.img"), "--size", "64M")) {
            Command.of("nbdinfo", "--size", server.uri()).ok();
            String log = server.log();
            assertTrue(log.matches("(?s).*127\\.0\\.0\\.1:\\d+: client connected.*"), log);
            assertTrue(log.matches("(?s).*127\\.0\\.0\\.1:\\d+: client disconnected after \\d+ requests.*"), log);
        }
    }
}
