package io.jrbd.replicator.verify;

import static io.jrbd.replicator.verify.VerifyFixtures.BLOCK;
import static io.jrbd.replicator.verify.VerifyFixtures.SIZE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrbd.metadata.store.BackingStore;
import io.jrbd.metadata.store.StoreException;
import io.jrbd.protocol.peer.PeerMessage;
import io.jrbd.resync.BlockDigests;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The answering side on its own: algorithm choice, the device end, a full queue, a broken store. */
final class DigestResponderTest {
    @TempDir
    Path dir;

    private VerifyFixtures nodes;

    @BeforeEach
    void setUp() throws IOException {
        nodes = new VerifyFixtures(dir, "crc32c");
    }

    @AfterEach
    void tearDown() throws IOException {
        nodes.close();
    }

    private static PeerMessage.DigestRequest request(long id, BackingStore store, String algorithm, long offset,
            int length) throws IOException {
        ByteBuffer data = ByteBuffer.allocate(length);
        store.read(data, offset);
        data.flip();
        BlockDigests d = BlockDigests.forName(algorithm);
        byte[] digests = new byte[BlockDigests.blocks(length, BLOCK) * d.digestLength()];
        d.digest(data, BLOCK, digests);
        return new PeerMessage.DigestRequest(id, offset, length, BLOCK, digests);
    }

    private static PeerMessage.DigestReply answer(DigestResponder responder, PeerMessage.DigestRequest request)
            throws Exception {
        CompletableFuture<PeerMessage.DigestReply> reply = new CompletableFuture<>();
        assertTrue(responder.submit(request, reply::complete));
        return reply.get(10, TimeUnit.SECONDS);
    }

    @Test
    void shouldRefuseADigestLengthItDoesNotKnowNamingBothSides() throws IOException {
        PeerMessage.DigestRequest sha = request(1, nodes.local, "sha256", 0, 4 * BLOCK);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> nodes.responder.submit(sha, reply -> { }));
        assertTrue(e.getMessage().contains("32-byte digests"), e.getMessage());
        assertTrue(e.getMessage().contains("crc32c (4 bytes)"), e.getMessage());
        assertTrue(e.getMessage().contains("verify-alg and csums-alg must be the same on both nodes"), e.getMessage());
        assertEquals(0, nodes.responder.queued(), "nothing queued");
    }

    @Test
    void shouldPickTheAlgorithmByDigestLength() throws Exception {
        try (DigestResponder both = new DigestResponder("r0", nodes.peer, List.of("crc32c", "sha256"), 4,
                (r, e) -> { })) {
            VerifyFixtures.flip(nodes.peer, 2 * BLOCK + 1);
            for (String algorithm : List.of("crc32c", "sha256")) {
                PeerMessage.DigestReply reply = answer(both, request(7, nodes.local, algorithm, 0, 4 * BLOCK));
                assertEquals(7, reply.id());
                assertEquals(1, reply.differingBlocks(), algorithm);
                assertTrue(reply.differs(2), algorithm);
            }
            assertEquals(2, both.answered());
            assertEquals(2, both.differingBlocks());
        }
    }

    @Test
    void shouldAnswerThePartialLastBlockAndBlocksPastItsEnd() throws Exception {
        long last = SIZE / BLOCK * BLOCK;
        PeerMessage.DigestReply same = answer(nodes.responder, request(1, nodes.local, "crc32c", last - BLOCK,
                (int) (SIZE - last + BLOCK)));
        assertEquals(0, same.differingBlocks(), "the 1536-byte last block matches");

        // A peer whose device is one block longer than this store: that block is not here, so it differs.
        try (BackingStore longer = BackingStore.open(dir.resolve("longer.img"), SIZE + 2560, false)) {
            VerifyFixtures.copy(nodes.local, longer, 0, (int) SIZE);
            PeerMessage.DigestReply past = answer(nodes.responder, request(2, longer, "crc32c", last - BLOCK,
                    (int) (SIZE + 2560 - last + BLOCK)));
            assertFalse(past.differs(0));
            assertTrue(past.differs(1), "the peer's last block is longer than this store's");
            assertTrue(past.blocks() == 2);
        }
    }

    @Test
    void shouldRefuseWhenTheQueueIsFullRatherThanBlockTheNetworkThread() throws Exception {
        CountDownLatch inReply = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        try (DigestResponder small = new DigestResponder("r0", nodes.peer, List.of("crc32c"), 1, (r, e) -> { })) {
            PeerMessage.DigestRequest r = request(1, nodes.local, "crc32c", 0, BLOCK);
            assertTrue(small.submit(r, reply -> {
                inReply.countDown();
                awaitQuietly(release);
            }));
            assertTrue(inReply.await(10, TimeUnit.SECONDS));
            assertTrue(small.submit(r, reply -> { }), "one may wait");
            assertFalse(small.submit(r, reply -> { }), "the second is refused");
            release.countDown();
        }
    }

    @Test
    void shouldReportAReadFailureAndStaySticky() throws Exception {
        CompletableFuture<StoreException> first = new CompletableFuture<>();
        CompletableFuture<StoreException> second = new CompletableFuture<>();
        BackingStore doomed = BackingStore.open(dir.resolve("doomed.img"), SIZE, false);
        try (DigestResponder responder = new DigestResponder("r0", doomed, List.of("crc32c"), 4,
                (r, e) -> (r.id() == 1 ? first : second).complete(e))) {
            doomed.close(); // every read now fails
            responder.submit(request(1, nodes.local, "crc32c", 0, BLOCK), reply -> { });
            responder.submit(request(2, nodes.local, "crc32c", 0, BLOCK), reply -> { });
            StoreException e = first.get(10, TimeUnit.SECONDS);
            assertSame(e, second.get(10, TimeUnit.SECONDS), "the first failure, again");
            assertEquals(0, responder.answered());
        }
    }

    @Test
    void shouldRefuseSubmitsAfterClose() throws IOException {
        nodes.responder.close();
        assertFalse(nodes.responder.submit(request(1, nodes.local, "crc32c", 0, BLOCK), reply -> { }));
        nodes.responder.close(); // twice is fine
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
