package io.jrbd.systest;

import static io.jrbd.systest.TwoNodes.ALPHA;
import static io.jrbd.systest.TwoNodes.BRAVO;
import static io.jrbd.systest.TwoNodes.RESOURCE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Primary is killed in the middle of writes and comes back: only the extents its activity
 * log names are resynced to the peer (as DRBD does), not the device.
 */
class PrimaryCrashTest {
    private static final long MIB = 1 << 20;
    private static final long EXTENT = 4 * MIB;

    @TempDir
    Path dir;

    @Test
    void after_kill_9_of_the_primary_mid_write_only_the_activity_log_extents_are_resynced() throws Exception {
        try (TwoNodes nodes = TwoNodes.synced(dir, new TwoNodes.Options().size("1G").table("[disk]\nc-max-rate = \"1G\""))) {
            // Writes keep coming to 64 MiB (16 extents) in the middle of the 1 GiB device when alpha dies.
            ProcessBuilder pb = new ProcessBuilder("fio", "--name=hot", "--ioengine=nbd", "--uri=" + nodes.uri(ALPHA),
                    "--rw=randwrite", "--bs=4k", "--offset=256M", "--size=64M", "--iodepth=16", "--time_based",
                    "--runtime=60", "--randseed=3").redirectErrorStream(true)
                    .redirectOutput(dir.resolve("fio.log").toFile());
            Process fio = pb.start();
            try {
                nodes.waitFor(ALPHA, s -> s.path("lastSeq").asLong() > 5000, 30, "writes under way");
                nodes.kill9(ALPHA);
            } finally {
                fio.destroyForcibly();
                fio.waitFor(10, TimeUnit.SECONDS);
            }
            int mark = nodes.log(ALPHA).length();
            nodes.start(ALPHA);
            String dump = nodes.jrbdadm(BRAVO, "status", RESOURCE).assertOk();
            JsonNode done = nodes.waitFor(ALPHA, s -> s.path("peer").path("disk").asText().equals("UpToDate")
                    && s.path("connection").asText().equals("Connected") && s.path("outOfSyncBytes").asLong() == 0
                    && s.path("lastConnect").path("outcome").asText().equals("IN_SYNC_AFTER_PRIMARY_CRASH_SOURCE"),
                    60, "alpha, back after the crash, to resync its activity log extents to bravo; bravo was " + dump);
            String since = nodes.log(ALPHA).substring(mark);
            Matcher hot = Pattern.compile("the (\\d+) hot extents of its activity log").matcher(since);
            assertTrue(hot.find(), since);
            int extents = Integer.parseInt(hot.group(1));
            assertTrue(extents >= 1 && extents <= 16, "hot extents after the crash: " + extents);
            Matcher m = Pattern.compile("bitmap resync to the peer: (\\d+) bytes out of sync").matcher(since);
            assertTrue(m.find(), "expected a bitmap resync of the hot extents:\n" + TwoNodes.tail(since, 4000));
            long resynced = Long.parseLong(m.group(1));
            assertTrue(resynced > 0 && resynced <= extents * EXTENT,
                    "resynced " + resynced + " bytes for " + extents + " hot extents (of a 1 GiB device): " + done);

            nodes.jrbdadm(ALPHA, "primary", RESOURCE).assertOk();
            nodes.waitReplicated(ALPHA, BRAVO, 30);
            assertEquals(TwoNodes.sha256(nodes.disk(ALPHA)), TwoNodes.sha256(nodes.disk(BRAVO)), "stores differ");
        }
    }
}
