package io.jrbd.metadata.journal;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import net.openhft.chronicle.bytes.BytesStore;

/**
 * Direct {@link ByteBuffer} views of the mapped ring, so that bulk copies (Netty
 * {@code getBytes}/{@code writeBytes}) and CRC32C (intrinsified on direct buffers) work on the
 * mapping itself, with no copy and no allocation per record.
 *
 * <p>A ByteBuffer spans at most 2 GiB, so a large ring gets several overlapping windows:
 * window {@code k} starts at ring offset {@code k << 30} and spans up to
 * {@code Integer.MAX_VALUE} bytes. A record starts in exactly one 1 GiB stride and is at most
 * {@link JournalLayout#MAX_RECORD_LENGTH} (1 GiB) long, so it always lies inside the window of
 * the stride it starts in.
 *
 * <p>Not thread-safe: the buffers' position and limit are the state. Each thread that touches
 * the ring (the writer, each {@link Reader}, recovery) owns its own instance.
 */
final class RingWindows {
    private static final int STRIDE_SHIFT = 30;
    private static final long STRIDE_MASK = (1L << STRIDE_SHIFT) - 1;

    private final ByteBuffer[] windows;

    /** Views of {@code capacity} bytes of native memory starting at {@code ringAddress}. */
    RingWindows(long ringAddress, long capacity) {
        int count = (int) ((capacity + STRIDE_MASK) >>> STRIDE_SHIFT);
        windows = new ByteBuffer[count];
        for (int k = 0; k < count; k++) {
            long start = (long) k << STRIDE_SHIFT;
            long length = Math.min(capacity - start, Integer.MAX_VALUE);
            windows[k] = view(ringAddress + start, length);
        }
    }

    /** A direct ByteBuffer over native memory (the memory stays owned by the mapping). */
    static ByteBuffer view(long address, long length) {
        // Chronicle wraps the address in a ByteBuffer without copying: the buffer's own (empty)
        // allocation is what its cleaner frees, never the mapping.
        return BytesStore.wrap(address, length).toTemporaryDirectByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * The window holding {@code [ringOffset, ringOffset + length)}, its position at the first
     * byte and its limit just after the last. Valid until the next call.
     */
    ByteBuffer slice(long ringOffset, int length) {
        ByteBuffer w = windows[(int) (ringOffset >>> STRIDE_SHIFT)];
        int index = (int) (ringOffset & STRIDE_MASK);
        w.limit(index + length);
        w.position(index);
        return w;
    }
}
