package io.jrbd.replicator.resource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The events lines: escaping, objects read from status maps, and what a change line carries. */
class StateEventDifferTest {
    private static final long SECOND = 1_000_000_000L;

    @Test
    void shouldEscapeEverythingAShellWouldSplitOnAndDecodeItBack() {
        String[][] table = {
                {"UpToDate", "UpToDate"},
                {"42.17", "42.17"},
                {"a b", "a%20b"},
                {"100%", "100%25"},
                {"tab\there", "tab%09here"},
                {"line\nbreak", "line%0Abreak"},
                {"colon:kept", "colon:kept"},
                {"\u00e9t\u00e9", "%C3%A9t%C3%A9"},
                {"\ud83d\ude00", "%F0%9F%98%80"},
                {"", ""}};
        for (String[] row : table) {
            assertEquals(row[1], StateEventFormat.escape(row[0]), "escape of '" + row[0] + "'");
            assertEquals(row[0], StateEventFormat.unescape(row[1]), "unescape of '" + row[1] + "'");
        }
    }

    @Test
    void shouldRejectABrokenEscapeNamingWhere() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> StateEventFormat.unescape("ab%4"));
        assertEquals("'ab%4': '%' at 2 is not followed by two hex digits", e.getMessage());
    }

    @Test
    void shouldRefuseAKeyWithASpace() {
        assertThrows(IllegalArgumentException.class, () -> StateEventFormat.line("change", "device", Map.of("a b", "x")));
    }

    @Test
    void shouldListTheFourObjectsOfAStatusInDrbdsetupOrder() {
        List<String> lines = new StateEventDiffer().exists(StateEventObject.fromStatus(status("Primary", "UpToDate",
                "SyncSource", "Secondary", "Inconsistent", resync(4217, 10000))), 0);
        assertEquals(List.of(
                "exists resource name:r0 up:yes role:Primary suspended:no",
                "exists connection name:r0 peer-node:bravo connection:SyncSource role:Secondary refused:no",
                "exists device name:r0 disk:UpToDate",
                "exists peer-device name:r0 peer-node:bravo replication:SyncSource peer-disk:Inconsistent resync-suspended:no"
                        + " verify:none verify-differing:0 done:42.17"), lines);
    }

    @Test
    void shouldDescribeADownResourceWithThePeerItWouldConnectTo() {
        Map<String, Object> down = new LinkedHashMap<>();
        down.put("resource", "r0");
        down.put("up", false);
        down.put("role", "Secondary");
        down.put("disk", "Diskless");
        down.put("connection", "StandAlone");
        down.put("peer", Map.of("node", "bravo"));
        assertEquals(List.of(
                "exists resource name:r0 up:no role:Secondary suspended:no",
                "exists connection name:r0 peer-node:bravo connection:StandAlone role:Unknown refused:no",
                "exists device name:r0 disk:Diskless",
                "exists peer-device name:r0 peer-node:bravo replication:Off peer-disk:DUnknown resync-suspended:no"
                        + " verify:none verify-differing:0"),
                new StateEventDiffer().exists(StateEventObject.fromStatus(down), 0));
    }

    @Test
    void shouldRefuseAStatusWithoutThePeersName() {
        assertThrows(IllegalArgumentException.class, () -> StateEventObject.fromStatus(Map.of("resource", "r0")));
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({"StandAlone, Off", "Connecting, Off", "Connected, Established", "SyncSource, SyncSource",
            "SyncTarget, SyncTarget", "PausedSyncS, PausedSyncS", "VerifyS, VerifyS", "Ahead, Ahead", "Behind, Behind"})
    void shouldNameReplicationAsDrbd9Does(String connection, String replication) {
        assertEquals(replication, StateEventObject.replication(connection));
    }

    @Test
    void shouldSendOnlyTheIdentityAndWhatChanged() {
        StateEventDiffer d = new StateEventDiffer();
        d.exists(objects("Secondary", "UpToDate", "Connected", "Secondary", "UpToDate", null), 0);
        assertEquals(List.of(), d.changes(objects("Secondary", "UpToDate", "Connected", "Secondary", "UpToDate", null), Set.of(), 1));
        assertEquals(List.of("change resource name:r0 role:Primary"),
                d.changes(objects("Primary", "UpToDate", "Connected", "Secondary", "UpToDate", null), Set.of(), 2));
        assertEquals(List.of(
                "change connection name:r0 peer-node:bravo connection:SyncSource",
                "change peer-device name:r0 peer-node:bravo replication:SyncSource peer-disk:Inconsistent done:0.00"),
                d.changes(objects("Primary", "UpToDate", "SyncSource", "Secondary", "Inconsistent", resync(0, 100)), Set.of(), 3));
        assertEquals(List.of(
                "change connection name:r0 peer-node:bravo connection:Connected",
                "change peer-device name:r0 peer-node:bravo replication:Established peer-disk:UpToDate"),
                d.changes(objects("Primary", "UpToDate", "Connected", "Secondary", "UpToDate", null), Set.of(), 4));
    }

    @Test
    void shouldSendProgressAloneAtMostOncePerSecond() {
        StateEventDiffer d = new StateEventDiffer();
        d.exists(objects("Primary", "UpToDate", "SyncSource", "Secondary", "Inconsistent", resync(0, 10000)), 0);
        String line = "change peer-device name:r0 peer-node:bravo done:";
        assertEquals(List.of(), d.changes(syncing(1000), Set.of(), SECOND / 2), "half a second after the exists line");
        assertEquals(List.of(line + "20.00"), d.changes(syncing(2000), Set.of(), SECOND));
        assertEquals(List.of(), d.changes(syncing(3000), Set.of(), SECOND + SECOND / 10));
        assertEquals(List.of(), d.changes(syncing(4000), Set.of(), 2 * SECOND - 1));
        assertEquals(List.of(line + "50.00"), d.changes(syncing(5000), Set.of(), 2 * SECOND));
        assertEquals(List.of(), d.changes(syncing(5000), Set.of(), 4 * SECOND), "no progress, no line");
    }

    @Test
    void shouldSendProgressWithAnotherChangeEvenWithinTheSecond() {
        StateEventDiffer d = new StateEventDiffer();
        d.exists(objects("Primary", "UpToDate", "SyncSource", "Secondary", "Inconsistent", resync(0, 10000)), 0);
        Map<String, Object> paused = status("Primary", "UpToDate", "PausedSyncS", "Secondary", "Inconsistent", resync(100, 10000));
        paused.put("resyncPaused", true);
        assertEquals(List.of(
                "change connection name:r0 peer-node:bravo connection:PausedSyncS",
                "change peer-device name:r0 peer-node:bravo replication:PausedSyncS resync-suspended:user done:1.00"),
                d.changes(StateEventObject.fromStatus(paused), Set.of(), 1));
    }

    @Test
    void shouldForgetProgressWhenTheResyncEndsAndSendItAgainWhenTheNextStarts() {
        StateEventDiffer d = new StateEventDiffer();
        d.exists(objects("Primary", "UpToDate", "SyncSource", "Secondary", "Inconsistent", resync(5000, 10000)), 0);
        d.changes(objects("Primary", "UpToDate", "Connected", "Secondary", "UpToDate", null), Set.of(), 1);
        assertEquals(List.of(
                "change connection name:r0 peer-node:bravo connection:SyncSource",
                "change peer-device name:r0 peer-node:bravo replication:SyncSource peer-disk:Inconsistent done:50.00"),
                d.changes(objects("Primary", "UpToDate", "SyncSource", "Secondary", "Inconsistent", resync(5000, 10000)),
                        Set.of(), 2));
    }

    @Test
    void shouldRepeatTheRefusalOfEverySplitBrainEvenWhenNothingLooksDifferent() {
        Map<String, Object> refused = status("Secondary", "UpToDate", "StandAlone", "Unknown", "DUnknown", null);
        refused.put("refused", "SPLIT BRAIN detected, dropping the connection! ...");
        refused.put("lastConnect", Map.of("outcome", "SPLIT_BRAIN", "rule", 90));
        StateEventDiffer d = new StateEventDiffer();
        d.exists(objects("Secondary", "UpToDate", "Connecting", "Unknown", "DUnknown", null), 0);
        assertEquals(List.of("change connection name:r0 peer-node:bravo connection:StandAlone refused:split-brain"),
                d.changes(StateEventObject.fromStatus(refused), Set.of("connect", "split-brain"), 1));
        assertEquals(List.of(), d.changes(StateEventObject.fromStatus(refused), Set.of(), 2));
        assertEquals(List.of("change connection name:r0 peer-node:bravo connection:StandAlone refused:split-brain"),
                d.changes(StateEventObject.fromStatus(refused), Set.of("split-brain"), 3));
    }

    @Test
    void shouldReportEachVerifyResultWithItsDifferingBytes() {
        StateEventDiffer d = new StateEventDiffer();
        d.exists(objects("Primary", "UpToDate", "Connected", "Secondary", "UpToDate", null), 0);
        Map<String, Object> running = status("Primary", "UpToDate", "VerifyS", "Secondary", "UpToDate", null);
        running.put("verify", Map.of("doneBytes", 250L, "totalBytes", 1000L));
        assertEquals(List.of("change connection name:r0 peer-node:bravo connection:VerifyS",
                "change peer-device name:r0 peer-node:bravo replication:VerifyS verify:running done:25.00"),
                d.changes(StateEventObject.fromStatus(running), Set.of("verify-started"), 1));
        Map<String, Object> done = status("Primary", "UpToDate", "Connected", "Secondary", "UpToDate", null);
        done.put("lastVerify", Map.of("outcome", "COMPLETED", "differingBytes", 8192L));
        assertEquals(List.of("change connection name:r0 peer-node:bravo connection:Connected",
                "change peer-device name:r0 peer-node:bravo replication:Established verify:completed verify-differing:8192"),
                d.changes(StateEventObject.fromStatus(done), Set.of("verify-finished"), 2));
        assertEquals(List.of("change peer-device name:r0 peer-node:bravo verify:completed verify-differing:8192"),
                d.changes(StateEventObject.fromStatus(done), Set.of("verify-started", "verify-finished"), 3),
                "a second verify with the same result, both seen in one look");
    }

    private static List<StateEventObject> syncing(long done) {
        return objects("Primary", "UpToDate", "SyncSource", "Secondary", "Inconsistent", resync(done, 10000));
    }

    private static List<StateEventObject> objects(String role, String disk, String connection, String peerRole, String peerDisk,
            Map<String, Object> resync) {
        return StateEventObject.fromStatus(status(role, disk, connection, peerRole, peerDisk, resync));
    }

    /** The keys of Resource.status() that events reads. */
    static Map<String, Object> status(String role, String disk, String connection, String peerRole, String peerDisk,
            Map<String, Object> resync) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("resource", "r0");
        m.put("node", "alpha");
        m.put("up", true);
        m.put("role", role);
        m.put("disk", disk);
        m.put("connection", connection);
        m.put("peer", Map.of("node", "bravo", "role", peerRole, "disk", peerDisk));
        m.put("resyncPaused", false);
        if (resync != null) {
            m.put("resync", resync);
        }
        m.put("ioSuspended", false);
        return m;
    }

    static Map<String, Object> resync(long done, long total) {
        return Map.of("doneBytes", done, "totalBytes", total, "percent", 0.0);
    }
}
