package io.jrbd.systest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** jrbd serve driven by the clients people use: libnbd's tools, qemu-io and fio. */
class RealClientsTest {
    @TempDir
    Path dir;
    Path disk;
    ServeProcess server;

    @BeforeEach
    void start() {
        disk = dir.resolve("disk.img");
        server = ServeProcess.start(disk, "--size", "256M");
    }

    @AfterEach
    void stop() throws Exception {
        try {
            if (server.isAlive()) {
                server.assertNoLeaks();
            }
        } finally {
            server.close();
        }
    }

    @Test
    void nbdinfo_reports_size_flags_and_meta_contexts() {
        String info = Command.of("nbdinfo", server.uri()).ok();
        assertTrue(info.contains("export-size: 268435456"), info);
        for (String flag : new String[] {"can_flush: true", "can_fua: true", "can_trim: true", "can_zero: true",
                "can_fast_zero: true", "can_multi_conn: true", "can_cache: true", "can_df: true", "is_read_only: false",
                "base:allocation", "block_size_minimum: 1", "block_size_preferred: 4096", "block_size_maximum: 33554432"}) {
            assertTrue(info.contains(flag), "nbdinfo lacks '" + flag + "':\n" + info);
        }
        String list = Command.of("nbdinfo", "--list", "nbd://127.0.0.1:" + server.port()).ok();
        assertTrue(list.contains("export=\"disk.img\""), list);
    }

    @Test
    void nbdinfo_map_shows_written_data_between_holes() {
        Command.of("qemu-io", "-f", "raw", "-c", "write -P 0x5a 1M 64k", server.uri()).ok();
        String map = Command.of("nbdinfo", "--map", server.uri()).ok();
        String[] lines = map.strip().split("\n");
        assertEquals(3, lines.length, map);
        assertTrue(lines[0].matches("\\s*0\\s+1048576\\s+3\\s+hole,zero"), map);
        assertTrue(lines[1].matches("\\s*1048576\\s+65536\\s+0\\s+data"), map);
        assertTrue(lines[2].matches("\\s*1114112\\s+267321344\\s+3\\s+hole,zero"), map);
    }

    @Test
    void qemu_io_write_read_discard_and_write_zeroes_verify_their_patterns() throws Exception {
        String out = Command.of("qemu-io", "-f", "raw",
                "-c", "write -P 0xab 0 1M",
                "-c", "read -P 0xab 0 1M",
                "-c", "write -P 0xcd 3M 512",
                "-c", "read -P 0xcd 3M 512",
                "-c", "discard 0 64k",
                "-c", "read -P 0 0 64k",
                "-c", "read -P 0xab 64k 960k",
                "-c", "write -z 2M 1M",
                "-c", "read -P 0 2M 1M",
                "-c", "write -z -u 4M 64k",
                "-c", "read -P 0 4M 64k",
                "-c", "write -f -P 0x77 5M 4k",
                "-c", "read -P 0x77 5M 4k",
                "-c", "flush",
                server.uri()).ok();
        assertFalse(out.contains("Pattern verification failed"), out);
        assertFalse(out.toLowerCase().contains("error"), out);
        // What clients saw is what is in the file.
        byte[] file = Files.readAllBytes(disk);
        assertEquals((byte) 0xab, file[65536]);
        assertEquals((byte) 0, file[0]);
        assertEquals((byte) 0xcd, file[3 << 20]);
        assertEquals((byte) 0x77, file[(5 << 20) + 4095]);
    }

    @Test
    void nbdcopy_round_trips_64_MiB_of_random_data() throws Exception {
        byte[] data = new byte[64 << 20];
        new Random(42).nextBytes(data);
        Path in = dir.resolve("in.bin");
        Path out = dir.resolve("out.bin");
        Files.write(in, data);
        Command.of("nbdcopy", in.toString(), server.uri()).ok();
        Command.of("nbdcopy", server.uri(), out.toString()).ok();
        byte[] back = Files.readAllBytes(out);
        assertEquals(256 << 20, back.length);
        byte[] prefix = java.util.Arrays.copyOf(back, data.length);
        assertArrayEquals(sha256(data), sha256(prefix), "nbdcopy out differs from what went in");
        assertArrayEquals(sha256(data), sha256(java.util.Arrays.copyOf(Files.readAllBytes(disk), data.length)),
                "backing file differs from what went in");
    }

    @Test
    void fio_randwrite_4k_at_iodepth_16_verifies_crc32c() {
        String out = Command.of("fio", "--name=randwrite", "--ioengine=nbd", "--uri=" + server.uri(), "--rw=randwrite",
                "--bs=4k", "--iodepth=16", "--size=64M", "--verify=crc32c", "--verify_fatal=1",
                "--do_verify=1", "--randrepeat=0", "--verify_state_save=0").timeout(300).ok();
        assertTrue(out.contains("err= 0"), out);
        assertTrue(out.contains("read: IOPS="), "fio did not read back for verification:\n" + out);
        assertFalse(out.contains("verify failed") || out.contains("bad magic"), out);
    }

    static byte[] sha256(byte[] data) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(data);
    }
}
