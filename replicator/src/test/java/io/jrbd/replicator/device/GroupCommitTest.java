package io.jrbd.replicator.device;

import static io.jrbd.replicator.device.DeviceFixtures.KIB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrbd.metadata.store.BackingStore;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GroupCommitTest {
    @TempDir
    Path dir;
    private BackingStore store;
    private GroupCommit commit;

    @BeforeEach
    void open() throws Exception {
        store = BackingStore.open(dir.resolve("store.img"), 64 * KIB, false);
        commit = new GroupCommit(store, "test-flush");
    }

    @AfterEach
    void close() throws Exception {
        commit.close();
        store.close();
    }

    @Test
    void shouldCompleteEveryQueuedFlushBeforeStopping() {
        List<Completion> flushes = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            Completion c = new Completion(commit::syncs);
            flushes.add(c);
            commit.submit(c);
        }

        commit.close();

        for (Completion c : flushes) {
            assertTrue(c.isDone(), "close returned with a flush still waiting");
            assertTrue(c.awaitDone().syncsAtCompletion() >= 1);
            assertEquals(1, c.calls());
        }
        assertEquals(500, commit.requests());
        assertTrue(commit.syncs() >= 1 && commit.syncs() <= 500, commit.syncs() + " syncs");
    }

    @Test
    void shouldKeepServingAfterCompletionThrows() {
        commit.submit(new IoCallback() {
            @Override
            public void onDone() {
                throw new IllegalStateException("a broken completion");
            }

            @Override
            public void onFailure(IoError error, String detail) {
                throw new IllegalStateException("a broken completion");
            }
        });
        Completion next = new Completion();
        commit.submit(next);
        next.awaitDone();

        Completion later = new Completion();
        commit.submit(later);

        later.awaitDone();
        assertEquals(3, commit.requests());
    }

    @Test
    void shouldFailFlushWithEioNamingTheStoreWhenFdatasyncFails() throws Exception {
        // fdatasync really fails here: the store's channel is closed under the flush thread.
        store.close();
        Completion first = new Completion(commit::syncs);
        commit.submit(first);

        Completion.Outcome failed = first.awaitFailure();

        assertEquals(IoError.EIO, failed.error());
        assertTrue(failed.detail().contains(store.path().toString()), failed.detail());
        assertTrue(failed.detail().contains("fdatasync"), failed.detail());
        assertTrue(failed.detail().endsWith("ClosedChannelException"), failed.detail());
        assertEquals(0, commit.syncs(), "a failed fdatasync is not counted as one");

        Completion second = new Completion();
        commit.submit(second);
        Completion.Outcome alsoFailed = second.awaitFailure();
        assertEquals(IoError.EIO, alsoFailed.error());
        assertEquals(failed.detail(), alsoFailed.detail(), "later flushes name the first failure");
    }
}
