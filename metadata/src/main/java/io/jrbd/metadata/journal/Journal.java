package io.jrbd.metadata.journal;

import static io.jrbd.metadata.journal.JournalLayout.*;

import io.netty.buffer.ByteBuf;
import java.io.Closeable;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;
import java.util.zip.CRC32C;
import net.openhft.chronicle.bytes.MappedBytesStore;
import net.openhft.chronicle.bytes.MappedFile;
import net.openhft.chronicle.core.io.ReferenceOwner;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The write journal: a bounded ring of write records, memory-mapped with Chronicle Bytes
 * (layout in {@link JournalLayout}). It is the replication send buffer and the source of
 * catch-up after a short disconnect; it is never fsynced, and after a crash {@link #open}
 * keeps its valid prefix.
 *
 * <h2>Threads</h2>
 * One writer thread calls {@link #tryAppend}, {@link #append}, {@link #release} and
 * {@link #close}. One reader thread at a time calls {@link #reader} and uses the
 * {@link Reader} and {@link RecordView} it gets, concurrently with the writer. The getters
 * ({@link #firstSeq}, {@link #lastSeq}, {@link #isEmpty}, {@link #usedBytes},
 * {@link #droppedRecords}) may be called from any thread and return a consistent snapshot.
 * Close the journal only after its readers are done: the mapping goes away with it.
 *
 * <h2>Memory ordering</h2>
 * Positions are logical (they grow without bound; the ring offset is {@code position %
 * capacity}), so {@code tail - head} is the used space and a byte at logical position
 * {@code x} can only be overwritten after {@code head} has moved past {@code x}. The writer
 * publishes {@code head}, {@code tail}, {@code firstSeq}, {@code lastSeq} under a sequence lock
 * ({@code version} odd while it updates them; release stores plus store-store fences):
 * <ul>
 *   <li>an append writes the record bytes (its length field last, with an ordered store) and
 *       only then publishes the new {@code tail}: a reader that sees the tail sees the record;
 *   <li>a drop or release publishes the new {@code head} and a store-store fence before any
 *       byte of the freed space is reused: a reader that reads a record, then (after a
 *       load-load fence) still sees {@code head <= its position}, read an untorn record.
 * </ul>
 * So readers need no checksum; checksums are for recovery.
 */
public final class Journal implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(Journal.class);
    private static final VarHandle VERSION_HANDLE;

    static {
        try {
            VERSION_HANDLE = MethodHandles.lookup().findVarHandle(Journal.class, "version", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Path file;
    private final long capacity;
    private final MappedFile mappedFile;
    private final MappedBytesStore store;
    private final ReferenceOwner owner;
    private final FileLock lock;
    private final long ringAddress;
    private final RingWindows writerWindows;
    private final ByteBuffer headerWindow;
    private final CRC32C crc = new CRC32C();
    private final long recoveredRecords;
    private final String discardedReason;
    private volatile boolean closed;

    // Published under the sequence lock; written only by the writer thread.
    @SuppressWarnings("unused") // accessed through VERSION_HANDLE
    private long version;
    private long head;
    private long tail;
    private long firstSeq;
    private long lastSeq;
    private long droppedRecords;

    // Writer thread only.
    private int salt;

    private Journal(Path file, long capacity, MappedFile mappedFile, MappedBytesStore store, ReferenceOwner owner,
            FileLock lock, JournalRecovery recovery, String discardedReason) {
        this.file = file;
        this.capacity = capacity;
        this.mappedFile = mappedFile;
        this.store = store;
        this.owner = owner;
        this.lock = lock;
        this.ringAddress = store.addressForRead(HEADER_LENGTH);
        this.writerWindows = new RingWindows(ringAddress, capacity);
        this.headerWindow = RingWindows.view(store.addressForRead(0), HEADER_LENGTH);
        this.discardedReason = discardedReason;
        if (recovery != null) {
            this.salt = recovery.salt;
            this.head = recovery.head;
            this.tail = recovery.tail;
            this.firstSeq = recovery.firstSeq;
            this.lastSeq = recovery.lastSeq;
            this.recoveredRecords = recovery.records;
        } else {
            this.salt = ThreadLocalRandom.current().nextInt();
            this.lastSeq = -1;
            this.recoveredRecords = 0;
            writeHeader();
        }
        VERSION_HANDLE.setRelease(this, 0L);
    }

    /**
     * Opens the journal at {@code file} with a ring of {@code capacity} bytes, creating the
     * file if it is missing. An existing file is recovered: a header that is not this format,
     * not this capacity or fails its checksum makes the contents discarded (logged, and said
     * by {@link #discardedReason()}); otherwise the records from the oldest retained one are
     * kept for as long as they are whole and their sequence numbers go up by one.
     *
     * @throws IllegalArgumentException if {@code capacity} is under 1 MiB or not a multiple of 4096
     * @throws IOException if the file cannot be created, sized, mapped or locked
     */
    public static Journal open(Path file, long capacity) throws IOException {
        checkCapacity(capacity);
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            throw new IOException(file + ": the journal format is little-endian and this platform is not");
        }
        long fileLength = HEADER_LENGTH + capacity;
        boolean created = !Files.exists(file);
        String discard = null;
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            long actual = raf.length();
            if (!created && actual != fileLength) {
                discard = describeSizeMismatch(raf, actual, fileLength, capacity);
            }
            if (actual != fileLength) {
                raf.setLength(fileLength); // sparse: nothing is written
            }
        } catch (FileNotFoundException e) {
            throw new IOException(file + ": cannot create or open the journal: " + e.getMessage(), e);
        }
        MappedFile mappedFile = MappedFile.ofSingle(file.toFile(), fileLength, false);
        ReferenceOwner owner = ReferenceOwner.temporary("journal " + file);
        MappedBytesStore store = null;
        FileLock lock = null;
        try {
            lock = tryLock(file, mappedFile);
            store = mappedFile.acquireByteStore(owner, 0);
            JournalRecovery recovery = null;
            if (!created && discard == null) {
                ByteBuffer headerWindow = RingWindows.view(store.addressForRead(0), HEADER_LENGTH);
                RingWindows ring = new RingWindows(store.addressForRead(HEADER_LENGTH), capacity);
                recovery = JournalRecovery.run(store, headerWindow, ring, capacity);
                discard = recovery.discardReason;
                if (discard != null) {
                    recovery = null;
                } else {
                    LOG.info("journal {}: recovered {} records (seq {}..{}); recovery stopped: {}", file,
                            recovery.records, recovery.firstSeq, recovery.lastSeq, recovery.stopReason);
                }
            }
            if (discard != null) {
                LOG.warn("journal {}: discarding its contents and starting empty: {}", file, discard);
            }
            return new Journal(file, capacity, mappedFile, store, owner, lock, recovery, discard);
        } catch (IOException | RuntimeException e) {
            if (store != null) {
                store.release(owner);
            }
            if (lock != null) {
                releaseQuietly(lock);
            }
            mappedFile.releaseLast();
            throw e;
        }
    }

    /** Why a file of the wrong size is discarded: a changed capacity if its header says so. */
    private static String describeSizeMismatch(RandomAccessFile raf, long actual, long fileLength, long capacity)
            throws IOException {
        if (actual >= HEADER_CHECKSUMMED_LENGTH) {
            byte[] header = new byte[HEADER_CHECKSUMMED_LENGTH];
            raf.readFully(header);
            ByteBuffer b = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN);
            if (b.getLong(MAGIC_OFFSET) == MAGIC_VALUE && b.getLong(CAPACITY_OFFSET) != capacity) {
                return "capacity changed from " + b.getLong(CAPACITY_OFFSET) + " to " + capacity + " bytes";
            }
        }
        return "file is " + actual + " bytes, expected " + fileLength + " (a " + HEADER_LENGTH
                + "-byte header and a ring of " + capacity + " bytes)";
    }

    private static FileLock tryLock(Path file, MappedFile mappedFile) throws IOException {
        FileLock lock;
        try {
            lock = mappedFile.tryLock(0, HEADER_LENGTH, false);
        } catch (OverlappingFileLockException e) {
            throw new IOException(file + ": the journal is already open in this process", e);
        }
        if (lock == null) {
            throw new IOException(file + ": the journal is open in another process");
        }
        return lock;
    }

    // ---- writer

    /**
     * Appends a record if it fits without overwriting retained records. Copies the readable
     * bytes of {@code dataOrNull} without changing its indices.
     *
     * @param seq {@link #lastSeq()} + 1, or any value when the journal is empty (it restarts there)
     * @param type {@link JournalLayout#TYPE_WRITE}, {@code TYPE_TRIM}, {@code TYPE_ZEROES} or {@code TYPE_FLUSH}
     * @param opLength bytes of the device affected; for WRITE, the data length
     * @param dataOrNull the data of a WRITE; null or empty for the other types
     * @return false, having changed nothing, when the ring has no room for the record
     * @throws IllegalArgumentException for a seq out of order, a bad type, flags, offset or
     *     length, or a record larger than the ring
     */
    public boolean tryAppend(long seq, int type, int flags, long offset, long opLength, ByteBuf dataOrNull) {
        int length = checkRecord(seq, type, flags, offset, opLength, dataOrNull);
        long ringOffset = tail % capacity;
        int padding = paddingBefore(ringOffset, length);
        if (head != tail && tail + padding + length - head > capacity) {
            return false;
        }
        write(seq, type, flags, offset, opLength, dataOrNull, length, ringOffset, padding);
        return true;
    }

    /**
     * Appends a record, dropping the oldest records as needed to make room (degraded mode:
     * what they covered must be marked in the bitmap by the caller). Arguments as
     * {@link #tryAppend}.
     *
     * @return how many records were dropped to make room (also added to {@link #droppedRecords()})
     */
    public int append(long seq, int type, int flags, long offset, long opLength, ByteBuf dataOrNull) {
        int length = checkRecord(seq, type, flags, offset, opLength, dataOrNull);
        long ringOffset = tail % capacity;
        int padding = paddingBefore(ringOffset, length);
        int dropped = 0;
        if (head != tail && tail + padding + length - head > capacity) {
            long h = head;
            long f = firstSeq;
            while (h != tail && tail + padding + length - h > capacity) {
                h = nextRecord(h);
                f++;
                dropped++;
            }
            beginUpdate();
            head = h;
            firstSeq = f;
            droppedRecords += dropped;
            endUpdate(); // fences: the new head is visible before the freed space is reused
            writeHeader();
        }
        write(seq, type, flags, offset, opLength, dataOrNull, length, ringOffset, padding);
        return dropped;
    }

    /**
     * Frees the records with a sequence number up to {@code upToSeq} (the peer has them).
     * Values below {@link #firstSeq()} change nothing; values past {@link #lastSeq()} free
     * everything.
     */
    public void release(long upToSeq) {
        checkOpen();
        if (head == tail || upToSeq < firstSeq) {
            return;
        }
        long last = Math.min(upToSeq, lastSeq);
        long h = head;
        long f = firstSeq;
        while (f <= last) {
            h = nextRecord(h);
            f++;
        }
        beginUpdate();
        head = h;
        firstSeq = f;
        endUpdate();
        writeHeader();
    }

    private int checkRecord(long seq, int type, int flags, long offset, long opLength, ByteBuf data) {
        checkOpen();
        if (seq < 0 || seq == Long.MAX_VALUE) {
            throw new IllegalArgumentException("seq " + seq + " is out of range");
        }
        if (head != tail && seq != lastSeq + 1) {
            throw new IllegalArgumentException("seq " + seq + " does not follow the journal's last seq " + lastSeq);
        }
        if (!isValidType(type)) {
            throw new IllegalArgumentException("record type " + type + " is not one of WRITE=1, TRIM=2, ZEROES=3, FLUSH=4");
        }
        if (flags < 0 || flags > MAX_FLAGS) {
            throw new IllegalArgumentException("flags 0x" + Integer.toHexString(flags) + " do not fit 16 bits");
        }
        if (offset < 0 || opLength < 0) {
            throw new IllegalArgumentException("offset " + offset + " and length " + opLength + " must not be negative");
        }
        int dataLength = data == null ? 0 : data.readableBytes();
        if (type == TYPE_WRITE) {
            if (data == null || dataLength != opLength) {
                throw new IllegalArgumentException("a WRITE of " + opLength + " bytes carries "
                        + (data == null ? "no data" : dataLength + " bytes of data"));
            }
        } else if (dataLength != 0) {
            throw new IllegalArgumentException("a " + typeName(type) + " record carries no data, got " + dataLength + " bytes");
        }
        long length = recordLength(dataLength);
        if (length > capacity || length > MAX_RECORD_LENGTH) {
            throw new IllegalArgumentException("record of " + length + " bytes (" + dataLength
                    + " bytes of data) is larger than the journal ring of " + capacity + " bytes"
                    + (length > MAX_RECORD_LENGTH ? " or the record limit of " + MAX_RECORD_LENGTH + " bytes" : ""));
        }
        return (int) length;
    }

    /** Padding needed before a record of {@code length} bytes whose slot would start at {@code ringOffset}. */
    private int paddingBefore(long ringOffset, int length) {
        return ringOffset + length > capacity ? (int) (capacity - ringOffset) : 0;
    }

    private void write(long seq, int type, int flags, long offset, long opLength, ByteBuf data, int length,
            long ringOffset, int padding) {
        boolean wasEmpty = head == tail;
        boolean restart = wasEmpty && seq != lastSeq + 1;
        if (restart) {
            salt++; // records of the previous run no longer pass recovery
        }
        if (padding > 0) {
            long p = fileOffset(ringOffset);
            store.writeInt(p + PADDING_CHECK_OFFSET, paddingCheck(seq, salt));
            store.writeOrderedInt(p + LENGTH_OFFSET, PADDING);
        }
        long recordOffset = padding > 0 ? 0 : ringOffset;
        long base = fileOffset(recordOffset);
        int dataLength = data == null ? 0 : data.readableBytes();
        if (dataLength > 0) {
            data.getBytes(data.readerIndex(), writerWindows.slice(recordOffset + RECORD_HEADER_LENGTH, dataLength));
        }
        store.writeLong(base + SEQ_OFFSET, seq);
        store.writeShort(base + TYPE_OFFSET, (short) type);
        store.writeShort(base + FLAGS_OFFSET, (short) flags);
        store.writeInt(base + DATA_LENGTH_OFFSET, dataLength);
        store.writeLong(base + OFFSET_OFFSET, offset);
        store.writeLong(base + OP_LENGTH_OFFSET, opLength);
        crc.reset();
        crc.update(writerWindows.slice(recordOffset + CHECKSUM_FROM, RECORD_HEADER_LENGTH - CHECKSUM_FROM + dataLength));
        store.writeInt(base + CRC_OFFSET, storedCrc(crc.getValue(), salt));
        store.writeOrderedInt(base + LENGTH_OFFSET, length);

        long recordStart = tail + padding;
        beginUpdate();
        if (wasEmpty) {
            head = recordStart; // an empty journal does not keep the padding
            firstSeq = seq;
        }
        tail = recordStart + length;
        lastSeq = seq;
        endUpdate();
        if (restart || (wasEmpty && padding > 0)) {
            writeHeader();
        }
    }

    /** The logical position of the record after the one at {@code position}, skipping padding. */
    private long nextRecord(long position) {
        long next = position + store.readInt(fileOffset(position % capacity) + LENGTH_OFFSET);
        if (next != tail) {
            long off = next % capacity;
            if (store.readInt(fileOffset(off) + LENGTH_OFFSET) == PADDING) {
                next += capacity - off;
            }
        }
        return next;
    }

    private void writeHeader() {
        store.writeLong(MAGIC_OFFSET, MAGIC_VALUE);
        store.writeInt(VERSION_OFFSET, VERSION);
        store.writeInt(SALT_OFFSET, salt);
        store.writeLong(CAPACITY_OFFSET, capacity);
        store.writeLong(FIRST_SEQ_OFFSET, firstSeq);
        store.writeLong(FIRST_POSITION_OFFSET, head % capacity);
        headerWindow.limit(HEADER_CHECKSUMMED_LENGTH).position(0);
        crc.reset();
        crc.update(headerWindow);
        store.writeInt(HEADER_CRC_OFFSET, (int) crc.getValue());
    }

    private void beginUpdate() {
        VERSION_HANDLE.setRelease(this, version + 1);
        VarHandle.storeStoreFence();
    }

    private void endUpdate() {
        VERSION_HANDLE.setRelease(this, version + 1);
        VarHandle.storeStoreFence();
    }

    // ---- readers

    /**
     * A reader positioned at record {@code fromSeq}, or null if that record is gone
     * ({@code fromSeq < firstSeq()}) or beyond the next one to be appended
     * ({@code fromSeq > lastSeq() + 1}). Call from the reader thread.
     */
    public Reader reader(long fromSeq) {
        checkOpen();
        RingWindows windows = new RingWindows(ringAddress, capacity);
        Positions p = new Positions();
        Positions now = new Positions();
        for (;;) {
            load(p);
            if (fromSeq < p.firstSeq || fromSeq > p.lastSeq + 1) {
                return null;
            }
            if (fromSeq == p.lastSeq + 1) {
                return new Reader(this, windows, p.tail, fromSeq);
            }
            // Walk from head, checking after every length read that head has not passed it.
            long position = p.head;
            long seq = p.firstSeq;
            boolean overrun = false;
            while (seq < fromSeq) {
                long off = position % capacity;
                int length = store.readInt(fileOffset(off) + LENGTH_OFFSET);
                VarHandle.loadLoadFence(); // the length is read before head is
                load(now);
                if (now.head > position) {
                    overrun = true;
                    break;
                }
                if (length == PADDING) {
                    position += capacity - off;
                } else if (length < RECORD_HEADER_LENGTH || length % ALIGNMENT != 0) {
                    throw new IllegalStateException("journal " + file + ": retained record at ring offset " + off
                            + " has a bad length " + length);
                } else {
                    position += length;
                    seq++;
                }
            }
            if (!overrun) {
                return new Reader(this, windows, position, fromSeq);
            }
            // The writer dropped records under the walk: start again from the new head.
        }
    }

    long capacityInternal() {
        return capacity;
    }

    MappedBytesStore store() {
        return store;
    }

    /** A consistent copy of the published positions, filled by {@link #load}. */
    static final class Positions {
        long head;
        long tail;
        long firstSeq;
        long lastSeq;
    }

    /** Copies the published positions into {@code p}: a consistent snapshot, with acquire semantics. */
    void load(Positions p) {
        for (;;) {
            long v = stableVersion();
            p.head = head;
            p.tail = tail;
            p.firstSeq = firstSeq;
            p.lastSeq = lastSeq;
            if (validate(v)) {
                return;
            }
        }
    }

    private long stableVersion() {
        long v;
        while (((v = (long) VERSION_HANDLE.getAcquire(this)) & 1) != 0) {
            Thread.onSpinWait();
        }
        return v;
    }

    private boolean validate(long v) {
        VarHandle.acquireFence(); // the field reads above complete before the version is read again
        return (long) VERSION_HANDLE.getVolatile(this) == v;
    }

    void checkOpen() {
        if (closed) {
            throw new IllegalStateException("journal " + file + " is closed");
        }
    }

    // ---- state

    public Path file() {
        return file;
    }

    /** Ring bytes (the file is {@link JournalLayout#HEADER_LENGTH} bytes more). */
    public long capacity() {
        return capacity;
    }

    /** Sequence number of the oldest retained record (of the next one appended, when empty). */
    public long firstSeq() {
        for (;;) {
            long v = stableVersion();
            long f = firstSeq;
            if (validate(v)) {
                return f;
            }
        }
    }

    /** Sequence number of the newest record; {@code firstSeq() - 1} when empty. */
    public long lastSeq() {
        for (;;) {
            long v = stableVersion();
            long l = lastSeq;
            if (validate(v)) {
                return l;
            }
        }
    }

    public boolean isEmpty() {
        return usedBytes() == 0;
    }

    /** Ring bytes held by retained records, padding included. */
    public long usedBytes() {
        for (;;) {
            long v = stableVersion();
            long used = tail - head;
            if (validate(v)) {
                return used;
            }
        }
    }

    /** Records dropped by {@link #append} to make room, since this journal was opened. */
    public long droppedRecords() {
        for (;;) {
            long v = stableVersion();
            long d = droppedRecords;
            if (validate(v)) {
                return d;
            }
        }
    }

    /** Records found by recovery when the journal was opened (0 if created or discarded). */
    public long recoveredRecords() {
        return recoveredRecords;
    }

    /** Why the previous contents were discarded at open, or null if they were not. */
    public String discardedReason() {
        return discardedReason;
    }

    /** Unmaps the file. No fsync: the journal is not on the durability path. Writer thread. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        releaseQuietly(lock);
        store.release(owner);
        mappedFile.releaseLast();
    }

    private static void releaseQuietly(FileLock lock) {
        try {
            lock.release();
        } catch (IOException e) {
            LOG.debug("releasing the journal lock failed", e);
        }
    }

    @Override
    public String toString() {
        return "Journal[" + file + ", capacity " + capacity + ", seq " + firstSeq() + ".." + lastSeq()
                + ", used " + usedBytes() + "]";
    }
}
