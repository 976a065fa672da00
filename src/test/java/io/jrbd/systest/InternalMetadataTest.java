package io.jrbd.systest;

import static io.jrbd.systest.TwoNodes.ALPHA;
import static io.jrbd.systest.TwoNodes.BRAVO;
import static io.jrbd.systest.TwoNodes.RESOURCE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code meta-disk = "internal"}: the metadata lives after the data in the same file, and everything works the same. */
class InternalMetadataTest {
    private static final long SIZE = 64L << 20;

    @TempDir
    Path dir;

    @Test
    void a_pair_with_internal_metadata_replicates_resyncs_and_keeps_its_metadata_past_the_data() throws Exception {
        try (TwoNodes nodes = TwoNodes.synced(dir, new TwoNodes.Options().size("64M").internalMetadata().journalSize("1M"))) {
            assertTrue(Files.size(nodes.disk(ALPHA)) > SIZE, "the disk file holds the metadata after the data");
            String dump = nodes.jrbdadm(BRAVO, "dump-md", RESOURCE).assertOk();
            assertTrue(dump.contains("internal"), dump);
            ResyncTest.sequentialWrite(nodes, ALPHA, 8);
            nodes.waitReplicated(ALPHA, BRAVO, 30);
            assertEquals(TwoNodes.sha256(nodes.disk(ALPHA), SIZE), TwoNodes.sha256(nodes.disk(BRAVO), SIZE));

            nodes.kill9(BRAVO);
            nodes.waitFor(ALPHA, s -> s.path("degraded").asBoolean(false), 15, "alpha degraded");
            Command.of("qemu-io", "-f", "raw", "-c", "write -P 0x77 32M 4M", "-c", "flush", nodes.uri(ALPHA)).timeout(60).ok();
            nodes.start(BRAVO);
            nodes.waitReplicated(ALPHA, BRAVO, 60);
            assertEquals(TwoNodes.sha256(nodes.disk(ALPHA), SIZE), TwoNodes.sha256(nodes.disk(BRAVO), SIZE),
                    "the data areas differ after the resync");
        }
    }
}
