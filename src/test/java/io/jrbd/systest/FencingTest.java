package io.jrbd.systest;

import static io.jrbd.systest.TwoNodes.ALPHA;
import static io.jrbd.systest.TwoNodes.BRAVO;
import static io.jrbd.systest.TwoNodes.RESOURCE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code fencing resource-and-stonith}: when the Primary loses its peer, application writes wait
 * until the fence-peer handler has fenced it; if the handler fails they wait until the
 * administrator runs {@code resume-io}.
 */
class FencingTest {
    @TempDir
    Path dir;

    @Test
    void writes_wait_while_fence_peer_runs_and_go_on_once_it_succeeds() throws Exception {
        Path release = dir.resolve("release");
        Path record = dir.resolve("fence-peer.txt");
        Path handler = script("fence-peer.sh", "echo \"$JRBD_HANDLER $JRBD_RESOURCE $JRBD_NODE_NAME $JRBD_PEER $DRBD_PEER\" >> "
                + record + "\nfor i in $(seq 300); do [ -e " + release + " ] && exit 7; sleep 0.1; done\nexit 1\n");
        try (TwoNodes nodes = TwoNodes.synced(dir, options(handler))) {
            nodes.kill9(BRAVO);
            nodes.waitFor(ALPHA, s -> s.path("ioSuspended").asBoolean(false), 15, "I/O suspended");
            Process write = startWrite(nodes);
            try {
                assertFalse(write.waitFor(1500, TimeUnit.MILLISECONDS), "a write completed while the peer was not fenced");
                assertEquals("fence-peer r0 alpha bravo bravo", Files.readString(record).strip());
                Files.createFile(release);
                assertTrue(write.waitFor(20, TimeUnit.SECONDS), "the write did not complete after fence-peer succeeded");
                assertEquals(0, write.exitValue());
            } finally {
                write.destroyForcibly();
            }
            assertFalse(nodes.statusJson(ALPHA).path("ioSuspended").asBoolean(true));
            assertTrue(nodes.log(ALPHA).contains("fence-peer: bravo is fenced (exit 7)"), nodes.log(ALPHA));
            String dump = nodes.jrbdadm(ALPHA, "dump-md", "--json", RESOURCE).assertOk();
            assertTrue(dump.contains("PEER_OUTDATED") || dump.contains("peer-outdated"), dump);
        }
    }

    @Test
    void when_fence_peer_fails_writes_wait_for_resume_io() throws Exception {
        Path handler = script("fence-peer.sh", "exit 1\n");
        try (TwoNodes nodes = TwoNodes.synced(dir, options(handler))) {
            nodes.kill9(BRAVO);
            nodes.waitFor(ALPHA, s -> s.path("ioSuspended").asBoolean(false), 15, "I/O suspended");
            Process write = startWrite(nodes);
            try {
                Thread.sleep(1500);
                assertTrue(write.isAlive(), "a write completed although fence-peer failed");
                assertTrue(nodes.log(ALPHA).contains("application I/O stays suspended"), nodes.log(ALPHA));
                nodes.jrbdadm(ALPHA, "resume-io", RESOURCE).assertOk();
                assertTrue(write.waitFor(20, TimeUnit.SECONDS), "resume-io did not release the write");
                assertEquals(0, write.exitValue());
            } finally {
                write.destroyForcibly();
            }
            nodes.jrbdadm(ALPHA, "resume-io", RESOURCE).assertFailure("application I/O is not suspended");
        }
    }

    @Test
    void a_cut_off_secondary_is_promoted_only_once_fence_peer_fenced_its_peer() throws Exception {
        Path code = dir.resolve("exit-code");
        Files.writeString(code, "1");
        Path handler = script("fence-peer.sh", "exit $(cat " + code + ")\n");
        try (TwoNodes nodes = TwoNodes.synced(dir, new TwoNodes.Options().size("16M").table("[disk]\nfencing = \"resource-only\"")
                .table("[handlers]\nfence-peer = \"" + handler + "\""))) {
            nodes.kill9(ALPHA);
            nodes.waitFor(BRAVO, s -> !s.path("peer").path("role").asText().equals("Primary")
                    && s.path("connection").asText().equals("Connecting"), 15, "bravo to lose alpha");
            nodes.jrbdadm(BRAVO, "primary", RESOURCE).assertFailure(
                    "refusing to become Primary while alpha is not known to be outdated: the fence-peer handler exited 1");
            assertEquals("Secondary", nodes.statusJson(BRAVO).path("role").asText());
            Files.writeString(code, "7");
            nodes.jrbdadm(BRAVO, "primary", RESOURCE).assertOk();
            assertTrue(nodes.log(BRAVO).contains("fence-peer before promotion: alpha is fenced (exit 7)"), nodes.log(BRAVO));
        }
    }

    private TwoNodes.Options options(Path handler) {
        return new TwoNodes.Options().size("16M").table("[disk]\nfencing = \"resource-and-stonith\"")
                .table("[handlers]\nfence-peer = \"" + handler + "\"");
    }

    private Path script(String name, String body) throws Exception {
        Path p = dir.resolve(name);
        Files.writeString(p, "#!/bin/sh\n" + body);
        p.toFile().setExecutable(true);
        return p;
    }

    private Process startWrite(TwoNodes nodes) throws Exception {
        return new ProcessBuilder("qemu-io", "-f", "raw", "-c", "write -P 0x33 0 64k", "-c", "flush", nodes.uri(ALPHA))
                .redirectErrorStream(true).redirectOutput(dir.resolve("write.log").toFile()).start();
    }
}
