package io.jrbd.replicator.resource;

import io.jrbd.metadata.md.Bitmap;
import io.jrbd.replicator.engine.DirtyTracker;

/** The pipeline's {@link DirtyTracker} over the metadata's bitmap (persisted by the resource). */
final class BitmapTracker implements DirtyTracker {
    private final Bitmap bitmap;

    BitmapTracker(Bitmap bitmap) {
        this.bitmap = bitmap;
    }

    @Override
    public void markDirty(long offset, long length) {
        if (length > 0) {
            bitmap.setRange(offset, length);
        }
    }

    @Override
    public long dirtyBytes() {
        return bitmap.dirtyBytes();
    }

    @Override
    public void clearAll() {
        bitmap.clearRange(0, bitmap.deviceSize());
    }

    @Override
    public void clearRange(long offset, long length) {
        if (length > 0) {
            bitmap.clearRange(offset, length);
        }
    }

    @Override
    public long nextDirty(long offset) {
        long block = bitmap.nextSetBlock(offset / BLOCK);
        return block < 0 ? -1 : block * BLOCK;
    }

    @Override
    public long dirtyRunEnd(long offset) {
        long clear = bitmap.nextClearBlock(offset / BLOCK);
        return clear < 0 ? bitmap.deviceSize() : Math.min(clear * BLOCK, bitmap.deviceSize());
    }

    private static final long BLOCK = 4096;
}
