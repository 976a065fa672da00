package io.jrbd.bench;

import io.jrbd.metadata.store.BackingStore;
import io.jrbd.replicator.device.BlockDevice;
import io.jrbd.replicator.device.StandaloneDevice;
import io.netty.buffer.PooledByteBufAllocator;
import java.nio.file.Path;

/** The baseline: one {@link StandaloneDevice} on one backing file, no peer, no journal. */
final class StandaloneHarness implements BenchTarget {
    private final Path dir;
    private final StandaloneDevice device;

    private StandaloneHarness(Path dir, StandaloneDevice device) {
        this.dir = dir;
        this.device = device;
    }

    static StandaloneHarness start(int ioThreads) throws Exception {
        Path dir = BenchFiles.workDirectory("jrbd-bench-standalone-");
        try {
            Path file = dir.resolve("standalone.img");
            BenchFiles.createBackingFile(file, SIZE, BenchFiles.prefill());
            BackingStore store = BackingStore.open(file, SIZE, false);
            return new StandaloneHarness(dir, new StandaloneDevice(store, PooledByteBufAllocator.DEFAULT, ioThreads));
        } catch (Exception | Error e) {
            BenchFiles.deleteTree(dir);
            throw e;
        }
    }

    @Override
    public BlockDevice device() {
        return device;
    }

    @Override
    public void check() {
        // nothing can degrade
    }

    @Override
    public String describe() {
        return "standalone device, no peer, in " + dir;
    }

    @Override
    public void close() {
        try {
            device.close();
        } finally {
            BenchFiles.deleteTree(dir);
        }
    }
}
