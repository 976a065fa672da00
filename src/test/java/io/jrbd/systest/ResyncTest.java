package io.jrbd.systest;

import static io.jrbd.systest.TwoNodes.ALPHA;
import static io.jrbd.systest.TwoNodes.BRAVO;
import static io.jrbd.systest.TwoNodes.RESOURCE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Resync after an outage: it ships what changed (counted), it survives kill -9 of either side
 * and resumes from where it stopped, and the administrator can pause it and invalidate either
 * side's data.
 */
class ResyncTest {
    private static final long MIB = 1 << 20;
    private static final Pattern QUEUED = Pattern.compile("resync queued to the peer in full: (\\d+) bytes of data");

    @TempDir
    Path dir;

    @Test
    void a_bitmap_resync_ships_within_ten_percent_of_the_dirty_data_of_200_mib_of_random_writes() throws Exception {
        try (TwoNodes nodes = TwoNodes.synced(dir, new TwoNodes.Options().size("1G").journalSize("4M")
                .table("[disk]\nc-max-rate = \"1G\""))) {
            nodes.kill9(BRAVO);
            nodes.waitFor(ALPHA, s -> s.path("degraded").asBoolean(false), 15, "alpha degraded");
            randomWrites(nodes, ALPHA, "200M", "64k", 7);
            long dirty = nodes.statusJson(ALPHA).path("outOfSyncBytes").asLong();
            assertTrue(dirty > 150 * MIB && dirty <= 200 * MIB, "dirty bytes after 200 MiB of random writes: " + dirty);
            int mark = nodes.log(ALPHA).length();

            nodes.start(BRAVO);
            nodes.waitReplicated(ALPHA, BRAVO, 120);
            assertEquals(TwoNodes.sha256(nodes.disk(ALPHA)), TwoNodes.sha256(nodes.disk(BRAVO)), "stores differ");
            long shipped = shippedDataBytes(nodes.log(ALPHA).substring(mark));
            assertTrue(shipped >= dirty * 0.9 && shipped <= dirty * 1.1,
                    "shipped " + shipped + " bytes of data for " + dirty + " dirty bytes");
        }
    }

    @Test
    void a_resync_cut_by_kill_9_of_the_source_resumes_from_where_it_stopped() throws Exception {
        interruptedResync(ALPHA);
    }

    @Test
    void a_resync_cut_by_kill_9_of_the_target_resumes_from_where_it_stopped() throws Exception {
        interruptedResync(BRAVO);
    }

    /**
     * 96 MiB dirty, resync paced at 16 MiB/s; {@code victim} is killed when about half has
     * gone, and restarted: the resync resumes bitmap-based with less left to do, and completes.
     */
    private void interruptedResync(String victim) throws Exception {
        try (TwoNodes nodes = TwoNodes.synced(dir, new TwoNodes.Options().size("256M").journalSize("1M")
                .table("[disk]\nc-max-rate = \"16M\"\nc-min-rate = \"16M\"\nresync-rate = \"16M\"\nal-extents = 7"))) {
            // (7 hot extents: after the source's crash, 28 MiB of its activity log is resynced on top.)
            nodes.kill9(BRAVO);
            nodes.waitFor(ALPHA, s -> s.path("degraded").asBoolean(false), 15, "alpha degraded");
            sequentialWrite(nodes, ALPHA, 96);
            long dirty = nodes.statusJson(ALPHA).path("outOfSyncBytes").asLong();
            assertEquals(96 * MIB, dirty);
            nodes.start(BRAVO);
            // Blocks leave the source's bitmap only once durable on the target: wait for that, not for what was sent.
            nodes.waitFor(ALPHA, s -> s.path("outOfSyncBytes").asLong() < 40 * MIB, 60, "more than half durable on bravo");
            Thread.sleep(1500); // the source's bitmap reaches its disk (flushed every second)
            nodes.kill9(victim);
            nodes.start(victim);
            if (victim.equals(ALPHA)) {
                nodes.jrbdadm(ALPHA, "wait-connect", "--timeout", "30", RESOURCE).assertOk();
            }
            String source = ALPHA;
            JsonNode resumed = nodes.waitFor(source, s -> s.path("connection").asText().equals("SyncSource")
                    || s.path("peer").path("disk").asText().equals("UpToDate") && s.path("connection").asText().equals("Connected"),
                    60, "the resync to resume");
            nodes.waitFor(BRAVO, s -> s.path("disk").asText().equals("UpToDate"), 90, "bravo UpToDate: " + resumed);
            nodes.waitFor(ALPHA, s -> s.path("peer").path("disk").asText().equals("UpToDate")
                    && s.path("outOfSyncBytes").asLong() == 0, 30, "alpha sees bravo UpToDate");
            String log = nodes.log(ALPHA);
            Matcher m = Pattern.compile("bitmap resync to the peer: (\\d+) bytes out of sync").matcher(log);
            long last = -1;
            int count = 0;
            while (m.find()) {
                last = Long.parseLong(m.group(1));
                count++;
            }
            assertTrue(count >= 2, "expected the resync to start twice:\n" + TwoNodes.tail(log, 6000));
            assertTrue(last < dirty * 0.8, "the resumed resync started over (" + last + " of " + dirty + " bytes)");
            assertEquals(TwoNodes.sha256(nodes.disk(ALPHA)), TwoNodes.sha256(nodes.disk(BRAVO)), "stores differ");
        }
    }

