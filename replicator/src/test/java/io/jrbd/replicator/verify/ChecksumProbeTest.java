package io.jrbd.replicator.verify;

import static io.jrbd.replicator.verify.VerifyFixtures.BLOCK;
import static io.jrbd.replicator.verify.VerifyFixtures.MIB;
import static io.jrbd.replicator.verify.VerifyFixtures.SIZE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrbd.protocol.peer.PeerMessage;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The digest step of a checksum-based resync between two real stores back to back. */
final class ChecksumProbeTest {
    private static final long LAST_BLOCK = SIZE / BLOCK * BLOCK;

    @TempDir
    Path dir;

    private VerifyFixtures nodes;
    private ChecksumProbe probe;

    @BeforeEach
    void setUp() throws IOException {
        nodes = new VerifyFixtures(dir, "sha256");
        probe = new ChecksumProbe(nodes.local, nodes.exchange, "sha256", BLOCK);
    }

    @AfterEach
    void tearDown() throws IOException {
        nodes.close();
    }

    @Test
    void shouldReturnNothingForAPieceThePeerHas() throws Exception {
        assertArrayEquals(new long[0], probe.differingRuns(0, MIB));
        assertEquals(MIB, probe.probedBytes());
        assertEquals(0, probe.differingBytes());
    }

    @Test
    void shouldReturnExactlyTheDifferingRunsMerged() throws Exception {
        VerifyFixtures.flip(nodes.peer, 2L * BLOCK);
        VerifyFixtures.flip(nodes.peer, 3L * BLOCK + 4095); // touches 2: one run
        VerifyFixtures.flip(nodes.peer, 10L * BLOCK + 512);
        VerifyFixtures.flip(nodes.peer, 255L * BLOCK);      // the piece's last block

        assertArrayEquals(new long[] {2L * BLOCK, 2L * BLOCK, 10L * BLOCK, BLOCK, 255L * BLOCK, BLOCK},
                probe.differingRuns(0, MIB));
        assertEquals(4L * BLOCK, probe.differingBytes());
        assertArrayEquals(new long[0], probe.differingRuns(MIB, MIB), "the next piece is the same");
    }

    @Test
    void shouldCutTheLastRunAtTheDeviceEnd() throws Exception {
        VerifyFixtures.flip(nodes.peer, SIZE - 1);
        long offset = LAST_BLOCK - 2 * BLOCK;
        assertArrayEquals(new long[] {LAST_BLOCK, SIZE - LAST_BLOCK}, probe.differingRuns(offset, (int) (SIZE - offset)));
    }

    @Test
    void shouldThrowSessionEndedWhenThePeerGoes() {
        nodes.silent = true;
        Thread t = new Thread(() -> {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                return;
            }
            nodes.exchange.failAll("peer closed the connection");
        });
        t.start();
        SessionEndedException e = assertThrows(SessionEndedException.class, () -> probe.differingRuns(0, MIB));
        assertEquals("peer closed the connection", e.reason());
    }

    @Test
    void shouldRefusePiecesOffTheBlocksOrOutsideTheDevice() {
        assertThrows(IllegalArgumentException.class, () -> probe.differingRuns(100, BLOCK));
        assertThrows(IllegalArgumentException.class, () -> probe.differingRuns(0, BLOCK + 1));
        assertThrows(IllegalArgumentException.class, () -> probe.differingRuns(LAST_BLOCK, BLOCK));
        assertThrows(IllegalArgumentException.class, () -> probe.differingRuns(0, 16 * MIB));
        assertTrue(nodes.requests.isEmpty());
    }

    @Test
    void shouldFailClearlyWhenThePeerDigestsWithAnotherAlgorithm() throws Exception {
        ChecksumProbe crc = new ChecksumProbe(nodes.local, nodes.exchange, "crc32c", BLOCK);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> nodes.responder.submit(
                new PeerMessage.DigestRequest(1, 0, BLOCK, BLOCK, new byte[4]), r -> { }));
        assertTrue(e.getMessage().contains("4-byte digests"), e.getMessage());
        assertTrue(e.getMessage().contains("sha256 (32 bytes)"), e.getMessage());
        // Back to back, the responder's refusal comes back through the sender and fails the request.
        IOException viaExchange = assertThrows(IOException.class, () -> crc.differingRuns(0, BLOCK));
        assertTrue(viaExchange.getMessage().contains("verify-alg and csums-alg"), viaExchange.getMessage());
    }
}
