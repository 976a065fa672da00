package io.jrbd.systest;

import static io.jrbd.systest.TwoNodes.ALPHA;
import static io.jrbd.systest.TwoNodes.BRAVO;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Secondary is away for longer than the journal reaches: the Primary resyncs only the
 * blocks its bitmap marked, not the device.
 */
class BitmapResyncTest {
    @TempDir
    Path dir;

    @Test
    void a_secondary_back_after_more_than_the_journal_holds_gets_only_the_dirty_blocks() throws Exception {
        try (TwoNodes nodes = TwoNodes.synced(dir, new TwoNodes.Options().size("128M").journalSize("1M"))) {
            int logAtKill = nodes.log(ALPHA).length();
            nodes.kill9(BRAVO);
            nodes.waitFor(ALPHA, s -> s.path("degraded").asBoolean(false), 15, "alpha to notice bravo is gone");

            // 8 MiB in 64 KiB writes scattered over the device: far more than the 1 MiB journal.
            java.util.List<String> argv = new java.util.ArrayList<>(java.util.List.of("qemu-io", "-f", "raw"));
            for (int i = 0; i < 128; i++) {
                argv.add("-c");
                argv.add("write -P " + (i % 200 + 1) + " " + (i * 1024L * 1024) + " 64k");
            }
            argv.add(nodes.uri(ALPHA));
            Command.of(argv).timeout(120).ok();
            JsonNode alone = nodes.statusJson(ALPHA);
            long dirty = alone.path("outOfSyncBytes").asLong();
            assertEquals(128L * 64 * 1024, dirty, "every written 64 KiB is out of sync, nothing else: " + alone);

            nodes.start(BRAVO);
            nodes.waitReplicated(ALPHA, BRAVO, 60);
            assertEquals(TwoNodes.sha256(nodes.disk(ALPHA)), TwoNodes.sha256(nodes.disk(BRAVO)),
                    "the backing files differ after the bitmap resync");

            String since = nodes.log(ALPHA).substring(logAtKill);
            assertTrue(since.contains("bitmap resync to bravo"), "expected a bitmap resync:\n" + since);
            assertFalse(since.contains("full resync"), "fell back to a full resync:\n" + since);
            Matcher m = Pattern.compile("bitmap resync to the peer: (\\d+) bytes out of sync").matcher(since);
            assertTrue(m.find(), since);
            long shipped = Long.parseLong(m.group(1));
            assertEquals(dirty, shipped, "the resync covers exactly the dirty blocks (" + shipped + " of a 128 MiB device)");
            assertEquals(0, nodes.statusJson(ALPHA).path("outOfSyncBytes").asLong());
        }
    }
}
