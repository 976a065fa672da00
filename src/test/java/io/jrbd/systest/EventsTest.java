package io.jrbd.systest;

import static io.jrbd.systest.TwoNodes.ALPHA;
import static io.jrbd.systest.TwoNodes.BRAVO;
import static io.jrbd.systest.TwoNodes.RESOURCE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code jrbdadm events}, a real client process reading a real daemon: the exists lines, then a line
 * per change as an administrator drives the pair through promotion, the initial sync, disconnect,
 * connect and a full resync; {@code --now}; a refused connect.
 */
class EventsTest {
    private static final String PEER_DEVICE = "change peer-device name:r0 peer-node:bravo ";
    private static final String CONNECTION = "change connection name:r0 peer-node:bravo ";

    @TempDir
    Path dir;

    @Test
    void events_streams_promotion_sync_disconnect_connect_and_resync_as_change_lines_in_order() throws Exception {
        // Resync at a fixed 4 MiB/s: the 24 MiB written make the last resync last 6 s, long enough for progress lines.
        try (TwoNodes nodes = TwoNodes.start(dir, new TwoNodes.Options().size("32M")
                .table("[disk]\nc-plan-ahead = \"0s\"\nresync-rate = \"4M\""))) {
            nodes.jrbdadm(ALPHA, "wait-connect", "--timeout", "30", RESOURCE).assertOk();
            try (EventsProcess events = EventsProcess.start(nodes, ALPHA, dir.resolve("events.err"), "--timestamps", RESOURCE)) {
                streamThroughTheLifeOfAPair(nodes, events);
            }
        }
    }

    private static void streamThroughTheLifeOfAPair(TwoNodes nodes, EventsProcess events) throws Exception {
        events.await(l -> l.equals("exists -"), 0, 30, "the end of the exists lines");
        List<String> exists = events.lines();
        assertTrue(exists.get(0).startsWith("exists resource name:r0 up:yes role:Secondary"), exists.toString());

        nodes.jrbdadm(ALPHA, "primary", "--force", RESOURCE).assertOk();
        int synced = events.await(l -> l.startsWith(PEER_DEVICE) && l.contains("peer-disk:UpToDate"), 0, 120,
                "bravo UpToDate after the initial sync");
        nodes.jrbdadm(ALPHA, "wait-sync", "--timeout", "60", RESOURCE).assertOk();
        // Data for the full resync to ship (an initial sync skips what was never written).
        Command.of("qemu-io", "-f", "raw", "-c", "write -P 0x5a 0 24M", "-c", "flush", nodes.uri(ALPHA)).timeout(60).ok();

        nodes.jrbdadm(ALPHA, "disconnect", RESOURCE).assertOk();
        events.await(l -> l.startsWith(CONNECTION + "connection:StandAlone"), synced, 30, "StandAlone after disconnect");
        nodes.jrbdadm(ALPHA, "connect", RESOURCE).assertOk();
        int reconnected = events.await(l -> l.startsWith(CONNECTION) && l.contains("connection:Connected"), synced, 30,
                "Connected after connect");
        nodes.jrbdadm(ALPHA, "wait-sync", "--timeout", "60", RESOURCE).assertOk();

        nodes.jrbdadm(ALPHA, "invalidate-remote", RESOURCE).assertOk();
        int invalid = events.await(l -> l.startsWith(PEER_DEVICE) && l.contains("peer-disk:Inconsistent"), reconnected, 30,
                "bravo Inconsistent after invalidate-remote");
        events.await(l -> l.startsWith(PEER_DEVICE) && l.contains("peer-disk:UpToDate"), invalid, 120,
                "bravo UpToDate after the full resync");

        List<String> lines = events.lines();
        assertInOrder(lines,
                "exists resource name:r0 up:yes role:Secondary suspended:no",
                "exists connection name:r0 peer-node:bravo connection:Connected role:Secondary refused:no",
                "exists device name:r0 disk:Inconsistent",
                "exists peer-device name:r0 peer-node:bravo replication:Established peer-disk:Inconsistent",
                "exists -",
                // primary --force: the initial full sync
                "change resource name:r0 role:Primary",
                CONNECTION + "connection:SyncSource",
                PEER_DEVICE + "replication:SyncSource",
                CONNECTION + "connection:Connected",
                PEER_DEVICE + "replication:Established peer-disk:UpToDate",
                // disconnect, connect
                CONNECTION + "connection:StandAlone",
                PEER_DEVICE + "peer-disk:DUnknown",
                CONNECTION + "connection:Connected role:Secondary",
                PEER_DEVICE + "replication:Established peer-disk:UpToDate",
                // invalidate-remote: a full resync of bravo (its Inconsistent disk was awaited above; it may
                // show on the same line as the replication state or on its own)
                CONNECTION + "connection:SyncSource",
                PEER_DEVICE + "replication:SyncSource",
                PEER_DEVICE + "done:",
                PEER_DEVICE + "replication:Established peer-disk:UpToDate");
        assertInOrder(lines, "exists device name:r0 disk:Inconsistent", "change device name:r0 disk:UpToDate");
        for (String l : lines) {
            assertTrue(l.matches("(exists|change) (resource|connection|device|peer-device) name:r0( [a-z-]+:\\S*)+|exists -"),
                    "not a key:value line: '" + l + "' in\n" + String.join("\n", lines));
        }
        assertProgressAtMostOncePerSecond(events.stamped());
    }

