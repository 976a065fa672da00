package io.jrbd.replicator.verify;

import io.jrbd.metadata.store.BackingStore;
import io.jrbd.metadata.store.StoreException;
import io.jrbd.protocol.peer.PeerWire;
import io.jrbd.resync.BlockDigests;
import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * Reads a span of a backing store and digests it block by block: what every side of a digest
 * exchange does to its own data. Keeps one read buffer (grown to the largest span asked for, at
 * most {@link PeerWire#MAX_DIGEST_SPAN}) and one digest array, so a steady run allocates
 * nothing but the arrays it hands out. One thread at a time, like the {@link BlockDigests} it
 * holds.
 */
final class DigestReader {
    private final BackingStore store;
    private final BlockDigests digests;
    private ByteBuffer buffer;
    private byte[] scratch = new byte[0];

    DigestReader(BackingStore store, BlockDigests digests) {
        this.store = Objects.requireNonNull(store, "store");
        this.digests = Objects.requireNonNull(digests, "digests");
    }

    BlockDigests digests() {
        return digests;
    }

    int digestLength() {
        return digests.digestLength();
    }

    /**
     * Reads {@code [offset, offset + length)} and digests it into an internal array that the
     * next call overwrites (it may be longer than the digests). Bytes past the store's end are
     * not read: the span is cut there, and the blocks past it get no digest. Returns the number
     * of blocks digested, 0 if {@code offset} is at or past the end.
     */
    int digestShared(long offset, int length, int blockSize) throws StoreException {
        long size = store.size();
        if (offset >= size) {
            return 0;
        }
        int readable = (int) Math.min(length, size - offset);
        ByteBuffer data = read(offset, readable);
        int blocks = BlockDigests.blocks(readable, blockSize);
        int need = blocks * digests.digestLength();
        if (scratch.length < need) {
            scratch = new byte[need];
        }
        return digests.digest(data, blockSize, scratch);
    }

    /** The array {@link #digestShared} last filled. */
    byte[] shared() {
        return scratch;
    }

    /**
     * The digests of {@code [offset, offset + length)}, block after block, in a new array of
     * exactly {@code blocks * digestLength} bytes: the span must lie inside the store.
     */
    byte[] digest(long offset, int length, int blockSize) throws StoreException {
        if (offset < 0 || length <= 0 || offset + length > store.size()) {
            throw new IllegalArgumentException("span " + offset + "+" + length + " is not inside the store of "
                    + store.size() + " bytes (" + store.path() + ")");
        }
        int blocks = digestShared(offset, length, blockSize);
        byte[] out = new byte[blocks * digests.digestLength()];
        System.arraycopy(scratch, 0, out, 0, out.length);
        return out;
    }

    private ByteBuffer read(long offset, int length) throws StoreException {
        if (length > PeerWire.MAX_DIGEST_SPAN) {
            throw new IllegalArgumentException("span of " + length + " bytes at " + offset
                    + " exceeds the digest span limit of " + PeerWire.MAX_DIGEST_SPAN);
        }
        if (buffer == null || buffer.capacity() < length) {
            int capacity = Math.max(length, buffer == null ? 0 : Math.min(PeerWire.MAX_DIGEST_SPAN, buffer.capacity() * 2));
            buffer = ByteBuffer.allocateDirect(capacity);
        }
        buffer.clear().limit(length);
        store.read(buffer, offset);
        buffer.flip();
        return buffer;
    }
}
