package io.jrbd.metadata.al;

import java.io.IOException;
import java.nio.ByteBuffer;

/** Where the activity log's transactions go: {@code Metadata} writes them into its region. */
@FunctionalInterface
public interface TransactionSink {
    /**
     * Writes {@code src} (position to limit, whole 4 KiB blocks) at {@code regionOffset} of the
     * activity log region and makes it durable (fdatasync) before returning. {@code src} is the
     * caller's and is reused once this returns.
     */
    void writeAndSync(ByteBuffer src, int regionOffset) throws IOException;
}
