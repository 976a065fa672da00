package io.jrbd.replicator.engine;

import com.lmax.disruptor.AlertException;
import com.lmax.disruptor.Sequence;
import com.lmax.disruptor.SequenceBarrier;
import com.lmax.disruptor.WaitStrategy;

/**
 * Waits for the stage before (or the publisher) without burning a core. Disruptor's
 * blocking strategies sleep only until the publisher's cursor moves and then busy-spin on
 * the previous stage; on a two-core machine two spinning stages starve the very stage they
 * wait for. Here every wait spins briefly and then sleeps on a monitor, and whoever moves a
 * sequence (the publisher, or a stage via {@link #signalAllWhenBlocking}) wakes the sleepers.
 *
 * <p>Lost wake-ups cannot happen: a waiter registers, then re-reads the sequence; a signaller
 * moves the sequence, then reads the registration (both volatile). The 1 ms timed wait is a
 * second line of defence, not the mechanism.
 */
final class StageWaitStrategy implements WaitStrategy {
    private static final int SPINS = 200;

    private final Object mutex = new Object();
    private volatile int sleepers;

    @Override
    public long waitFor(long sequence, Sequence cursor, Sequence dependentSequence, SequenceBarrier barrier)
            throws AlertException, InterruptedException {
        long available;
        int spins = 0;
        while ((available = dependentSequence.get()) < sequence) {
            barrier.checkAlert();
            if (++spins < SPINS) {
                Thread.onSpinWait();
                continue;
            }
            synchronized (mutex) {
                sleepers++;
                try {
                    if (dependentSequence.get() < sequence) {
                        barrier.checkAlert();
                        mutex.wait(1);
                    }
                } finally {
                    sleepers--;
                }
            }
        }
        return available;
    }

    @Override
    public void signalAllWhenBlocking() {
        if (sleepers > 0) {
            synchronized (mutex) {
                mutex.notifyAll();
            }
        }
    }
}
