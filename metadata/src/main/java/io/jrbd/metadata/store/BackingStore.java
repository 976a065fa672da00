package io.jrbd.metadata.store;

import java.io.Closeable;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A resource's data: a regular file (created sparse) or a block device, addressed by byte
 * offset. Positional reads and writes go through one {@link FileChannel} and may run on many
 * threads at once; {@link #sync()} is fdatasync. Hole punching, zeroing and the search for
 * data and holes use a second descriptor of the same file through {@link NativeIo}.
 *
 * <p>Methods check nothing about ranges beyond what the kernel checks: callers validate
 * requests against {@link #size()} first.
 */
public final class BackingStore implements Closeable {
    /** Sizes are whole 512-byte sectors, as every block device and loop device needs. */
    public static final int SECTOR = 512;
    private static final ByteBuffer ZEROES = ByteBuffer.allocateDirect(1 << 20).asReadOnlyBuffer();

    private final Path path;
    private final FileChannel channel;
    private final int fd;
    private final long size;
    private final boolean readOnly;
    private volatile boolean punchHoleWorks = true;
    private volatile boolean zeroRangeWorks = true;
    private volatile boolean seekDataWorks = true;
    private final AtomicBoolean closed = new AtomicBoolean();

    private BackingStore(Path path, FileChannel channel, int fd, long size, boolean readOnly) {
        this.path = path;
        this.channel = channel;
        this.fd = fd;
        this.size = size;
        this.readOnly = readOnly;
    }

    /**
     * Opens {@code path}, creating it as a sparse file of {@code requestedSize} bytes if it does
     * not exist. {@code requestedSize} of -1 means "whatever size it has"; an existing store of
     * another size is refused rather than grown or cut.
     */
    public static BackingStore open(Path path, long requestedSize, boolean readOnly) throws StoreException {
        return open(path, requestedSize, readOnly, false);
    }

    /**
     * Opens an existing store of at least {@code size} bytes of which only the first {@code size}
     * are data: {@link #size()} is {@code size}. For a backing store that holds internal metadata
     * after its data ({@code MetadataLayout.internal}); the store itself never checks that the
     * rest is big enough for it ({@code Metadata.openInternal} does). Never creates the store.
     */
    public static BackingStore openPrefix(Path path, long size, boolean readOnly) throws StoreException {
        if (size <= 0) {
            throw new StoreException(StoreException.Kind.IO, "size " + size + " is not a positive multiple of " + SECTOR
                    + " bytes");
        }
        if (!Files.exists(path)) {
            throw new StoreException(StoreException.Kind.IO, path + ": no such file (a backing store with internal"
                    + " metadata is never created here; create-md makes it)");
        }
        return open(path, size, readOnly, true);
    }

    /**
     * The size of the file or block device at {@code path}: lseek to its end, which a block
     * device answers too (stat says 0 for one).
     */
    public static long sizeOf(Path path) throws StoreException {
        int fd = NativeIo.libc().open(path.toString(), NativeIo.O_RDONLY | NativeIo.O_CLOEXEC, 0);
        if (fd < 0) {
            throw new StoreException(StoreException.Kind.IO, path + ": cannot open: "
                    + NativeIo.describe(NativeIo.lastError()));
        }
        try {
            long end = NativeIo.libc().lseek(fd, 0, NativeIo.SEEK_END);
            if (end < 0) {
                throw new StoreException(StoreException.Kind.IO, path + ": cannot tell its size: "
                        + NativeIo.describe(NativeIo.lastError()));
            }
            return end;
        } finally {
            NativeIo.libc().close(fd);
        }
    }

    private static BackingStore open(Path path, long requestedSize, boolean readOnly, boolean prefix)
            throws StoreException {
        if (requestedSize != -1 && (requestedSize <= 0 || requestedSize % SECTOR != 0)) {
            throw new StoreException(StoreException.Kind.IO,
                    "size " + requestedSize + " is not a positive multiple of " + SECTOR + " bytes");
        }
        boolean exists = Files.exists(path);
        if (!exists) {
            if (readOnly) {
                throw new StoreException(StoreException.Kind.IO, path + ": no such file (a read-only store is never created)");
            }
            if (requestedSize == -1) {
                throw new StoreException(StoreException.Kind.IO, path + ": no such file; give a size to create it");
            }
            create(path, requestedSize);
        }
        FileChannel channel;
        try {
            channel = readOnly
                    ? FileChannel.open(path, StandardOpenOption.READ)
                    : FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
        } catch (NoSuchFileException e) {
            throw new StoreException(StoreException.Kind.IO, path + ": no such file", e);
        } catch (IOException e) {
            throw StoreException.from(path + ": cannot open", e);
        }
        int fd = NativeIo.libc().open(path.toString(), (readOnly ? NativeIo.O_RDONLY : NativeIo.O_RDWR) | NativeIo.O_CLOEXEC, 0);
        if (fd < 0) {
            int errno = NativeIo.lastError();
            closeQuietly(channel);
            throw new StoreException(StoreException.Kind.IO, path + ": cannot open: " + NativeIo.describe(errno));
        }
        long actual = NativeIo.libc().lseek(fd, 0, NativeIo.SEEK_END);
        boolean sizeWrong = prefix ? actual < requestedSize : requestedSize != -1 && actual != requestedSize;
        if (actual < 0 || sizeWrong || actual % SECTOR != 0 || actual == 0) {
            String why = actual < 0 ? "cannot tell its size: " + NativeIo.describe(NativeIo.lastError())
                    : actual == 0 ? "it is empty"
                    : actual % SECTOR != 0 ? "its size " + actual + " is not a multiple of " + SECTOR + " bytes"
                    : prefix ? "it is " + actual + " bytes, fewer than the " + requestedSize + " bytes of data asked for"
                    : "it is " + actual + " bytes but the size asked for is " + requestedSize
                            + " (jrbd never grows or cuts an existing store)";
            NativeIo.libc().close(fd);
            closeQuietly(channel);
            throw new StoreException(StoreException.Kind.IO, path + ": " + why);
        }
        return new BackingStore(path, channel, fd, prefix ? requestedSize : actual, readOnly);
    }

    private static void create(Path path, long size) throws StoreException {
        try (RandomAccessFile file = new RandomAccessFile(path.toFile(), "rw")) {
            file.setLength(size); // ftruncate: sparse, nothing allocated
        } catch (IOException e) {
            throw StoreException.from(path + ": cannot create", e);
        }
    }

    public Path path() {
        return path;
    }

    public long size() {
        return size;
    }

    public boolean readOnly() {
        return readOnly;
    }

    /** Fills {@code dst} from its position to its limit with the bytes at {@code offset}. */
    public void read(ByteBuffer dst, long offset) throws StoreException {
        long position = offset;
        try {
            while (dst.hasRemaining()) {
                int n = channel.read(dst, position);
                if (n < 0) {
                    // Past the end of a file that shrank under us: what is not there reads as zeroes.
                    while (dst.hasRemaining()) {
                        dst.put((byte) 0);
                    }
                    return;
                }
                position += n;
            }
        } catch (IOException e) {
            throw StoreException.from("read of " + path + " at " + position, e);
        }
    }

    /**
     * Reads {@code length} bytes at {@code offset} into native memory at {@code address}, but
     * only if they are all in the page cache (preadv2 RWF_NOWAIT): a caller on a thread that
     * must not wait for the disk tries this first. Returns false, having read nothing useful,
     * when the data is not all cached or the kernel cannot tell.
     */
    public boolean readIfCached(long address, int length, long offset) {
        if (!noWaitReadWorks) {
            return false;
        }
        ByteBuffer iov = IOVEC.get();
        iov.putLong(0, address);
        iov.putLong(8, length);
        long n = NativeIo.libc().preadv2(fd, iov, 1, offset, NativeIo.RWF_NOWAIT);
        if (n == length) {
            return true;
        }
        if (n < 0) {
            int errno = NativeIo.lastError();
            if (errno != NativeIo.EAGAIN) {
                noWaitReadWorks = false; // ENOSYS, EOPNOTSUPP: this kernel or file system cannot
            }
        }
        return false;
    }

    private static final ThreadLocal<ByteBuffer> IOVEC = ThreadLocal.withInitial(
            () -> ByteBuffer.allocateDirect(16).order(java.nio.ByteOrder.nativeOrder()));
    private volatile boolean noWaitReadWorks = true;

    /** Writes {@code src} from its position to its limit at {@code offset}. */
    public void write(ByteBuffer src, long offset) throws StoreException {
        long position = offset;
        try {
            while (src.hasRemaining()) {
                position += channel.write(src, position);
            }
        } catch (IOException e) {
            throw StoreException.from("write to " + path + " at " + position, e);
        }
    }

    /** fdatasync: every write completed before this call is on stable storage when it returns. */
    public void sync() throws StoreException {
        try {
            channel.force(false);
        } catch (IOException e) {
            throw StoreException.from("fdatasync of " + path, e);
        }
    }

    /**
     * Deallocates the range so that it reads as zeroes. Returns false, having changed nothing,
     * when the file system or device cannot punch holes.
     */
    public boolean punchHole(long offset, long length) throws StoreException {
        if (!punchHoleWorks) {
            return false;
        }
        int errno = fallocate(NativeIo.FALLOC_FL_PUNCH_HOLE | NativeIo.FALLOC_FL_KEEP_SIZE, offset, length, "punch hole");
        if (errno == NativeIo.EOPNOTSUPP) {
            punchHoleWorks = false;
        }
        return errno == 0;
    }

    /**
     * Makes the range read as zeroes while keeping it allocated (FALLOC_FL_ZERO_RANGE). Returns
     * false, having changed nothing, when the file system or device cannot do that cheaply.
     */
    public boolean zeroRange(long offset, long length) throws StoreException {
        if (!zeroRangeWorks) {
            return false;
        }
        int errno = fallocate(NativeIo.FALLOC_FL_ZERO_RANGE | NativeIo.FALLOC_FL_KEEP_SIZE, offset, length, "zero range");
        if (errno == NativeIo.EOPNOTSUPP) {
            zeroRangeWorks = false;
        }
        return errno == 0;
    }

    /** True while zeroing is expected to be cheaper than writing zeroes. */
    public boolean canZeroFast() {
        return punchHoleWorks || zeroRangeWorks;
    }

    /** The slow way to zero: writes zero bytes over the range. */
    public void writeZeroes(long offset, long length) throws StoreException {
        long done = 0;
        while (done < length) {
            ByteBuffer chunk = ZEROES.duplicate();
            chunk.limit((int) Math.min(chunk.capacity(), length - done));
            write(chunk, offset + done);
            done += chunk.limit();
        }
    }

    /**
     * Returns 0 when done, EOPNOTSUPP when this store can never do it, EINVAL when it refused
     * this one range (a block device may refuse unaligned ones); throws on real failures.
     */
    private int fallocate(int mode, long offset, long length, String what) throws StoreException {
        if (length == 0) {
            return 0;
        }
        if (NativeIo.libc().fallocate(fd, mode, offset, length) == 0) {
            return 0;
        }
        int errno = NativeIo.lastError();
        if (errno == NativeIo.EOPNOTSUPP || errno == NativeIo.EINVAL) {
            return errno;
        }
        StoreException.Kind kind = errno == NativeIo.ENOSPC ? StoreException.Kind.NO_SPACE : StoreException.Kind.IO;
        throw new StoreException(kind, what + " of " + path + " at " + offset + "+" + length + ": " + NativeIo.describe(errno));
    }

    /**
     * Describes {@code [offset, offset + length)} as runs of data and holes, in order: fills
     * {@code out} with pairs (run length, 1 if hole else 0) and returns the number of pairs, at
     * most {@code maxRuns}. The runs cover the start of the range; they may stop short of its
     * end when {@code maxRuns} is reached. Where the store cannot tell holes from data the whole
     * range is one data run.
     */
    public int describe(long offset, long length, long[] out, int maxRuns) {
        long end = offset + length;
        if (!seekDataWorks) {
            return oneRun(out, length, false);
        }
        int runs = 0;
        long position = offset;
        while (position < end && runs < maxRuns) {
            long data = NativeIo.libc().lseek(fd, position, NativeIo.SEEK_DATA);
            if (data < 0) {
                int errno = NativeIo.lastError();
                if (errno == NativeIo.ENXIO) {
                    data = end; // nothing but hole up to the end of the file
                } else {
                    if (errno == NativeIo.EINVAL) {
                        seekDataWorks = false; // this file system cannot tell holes from data
                    }
                    return runs == 0 ? oneRun(out, length, false) : runs;
                }
            }
            if (data > position) {
                long holeEnd = Math.min(data, end);
                out[runs * 2] = holeEnd - position;
                out[runs * 2 + 1] = 1;
                runs++;
                position = holeEnd;
                continue;
            }
            long hole = NativeIo.libc().lseek(fd, position, NativeIo.SEEK_HOLE);
            long dataEnd = hole < 0 ? end : Math.min(hole, end);
            out[runs * 2] = dataEnd - position;
            out[runs * 2 + 1] = 0;
            runs++;
            position = dataEnd;
        }
        return runs;
    }

    private static int oneRun(long[] out, long length, boolean hole) {
        out[0] = length;
        out[1] = hole ? 1 : 0;
        return 1;
    }

    /** Asks the kernel to start reading the range into the page cache (posix_fadvise WILLNEED). */
    public void willNeed(long offset, long length) {
        NativeIo.libc().posix_fadvise(fd, offset, length, NativeIo.POSIX_FADV_WILLNEED);
    }

    /**
     * Closes both descriptors. A second call does nothing: closing the native descriptor again
     * could close whatever file the kernel has since given the same number.
     */
    @Override
    public void close() throws IOException {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            channel.close();
        } finally {
            NativeIo.libc().close(fd);
        }
    }

    private static void closeQuietly(Closeable c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // already failing with a better message
        }
    }
}
