package io.jrbd.systest;

import static io.jrbd.systest.TwoNodes.ALPHA;
import static io.jrbd.systest.TwoNodes.BRAVO;
import static io.jrbd.systest.TwoNodes.RESOURCE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Online verify finds exactly the blocks that differ (and not the ones being written while it
 * runs), marks them on both nodes, and a resync repairs them. Checksum-based resync ships only
 * the blocks whose digests differ.
 */
class VerifyTest {
    private static final long MIB = 1 << 20;
    private static final long[] FLIPPED = {MIB + 5, 7 * MIB + 3 * 4096 + 100, 15 * MIB + 4095};

    @TempDir
    Path dir;

    @Test
    void verify_reports_exactly_the_corrupted_blocks_under_load_and_a_resync_repairs_them() throws Exception {
        try (TwoNodes nodes = TwoNodes.synced(dir, new TwoNodes.Options().size("64M"))) {
            ResyncTest.sequentialWrite(nodes, ALPHA, 16);
            nodes.waitReplicated(ALPHA, BRAVO, 30);
            for (long at : FLIPPED) {
                ResyncTest.flipByte(nodes.disk(BRAVO), at);
            }
            assertNotEquals(TwoNodes.sha256(nodes.disk(ALPHA)), TwoNodes.sha256(nodes.disk(BRAVO)));

            // Writes go on while verify runs: a block caught between the two disks is re-checked, never reported.
            Process fio = new ProcessBuilder("fio", "--name=busy", "--ioengine=nbd", "--uri=" + nodes.uri(ALPHA),
                    "--rw=randwrite", "--bs=4k", "--offset=32M", "--size=16M", "--iodepth=4", "--time_based",
                    "--runtime=30", "--rate=4m").redirectErrorStream(true).redirectOutput(dir.resolve("fio.log").toFile()).start();
            String out;
            try {
                Thread.sleep(500);
                out = nodes.jrbdadm(ALPHA, "verify", "--timeout", "60", RESOURCE).assertOk();
            } finally {
                fio.destroy();
                fio.waitFor(10, TimeUnit.SECONDS);
            }
            List<String> ranges = Pattern.compile("out of sync: (\\S+)").matcher(out).results().map(m -> m.group(1)).toList();
            assertEquals(List.of("1048576+4096", "7352320+4096", "15728640+4096"), ranges, out);
            assertEquals(3 * 4096, nodes.statusJson(ALPHA).path("outOfSyncBytes").asLong());
            nodes.waitFor(BRAVO, s -> s.path("outOfSyncBytes").asLong() == 3 * 4096, 10, "bravo marks them too");
            assertEquals(3 * 4096, nodes.statusJson(ALPHA).path("lastVerify").path("differingBytes").asLong());

            nodes.jrbdadm(ALPHA, "disconnect", RESOURCE).assertOk();
            nodes.jrbdadm(ALPHA, "connect", RESOURCE).assertOk();
            nodes.waitFor(ALPHA, s -> s.path("outOfSyncBytes").asLong() == 0 && s.path("connection").asText().equals("Connected")
                    && s.path("peer").path("disk").asText().equals("UpToDate"), 30, "the resync of what verify found");
            nodes.waitReplicated(ALPHA, BRAVO, 30);
            assertEquals(TwoNodes.sha256(nodes.disk(ALPHA)), TwoNodes.sha256(nodes.disk(BRAVO)), "the resync did not repair bravo");
            String again = nodes.jrbdadm(ALPHA, "verify", RESOURCE).assertOk();
            assertTrue(again.contains("found 0") || !again.contains("out of sync:"), again);
        }
    }

    @Test
    void checksum_resync_ships_only_the_blocks_whose_digests_differ() throws Exception {
        try (TwoNodes nodes = TwoNodes.synced(dir, new TwoNodes.Options().size("32M").net("csums-alg = \"sha256\""))) {
            ResyncTest.sequentialWrite(nodes, ALPHA, 8);
            nodes.waitReplicated(ALPHA, BRAVO, 30);
            ResyncTest.flipByte(nodes.disk(BRAVO), 5 * MIB + 17);
            int mark = nodes.log(ALPHA).length();
            nodes.jrbdadm(BRAVO, "invalidate", RESOURCE).assertOk(); // every block out of sync
            nodes.waitFor(BRAVO, s -> s.path("disk").asText().equals("UpToDate")
                    && s.path("lastConnect").path("outcome").asText().equals("BITMAP_TARGET")
                    && s.path("connection").asText().equals("Connected"), 60, "bravo resynced");
            nodes.waitReplicated(ALPHA, BRAVO, 30);
            assertEquals(TwoNodes.sha256(nodes.disk(ALPHA)), TwoNodes.sha256(nodes.disk(BRAVO)), "bravo not repaired");
            String since = nodes.log(ALPHA).substring(mark);
            Matcher m = Pattern.compile("resync queued to the peer in full: (\\d+) bytes of data and (\\d+) bytes of holes "
                    + "\\(sent as zeroing\\); (\\d+) bytes found identical by checksum").matcher(since);
            assertTrue(m.find(), since);
            assertEquals(4096, Long.parseLong(m.group(1)), "only the corrupted block travels: " + m.group());
            assertEquals(8 * MIB - 4096, Long.parseLong(m.group(3)), m.group());
        }
    }
}