    @Test
    void pause_sync_holds_the_resync_and_resume_sync_lets_it_finish() throws Exception {
        try (TwoNodes nodes = TwoNodes.synced(dir, new TwoNodes.Options().size("128M").journalSize("1M")
                .table("[disk]\nc-max-rate = \"8M\"\nc-min-rate = \"8M\"\nresync-rate = \"8M\""))) {
            nodes.kill9(BRAVO);
            nodes.waitFor(ALPHA, s -> s.path("degraded").asBoolean(false), 15, "alpha degraded");
            sequentialWrite(nodes, ALPHA, 48);
            nodes.start(BRAVO);
            nodes.waitFor(ALPHA, s -> s.path("resync").path("doneBytes").asLong() > 4 * MIB, 60, "resync under way");
            nodes.jrbdadm(ALPHA, "pause-sync", RESOURCE).assertOk();
            nodes.jrbdadm(ALPHA, "pause-sync", RESOURCE).assertFailure("resync is already paused");
            nodes.jrbdadm(BRAVO, "pause-sync", RESOURCE).assertFailure("pause the resync on its source, alpha");
            JsonNode paused = nodes.waitFor(ALPHA, s -> s.path("connection").asText().equals("PausedSyncS"), 10, "PausedSyncS");
            Thread.sleep(1500); // what was already in flight lands
            long held = nodes.statusJson(ALPHA).path("resync").path("doneBytes").asLong();
            Thread.sleep(2000);
            assertEquals(held, nodes.statusJson(ALPHA).path("resync").path("doneBytes").asLong(),
                    "the resync moved while paused: " + paused);
            nodes.jrbdadm(ALPHA, "resume-sync", RESOURCE).assertOk();
            nodes.waitReplicated(ALPHA, BRAVO, 60);
            assertEquals(TwoNodes.sha256(nodes.disk(ALPHA)), TwoNodes.sha256(nodes.disk(BRAVO)), "stores differ");
        }
    }

