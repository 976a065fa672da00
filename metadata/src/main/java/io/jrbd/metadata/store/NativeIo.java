package io.jrbd.metadata.store;

import jnr.ffi.LibraryLoader;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.SaveError;

/**
 * The only door to libc. Everything the JDK already does well (pread, pwrite, fdatasync
 * through {@code FileChannel}) stays in the JDK; only calls it lacks come through here.
 */
public final class NativeIo {
    static final int O_RDONLY = 0;
    static final int O_RDWR = 2;
    static final int O_CLOEXEC = 0x80000;

    static final int SEEK_END = 2;
    static final int SEEK_DATA = 3;
    static final int SEEK_HOLE = 4;

    static final int FALLOC_FL_KEEP_SIZE = 0x01;
    static final int FALLOC_FL_PUNCH_HOLE = 0x02;
    static final int FALLOC_FL_ZERO_RANGE = 0x10;

    static final int POSIX_FADV_WILLNEED = 3;
    /** preadv2: fail with EAGAIN instead of waiting for the disk. */
    static final int RWF_NOWAIT = 0x08;

    static final int ENXIO = 6;
    static final int EAGAIN = 11;
    static final int EINVAL = 22;
    static final int ENOSPC = 28;
    static final int EOPNOTSUPP = 95;

    /** The libc functions, as jnr-ffi binds them. */
    public interface LibC {
        @SaveError
        int open(String path, int flags, int mode);

        @SaveError
        int close(int fd);

        @SaveError
        long lseek(int fd, long offset, int whence);

        @SaveError
        int fallocate(int fd, int mode, long offset, long length);

        /** Returns the error number itself rather than setting errno. */
        int posix_fadvise(int fd, long offset, long length, int advice);

        String strerror(int errno);

        int prctl(int option, long arg2, long arg3, long arg4, long arg5);

        /** {@code iov} is a direct buffer holding struct iovec entries. */
        @SaveError
        long preadv2(int fd, java.nio.ByteBuffer iov, int iovcnt, long offset, int flags);
    }

    private static final LibC LIBC = LibraryLoader.create(LibC.class).load("c");
    private static final Runtime RUNTIME = Runtime.getRuntime(LIBC);

    private NativeIo() {
    }

    static LibC libc() {
        return LIBC;
    }

    /** errno of the last call made on this thread through {@link LibC}. */
    static int lastError() {
        return RUNTIME.getLastError();
    }

    private static final int PR_SET_TIMERSLACK = 29;

    /**
     * Sets the calling thread's timer slack to 1 ns (Linux rounds timeouts of ordinary threads
     * up by 50 us), for threads whose sleeps must be precise, like a simulated WAN link's.
     * Returns whether it could.
     */
    public static boolean minimiseTimerSlack() {
        return LIBC.prctl(PR_SET_TIMERSLACK, 1, 0, 0, 0) == 0;
    }

    static String describe(int errno) {
        return LIBC.strerror(errno) + " (errno " + errno + ")";
    }
}
