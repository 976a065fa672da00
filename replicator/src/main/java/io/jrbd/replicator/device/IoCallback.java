package io.jrbd.replicator.device;

import io.netty.buffer.ByteBuf;

/**
 * How a {@link BlockDevice} completes an operation. Exactly one method is called, once, on a
 * device thread; callers must not block in it.
 */
public interface IoCallback {
    /** A write-type operation, a flush or a cache hint succeeded. */
    default void onDone() {
        throw new IllegalStateException(getClass().getName() + " does not take write completions");
    }

    /** A read succeeded; the callee owns {@code data} and must release it. */
    default void onData(ByteBuf data) {
        data.release();
        throw new IllegalStateException(getClass().getName() + " does not take read completions");
    }

    /**
     * A status query succeeded: {@code runs} holds {@code count} pairs (run length, 1 if the run
     * is a hole reading as zeroes else 0). The array is only valid during the call.
     */
    default void onRuns(long[] runs, int count) {
        throw new IllegalStateException(getClass().getName() + " does not take status completions");
    }

    void onFailure(IoError error, String detail);
}
