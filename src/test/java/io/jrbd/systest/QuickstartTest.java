package io.jrbd.systest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code jrbd quickstart}: the README's first command gives a working replicated device, and --stop ends it. */
class QuickstartTest {
    @TempDir
    Path dir;

    @Test
    void quickstart_prints_a_working_uri_and_stop_ends_both_daemons() throws Exception {
        int port = TwoNodes.freePort();
        int replication = TwoNodes.freePort();
        while (Math.abs(replication - port) < 2) { // quickstart also uses port + 1 and replication + 1
            replication = TwoNodes.freePort();
        }
        Path d = dir.resolve("qs");
        List<Long> pids = new ArrayList<>();
        try {
            String out = Command.of(Jrbd.launcher("jrbd"), "quickstart", "--dir", d.toString(), "--size", "128M",
                    "--port", Integer.toString(port), "--replication-port", Integer.toString(replication))
                    .env(Map.of("JRBD_JAVA_OPTS", TwoNodes.JAVA_OPTS)).timeout(180).run().assertOk();
            for (String node : new String[] {"alpha", "bravo"}) {
                pids.add(Long.parseLong(Files.readString(d.resolve(node + ".pid")).strip()));
            }
            String uri = "nbd://127.0.0.1:" + port + "/r0";
            assertTrue(out.contains(uri), "quickstart does not print " + uri + ":\n" + out);
            String info = Command.of("nbdinfo", uri).ok();
            assertTrue(info.contains("export-size: 134217728"), info);
            assertTrue(info.contains("is_read_only: false"), info);

            // The printed status command works, and says what quickstart promised.
            String status = Command.of(Jrbd.launcher("jrbdadm"), "-c", d.resolve("alpha").toString(), "--node", "alpha",
                    "status", "--json", "r0").ok();
            assertTrue(status.contains("\"role\" : \"Primary\""), status);
            assertTrue(status.contains("\"connection\" : \"Connected\""), status);
            String bravo = Command.of(Jrbd.launcher("jrbdadm"), "-c", d.resolve("bravo").toString(), "--node", "bravo",
                    "status", "--json", "r0").ok();
            assertTrue(bravo.contains("\"disk\" : \"UpToDate\""), bravo);

            String stop = Command.of(Jrbd.launcher("jrbd"), "quickstart", "--dir", d.toString(), "--stop").timeout(120).ok();
            assertTrue(stop.contains("stopped 2 daemon(s)"), stop);
            for (long pid : pids) {
                Optional<ProcessHandle> h = ProcessHandle.of(pid);
                assertFalse(h.isPresent() && h.get().isAlive(), "daemon " + pid + " still runs after --stop");
            }
            for (String node : new String[] {"alpha", "bravo"}) {
                String log = Files.readString(d.resolve(node + ".log"));
                assertTrue(log.contains("stopped"), node + " did not stop cleanly:\n" + log);
                assertFalse(log.contains("LEAK:"), log);
            }
            assertEquals(Command.of("sha256sum", d.resolve("r0-alpha.img").toString()).ok().split(" ")[0],
                    Command.of("sha256sum", d.resolve("r0-bravo.img").toString()).ok().split(" ")[0],
                    "the two backing files differ after a clean stop");
        } finally {
            for (long pid : pids) {
                ProcessHandle.of(pid).ifPresent(h -> {
                    h.destroyForcibly();
                    h.onExit().orTimeout(10, TimeUnit.SECONDS).exceptionally(e -> h).join();
                });
            }
        }
    }
}
