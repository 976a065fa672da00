package io.jrbd.replicator.device;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** What the device tests share: recognisable bytes and asking the kernel about blocks. */
final class DeviceFixtures {
    static final int KIB = 1024;
    static final int MIB = 1024 * KIB;

    private DeviceFixtures() {
    }

    /** Bytes that differ from zero everywhere and depend on {@code seed}, so misplaced data shows. */
    static byte[] pattern(int length, int seed) {
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++) {
            bytes[i] = (byte) (1 + (i * 31 + seed * 17) % 251);
        }
        return bytes;
    }

    /** 512-byte blocks the file system has allocated to {@code path}, as {@code stat -c %b} says. */
    static long allocatedBlocks(Path path) throws IOException, InterruptedException {
        Process stat = new ProcessBuilder("stat", "-c", "%b", path.toString()).redirectErrorStream(true).start();
        String out = new String(stat.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
        if (!stat.waitFor(30, TimeUnit.SECONDS) || stat.exitValue() != 0) {
            throw new IOException("stat of " + path + " failed: " + out);
        }
        return Long.parseLong(out);
    }

    static boolean isTmpfs(Path dir) {
        try {
            FileStore fs = Files.getFileStore(dir);
            return "tmpfs".equals(fs.type());
        } catch (IOException e) {
            return false;
        }
    }
}
