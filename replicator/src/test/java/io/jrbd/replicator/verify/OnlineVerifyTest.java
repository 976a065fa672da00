package io.jrbd.replicator.verify;

import static io.jrbd.replicator.verify.VerifyFixtures.BLOCK;
import static io.jrbd.replicator.verify.VerifyFixtures.MIB;
import static io.jrbd.replicator.verify.VerifyFixtures.SIZE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrbd.metadata.md.Bitmap;
import io.jrbd.protocol.peer.PeerMessage;
import io.jrbd.replicator.engine.ResyncThrottle;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Online verify between two real stores wired back to back: what it reports, marks and sends,
 * how the re-check hides writes in flight, and how it ends when cancelled.
 */
final class OnlineVerifyTest {
    /** The last, partial 4 KiB block: 1536 bytes. */
    private static final long LAST_BLOCK = SIZE / BLOCK * BLOCK;

    @TempDir
    Path dir;

    private VerifyFixtures nodes;
    private final List<VerifyResult> finished = new CopyOnWriteArrayList<>();

    @BeforeEach
    void setUp() throws IOException {
        nodes = new VerifyFixtures(dir, "crc32c");
    }

    @AfterEach
    void tearDown() throws IOException {
        nodes.close();
    }

    private OnlineVerify verify(InFlightWrites writes, ResyncThrottle throttle, VerifyOptions options) {
        Consumer<PeerMessage> sender = m -> nodes.outOfSync.add((PeerMessage.OutOfSync) m);
        return new OnlineVerify("r0", nodes.local, nodes.md.bitmap(), nodes.exchange, sender, writes, throttle,
                options, finished::add);
    }

    private VerifyResult run(OnlineVerify v) throws InterruptedException {
        v.start();
        assertTrue(v.awaitFinished(30, TimeUnit.SECONDS), "verify did not end");
        assertFalse(v.running());
        assertEquals(1, finished.size(), "the listener is told once");
        assertEquals(finished.get(0), v.result().orElseThrow());
        return finished.get(0);
    }

    @Test
    void shouldFindNothingBetweenIdenticalStores() throws Exception {
        OnlineVerify v = verify(InFlightWrites.NONE, ResyncThrottle.NONE, VerifyOptions.of("crc32c"));
        VerifyResult r = run(v);
        assertEquals(VerifyResult.Outcome.COMPLETED, r.outcome());
        assertArrayEquals(new long[0], r.runs());
        assertEquals(0, r.outOfSyncBlocks());
        assertEquals(SIZE, r.checkedBytes());
        assertEquals(SIZE, v.doneBytes());
        assertEquals(SIZE, v.totalBytes());
        assertEquals(0, nodes.md.bitmap().cardinality());
        assertTrue(nodes.outOfSync.isEmpty(), "nothing to mark on the peer");
        assertEquals(4, nodes.requests.size(), "three 1 MiB chunks and the 1536-byte tail, no re-check");
        assertEquals(1536, nodes.requests.get(3).length());
    }

    @Test
    void shouldReportMarkAndSendExactlyTheFlippedBlocksIncludingThePartialLastOne() throws Exception {
        VerifyFixtures.flip(nodes.peer, 100);
        VerifyFixtures.flip(nodes.peer, 300L * BLOCK + 7);
        VerifyFixtures.flip(nodes.peer, SIZE - 10);

        VerifyResult r = run(verify(InFlightWrites.NONE, ResyncThrottle.NONE, VerifyOptions.of("crc32c")));

        long[] expected = {0, BLOCK, 300L * BLOCK, BLOCK, LAST_BLOCK, SIZE - LAST_BLOCK};
        assertEquals(VerifyResult.Outcome.COMPLETED, r.outcome());
        assertArrayEquals(expected, r.runs());
        assertEquals(2 * BLOCK + 1536, r.differingBytes());
        assertEquals(3, r.outOfSyncBlocks());
        assertEquals(3, r.suspectBlocks());
        Bitmap bitmap = nodes.md.bitmap();
        assertEquals(3, bitmap.cardinality());
        assertTrue(bitmap.isSet(0) && bitmap.isSet(300) && bitmap.isSet(LAST_BLOCK / BLOCK));
        assertArrayEquals(expected, nodes.sentRuns(), "the peer is told the same runs");
        assertTrue(nodes.outOfSync.stream().noneMatch(o -> o.last()), "never 'last': that ends a bitmap exchange");
        List<String> lines = r.logLines(10);
        assertEquals(List.of("Out of sync: start=0, size=8 (sectors)", "Out of sync: start=2400, size=8 (sectors)",
                "Out of sync: start=" + LAST_BLOCK / 512 + ", size=3 (sectors)"), lines.subList(0, 3));
        assertTrue(lines.get(3).startsWith("Online verify found 3 4k blocks out of sync!"), lines.get(3));
        assertEquals(4, lines.size());
    }

    @Test
    void shouldNotReportABlockThatAWriteInFlightChangedBeforeTheRecheck() throws Exception {
        long inFlight = 2L * MIB + 5 * BLOCK;
        long stale = 17L * BLOCK;
        VerifyFixtures.flip(nodes.peer, inFlight + 11); // the peer has not got this write yet
        VerifyFixtures.flip(nodes.peer, stale);         // really different
        AtomicInteger settles = new AtomicInteger();
        InFlightWrites writes = () -> {
            // The first chunk to differ is chunk 0; the write lands on the peer before chunk 2 is re-checked.
            if (settles.incrementAndGet() == 2) {
                VerifyFixtures.copy(nodes.local, nodes.peer, inFlight, BLOCK);
            }
        };

        VerifyResult r = run(verify(writes, ResyncThrottle.NONE, VerifyOptions.of("crc32c")));

        assertEquals(2, settles.get(), "one wait per chunk that differed");
        assertArrayEquals(new long[] {stale, BLOCK}, r.runs());
        assertEquals(2, r.suspectBlocks(), "both differed on the first pass");
        assertEquals(1, nodes.md.bitmap().cardinality());
        assertFalse(nodes.md.bitmap().isSet(inFlight / BLOCK));
        assertArrayEquals(new long[] {stale, BLOCK}, nodes.sentRuns());
    }

