package io.jrbd.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/** Work directories and backing files for the benchmark harnesses. */
final class BenchFiles {
    /** Parent of the work directories: {@code -Djrbd.bench.dir}, else java.io.tmpdir. Must not be tmpfs. */
    static final String DIR_PROPERTY = "jrbd.bench.dir";

    /**
     * {@code -Djrbd.bench.prefill=false} leaves the backing files sparse. By default they are
     * filled with data first, so a write overwrites an allocated block (the steady state of a
     * used device) instead of allocating one in a hole.
     */
    static final String PREFILL_PROPERTY = "jrbd.bench.prefill";

    private BenchFiles() {
    }

    static Path workDirectory(String prefix) throws IOException {
        Path parent = Path.of(System.getProperty(DIR_PROPERTY, System.getProperty("java.io.tmpdir")));
        Files.createDirectories(parent);
        return Files.createTempDirectory(parent, prefix);
    }

    static boolean prefill() {
        return Boolean.parseBoolean(System.getProperty(PREFILL_PROPERTY, "true"));
    }

    /** Creates {@code file} of {@code size} bytes of pseudo-random data (or sparse without prefill). */
    static void createBackingFile(Path file, long size, boolean prefill) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            if (!prefill) {
                ch.truncate(size);
                return;
            }
            ByteBuffer chunk = ByteBuffer.allocateDirect(1 << 20);
            SplittableRandom random = new SplittableRandom(size);
            while (chunk.hasRemaining()) {
                chunk.putLong(random.nextLong());
            }
            for (long position = 0; position < size; ) {
                chunk.clear().limit((int) Math.min(chunk.capacity(), size - position));
                while (chunk.hasRemaining()) {
                    position += ch.write(chunk, position);
                }
            }
            // Clean pages: otherwise the first fdatasync of a node (the Secondary's, every 100 ms)
            // or the kernel's writeback 30 s later would write the whole file during the measurement.
            ch.force(false);
        }
    }

    static void deleteTree(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    System.err.println("jrbd-bench: cannot delete " + p + ": " + e.getMessage());
                }
            });
        } catch (IOException e) {
            System.err.println("jrbd-bench: cannot delete " + dir + ": " + e.getMessage());
        }
    }
}
