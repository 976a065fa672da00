package io.jrbd.systest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real ext4 file system on jrbd: nbdfuse exposes the export as a file, a loop device makes
 * it a block device (this kernel has no nbd module), mkfs, mount, write, unmount, fsck,
 * remount, compare. Needs root, as CI has.
 */
class Ext4OverNbdfuseTest {
    @TempDir
    Path dir;
    /** Undo steps, run last-first whatever happened. */
    private final Deque<ThrowingRunnable> cleanup = new ArrayDeque<>();

    interface ThrowingRunnable {
        void run() throws Exception;
    }

    @AfterEach
    void cleanUp() {
        StringBuilder problems = new StringBuilder();
        while (!cleanup.isEmpty()) {
            try {
                cleanup.pop().run();
            } catch (Exception | AssertionError e) {
                problems.append(e.getMessage()).append('\n');
            }
        }
        if (problems.length() > 0) {
            fail("cleanup left debris:\n" + problems);
        }
    }

    @Test
    void ext4_survives_unmount_fsck_and_remount() throws Exception {
        assertEquals("0", Command.of("id", "-u").ok().strip(), "this test mounts file systems and must run as root");
        ServeProcess server = ServeProcess.start(dir.resolve("disk.img"), "--size", "512M");
        cleanup.push(server::close);

        Path fuseMount = Files.createDirectory(dir.resolve("fuse"));
        Process nbdfuse = new ProcessBuilder("nbdfuse", fuseMount.toString(), server.uri())
                .redirectErrorStream(true).redirectOutput(dir.resolve("nbdfuse.log").toFile()).start();
        cleanup.push(() -> {
            if (nbdfuse.isAlive()) {
                nbdfuse.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        });
        cleanup.push(() -> Command.of("fusermount3", "-u", "-z", fuseMount.toString()).run());
        Path nbdFile = fuseMount.resolve("nbd");
        waitFor(() -> Files.exists(nbdFile), "nbdfuse to expose " + nbdFile);

        String loop = Command.of("losetup", "--find", "--show", nbdFile.toString()).ok().strip();
        assertTrue(loop.startsWith("/dev/loop"), loop);
        cleanup.push(() -> Command.of("losetup", "-d", loop).ok());

        Command.of("mkfs.ext4", "-q", "-F", loop).timeout(120).ok();
        Path mnt = Files.createDirectory(dir.resolve("mnt"));
        Command.of("mount", loop, mnt.toString()).ok();
        ThrowingRunnable unmount = () -> Command.of("umount", mnt.toString()).ok();
        cleanup.push(() -> {
            if (Command.of("mountpoint", "-q", mnt.toString()).run().exitCode() == 0) {
                unmount.run();
            }
        });

        Map<String, String> sums = new HashMap<>();
        Random random = new Random(7);
        for (int i = 0; i < 20; i++) {
            byte[] data = new byte[1 + random.nextInt(3 << 20)];
            random.nextBytes(data);
            Path f = mnt.resolve("file-" + i);
            Files.write(f, data);
            sums.put(f.getFileName().toString(), Command.of("sha256sum", f.toString()).ok().split(" ")[0]);
        }
        Command.of("sync").ok();
        unmount.run();

        String fsck = Command.of("e2fsck", "-fn", loop).timeout(120).run().output();
        assertTrue(fsck.contains("Pass 5") && !fsck.contains("Fix?") && !fsck.contains("corrupt"),
                "e2fsck found problems:\n" + fsck);
        assertEquals(0, Command.of("e2fsck", "-fn", loop).timeout(120).run().exitCode(), fsck);

        Command.of("mount", loop, mnt.toString()).ok();
        for (Map.Entry<String, String> e : sums.entrySet()) {
            String again = Command.of("sha256sum", mnt.resolve(e.getKey()).toString()).ok().split(" ")[0];
            assertEquals(e.getValue(), again, e.getKey() + " changed across unmount and remount");
        }
        unmount.run();
    }

    private static void waitFor(java.util.function.BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting for " + what);
            }
            Thread.sleep(50);
        }
    }
}
