package io.jrbd.systest;

import static io.jrbd.systest.TwoNodes.ALPHA;
import static io.jrbd.systest.TwoNodes.BRAVO;
import static io.jrbd.systest.TwoNodes.RESOURCE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Protocol A with {@code on-congestion pull-ahead}: when the link cannot keep up, the Primary
 * stops shipping instead of making the application wait (Ahead; the peer is Behind, Outdated),
 * and once the link drains a bitmap resync brings the peer back.
 */
class PullAheadTest {
    @TempDir
    Path dir;

    @Test
    void a_congested_link_makes_the_primary_pull_ahead_and_a_resync_catches_the_peer_up() throws Exception {
        try (TwoNodes nodes = TwoNodes.synced(dir, new TwoNodes.Options().size("128M").protocol("A").drbdTimers()
                .net("on-congestion = \"pull-ahead\"").net("congestion-fill = \"2M\"").table("[disk]\nc-max-rate = \"1G\""))) {
            long bravo = nodes.pid(BRAVO);
            Command.of("kill", "-STOP", Long.toString(bravo)).ok(); // a peer that reads nothing: the link fills
            JsonNode ahead;
            try {
                ResyncTest.sequentialWrite(nodes, ALPHA, 64); // would block on the full link without pull-ahead
                ahead = nodes.statusJson(ALPHA);
            } finally {
                Command.of("kill", "-CONT", Long.toString(bravo)).ok();
            }
            assertEquals("Ahead", ahead.path("connection").asText(), ahead.toString());
            assertTrue(ahead.path("outOfSyncBytes").asLong() > 0, ahead.toString());
            nodes.waitFor(ALPHA, s -> s.path("connection").asText().equals("Connected") && s.path("outOfSyncBytes").asLong() == 0
                    && s.path("peer").path("disk").asText().equals("UpToDate"), 60, "the resync after the link drained");
            nodes.waitReplicated(ALPHA, BRAVO, 30);
            assertEquals(TwoNodes.sha256(nodes.disk(ALPHA)), TwoNodes.sha256(nodes.disk(BRAVO)), "stores differ");
            String bravoLog = nodes.log(BRAVO);
            assertTrue(bravoLog.contains("alpha pulled ahead"), bravoLog);
            assertTrue(nodes.log(ALPHA).contains("the link to bravo drained; resyncing"), nodes.log(ALPHA));
        }
    }
}