    @Test
    void shouldRecheckOnlyTheSuspectBlocks() throws Exception {
        VerifyFixtures.flip(nodes.peer, 40L * BLOCK);
        VerifyFixtures.flip(nodes.peer, 200L * BLOCK);
        run(verify(InFlightWrites.NONE, ResyncThrottle.NONE, VerifyOptions.of("crc32c")));
        List<PeerMessage.DigestRequest> rechecks = nodes.requests.subList(4, nodes.requests.size());
        assertEquals(2, rechecks.size(), "the two blocks are too far apart to read through: two re-checks");
        assertEquals(40L * BLOCK, rechecks.get(0).offset());
        assertEquals(BLOCK, rechecks.get(0).length());
        assertEquals(200L * BLOCK, rechecks.get(1).offset());
        assertEquals(BLOCK, rechecks.get(1).length());
    }

    @Test
    void shouldSayCancelledAndWhyWhenCancelledMidway() throws Exception {
        AtomicReference<OnlineVerify> self = new AtomicReference<>();
        AtomicInteger acquires = new AtomicInteger();
        AtomicLong outstanding = new AtomicLong();
        ResyncThrottle throttle = new ResyncThrottle() {
            @Override
            public long acquire(long bytes) {
                if (acquires.incrementAndGet() == 2) {
                    self.get().cancel("verify --stop by the operator");
                }
                outstanding.addAndGet(bytes);
                return bytes;
            }

            @Override
            public void acknowledged(long bytes) {
                outstanding.addAndGet(-bytes);
            }
        };
        VerifyFixtures.flip(nodes.peer, SIZE - 1);
        OnlineVerify v = verify(InFlightWrites.NONE, throttle, VerifyOptions.of("crc32c").window(1));
        self.set(v);

        VerifyResult r = run(v);

        assertEquals(VerifyResult.Outcome.CANCELLED, r.outcome());
        assertEquals("verify --stop by the operator", r.why());
        assertTrue(r.checkedBytes() < SIZE, "stopped early: " + r.checkedBytes());
        assertArrayEquals(new long[0], r.runs(), "the flipped last block was never reached");
        assertEquals(0, outstanding.get(), "every byte taken from the throttle is given back");
        assertTrue(r.summary().startsWith("Online verify cancelled after"), r.summary());
    }

    @Test
    void shouldSayCancelledWhenTheSessionEndsWhileWaiting() throws Exception {
        nodes.silent = true;
        OnlineVerify v = verify(InFlightWrites.NONE, ResyncThrottle.NONE, VerifyOptions.of("crc32c"));
        v.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (nodes.exchange.outstanding() < 4 && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        assertEquals(4, nodes.exchange.outstanding(), "a window of four chunks waits for answers");
        nodes.exchange.failAll("connection lost");
        assertTrue(v.awaitFinished(10, TimeUnit.SECONDS));
        VerifyResult r = v.result().orElseThrow();
        assertEquals(VerifyResult.Outcome.CANCELLED, r.outcome());
        assertTrue(r.why().contains("connection lost"), r.why());
        assertEquals(0, r.checkedBytes());
    }

    @Test
    void shouldCompareOnlyTheSpanAskedFor() throws Exception {
        VerifyFixtures.flip(nodes.peer, 10);              // before the span
        VerifyFixtures.flip(nodes.peer, MIB + 3 * BLOCK); // inside
        VerifyFixtures.flip(nodes.peer, SIZE - 1);        // after
        OnlineVerify v = verify(InFlightWrites.NONE, ResyncThrottle.NONE,
                VerifyOptions.of("crc32c").range(MIB, 2L * MIB));
        assertEquals(MIB, v.totalBytes());

        VerifyResult r = run(v);

        assertEquals(VerifyResult.Outcome.COMPLETED, r.outcome());
        assertArrayEquals(new long[] {MIB + 3 * BLOCK, BLOCK}, r.runs());
        assertEquals(MIB, r.checkedBytes());
        assertEquals(1, nodes.md.bitmap().cardinality());
    }

    @Test
    void shouldRefuseOptionsThatBreakTheLimits() {
        assertThrows(IllegalArgumentException.class, () -> VerifyOptions.of("crc32c").range(100, 4096),
                "start not on a block");
        assertThrows(IllegalArgumentException.class, () -> VerifyOptions.of("crc32c").chunks(16 * MIB),
                "chunk past the digest span limit");
        assertThrows(IllegalArgumentException.class, () -> VerifyOptions.of("md5"));
        assertThrows(IllegalArgumentException.class, () -> verify(InFlightWrites.NONE, ResyncThrottle.NONE,
                VerifyOptions.of("crc32c").range(4L * MIB, VerifyOptions.TO_END)), "start past the device end");
    }

    @Test
    void shouldRefuseASecondStart() throws Exception {
        OnlineVerify v = verify(InFlightWrites.NONE, ResyncThrottle.NONE, VerifyOptions.of("crc32c"));
        run(v);
        assertThrows(IllegalStateException.class, v::start);
    }
}
