package io.jrbd.replicator.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * An {@link IoCallback} that records how an operation ended into a future, copying what it is
 * handed (the runs array is only valid during the call; read buffers are released at once).
 * Counts its calls so a test can check that each operation completes exactly once.
 */
final class Completion implements IoCallback {
    /** Generous: only there so a broken device fails a test instead of hanging it. */
    private static final long TIMEOUT_SECONDS = 60;

    enum Kind { DONE, DATA, RUNS, FAILURE }

    record Outcome(Kind kind, byte[] data, long[] runs, IoError error, String detail, long syncsAtCompletion) {
    }

    private final CompletableFuture<Outcome> future = new CompletableFuture<>();
    private final AtomicInteger calls = new AtomicInteger();
    private final LongSupplier syncs;

    Completion() {
        this(() -> -1);
    }

    /** Also records {@code syncs} as it stands when the operation completes. */
    Completion(LongSupplier syncs) {
        this.syncs = syncs;
    }

    @Override
    public void onDone() {
        record(new Outcome(Kind.DONE, null, null, null, null, syncs.getAsLong()));
    }

    @Override
    public void onData(ByteBuf data) {
        byte[] bytes;
        try {
            bytes = ByteBufUtil.getBytes(data);
        } finally {
            // An empty read may be Netty's shared empty buffer, which no release ever frees.
            if (!data.release() && data.capacity() > 0) {
                record(new Outcome(Kind.FAILURE, null, null, null, "read buffer still referenced after release", -1));
            }
        }
        record(new Outcome(Kind.DATA, bytes, null, null, null, syncs.getAsLong()));
    }

    @Override
    public void onRuns(long[] runs, int count) {
        long[] copy = new long[count * 2];
        System.arraycopy(runs, 0, copy, 0, count * 2);
        record(new Outcome(Kind.RUNS, null, copy, null, null, syncs.getAsLong()));
    }

    @Override
    public void onFailure(IoError error, String detail) {
        record(new Outcome(Kind.FAILURE, null, null, error, detail, syncs.getAsLong()));
    }

    private void record(Outcome outcome) {
        calls.incrementAndGet();
        future.complete(outcome);
    }

    int calls() {
        return calls.get();
    }

    boolean isDone() {
        return future.isDone();
    }

    Outcome await() {
        try {
            return future.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            return fail("no completion within " + TIMEOUT_SECONDS + " s");
        } catch (InterruptedException | ExecutionException e) {
            throw new AssertionError(e);
        }
    }

    Outcome awaitDone() {
        Outcome outcome = await();
        assertEquals(Kind.DONE, outcome.kind(), () -> "expected success, got " + outcome);
        return outcome;
    }

    byte[] awaitData() {
        Outcome outcome = await();
        assertEquals(Kind.DATA, outcome.kind(), () -> "expected data, got " + outcome);
        return outcome.data();
    }

    /** The runs as text, "[hole 4096, data 8192]", for readable assertions. */
    String awaitRuns() {
        Outcome outcome = await();
        assertEquals(Kind.RUNS, outcome.kind(), () -> "expected runs, got " + outcome);
        long[] runs = outcome.runs();
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < runs.length / 2; i++) {
            if (i > 0) {
                sb.append(", ");
            }
            sb.append(runs[i * 2 + 1] == 1 ? "hole " : "data ").append(runs[i * 2]);
        }
        return sb.append(']').toString();
    }

    Outcome awaitFailure() {
        Outcome outcome = await();
        assertEquals(Kind.FAILURE, outcome.kind(), () -> "expected failure, got " + outcome);
        return outcome;
    }
}
