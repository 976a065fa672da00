package io.jrbd.replicator.resource;

import io.jrbd.metadata.al.ActivityLog;
import io.jrbd.replicator.engine.ActivityLogHook;
import java.io.IOException;
import java.util.function.LongSupplier;
import java.util.concurrent.locks.LockSupport;

/**
 * The pipeline's {@link ActivityLogHook} over the metadata's activity log: when every hot extent
 * still has writes the peer has not made durable, it waits for them (DRBD waits likewise for a
 * free AL slot), reading the settled position again each time.
 */
final class ActivityLogGate implements ActivityLogHook {
    private static final long WAIT_NANOS = 200_000;

    private final ActivityLog log;

    ActivityLogGate(ActivityLog log) {
        this.log = log;
    }

    @Override
    public void activate(long offset, long length, long seq, LongSupplier settledSeq)
            throws IOException, InterruptedException {
        while (log.activate(offset, length, seq, settledSeq.getAsLong()) == ActivityLog.Activation.NO_EVICTABLE_EXTENT) {
            LockSupport.parkNanos(WAIT_NANOS);
            if (Thread.interrupted()) {
                throw new InterruptedException("waiting for room in the activity log");
            }
        }
    }
}
