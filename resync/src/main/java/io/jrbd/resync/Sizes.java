package io.jrbd.resync;

/** Byte counts and rates as an operator writes them: {@code 250 KiB/s}, {@code 100 MiB/s}. */
final class Sizes {
    static final long KIB = 1024;
    static final long MIB = 1024 * KIB;
    static final long GIB = 1024 * MIB;
    static final long TIB = 1024 * GIB;

    private Sizes() {
    }

    /** {@code 4 KiB}, {@code 100 MiB}; a count that is no whole unit stays in bytes. */
    static String bytes(long n) {
        if (n != 0) {
            if (n % TIB == 0) {
                return n / TIB + " TiB";
            }
            if (n % GIB == 0) {
                return n / GIB + " GiB";
            }
            if (n % MIB == 0) {
                return n / MIB + " MiB";
            }
            if (n % KIB == 0) {
                return n / KIB + " KiB";
            }
        }
        return n + " bytes";
    }

    static String rate(long bytesPerSecond) {
        return bytes(bytesPerSecond) + "/s";
    }
}
