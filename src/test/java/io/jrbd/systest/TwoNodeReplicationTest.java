package io.jrbd.systest;

import static io.jrbd.systest.TwoNodes.ALPHA;
import static io.jrbd.systest.TwoNodes.BRAVO;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Two daemons on loopback: what a client writes to the Primary lands, byte for byte, on the Secondary. */
class TwoNodeReplicationTest {
    @TempDir
    Path dir;

    @Test
    void nbdcopy_and_fio_writes_leave_both_backing_files_identical() throws Exception {
        try (TwoNodes nodes = TwoNodes.synced(dir, new TwoNodes.Options().size("128M"))) {
            JsonNode alpha = nodes.statusJson(ALPHA);
            assertEquals("Primary", alpha.path("role").asText(), alpha.toString());
            assertEquals(nodes.uri(ALPHA), alpha.path("nbd").asText(), alpha.toString());
            assertEquals("UpToDate", alpha.path("peer").path("disk").asText(), alpha.toString());

            byte[] data = new byte[64 << 20];
            new Random(1234).nextBytes(data);
            Path in = dir.resolve("in.bin");
            Files.write(in, data);
            Command.of("nbdcopy", in.toString(), nodes.uri(ALPHA)).ok();
            Files.delete(in);

            // 32 MiB of 4 KiB random writes at iodepth 16 over the second half of the device; fio ends with a flush
            // (end_fsync), which the engine answers only once the peer made it durable too (protocol C).
            String fio = Command.of("fio", "--name=randwrite", "--ioengine=nbd", "--uri=" + nodes.uri(ALPHA),
                    "--rw=randwrite", "--bs=4k", "--iodepth=16", "--offset=64M", "--size=32M", "--end_fsync=1",
                    "--randseed=77").timeout(300).ok();
            assertTrue(fio.contains("err= 0"), fio);
            Command.of("qemu-io", "-f", "raw", "-c", "flush", nodes.uri(ALPHA)).ok();

            nodes.waitReplicated(ALPHA, BRAVO, 60);
            String alphaHash = TwoNodes.sha256(nodes.disk(ALPHA));
            String bravoHash = TwoNodes.sha256(nodes.disk(BRAVO));
            assertEquals(alphaHash, bravoHash, "backing files differ after replication; alpha "
                    + nodes.statusJson(ALPHA) + " bravo " + nodes.statusJson(BRAVO));
            // Not vacuous: the data is really there (the first 64 MiB are what nbdcopy sent).
            byte[] head = new byte[4096];
            try (var f = Files.newInputStream(nodes.disk(BRAVO))) {
                f.readNBytes(head, 0, head.length);
            }
            assertEquals(data[0], head[0]);
            assertEquals(data[4095], head[4095]);
            assertNotEquals(TwoNodes.sha256(emptyFile(128 << 20)), bravoHash, "bravo holds only zeroes");

            // And after both stop cleanly the files are still identical (nothing was left in flight).
            nodes.stop(ALPHA);
            nodes.stop(BRAVO);
            assertEquals(TwoNodes.sha256(nodes.disk(ALPHA)), TwoNodes.sha256(nodes.disk(BRAVO)),
                    "backing files differ after a clean stop");
            assertFalse(nodes.log(ALPHA).contains("ERROR"), nodes.log(ALPHA));
        }
    }

    private Path emptyFile(long size) throws Exception {
        Path p = dir.resolve("zero.bin");
        try (var f = new java.io.RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(size);
        }
        return p;
    }
}