    @Test
    void events_now_prints_the_exists_lines_of_status_json_and_exits_0() throws Exception {
        try (TwoNodes nodes = TwoNodes.synced(dir, new TwoNodes.Options().size("16M"))) {
            for (String n : List.of(ALPHA, BRAVO)) {
                JsonNode s = nodes.statusJson(n);
                String peer = s.path("peer").path("node").asText();
                String out = nodes.jrbdadm(n, "events", "--now", RESOURCE).assertOk();
                assertEquals(List.of(
                        "exists resource name:r0 up:yes role:" + s.path("role").asText() + " suspended:no",
                        "exists connection name:r0 peer-node:" + peer + " connection:" + s.path("connection").asText()
                                + " role:" + s.path("peer").path("role").asText() + " refused:no",
                        "exists device name:r0 disk:" + s.path("disk").asText(),
                        "exists peer-device name:r0 peer-node:" + peer + " replication:Established peer-disk:"
                                + s.path("peer").path("disk").asText() + " resync-suspended:no verify:none verify-differing:0",
                        "exists -"), out.lines().toList(), n + ": events --now against status " + s);
                assertEquals(out, nodes.jrbdadm(n, "events", "--now").assertOk(), "all is r0 alone");
            }
            String stamped = nodes.jrbdadm(ALPHA, "events", "--now", "--timestamps", RESOURCE).assertOk();
            for (String l : stamped.lines().toList()) {
                OffsetDateTime.parse(l.substring(0, l.indexOf(' '))); // ISO 8601 with offset, or this throws
            }
            nodes.jrbdadm(BRAVO, "down", RESOURCE).assertOk();
            assertEquals(List.of("exists resource name:r0 up:no role:Secondary suspended:no",
                    "exists connection name:r0 peer-node:alpha connection:StandAlone role:Unknown refused:no",
                    "exists device name:r0 disk:Diskless",
                    "exists peer-device name:r0 peer-node:alpha replication:Off peer-disk:DUnknown resync-suspended:no verify:none"
                            + " verify-differing:0",
                    "exists -"), nodes.jrbdadm(BRAVO, "events", "--now", RESOURCE).assertOk().lines().toList());
            nodes.jrbdadm(ALPHA, "events", "--now", "nosuch").assertFailure("no resource 'nosuch'");
        }
    }

    @Test
    void a_refused_connect_and_up_down_are_events() throws Exception {
        try (TwoNodes nodes = TwoNodes.start(dir, new TwoNodes.Options().size("16M"));
                EventsProcess events = EventsProcess.start(nodes, ALPHA, dir.resolve("events.err"), "all")) {
            events.await(l -> l.equals("exists -"), 0, 30, "the end of the exists lines");
            for (String n : List.of(ALPHA, BRAVO)) {
                nodes.jrbdadm(n, "disconnect", RESOURCE).assertOk();
            }
            for (String n : List.of(ALPHA, BRAVO)) {
                nodes.jrbdadm(n, "primary", "--force", RESOURCE).assertOk();
                nodes.jrbdadm(n, "secondary", RESOURCE).assertOk();
            }
            nodes.jrbdadm(ALPHA, "connect", RESOURCE).assertOk();
            nodes.jrbdadm(BRAVO, "connect", RESOURCE).assertOk();
            int refused = events.await(l -> l.startsWith(CONNECTION) && l.contains("refused:unrelated"), 0, 30,
                    "the refusal of unrelated data");
            assertTrue(events.lines().get(refused).contains("connection:StandAlone"), events.lines().get(refused));
            nodes.jrbdadm(ALPHA, "down", RESOURCE).assertOk();
            int down = events.await(l -> l.equals("change resource name:r0 up:no"), refused, 30, "down");
            nodes.jrbdadm(ALPHA, "up", RESOURCE).assertOk();
            events.await(l -> l.equals("change resource name:r0 up:yes"), down, 30, "up");
            assertInOrder(events.lines(), "change resource name:r0 role:Primary", "change resource name:r0 role:Secondary",
                    CONNECTION + "connection:StandAlone", "change device name:r0 disk:Diskless", "change device name:r0 disk:");
        }
    }

