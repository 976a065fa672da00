package io.jrbd.nbd.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrbd.replicator.engine.LatencyHistogram;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MetricsTextTest {
    private static Map<String, Object> peer(String role, String disk) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("node", "bravo");
        p.put("role", role);
        p.put("disk", disk);
        return p;
    }

    /** The status map of a connected Primary, as Resource.status() builds it. */
    private static Map<String, Object> primary() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("resource", "r0");
        m.put("node", "alpha");
        m.put("up", true);
        m.put("role", "Primary");
        m.put("protocol", "C");
        m.put("disk", "UpToDate");
        m.put("connection", "Connected");
        m.put("peer", peer("Secondary", "UpToDate"));
        m.put("outOfSyncBytes", 8192L);
        m.put("lastSeq", 1500L);
        m.put("peerSyncedSeq", 1490L);
        m.put("journal", "0..1500");
        m.put("degraded", false);
        return m;
    }

    private static String render(Map<String, Object> status, LatencyHistogram.Snapshot latency, Map<String, Long> errors) {
        return MetricsText.render(List.of(new ResourceSample(status, latency, errors)));
    }

    @Test
    void shouldShowAConnectedPrimaryAsOneHotStatesAndGauges() {
        String page = render(primary(), LatencyHistogram.Snapshot.EMPTY, Map.of());
        Map<String, Double> s = ExpositionFormat.parse(page);
        assertEquals(1.0, s.get("jrbd_up{resource=\"r0\"}"));
        assertEquals(1.0, s.get("jrbd_role{resource=\"r0\",role=\"Primary\"}"));
        assertEquals(0.0, s.get("jrbd_role{resource=\"r0\",role=\"Secondary\"}"));
        assertEquals(1.0, s.get("jrbd_disk_state{resource=\"r0\",state=\"UpToDate\"}"));
        assertEquals(0.0, s.get("jrbd_disk_state{resource=\"r0\",state=\"Inconsistent\"}"));
        assertEquals(1.0, s.get("jrbd_connection_state{resource=\"r0\",peer=\"bravo\",state=\"Connected\"}"));
        assertEquals(0.0, s.get("jrbd_connection_state{resource=\"r0\",peer=\"bravo\",state=\"StandAlone\"}"));
        assertEquals(1.0, s.get("jrbd_peer_role{resource=\"r0\",peer=\"bravo\",role=\"Secondary\"}"));
        assertEquals(1.0, s.get("jrbd_peer_disk_state{resource=\"r0\",peer=\"bravo\",state=\"UpToDate\"}"));
        assertEquals(0.0, s.get("jrbd_peer_disk_state{resource=\"r0\",peer=\"bravo\",state=\"DUnknown\"}"));
        assertEquals(8192.0, s.get("jrbd_out_of_sync_bytes{resource=\"r0\",peer=\"bravo\"}"));
        assertEquals(10.0, s.get("jrbd_replication_lag_writes{resource=\"r0\",peer=\"bravo\"}"));
        assertEquals(0.0, s.get("jrbd_resync_bytes_per_second{resource=\"r0\",peer=\"bravo\"}"));
        assertEquals(0.0, s.get("jrbd_degraded{resource=\"r0\"}"));
        assertEquals(0.0, s.get("jrbd_write_errors_total{resource=\"r0\",kind=\"io\"}"));
        assertEquals(0.0, s.get("jrbd_write_errors_total{resource=\"r0\",kind=\"shutdown\"}"));
        assertEquals(0.0, s.get("jrbd_write_latency_seconds_count{resource=\"r0\",protocol=\"C\"}"));
        // each one-hot family has exactly one 1 per resource
        assertEquals(1, s.entrySet().stream().filter(e -> e.getKey().startsWith("jrbd_connection_state{")
                && e.getValue() == 1.0).count());
        assertEquals(MetricsText.CONNECTION_STATES.size(), s.keySet().stream()
                .filter(k -> k.startsWith("jrbd_connection_state{")).count());
    }

    @Test
    void shouldWriteHelpAndTypeLinesAsTheFormatSpellsThem() {
        String page = render(primary(), LatencyHistogram.Snapshot.EMPTY, Map.of());
        assertTrue(page.startsWith("# HELP jrbd_up Whether the resource is up (attached) on this node.\n"
                + "# TYPE jrbd_up gauge\njrbd_up{resource=\"r0\"} 1\n"), page);
        assertTrue(page.contains("# TYPE jrbd_write_latency_seconds histogram\n"), page);
        assertTrue(page.contains("# TYPE jrbd_write_errors_total counter\n"), page);
    }

    @Test
    void shouldRenderTheLatencyHistogramInSecondsWithCumulativeBuckets() {
        LatencyHistogram h = new LatencyHistogram();
        h.record(30_000); // 30 us
        h.record(30_000);
        h.record(2_000_000); // 2 ms
        h.record(60_000_000_000L); // a minute: only +Inf
        String page = render(primary(), h.snapshot(), Map.of("io", 3L, "sync", 1L));
        Map<String, Double> s = ExpositionFormat.parse(page);
        String labels = "resource=\"r0\",protocol=\"C\"";
        assertEquals(2.0, s.get("jrbd_write_latency_seconds_bucket{" + labels + ",le=\"0.00005\"}"), page);
        assertEquals(2.0, s.get("jrbd_write_latency_seconds_bucket{" + labels + ",le=\"0.001\"}"), page);
        assertEquals(3.0, s.get("jrbd_write_latency_seconds_bucket{" + labels + ",le=\"0.0025\"}"), page);
        assertEquals(3.0, s.get("jrbd_write_latency_seconds_bucket{" + labels + ",le=\"10\"}"), page);
        assertEquals(4.0, s.get("jrbd_write_latency_seconds_bucket{" + labels + ",le=\"+Inf\"}"), page);
        assertEquals(4.0, s.get("jrbd_write_latency_seconds_count{" + labels + "}"), page);
        assertEquals(60.00206, s.get("jrbd_write_latency_seconds_sum{" + labels + "}"), 1e-9, page);
        assertEquals(18, s.keySet().stream().filter(k -> k.startsWith("jrbd_write_latency_seconds_bucket{")).count());
        assertEquals(3.0, s.get("jrbd_write_errors_total{resource=\"r0\",kind=\"io\"}"));
        assertEquals(1.0, s.get("jrbd_write_errors_total{resource=\"r0\",kind=\"sync\"}"));
        assertEquals(0.0, s.get("jrbd_write_errors_total{resource=\"r0\",kind=\"no_space\"}"));
    }

    @Test
    void shouldShowResyncProgressOnASyncTargetAndNoLagOnASecondary() {
        Map<String, Object> m = primary();
        m.put("role", "Secondary");
        m.put("disk", "Inconsistent");
        m.put("connection", "SyncTarget");
        m.put("peer", peer("Primary", "UpToDate"));
        m.remove("lastSeq");
        m.remove("peerSyncedSeq");
        m.put("appliedSeq", 7L);
        m.put("resync", Map.of("doneBytes", 1024L, "totalBytes", 4096L, "percent", 25.0, "bytesPerSecond", 512L,
                "secondsLeft", 6L));
        Map<String, Double> s = ExpositionFormat.parse(render(m, LatencyHistogram.Snapshot.EMPTY, Map.of()));
        assertEquals(1.0, s.get("jrbd_connection_state{resource=\"r0\",peer=\"bravo\",state=\"SyncTarget\"}"));
        assertEquals(1.0, s.get("jrbd_disk_state{resource=\"r0\",state=\"Inconsistent\"}"));
        assertEquals(1.0, s.get("jrbd_peer_role{resource=\"r0\",peer=\"bravo\",role=\"Primary\"}"));
        assertEquals(1024.0, s.get("jrbd_resync_done_bytes{resource=\"r0\",peer=\"bravo\"}"));
        assertEquals(4096.0, s.get("jrbd_resync_total_bytes{resource=\"r0\",peer=\"bravo\"}"));
        assertEquals(512.0, s.get("jrbd_resync_bytes_per_second{resource=\"r0\",peer=\"bravo\"}"));
        assertFalse(s.keySet().stream().anyMatch(k -> k.startsWith("jrbd_replication_lag_writes{")), s.toString());
    }

    @Test
    void shouldShowADownResourceAsDownDisklessWithoutPeerSeriesOrHistogram() {
        Map<String, Object> down = new LinkedHashMap<>();
        down.put("resource", "r1");
        down.put("node", "alpha");
        down.put("up", false);
        down.put("role", "Secondary");
        down.put("disk", "Diskless");
        down.put("connection", "StandAlone");
        String page = MetricsText.render(List.of(new ResourceSample(primary(), LatencyHistogram.Snapshot.EMPTY, Map.of()),
                new ResourceSample(down, LatencyHistogram.Snapshot.EMPTY, Map.of())));
        Map<String, Double> s = ExpositionFormat.parse(page);
        assertEquals(1.0, s.get("jrbd_up{resource=\"r0\"}"));
        assertEquals(0.0, s.get("jrbd_up{resource=\"r1\"}"));
        assertEquals(1.0, s.get("jrbd_disk_state{resource=\"r1\",state=\"Diskless\"}"));
        assertEquals(1.0, s.get("jrbd_role{resource=\"r1\",role=\"Secondary\"}"));
        assertFalse(s.keySet().stream().anyMatch(k -> k.contains("resource=\"r1\"") && k.contains("peer=")), page);
        assertFalse(s.keySet().stream().anyMatch(k -> k.startsWith("jrbd_write_") && k.contains("resource=\"r1\"")), page);
    }

    @Test
    void shouldKeepAStateItDoesNotKnowRatherThanDropIt() {
        Map<String, Object> m = primary();
        m.put("disk", "Attaching");
        m.put("connection", "WFBitMapS");
        Map<String, Double> s = ExpositionFormat.parse(render(m, LatencyHistogram.Snapshot.EMPTY, Map.of()));
        assertEquals(1.0, s.get("jrbd_disk_state{resource=\"r0\",state=\"Attaching\"}"));
        assertEquals(0.0, s.get("jrbd_disk_state{resource=\"r0\",state=\"UpToDate\"}"));
        assertEquals(1.0, s.get("jrbd_connection_state{resource=\"r0\",peer=\"bravo\",state=\"WFBitMapS\"}"));
    }

    @Test
    void shouldEscapeLabelValuesAndHelpAndRejectBadNames() {
        String page = new Exposition().family("x_total", Exposition.COUNTER, "a \\ b\nc")
                .sample("x_total", 2, "path", "C:\\dir \"q\"\nnext").text();
        assertEquals("# HELP x_total a \\\\ b\\nc\n# TYPE x_total counter\n"
                + "x_total{path=\"C:\\\\dir \\\"q\\\"\\nnext\"} 2\n", page);
        ExpositionFormat.parse(page);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Exposition().sample("jrbd-up", 1));
        assertTrue(e.getMessage().contains("'jrbd-up'"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Exposition().sample("x", 1, "le"));
    }

    @Test
    void shouldWriteNumbersAsPrometheusReadsThem() {
        assertEquals("3", Exposition.number(3.0));
        assertEquals("0.25", Exposition.number(0.25));
        assertEquals("+Inf", Exposition.number(Double.POSITIVE_INFINITY));
        assertEquals("-Inf", Exposition.number(Double.NEGATIVE_INFINITY));
        assertEquals("NaN", Exposition.number(Double.NaN));
        assertTrue(ExpositionFormat.SAMPLE.matcher("x " + Exposition.number(1.5e-7)).matches());
        assertTrue(ExpositionFormat.SAMPLE.matcher("x " + Exposition.number(1e20)).matches());
    }
}
