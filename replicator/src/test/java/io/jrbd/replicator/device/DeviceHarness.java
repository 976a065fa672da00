package io.jrbd.replicator.device;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jrbd.metadata.store.BackingStore;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A {@link StandaloneDevice} over a real file, with an allocator that counts the memory of live
 * buffers, so {@link #close} can check that every buffer the test or the device allocated was
 * released and that every operation completed exactly once.
 */
final class DeviceHarness implements AutoCloseable {
    final Path path;
    final UnpooledByteBufAllocator alloc = new UnpooledByteBufAllocator(true);
    final StandaloneDevice device;
    private final List<Completion> completions = Collections.synchronizedList(new ArrayList<>());
    private boolean closed;

    DeviceHarness(Path path, long size, boolean readOnly, int ioThreads) throws Exception {
        this.path = path;
        this.device = new StandaloneDevice(BackingStore.open(path, size, readOnly), alloc, ioThreads);
    }

    /** A completion that records the device's fdatasync count as it completes. */
    Completion completion() {
        Completion c = new Completion(device::syncs);
        completions.add(c);
        return c;
    }

    ByteBuf buffer(byte[] bytes) {
        ByteBuf buf = alloc.directBuffer(bytes.length);
        buf.writeBytes(bytes);
        return buf;
    }

    Completion write(long offset, byte[] bytes, boolean fua) {
        Completion c = completion();
        device.write(offset, buffer(bytes), fua, c);
        return c;
    }

    void writeAndWait(long offset, byte[] bytes) {
        write(offset, bytes, false).awaitDone();
    }

    byte[] read(long offset, int length) {
        Completion c = completion();
        device.read(offset, length, c);
        return c.awaitData();
    }

    Completion flush() {
        Completion c = completion();
        device.flush(c);
        return c;
    }

    String describe(long offset, long length, int maxRuns) {
        Completion c = completion();
        device.describe(offset, length, maxRuns, c);
        return c.awaitRuns();
    }

    /** Closes the device (once) and checks what every test must leave behind. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        device.close();
        synchronized (completions) {
            for (Completion c : completions) {
                assertEquals(1, c.calls(), "every operation completes exactly once");
            }
        }
        assertEquals(0, alloc.metric().usedDirectMemory(), "direct buffers left unreleased");
        assertEquals(0, alloc.metric().usedHeapMemory(), "heap buffers left unreleased");
    }
}