    /**
     * Each expected line matches a later line than the one before: that line has every field of it
     * (a field ending in ':' stands for any value), whatever else it has.
     */
    private static void assertInOrder(List<String> lines, String... expected) {
        int at = 0;
        for (String e : expected) {
            while (at < lines.size() && !matches(lines.get(at), e)) {
                at++;
            }
            if (at == lines.size()) {
                fail("no line starting '" + e + "' after the ones before it, in order " + List.of(expected) + "; lines:\n"
                        + String.join("\n", lines));
            }
            at++;
        }
    }

    private static boolean matches(String line, String expected) {
        List<String> fields = List.of(line.split(" "));
        String[] want = expected.split(" ");
        if (!fields.get(0).equals(want[0]) || !fields.get(1).equals(want[1])) {
            return false;
        }
        for (String w : want) {
            if (w.endsWith(":") ? fields.stream().noneMatch(f -> f.startsWith(w)) : !fields.contains(w)) {
                return false;
            }
        }
        return true;
    }

    /** Lines that carry only progress come at least a second apart (by the daemon's timestamps). */
    private static void assertProgressAtMostOncePerSecond(List<String> stamped) {
        OffsetDateTime last = null;
        int progress = 0;
        for (String l : stamped) {
            String line = l.substring(l.indexOf(' ') + 1);
            if (!line.matches("change peer-device name:r0 peer-node:bravo done:[0-9.]+")) {
                continue;
            }
            progress++;
            OffsetDateTime t = OffsetDateTime.parse(l.substring(0, l.indexOf(' ')));
            if (last != null) {
                assertTrue(Duration.between(last, t).toMillis() >= 950, "progress lines " + last + " and " + t
                        + " less than a second apart:\n" + String.join("\n", stamped));
            }
            last = t;
        }
        assertTrue(progress >= 2, "at least two progress lines during a 6 s resync:\n" + String.join("\n", stamped));
    }

    /** {@code bin/jrbdadm events} running, its stdout read line by line by a thread; killed by PID on close. */
    private static final class EventsProcess implements AutoCloseable {
        private final Process process;
        private final Path stderr;
        private final List<String> stamped = new ArrayList<>();
        private final boolean timestamps;
        private final Thread reader;

        private EventsProcess(Process process, Path stderr, boolean timestamps) {
            this.process = process;
            this.stderr = stderr;
            this.timestamps = timestamps;
            this.reader = new Thread(this::read, "events-reader");
            this.reader.setDaemon(true);
            this.reader.start();
        }

        static EventsProcess start(TwoNodes nodes, String node, Path stderr, String... args) throws IOException {
            List<String> argv = new ArrayList<>(List.of(Jrbd.launcher("jrbdadm"), "-c", nodes.node(node).confDir.toString(),
                    "--node", node, "events"));
            argv.addAll(List.of(args));
            Process p = new ProcessBuilder(argv).redirectError(stderr.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
            return new EventsProcess(p, stderr, argv.contains("--timestamps"));
        }

        private void read() {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String l = in.readLine(); l != null; l = in.readLine()) {
                    synchronized (stamped) {
                        stamped.add(l);
                        stamped.notifyAll();
                    }
                }
            } catch (IOException e) {
                // the process was killed
            }
        }

        /** The lines so far, as printed. */
        List<String> stamped() {
            synchronized (stamped) {
                return List.copyOf(stamped);
            }
        }

        /** The lines so far without their timestamps. */
        List<String> lines() {
            return stamped().stream().map(l -> timestamps ? l.substring(l.indexOf(' ') + 1) : l).toList();
        }

        /** Waits for a line from index {@code from} on that matches; returns its index. */
        int await(Predicate<String> match, int from, double seconds, String what) throws Exception {
            long deadline = System.nanoTime() + (long) (seconds * 1e9);
            while (true) {
                List<String> lines = lines();
                for (int i = from; i < lines.size(); i++) {
                    if (match.test(lines.get(i))) {
                        return i;
                    }
                }
                if (!process.isAlive() || System.nanoTime() > deadline) {
                    fail("no events line for " + what + " within " + seconds + " s (events " + (process.isAlive() ? "running"
                            : "exited " + process.exitValue()) + "); lines:\n" + String.join("\n", lines) + "\nstderr:\n"
                            + (Files.exists(stderr) ? Files.readString(stderr) : ""));
                }
                synchronized (stamped) {
                    stamped.wait(100);
                }
            }
        }

        @Override
        public void close() throws Exception {
            long pid = process.pid();
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            process.waitFor(10, TimeUnit.SECONDS);
            reader.join(2000);
        }
    }
}
