package io.jrbd.replicator.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.lmax.disruptor.RingBuffer;
import com.lmax.disruptor.Sequence;
import com.lmax.disruptor.SequenceBarrier;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class StageWaitStrategyTest {
    @Test
    void shouldWakeAStageWaitingForTheStageBeforeIt() throws Exception {
        StageWaitStrategy waits = new StageWaitStrategy();
        RingBuffer<long[]> ring = RingBuffer.createMultiProducer(() -> new long[1], 8, waits);
        Sequence previousStage = new Sequence(-1);
        SequenceBarrier barrier = ring.newBarrier(previousStage);
        ring.publish(ring.next()); // the cursor is ahead: only the previous stage holds us back
        CompletableFuture<Long> waited = CompletableFuture.supplyAsync(() -> {
            try {
                return barrier.waitFor(0);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        Thread.sleep(50); // long enough to be asleep on the monitor, past the spinning
        assertTrue(!waited.isDone(), "returned before the previous stage moved");
        previousStage.set(0);
        waits.signalAllWhenBlocking();
        assertEquals(0L, waited.get(5, TimeUnit.SECONDS));
    }

    @Test
    void shouldNoticeProgressEvenWithoutASignal() throws Exception {
        StageWaitStrategy waits = new StageWaitStrategy();
        RingBuffer<long[]> ring = RingBuffer.createMultiProducer(() -> new long[1], 8, waits);
        Sequence previousStage = new Sequence(-1);
        SequenceBarrier barrier = ring.newBarrier(previousStage);
        ring.publish(ring.next());
        CompletableFuture<Long> waited = CompletableFuture.supplyAsync(() -> {
            try {
                return barrier.waitFor(0);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        Thread.sleep(20);
        previousStage.set(0); // no signal: the timed wait must still see it
        assertEquals(0L, waited.get(5, TimeUnit.SECONDS));
    }
}