    @Test
    void invalidate_and_invalidate_remote_make_a_full_sync_toward_the_invalidated_node() throws Exception {
        Path record = dir.resolve("handlers.txt");
        Path handler = dir.resolve("record.sh");
        java.nio.file.Files.writeString(handler, "#!/bin/sh\necho \"$JRBD_HANDLER $JRBD_NODE_NAME $JRBD_PEER\" >> " + record + "\n");
        handler.toFile().setExecutable(true);
        try (TwoNodes nodes = TwoNodes.synced(dir, new TwoNodes.Options().size("32M").table("[disk]\nc-max-rate = \"1G\"")
                .table("[handlers]\nbefore-resync-target = \"" + handler + "\"\nafter-resync-target = \"" + handler + "\""))) {
            sequentialWrite(nodes, ALPHA, 8);
            nodes.waitReplicated(ALPHA, BRAVO, 30);
            nodes.jrbdadm(ALPHA, "invalidate", RESOURCE).assertFailure("this node is Primary; invalidate needs it Secondary");

            // Corrupt bravo's copy behind jrbd's back; invalidate repairs it by a full sync.
            flipByte(nodes.disk(BRAVO), 5 * MIB + 17);
            int mark = nodes.log(ALPHA).length();
            nodes.jrbdadm(BRAVO, "invalidate", RESOURCE).assertOk();
            nodes.waitFor(BRAVO, s -> s.path("disk").asText().equals("UpToDate") && s.path("connection").asText().equals("Connected")
                    && s.path("lastConnect").path("outcome").asText().equals("BITMAP_TARGET"), 60, "bravo resynced");
            nodes.waitReplicated(ALPHA, BRAVO, 30);
            assertEquals(TwoNodes.sha256(nodes.disk(ALPHA)), TwoNodes.sha256(nodes.disk(BRAVO)), "invalidate did not repair bravo");
            // bravo was SyncTarget twice: the initial sync and this one; each runs both handlers.
            String handled = "";
            for (int i = 0; i < 50 && handled.lines().count() < 4; i++) {
                Thread.sleep(100);
                handled = java.nio.file.Files.readString(record);
            }
            assertEquals(List.of("before-resync-target bravo alpha", "after-resync-target bravo alpha",
                    "before-resync-target bravo alpha", "after-resync-target bravo alpha"), handled.lines().toList());
            assertTrue(nodes.log(ALPHA).substring(mark).contains("bitmap resync to the peer: 33554432 bytes out of sync"),
                    "expected every block to be resynced:\n" + TwoNodes.tail(nodes.log(ALPHA), 4000));

            flipByte(nodes.disk(BRAVO), 9 * MIB + 3);
            nodes.jrbdadm(ALPHA, "invalidate-remote", RESOURCE).assertOk();
            nodes.waitFor(BRAVO, s -> s.path("lastEvent").asText().equals("resync-finished")
                    && s.path("disk").asText().equals("UpToDate"), 60, "bravo resynced after invalidate-remote");
            nodes.waitReplicated(ALPHA, BRAVO, 30);
            assertEquals(TwoNodes.sha256(nodes.disk(ALPHA)), TwoNodes.sha256(nodes.disk(BRAVO)),
                    "invalidate-remote did not repair bravo");
        }
    }

    static long shippedDataBytes(String log) {
        Matcher m = QUEUED.matcher(log);
        long last = -1;
        while (m.find()) {
            last = Long.parseLong(m.group(1));
        }
        assertTrue(last >= 0, "no resync finished:\n" + TwoNodes.tail(log, 4000));
        return last;
    }

    static void randomWrites(TwoNodes nodes, String node, String total, String bs, int seed) {
        Command.of("fio", "--name=rand", "--ioengine=nbd", "--uri=" + nodes.uri(node), "--rw=randwrite", "--bs=" + bs,
                "--size=1G", "--io_size=" + total, "--iodepth=16", "--randseed=" + seed, "--norandommap",
                "--randrepeat=0", "--end_fsync=1").timeout(300).ok();
    }

    /** {@code mib} MiB of 0x5a from offset 0, in 4 MiB requests (NBD caps one request at 32 MiB). */
    static void sequentialWrite(TwoNodes nodes, String node, int mib) {
        java.util.List<String> argv = new java.util.ArrayList<>(java.util.List.of("qemu-io", "-f", "raw"));
        for (int at = 0; at < mib; at += 4) {
            argv.add("-c");
            argv.add("write -P 0x5a " + at + "M " + Math.min(4, mib - at) + "M");
        }
        argv.add("-c");
        argv.add("flush");
        argv.add(nodes.uri(node));
        Command.of(argv).timeout(120).ok();
    }

    static void flipByte(Path file, long offset) throws Exception {
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(file,
                java.nio.file.StandardOpenOption.READ, java.nio.file.StandardOpenOption.WRITE)) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(1);
            ch.read(b, offset);
            b.put(0, (byte) ~b.get(0));
            b.rewind();
            ch.write(b, offset);
            ch.force(false);
        }
    }
}
