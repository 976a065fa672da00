package io.jrbd.nbd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

class StatusTextTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void shouldLayOutAConnectedPrimaryLikeDrbdadmStatus() throws Exception {
        String json = """
                [{"resource":"r0","up":true,"role":"Primary","disk":"UpToDate","connection":"Connected",
                  "peer":{"node":"bravo","role":"Secondary","disk":"UpToDate"},"outOfSyncBytes":0,
                  "nbd":"nbd://127.0.0.1:10809/r0","nbdClients":2}]""";
        assertEquals("""
                r0 role:Primary
                  disk:UpToDate nbd:nbd://127.0.0.1:10809/r0 clients:2
                  bravo role:Secondary
                    replication:Established peer-disk:UpToDate""", StatusText.render(JSON.readTree(json)));
    }

    @Test
    void shouldShowTheConnectionStateAndItsLastErrorWithoutAPeer() throws Exception {
        String json = """
                [{"resource":"r0","up":true,"role":"Primary","disk":"UpToDate","connection":"Connecting",
                  "peer":{"node":"bravo","role":"Unknown","disk":"DUnknown","lastError":"connection refused"},
                  "outOfSyncBytes":8192}]""";
        assertEquals("""
                r0 role:Primary
                  disk:UpToDate out-of-sync:8k
                  bravo connection:Connecting (connection refused)""", StatusText.render(JSON.readTree(json)));
    }

    @Test
    void shouldShowResyncProgressWithABar() throws Exception {
        String json = """
                [{"resource":"r0","up":true,"role":"Primary","disk":"UpToDate","connection":"SyncSource",
                  "peer":{"node":"bravo","role":"Secondary","disk":"Inconsistent"},"outOfSyncBytes":0,
                  "resync":{"doneBytes":50,"totalBytes":100,"percent":50.0,"bytesPerSecond":2048,"secondsLeft":3}}]""";
        assertEquals("""
                r0 role:Primary
                  disk:UpToDate
                  bravo role:Secondary
                    replication:SyncSource peer-disk:Inconsistent done:50.00
                        [==========>..........] 50.0% speed: 2 KiB/s, finish: 3 s""", StatusText.render(JSON.readTree(json)));
    }

    @Test
    void shouldSayWhenAResourceIsDown() throws Exception {
        assertEquals("r0 role:Secondary (down)\n  disk:Diskless",
                StatusText.render(JSON.readTree("[{\"resource\":\"r0\",\"up\":false,\"role\":\"Secondary\"}]")));
    }
}
