package io.jrbd.replicator.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrbd.protocol.peer.PeerMessage;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Correlation, the bound on requests outstanding, and the end of a session, without any disk. */
final class DigestExchangeTest {
    private static final int BLOCK = 4096;

    private final List<PeerMessage.DigestRequest> sent = new CopyOnWriteArrayList<>();

    private static byte[] digests(int blocks) {
        return new byte[blocks * 4];
    }

    private static PeerMessage.DigestReply replyTo(PeerMessage.DigestRequest r, int... differing) {
        BitSet bits = new BitSet();
        for (int b : differing) {
            bits.set(b);
        }
        return PeerMessage.DigestReply.of(r.id(), r.offset(), r.length(), r.blockSize(), bits);
    }

    private static Throwable failure(CompletableFuture<?> f) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS));
        return e.getCause();
    }

    @Test
    void shouldCompleteEachRequestWithTheReplyOfItsId() throws Exception {
        DigestExchange x = new DigestExchange(m -> sent.add((PeerMessage.DigestRequest) m));
        CompletableFuture<PeerMessage.DigestReply> a = x.request(0, 2 * BLOCK, BLOCK, digests(2));
        CompletableFuture<PeerMessage.DigestReply> b = x.request(2 * BLOCK, BLOCK, BLOCK, digests(1));
        assertEquals(2, sent.size());
        assertNotEquals(sent.get(0).id(), sent.get(1).id());
        assertEquals(2, x.outstanding());

        x.onReply(replyTo(sent.get(1)));
        x.onReply(replyTo(sent.get(0), 1));
        assertEquals(0, b.get().differingBlocks());
        assertTrue(a.get().differs(1));
        assertEquals(0, x.outstanding());
    }

    @Test
    void shouldIgnoreAReplyOfNoOutstandingRequest() throws Exception {
        DigestExchange x = new DigestExchange(m -> sent.add((PeerMessage.DigestRequest) m));
        CompletableFuture<PeerMessage.DigestReply> a = x.request(0, BLOCK, BLOCK, digests(1));
        x.onReply(PeerMessage.DigestReply.of(sent.get(0).id() + 100, 0, BLOCK, BLOCK, new BitSet()));
        assertFalse(a.isDone());
        x.onReply(replyTo(sent.get(0)));
        x.onReply(replyTo(sent.get(0))); // a duplicate: ignored too
        assertTrue(a.isDone() && !a.isCompletedExceptionally());
    }

    @Test
    void shouldFailARequestWhoseReplyCoversAnotherSpan() throws Exception {
        DigestExchange x = new DigestExchange(m -> sent.add((PeerMessage.DigestRequest) m));
        CompletableFuture<PeerMessage.DigestReply> a = x.request(0, BLOCK, BLOCK, digests(1));
        x.onReply(PeerMessage.DigestReply.of(sent.get(0).id(), BLOCK, BLOCK, BLOCK, new BitSet()));
        Throwable t = failure(a);
        assertTrue(t.getMessage().contains("protocol error"), t.getMessage());
        assertEquals(0, x.outstanding(), "the slot is free again");
    }

    @Test
    void shouldFailEveryOutstandingAndLaterRequestWithTheReasonWhenTheSessionEnds() throws Exception {
        DigestExchange x = new DigestExchange(m -> sent.add((PeerMessage.DigestRequest) m));
        CompletableFuture<PeerMessage.DigestReply> a = x.request(0, BLOCK, BLOCK, digests(1));
        CompletableFuture<PeerMessage.DigestReply> b = x.request(BLOCK, BLOCK, BLOCK, digests(1));

        x.failAll("connection lost: ping timeout");

        for (CompletableFuture<PeerMessage.DigestReply> f : List.of(a, b)) {
            SessionEndedException e = assertInstanceOf(SessionEndedException.class, failure(f));
            assertEquals("connection lost: ping timeout", e.reason());
            assertTrue(e.getMessage().contains("connection lost: ping timeout"));
        }
        assertEquals(0, x.outstanding());
        CompletableFuture<PeerMessage.DigestReply> later = x.request(0, BLOCK, BLOCK, digests(1));
        assertInstanceOf(SessionEndedException.class, failure(later));
        assertEquals(2, sent.size(), "nothing is sent once the session has ended");
        x.onReply(replyTo(sent.get(0))); // a late reply changes nothing
        x.failAll("another reason");
        assertEquals("connection lost: ping timeout", x.failure(), "the first reason stays");
    }

    @Test
    void shouldBlockTheCallerWhileMaxOutstandingAreUnanswered() throws Exception {
        DigestExchange x = new DigestExchange(m -> sent.add((PeerMessage.DigestRequest) m), 2);
        x.request(0, BLOCK, BLOCK, digests(1));
        x.request(BLOCK, BLOCK, BLOCK, digests(1));
        CompletableFuture<CompletableFuture<PeerMessage.DigestReply>> third = CompletableFuture.supplyAsync(() -> {
            try {
                return x.request(2 * BLOCK, BLOCK, BLOCK, digests(1));
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        Thread.sleep(100);
        assertFalse(third.isDone(), "a third waits for a slot");
        assertEquals(2, sent.size());

        x.onReply(replyTo(sent.get(0)));
        CompletableFuture<PeerMessage.DigestReply> f = third.get(10, TimeUnit.SECONDS);
        assertEquals(3, sent.size());
        assertEquals(2 * BLOCK, sent.get(2).offset());
        assertFalse(f.isDone());
    }

    @Test
    void shouldWakeAWaitingCallerWhenTheSessionEnds() throws Exception {
        DigestExchange x = new DigestExchange(m -> sent.add((PeerMessage.DigestRequest) m), 1);
        x.request(0, BLOCK, BLOCK, digests(1));
        CompletableFuture<CompletableFuture<PeerMessage.DigestReply>> second = CompletableFuture.supplyAsync(() -> {
            try {
                return x.request(BLOCK, BLOCK, BLOCK, digests(1));
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        Thread.sleep(50);
        x.failAll("resource down");
        assertInstanceOf(SessionEndedException.class, failure(second.get(10, TimeUnit.SECONDS)));
        assertEquals(1, sent.size());
    }

    @Test
    void shouldFailTheRequestAndFreeTheSlotWhenSendingThrows() throws Exception {
        IllegalStateException down = new IllegalStateException("link down");
        DigestExchange x = new DigestExchange(m -> {
            throw down;
        }, 1);
        assertSame(down, failure(x.request(0, BLOCK, BLOCK, digests(1))));
        assertEquals(0, x.outstanding());
        assertSame(down, failure(x.request(0, BLOCK, BLOCK, digests(1))), "the slot was given back");
    }

    @Test
    void shouldRefuseARequestTheWireCannotCarry() {
        DigestExchange x = new DigestExchange(m -> sent.add((PeerMessage.DigestRequest) m));
        assertThrows(IllegalArgumentException.class, () -> x.request(0, 16 << 20, BLOCK, digests(4096)));
        assertThrows(IllegalArgumentException.class, () -> x.request(0, BLOCK, BLOCK, new byte[0]));
        assertEquals(0, x.outstanding());
    }
}
