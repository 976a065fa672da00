package io.jrbd.metadata.md;

import static io.jrbd.metadata.md.MetadataLayout.CRC_ENTRIES_PER_PAGE;
import static io.jrbd.metadata.md.MetadataLayout.PAGE_SIZE;
import static io.jrbd.metadata.md.MetadataLayout.SLOT_SIZE;
import static io.jrbd.metadata.md.MetadataLayout.slotName;

import io.jrbd.metadata.al.ActivityLog;
import io.jrbd.metadata.al.ActivityLogLayout;
import io.jrbd.metadata.al.ActivityLogRecovery;
import io.jrbd.metadata.al.Transaction;
import io.jrbd.metadata.al.TransactionCodec;
import io.jrbd.metadata.store.BackingStore;
import io.jrbd.metadata.store.StoreException;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.BitSet;
import java.util.Map;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One resource's metadata on one node: in a file of its own (external placement: {@link #create},
 * {@link #open}) or at the end of the backing store, after the data (internal placement:
 * {@link #createInternal}, {@link #openInternal}); the layout is drawn in {@link MetadataLayout}.
 *
 * <p>The superblock, the activity log and the bitmap are held in memory. {@link #writeSuperblock},
 * {@link #flushBitmap} and the {@link ActivityLog}'s transactions are durable when they return
 * (fdatasync) and are serialised against each other; the {@link Bitmap} may be changed by any
 * number of threads meanwhile. The activity log is checked at open like everything else, and
 * flushes the bitmap before every transaction that evicts an extent.
 *
 * <p>Sticky failure: after one write fails, every later write fails too, naming the first
 * failure, so that the resource detaches instead of running on metadata it cannot keep.
 */
public final class Metadata implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(Metadata.class);
    /** Bitmap pages read or written per I/O. */
    private static final int RUN_PAGES = 64;

    private final Path file;
    private final FileChannel channel;
    private final boolean readOnly;
    private final MetadataLayout layout;
    private final Bitmap bitmap;
    /** CRC of every page as it is on disk (after the last flush). */
    private final int[] pageCrcs;
    private final ActivityLog activityLog;
    private final Object writeLock = new Object();
    /** Per slot: null when it holds a valid superblock, else why not. */
    private final String[] slotProblems = new String[2];
    private final long[] slotCounters = new long[2];

    private volatile Superblock superblock;
    private volatile int activeSlot;
    private volatile long writeCounter;
    private volatile long bitmapPagesWritten;
    private volatile long superblockWrites;
    private volatile MetadataException failure;
    private volatile boolean closed;

    private Metadata(Path file, FileChannel channel, boolean readOnly, MetadataLayout layout, Bitmap bitmap,
            int[] pageCrcs, Superblock superblock, SuperblockCodec.Slot[] slots, int activeSlot,
            ActivityLogRecovery.Result al) {
        this.file = file;
        this.channel = channel;
        this.readOnly = readOnly;
        this.layout = layout;
        this.bitmap = bitmap;
        this.pageCrcs = pageCrcs;
        this.superblock = superblock;
        this.activeSlot = activeSlot;
        this.writeCounter = slots[activeSlot].counter();
        for (int i = 0; i < 2; i++) {
            slotProblems[i] = slots[i].problem();
            slotCounters[i] = slots[i].counter();
        }
        this.activityLog = new ActivityLog(layout.deviceSize(), al, this::writeActivityLog);
        // Bits of an extent leaving the log must be on disk before the transaction that drops it.
        activityLog.onEviction((extents, count) -> flushBitmap());
    }

    /**
     * Writes fresh external metadata for a device of {@code deviceSize} bytes to a file of its
     * own: Inconsistent, generation 0 ("just created"), no flags, the bitmap all clear, an empty
     * activity log, both superblock slots. Refuses a file that holds valid jrbd metadata unless
     * {@code force}; never creates directories.
     */
    public static Metadata create(Path file, long deviceSize, String resource, String node, boolean force)
            throws MetadataException {
        Superblock sb = Superblock.initial(deviceSize, resource, node);
        MetadataLayout layout = MetadataLayout.of(deviceSize);
        Path parent = checkParent(file);
        boolean existed = Files.exists(file);
        if (existed) {
            if (!Files.isRegularFile(file)) {
                throw new MetadataException(file, null, "is not a regular file (external metadata is a file of its"
                        + " own; for metadata at the end of a backing device use internal placement)");
            }
            refuseToOverwrite(file, layout, force);
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            // Nothing of the old metadata may survive a crash half way through: an old superblock
            // next to a new, clear bitmap would call out-of-sync blocks in sync.
            ch.truncate(0);
            ch.force(true);
            writeFresh(ch, layout, sb);
        } catch (IOException e) {
            throw new MetadataException(file, null, "cannot create: " + message(e), e);
        }
        if (!existed) {
            syncDirectory(parent);
        }
        return open(file, MetadataLayout.PLACEMENT_EXTERNAL, deviceSize, false);
    }

    /**
     * Writes fresh internal metadata (as {@link #create}) for a device of {@code deviceSize}
     * bytes at the end of {@code backing}, at {@link MetadataLayout#internalMetadataOffset}; the
     * data, the first {@code deviceSize} bytes, is not touched. {@code backing} is a file or a
     * block device of at least {@code deviceSize + MetadataLayout.internalMetadataSize(deviceSize)}
     * bytes; a missing file is created sparse at exactly that size. Refuses valid jrbd metadata
     * at that place unless {@code force}; never creates directories.
     */
    public static Metadata createInternal(Path backing, long deviceSize, String resource, String node, boolean force)
            throws MetadataException {
        Superblock sb = Superblock.initial(deviceSize, resource, node);
        MetadataLayout layout = MetadataLayout.internal(deviceSize);
        Path parent = checkParent(backing);
        boolean existed = Files.exists(backing);
        if (existed) {
            checkBackingSize(backing, layout, backingSize(backing));
            refuseToOverwrite(backing, layout, force);
        }
        try (FileChannel ch = existed
                ? FileChannel.open(backing, StandardOpenOption.READ, StandardOpenOption.WRITE)
                : FileChannel.open(backing, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                        StandardOpenOption.WRITE)) {
            if (existed) {
                // The old superblocks go first, durably: a crash half way must not leave one
                // beside a new, clear bitmap.
                writeZeroes(ch, layout.superblockOffset(0), 2L * SLOT_SIZE);
                ch.force(false);
            }
            // Writing the region makes a new file as long as the layout needs; the data stays a hole.
            writeFresh(ch, layout, sb);
        } catch (IOException e) {
            throw new MetadataException(backing, null, "cannot create internal metadata: " + message(e), e);
        }
        if (!existed) {
            syncDirectory(parent);
        }
        return open(backing, MetadataLayout.PLACEMENT_INTERNAL, deviceSize, false);
    }

    private static Path checkParent(Path file) throws MetadataException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null && !Files.isDirectory(parent)) {
            throw new MetadataException(file, null, "directory " + parent + " does not exist");
        }
        return parent;
    }

    private static void refuseToOverwrite(Path file, MetadataLayout layout, boolean force) throws MetadataException {
        Superblock old = probe(file, layout.base());
        if (old != null && !force) {
            throw new MetadataException(file, null, "holds valid jrbd metadata for resource " + old.resourceName()
                    + " (node " + old.nodeName() + "); use --force to overwrite");
        }
        if (old != null) {
            LOG.warn("{}: overwriting jrbd metadata for resource {} (node {}) as forced", file, old.resourceName(),
                    old.nodeName());
        }
    }

    /** Zeroes the layout's region, then writes the CRC table, an empty activity log and both superblocks. */
    private static void writeFresh(FileChannel ch, MetadataLayout layout, Superblock sb) throws IOException {
        writeZeroes(ch, layout.base(), layout.metadataSize());
        ByteBuffer page = ByteBuffer.allocate(PAGE_SIZE);
        int[] crcs = new int[layout.bitmapPages()];
        for (int p = 0; p < crcs.length; p++) {
            crcs[p] = pageCrc(p, page.clear());
        }
        writeCrcTable(ch, layout, crcs, null);
        // Transaction 1, empty: from now on a region without a valid transaction is corrupt.
        Transaction empty = new Transaction(1, ActivityLogLayout.DEFAULT_EXTENTS, new int[0]);
        writeFully(ch, TransactionCodec.encode(empty), layout.alOffset() + ActivityLogLayout.slotOffset(empty.slot()));
        ch.force(false);
        writeFully(ch, SuperblockCodec.encode(sb, 1, layout.placement()), layout.superblockOffset(0));
        writeFully(ch, SuperblockCodec.encode(sb, 2, layout.placement()), layout.superblockOffset(1));
        ch.force(false);
    }

    /** The size of a backing file or block device, as a metadata error when it cannot be told. */
    private static long backingSize(Path backing) throws MetadataException {
        try {
            return BackingStore.sizeOf(backing);
        } catch (StoreException e) {
            throw new MetadataException(backing, null, e.getMessage(), e);
        }
    }

    private static void checkBackingSize(Path backing, MetadataLayout layout, long size) throws MetadataException {
        if (size < layout.fileSize()) {
            throw new MetadataException(backing, null, "is " + size + " bytes, too small for a " + layout.deviceSize()
                    + "-byte device with internal metadata: that needs at least " + layout.fileSize() + " bytes ("
                    + layout.deviceSize() + " of data + " + (layout.fileSize() - layout.deviceSize())
                    + " of metadata)");
        }
    }

    /**
     * Opens external metadata for writing, checking every checksum, the format version, and that
     * it was made for a device of {@code expectedDeviceSize} bytes.
     */
    public static Metadata open(Path file, long expectedDeviceSize) throws MetadataException {
        MetadataLayout.checkDeviceSize(expectedDeviceSize);
        return open(file, MetadataLayout.PLACEMENT_EXTERNAL, expectedDeviceSize, false);
    }

    /**
     * Opens the internal metadata of a {@code deviceSize}-byte device at the end of
     * {@code backing} for writing, checking everything {@link #open(Path, long)} checks, and
     * that the backing store holds the data and the metadata.
     */
    public static Metadata openInternal(Path backing, long deviceSize) throws MetadataException {
        MetadataLayout.checkDeviceSize(deviceSize);
        return open(backing, MetadataLayout.PLACEMENT_INTERNAL, deviceSize, false);
    }

    /** Opens external metadata to read it (dump-md, show-gi), whatever device it was made for. */
    public static Metadata openReadOnly(Path file) throws MetadataException {
        return open(file, MetadataLayout.PLACEMENT_EXTERNAL, -1, true);
    }

    /**
     * Opens the internal metadata of a {@code deviceSize}-byte device to read it: its place
     * depends on the size, so it must be given.
     */
    public static Metadata openInternalReadOnly(Path backing, long deviceSize) throws MetadataException {
        MetadataLayout.checkDeviceSize(deviceSize);
        return open(backing, MetadataLayout.PLACEMENT_INTERNAL, deviceSize, true);
    }

    private static Metadata open(Path file, int placement, long expectedDeviceSize, boolean readOnly)
            throws MetadataException {
        FileChannel ch;
        try {
            ch = readOnly ? FileChannel.open(file, StandardOpenOption.READ)
                    : FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        } catch (NoSuchFileException e) {
            throw new MetadataException(file, null, "no such file", e);
        } catch (IOException e) {
            throw new MetadataException(file, null, "cannot open: " + message(e), e);
        }
        try {
            return load(file, ch, placement, expectedDeviceSize, readOnly);
        } catch (MetadataException | RuntimeException e) {
            closeQuietly(ch);
            throw e;
        } catch (IOException e) {
            closeQuietly(ch);
            throw new MetadataException(file, null, "cannot read: " + message(e), e);
        }
    }

    private static Metadata load(Path file, FileChannel ch, int placement, long expectedDeviceSize, boolean readOnly)
            throws IOException {
        boolean internal = placement == MetadataLayout.PLACEMENT_INTERNAL;
        long size;
        long base = 0;
        if (internal) {
            size = backingSize(file);
            MetadataLayout expected = MetadataLayout.internal(expectedDeviceSize);
            checkBackingSize(file, expected, size);
            base = expected.base();
        } else {
            size = ch.size();
            if (size < 2L * SLOT_SIZE) {
                throw new MetadataException(file, null, size == 0 ? "is empty, not jrbd metadata"
                        : "too short for jrbd metadata: " + size + " bytes, the two superblock slots alone take "
                                + 2 * SLOT_SIZE);
            }
        }
        SuperblockCodec.Slot[] slots = readSlots(ch, base, size);
        if (!slots[0].valid() && !slots[1].valid()) {
            throw new MetadataException(file, "superblock", "both copies are corrupt (slot A: " + slots[0].problem()
                    + ", slot B: " + slots[1].problem() + ")" + (internal ? "; internal metadata of a "
                    + expectedDeviceSize + "-byte device starts at " + base + ": is the size right, and was it"
                    + " created with internal placement?" : ""));
        }
        int active = !slots[1].valid() ? 0
                : !slots[0].valid() ? 1
                : Long.compareUnsigned(slots[1].counter(), slots[0].counter()) > 0 ? 1 : 0;
        int other = 1 - active;
        if (!slots[other].valid()) {
            LOG.warn("{}: superblock slot {} is unusable ({}); using slot {} (write counter {})", file,
                    slotName(other), slots[other].problem(), slotName(active), slots[active].counter());
        }
        Superblock sb = slots[active].superblock();
        if (slots[active].placement() != placement) {
            throw new MetadataException(file, "superblock", "records " + MetadataLayout.placementName(
                    slots[active].placement()) + " placement, but was opened as " + MetadataLayout.placementName(
                    placement) + " metadata");
        }
        if (expectedDeviceSize >= 0 && sb.deviceSize() != expectedDeviceSize) {
            throw new MetadataException(file, "superblock", "device size " + sb.deviceSize() + " != "
                    + expectedDeviceSize + " (the metadata was made for " + sb.deviceSize()
                    + " bytes, the device has " + expectedDeviceSize + ")");
        }
        MetadataLayout layout = MetadataLayout.of(sb.deviceSize(), placement);
        if (size < layout.fileSize()) {
            throw new MetadataException(file, "bitmap", "file ends at " + size + " but the bitmap of a "
                    + sb.deviceSize() + "-byte device ends at " + layout.fileSize());
        }
        ActivityLogRecovery.Result al = readActivityLog(file, ch, layout);
        int[] crcs = readCrcTable(ch, layout);
        Bitmap bitmap = new Bitmap(layout);
        ByteBuffer run = ByteBuffer.allocateDirect(RUN_PAGES * PAGE_SIZE).order(ByteOrder.BIG_ENDIAN);
        for (int first = 0; first < layout.bitmapPages(); first += RUN_PAGES) {
            int count = Math.min(RUN_PAGES, layout.bitmapPages() - first);
            run.clear().limit(count * PAGE_SIZE);
            readFully(ch, run, layout.pageOffset(first));
            for (int i = 0; i < count; i++) {
                int p = first + i;
                run.limit((i + 1) * PAGE_SIZE).position(i * PAGE_SIZE);
                int computed = pageCrc(p, run.slice());
                if (computed != crcs[p]) {
                    if (sb.has(SuperblockFlag.BITMAP_VALID)) {
                        throw new MetadataException(file, "bitmap page " + p, String.format(
                                "checksum mismatch (stored 0x%08X, computed 0x%08X)", crcs[p], computed));
                    }
                    // Not stopped cleanly: a crash between writing this page and its checksum
                    // leaves exactly this. Every block the page covers is counted out of sync.
                    long firstBlock = (long) p * MetadataLayout.BITS_PER_PAGE;
                    bitmap.setBlocks(firstBlock, Math.min(firstBlock + MetadataLayout.BITS_PER_PAGE, bitmap.blocks()));
                    LOG.warn("{}: bitmap page {} was being written when the node stopped; its {} blocks are marked "
                            + "out of sync", file, p, MetadataLayout.BITS_PER_PAGE);
                    continue;
                }
                String problem = bitmap.loadPage(p, run);
                if (problem != null) {
                    throw new MetadataException(file, "bitmap page " + p, problem);
                }
            }
        }
        return new Metadata(file, ch, readOnly, layout, bitmap, crcs, sb, slots, active, al);
    }

    /** Reads and checks the activity log region; refuses it, naming it, when it is corrupt. */
    private static ActivityLogRecovery.Result readActivityLog(Path file, FileChannel ch, MetadataLayout layout)
            throws IOException {
        ByteBuffer region = ByteBuffer.allocate(ActivityLogLayout.REGION_SIZE);
        readFully(ch, region, layout.alOffset());
        ActivityLogRecovery.Result al = ActivityLogRecovery.recover(region.flip(),
                ActivityLogLayout.extents(layout.deviceSize()), layout.alOffset());
        if (!al.usable()) {
            throw new MetadataException(file, "activity log", al.problem());
        }
        if (al.warning() != null) {
            LOG.warn("{}: {}", file, al.warning());
        }
        return al;
    }

    /**
     * The superblock with the highest counter at {@code base} of a file, or null if it holds none
     * that is valid.
     */
    private static Superblock probe(Path file, long base) throws MetadataException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = base == 0 ? ch.size() : backingSize(file);
            if (size < base + SLOT_SIZE) {
                return null;
            }
            SuperblockCodec.Slot[] slots = readSlots(ch, base, size);
            SuperblockCodec.Slot best = null;
            for (SuperblockCodec.Slot slot : slots) {
                if (slot.valid() && (best == null || Long.compareUnsigned(slot.counter(), best.counter()) > 0)) {
                    best = slot;
                }
            }
            return best == null ? null : best.superblock();
        } catch (IOException e) {
            throw new MetadataException(file, null, "cannot read: " + message(e), e);
        }
    }

    private static SuperblockCodec.Slot[] readSlots(FileChannel ch, long base, long size) throws IOException {
        SuperblockCodec.Slot[] slots = new SuperblockCodec.Slot[2];
        for (int s = 0; s < 2; s++) {
            long offset = base + MetadataLayout.slotOffset(s);
            if (size < offset + SLOT_SIZE) {
                slots[s] = SuperblockCodec.Slot.invalid("truncated: the file ends at " + size);
                continue;
            }
            ByteBuffer buf = ByteBuffer.allocate(SLOT_SIZE);
            readFully(ch, buf, offset);
            slots[s] = SuperblockCodec.decode(buf.flip());
        }
        return slots;
    }

    private static int[] readCrcTable(FileChannel ch, MetadataLayout layout) throws IOException {
        ByteBuffer table = ByteBuffer.allocate((int) layout.crcTableSize()).order(ByteOrder.BIG_ENDIAN);
        readFully(ch, table, layout.crcTableOffset());
        table.flip();
        int[] crcs = new int[layout.bitmapPages()];
        for (int p = 0; p < crcs.length; p++) {
            crcs[p] = table.getInt();
        }
        return crcs;
    }

    /**
     * Writes the 4 KiB blocks of the CRC table holding the entries of {@code touched} pages (all
     * of them when null).
     */
    private static void writeCrcTable(FileChannel ch, MetadataLayout layout, int[] crcs, BitSet touched)
            throws IOException {
        ByteBuffer block = ByteBuffer.allocate(PAGE_SIZE).order(ByteOrder.BIG_ENDIAN);
        int tableBlocks = (int) (layout.crcTableSize() / PAGE_SIZE);
        for (int t = touched == null ? 0 : touched.nextSetBit(0); t >= 0 && t < tableBlocks;
                t = touched == null ? t + 1 : touched.nextSetBit(t + 1)) {
            block.clear();
            int firstPage = t * CRC_ENTRIES_PER_PAGE;
            for (int i = 0; i < CRC_ENTRIES_PER_PAGE; i++) {
                int p = firstPage + i;
                block.putInt(p < crcs.length ? crcs[p] : 0);
            }
            writeFully(ch, block.flip(), layout.crcTableOffset() + (long) t * PAGE_SIZE);
        }
    }

    /** CRC32C of the page's index (u32, big-endian) followed by its 4096 bytes from position to limit. */
    static int pageCrc(int page, ByteBuffer bytes) {
        CRC32C crc = new CRC32C();
        crc.update(ByteBuffer.allocate(Integer.BYTES).putInt(0, page));
        crc.update(bytes.duplicate());
        return (int) crc.getValue();
    }

    public Path file() {
        return file;
    }

    public MetadataLayout layout() {
        return layout;
    }

    public boolean readOnly() {
        return readOnly;
    }

    /** The superblock as last written (or read at open). */
    public Superblock superblock() {
        return superblock;
    }

    /** The slot holding the current superblock: 'A' or 'B'. */
    public char activeSlot() {
        return slotName(activeSlot).charAt(0);
    }

    /** The current superblock's write counter; each write adds one. */
    public long writeCounter() {
        return writeCounter;
    }

    /**
     * Why slot 'A' or 'B' holds no usable superblock, or null when it does (both do after the
     * first {@link #writeSuperblock} following a repair).
     */
    public String slotProblem(char slot) {
        synchronized (writeLock) {
            return slotProblems[slotIndex(slot)];
        }
    }

    /** The write counter of slot 'A' or 'B', or -1 if it holds no valid superblock. */
    public long slotCounter(char slot) {
        synchronized (writeLock) {
            return slotCounters[slotIndex(slot)];
        }
    }

    private static int slotIndex(char slot) {
        if (slot != 'A' && slot != 'B') {
            throw new IllegalArgumentException("slot '" + slot + "' is neither 'A' nor 'B'");
        }
        return slot - 'A';
    }

    /**
     * Stores {@code sb} in the slot with the lower write counter, with the counter one above the
     * current one, and fdatasyncs: durable on return. If it fails the superblock in memory and on
     * disk is the previous one, and this metadata has failed (see the class comment).
     */
    public void writeSuperblock(Superblock sb) throws MetadataException {
        if (sb.deviceSize() != layout.deviceSize()) {
            throw new IllegalArgumentException("device size " + sb.deviceSize() + " != " + layout.deviceSize()
                    + ": the metadata of " + file + " cannot be resized");
        }
        synchronized (writeLock) {
            checkWritable();
            int slot = 1 - activeSlot;
            long counter = writeCounter + 1;
            try {
                writeFully(channel, SuperblockCodec.encode(sb, counter, layout.placement()),
                        layout.superblockOffset(slot));
                channel.force(false);
            } catch (IOException e) {
                throw fail("superblock slot " + slotName(slot), "write failed: " + message(e), e);
            }
            superblock = sb;
            writeCounter = counter;
            activeSlot = slot;
            slotProblems[slot] = null;
            slotCounters[slot] = counter;
            superblockWrites++;
        }
    }

    /**
     * The activity log as read at open; its transactions are written here. Its eviction hook
     * flushes this bitmap until the owner installs another.
     */
    public ActivityLog activityLog() {
        return activityLog;
    }

    /** The activity log's {@link io.jrbd.metadata.al.TransactionSink}: pwrite + fdatasync, sticky failure. */
    private void writeActivityLog(ByteBuffer src, int regionOffset) throws MetadataException {
        synchronized (writeLock) {
            checkWritable();
            int slot = regionOffset / ActivityLogLayout.SLOT_SIZE;
            try {
                writeFully(channel, src.duplicate(), layout.alOffset() + regionOffset);
                channel.force(false);
            } catch (IOException e) {
                throw fail("activity log slot " + slot, "write failed: " + message(e), e);
            }
        }
    }

    /** The bitmap in memory; {@link #flushBitmap()} makes its changes durable. */
    public Bitmap bitmap() {
        return bitmap;
    }

    /**
     * Writes every bitmap page changed since it was last written, then their CRC table blocks,
     * then fdatasyncs: durable on return. Returns the number of pages written (0: no I/O at all).
     */
    public int flushBitmap() throws MetadataException {
        synchronized (writeLock) {
            checkWritable();
            int written = 0;
            BitSet tableBlocks = new BitSet();
            ByteBuffer run = ByteBuffer.allocateDirect(RUN_PAGES * PAGE_SIZE).order(ByteOrder.BIG_ENDIAN);
            int runStart = -1;
            int runLength = 0;
            try {
                for (int p = bitmap.nextDirtyPage(0); p >= 0; p = bitmap.nextDirtyPage(p + 1)) {
                    if (runLength > 0 && (p != runStart + runLength || runLength == RUN_PAGES)) {
                        writeRun(run, runStart, runLength);
                        runLength = 0;
                    }
                    if (runLength == 0) {
                        runStart = p;
                        run.clear();
                    }
                    bitmap.clearDirty(p);
                    int at = run.position();
                    bitmap.copyPage(p, run);
                    pageCrcs[p] = pageCrc(p, run.duplicate().limit(run.position()).position(at));
                    tableBlocks.set(p / CRC_ENTRIES_PER_PAGE);
                    runLength++;
                    written++;
                }
                if (runLength > 0) {
                    writeRun(run, runStart, runLength);
                }
                if (written == 0) {
                    return 0;
                }
                writeCrcTable(channel, layout, pageCrcs, tableBlocks);
                channel.force(false);
            } catch (IOException e) {
                throw fail("bitmap", "write failed: " + message(e), e);
            }
            bitmapPagesWritten += written;
            return written;
        }
    }

    private void writeRun(ByteBuffer run, int firstPage, int pages) throws IOException {
        ByteBuffer src = run.duplicate().position(0).limit(pages * PAGE_SIZE);
        writeFully(channel, src, layout.pageOffset(firstPage));
    }

    /** Bitmap pages written by {@link #flushBitmap()} since open. */
    public long bitmapPagesWritten() {
        return bitmapPagesWritten;
    }

    /** Superblocks written since open. */
    public long superblockWrites() {
        return superblockWrites;
    }

    /** The first write failure, or null while none has failed. */
    public MetadataException failure() {
        return failure;
    }

    /** A readable description of everything in the metadata, as {@code dump-md} prints it. */
    public String dump() {
        return MetadataDump.text(this);
    }

    /** The same as {@link #dump()} as maps and lists, for a JSON encoder; keys are stable. */
    public Map<String, Object> dumpJson() {
        return MetadataDump.json(this);
    }

    /** Opens {@code file} read-only and describes it. */
    public static String dump(Path file) throws MetadataException {
        try (Metadata md = openReadOnly(file)) {
            return md.dump();
        }
    }

    /** Opens {@code file} read-only and describes it as maps and lists. */
    public static Map<String, Object> dumpJson(Path file) throws MetadataException {
        try (Metadata md = openReadOnly(file)) {
            return md.dumpJson();
        }
    }

    /**
     * Writes the bitmap's dirty pages (unless read-only or failed) and closes the file. The
     * superblock is not touched: setting {@link SuperblockFlag#BITMAP_VALID} on a clean stop is
     * the caller's decision. A second call does nothing.
     */
    @Override
    public void close() throws MetadataException {
        synchronized (writeLock) {
            if (closed) {
                return;
            }
            try {
                if (!readOnly && failure == null && bitmap.dirtyPages() > 0) {
                    flushBitmap();
                }
            } finally {
                closed = true;
                try {
                    channel.close();
                } catch (IOException e) {
                    LOG.warn("{}: close failed: {}", file, message(e));
                }
            }
        }
    }

    private void checkWritable() throws MetadataException {
        if (closed) {
            throw new IllegalStateException(file + ": metadata is closed");
        }
        if (readOnly) {
            throw new IllegalStateException(file + ": metadata was opened read-only");
        }
        MetadataException first = failure;
        if (first != null) {
            throw new MetadataException(file, null, "a write failed earlier (" + first.getMessage()
                    + "); nothing more is written until it is opened again", first);
        }
    }

    private MetadataException fail(String structure, String problem, IOException cause) {
        MetadataException e = new MetadataException(file, structure, problem, cause);
        failure = e;
        LOG.error("{}", e.getMessage());
        return e;
    }

    private static void writeZeroes(FileChannel ch, long offset, long length) throws IOException {
        ByteBuffer zeroes = ByteBuffer.allocateDirect((int) Math.min(length, 1 << 20));
        long done = 0;
        while (done < length) {
            ByteBuffer chunk = zeroes.duplicate();
            chunk.limit((int) Math.min(chunk.capacity(), length - done));
            writeFully(ch, chunk, offset + done);
            done += chunk.limit();
        }
    }

    static void writeFully(FileChannel ch, ByteBuffer src, long offset) throws IOException {
        long position = offset;
        while (src.hasRemaining()) {
            position += ch.write(src, position);
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer dst, long offset) throws IOException {
        long position = offset;
        while (dst.hasRemaining()) {
            int n = ch.read(dst, position);
            if (n < 0) {
                throw new IOException("unexpected end of file at " + position);
            }
            position += n;
        }
    }

    /** fsync of a new file's directory, so that its name survives a crash too. */
    private static void syncDirectory(Path dir) {
        if (dir == null) {
            return;
        }
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            // Some file systems refuse fsync on a directory; the file's own data is already synced.
            LOG.debug("{}: directory fsync failed: {}", dir, message(e));
        }
    }

    private static String message(IOException e) {
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }

    private static void closeQuietly(Closeable c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // already failing with a better message
        }
    }
}
