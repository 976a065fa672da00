package io.jrbd.systest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The launcher and the serve command's refusals, each one clear line and a non-zero exit. */
class ServeCommandLineTest {
    @TempDir
    Path dir;

    private static Command.Result jrbd(String... args) {
        String[] argv = new String[args.length + 1];
        argv[0] = Jrbd.launcher("jrbd");
        System.arraycopy(args, 0, argv, 1, args.length);
        return Command.of(argv).timeout(60).run();
    }

    @Test
    void version_and_help_work() {
        Command.Result version = jrbd("--version");
        assertEquals(0, version.exitCode(), version.output());
        assertTrue(version.output().startsWith("jrbd 0."), version.output());
        Command.Result help = jrbd("serve", "--help");
        assertEquals(0, help.exitCode(), help.output());
        assertTrue(help.output().contains("--file") && help.output().contains("--read-only"), help.output());
    }

    @Test
    void a_missing_file_without_size_is_refused() {
        Command.Result r = jrbd("serve", "--file", dir.resolve("nope.img").toString(), "--port", "0");
        assertNotEquals(0, r.exitCode());
        assertTrue(r.output().contains("nope.img: no such file; give a size to create it"), r.output());
    }

    @Test
    void an_existing_file_of_another_size_is_refused_and_left_alone() throws Exception {
        Path disk = dir.resolve("disk.img");
        try (RandomAccessFile f = new RandomAccessFile(disk.toFile(), "rw")) {
            f.setLength(1 << 20);
        }
        Command.Result r = jrbd("serve", "--file", disk.toString(), "--size", "2M", "--port", "0");
        assertNotEquals(0, r.exitCode());
        assertTrue(r.output().contains("it is 1048576 bytes but the size asked for is 2097152"), r.output());
        assertEquals(1 << 20, Files.size(disk));
    }

    @Test
    void sizes_that_are_not_sizes_are_refused() {
        Command.Result r = jrbd("serve", "--file", dir.resolve("d.img").toString(), "--size", "12Q", "--port", "0");
        assertNotEquals(0, r.exitCode());
        assertTrue(r.output().contains("'12Q' is not a size"), r.output());
        Command.Result odd = jrbd("serve", "--file", dir.resolve("d.img").toString(), "--size", "1000", "--port", "0");
        assertNotEquals(0, odd.exitCode());
        assertTrue(odd.output().contains("not a positive multiple of 512"), odd.output());
        assertFalse(Files.exists(dir.resolve("d.img")), "a refused size must not create the file");
    }

    @Test
    void a_port_in_use_is_refused_with_the_address() throws Exception {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            Command.Result r = jrbd("serve", "--file", dir.resolve("d.img").toString(), "--size", "1M", "--port",
                    Integer.toString(taken.getLocalPort()));
            assertNotEquals(0, r.exitCode());
            assertTrue(r.output().contains("cannot listen on 127.0.0.1:" + taken.getLocalPort()), r.output());
        }
    }

    @Test
    void a_read_only_export_is_advertised_read_only() throws Exception {
        Path disk = dir.resolve("ro.img");
        try (RandomAccessFile f = new RandomAccessFile(disk.toFile(), "rw")) {
            f.setLength(1 << 20);
        }
        try (ServeProcess server = ServeProcess.start(disk, "--read-only")) {
            String info = Command.of("nbdinfo", server.uri()).ok();
            assertTrue(info.contains("is_read_only: true"), info);
            Command.Result write = Command.of("qemu-io", "-f", "raw", "-c", "write 0 4k", server.uri()).run();
            assertTrue(write.output().contains("Operation not permitted") || write.exitCode() != 0, write.output());
        }
    }
}
