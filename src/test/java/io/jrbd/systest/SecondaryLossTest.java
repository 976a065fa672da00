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

/** The Secondary's daemon dies: the Primary serves on alone, and the Secondary catches up from the journal. */
class SecondaryLossTest {
    @TempDir
    Path dir;

    @Test
    void primary_serves_on_when_the_secondary_is_killed_and_catches_it_up_from_the_journal() throws Exception {
        try (TwoNodes nodes = TwoNodes.synced(dir, new TwoNodes.Options().size("64M").journalSize("64M"))) {
            String before = Command.of("qemu-io", "-f", "raw", "-c", "write -P 0x11 0 4M", "-c", "flush",
                    nodes.uri(ALPHA)).ok();
            assertFalse(before.contains("error"), before);
            nodes.waitReplicated(ALPHA, BRAVO, 30);

            int alphaLogAtKill = nodes.log(ALPHA).length();
            long bravoAppliedAtKill = nodes.quickStatus(BRAVO).path("appliedSeq").asLong();
            String journalAtKill = nodes.quickStatus(ALPHA).path("journal").asText();
            nodes.kill9(BRAVO);
            JsonNode alone = nodes.waitFor(ALPHA, s -> s.path("degraded").asBoolean(false), 15,
                    "alpha to notice bravo is gone (degraded)");
            assertEquals("Connecting", alone.path("connection").asText(), alone.toString());
            assertEquals("Primary", alone.path("role").asText(), alone.toString());

            // Writes go on, locally, tracked in the bitmap.
            String out = Command.of("qemu-io", "-f", "raw", "-c", "write -P 0x22 8M 2M", "-c", "write -P 0x33 1M 64k",
                    "-c", "write -z 20M 1M", "-c", "flush", "-c", "read -P 0x22 8M 2M", nodes.uri(ALPHA)).timeout(60).ok();
            assertFalse(out.contains("Pattern verification failed") || out.contains("error"), out);
            JsonNode degraded = nodes.statusJson(ALPHA);
            assertTrue(degraded.path("degraded").asBoolean(), degraded.toString());
            assertEquals("Connecting", degraded.path("connection").asText(), degraded.toString());
            assertEquals("DUnknown", degraded.path("peer").path("disk").asText(), degraded.toString());
            assertTrue(degraded.path("outOfSyncBytes").asLong() >= (2 << 20), "the 2 MiB written alone are out of sync: "
                    + degraded);
            assertTrue(nodes.log(ALPHA).substring(alphaLogAtKill).contains("peer bravo lost"), nodes.log(ALPHA));
            assertFalse(TwoNodes.sha256(nodes.disk(ALPHA)).equals(TwoNodes.sha256(nodes.disk(BRAVO))),
                    "bravo cannot have the writes made while it was dead");

            nodes.start(BRAVO);
            nodes.waitReplicated(ALPHA, BRAVO, 60);
            JsonNode back = nodes.statusJson(ALPHA);
            assertFalse(back.path("degraded").asBoolean(), back.toString());
            assertEquals(0, back.path("outOfSyncBytes").asLong(), back.toString());
            assertEquals("UpToDate", back.path("peer").path("disk").asText(), back.toString());

            assertEquals(TwoNodes.sha256(nodes.disk(ALPHA)), TwoNodes.sha256(nodes.disk(BRAVO)),
                    "the backing files differ after bravo came back");

            String since = nodes.log(ALPHA).substring(alphaLogAtKill);
            Matcher claimed = Pattern.compile("peer bravo is Secondary with disk \\w+, generation \\w+, applied sequence (-?\\d+)")
                    .matcher(since);
            String claim = claimed.find() ? claimed.group(1) : "?";
            assertFalse(since.contains("full resync"), "alpha fell back to a full resync instead of a journal catch-up: "
                    + "bravo had applied (and acknowledged as durable) sequence " + bravoAppliedAtKill + " when it was killed, "
                    + "and alpha's journal then held " + journalAtKill + " plus every write made while bravo was down; but "
                    + "bravo came back claiming applied sequence " + claim + ". The Secondary persists its applied sequence "
                    + "only in its once-a-second housekeeping, after the SyncAck that lets the Primary release its journal "
                    + "(Resource.TargetListener.synced / Resource.housekeeping):\n" + since);
            assertTrue(since.contains("catching bravo up from the journal"), "alpha did not catch bravo up from the journal:\n"
                    + since);
        }
    }
}
