package io.jrbd.metadata.al;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/** What the activity log tests share: a sink that keeps the region in memory and logs each call. */
final class AlFixtures {
    static final long MIB = 1024 * 1024;
    static final long GIB = 1024 * MIB;
    static final long EXTENT = ActivityLogLayout.EXTENT_SIZE;

    private AlFixtures() {
    }

    /** A region in memory; each write is appended to {@link #events} as "tx N". */
    static final class MemorySink implements TransactionSink {
        final ByteBuffer region = ByteBuffer.allocate(ActivityLogLayout.REGION_SIZE);
        final List<String> events = new ArrayList<>();
        IOException failNext;
        int writes;

        @Override
        public void writeAndSync(ByteBuffer src, int regionOffset) throws IOException {
            if (failNext != null) {
                IOException e = failNext;
                failNext = null;
                throw e;
            }
            if (src.remaining() % ActivityLogLayout.BLOCK_SIZE != 0) {
                throw new AssertionError("not whole blocks: " + src.remaining());
            }
            region.put(regionOffset, src.duplicate(), src.position(), src.remaining());
            writes++;
            events.add("tx " + src.getLong(src.position() + ActivityLogLayout.NUMBER_OFFSET));
        }

        /** What a fresh open of this region would find. */
        ActivityLogRecovery.Result recover(long deviceSize) {
            return ActivityLogRecovery.recover(region.duplicate().clear(), ActivityLogLayout.extents(deviceSize),
                    0);
        }
    }

    /** The byte offset of extent {@code e}. */
    static long at(int e) {
        return e * EXTENT;
    }
}
