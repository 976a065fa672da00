package io.jrbd.systest;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.RandomAccessFile;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A read-only export answers every write-type request with EPERM and keeps serving reads. */
class ReadOnlyExportTest {
    @TempDir
    Path dir;

    @Test
    void writes_trims_and_zeroes_get_eperm() throws Exception {
        Path disk = dir.resolve("ro.img");
        try (RandomAccessFile f = new RandomAccessFile(disk.toFile(), "rw")) {
            f.setLength(1 << 20);
            f.seek(0);
            f.write(new byte[] {1, 2, 3});
        }
        try (ServeProcess server = ServeProcess.start(disk, "--read-only");
                RawNbdClient c = RawNbdClient.transmission(server.port(), "ro.img", false)) {
            assertEquals(2, c.transmissionFlags & 2, "READ_ONLY flag");
            c.write(1, 0, new byte[] {9, 9, 9});
            assertEquals(1, c.simpleReply().error());
            c.request(0, RawNbdClient.TRIM, 2, 0, 4096);
            assertEquals(1, c.simpleReply().error());
            c.request(0, RawNbdClient.WRITE_ZEROES, 3, 0, 4096);
            assertEquals(1, c.simpleReply().error());
            byte[] back = c.read(4, 0, 3);
            assertEquals(1, back[0]);
            assertEquals(3, back[2]);
        }
    }
}
