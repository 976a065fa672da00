package io.jrbd.metadata.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/** What the store tests share: recognisable bytes, reading back, and asking the kernel about blocks. */
final class StoreFixtures {
    static final int KIB = 1024;
    static final int MIB = 1024 * KIB;

    private StoreFixtures() {
    }

    /** Bytes that differ from zero everywhere and depend on {@code seed}, so misplaced data shows. */
    static byte[] pattern(int length, int seed) {
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++) {
            bytes[i] = (byte) (1 + (i * 31 + seed * 17) % 251);
        }
        return bytes;
    }

    static byte[] filled(int length, int value) {
        byte[] bytes = new byte[length];
        Arrays.fill(bytes, (byte) value);
        return bytes;
    }

    static void write(BackingStore store, long offset, byte[] bytes) throws StoreException {
        ByteBuffer src = ByteBuffer.allocateDirect(bytes.length);
        src.put(bytes).flip();
        store.write(src, offset);
    }

    static byte[] read(BackingStore store, long offset, int length) throws StoreException {
        ByteBuffer dst = ByteBuffer.allocate(length);
        store.read(dst, offset);
        return dst.array();
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

    /** Pairs of (length, hole) as describe() returns them, for readable assertion messages. */
    static String runs(long[] out, int count) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < count; i++) {
            if (i > 0) {
                sb.append(", ");
            }
            sb.append(out[i * 2 + 1] == 1 ? "hole " : "data ").append(out[i * 2]);
        }
        return sb.append(']').toString();
    }
}
