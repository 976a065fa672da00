package io.jrbd.resync;

import java.nio.ByteBuffer;
import java.security.DigestException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.zip.CRC32C;

/**
 * Per-block digests of a buffer, for checksum resync ({@code csums-alg}) and online verify
 * ({@code verify-alg}): the buffer is cut into blocks of {@code blockSize} bytes (the last may
 * be shorter) and each block's digest is written into one array, block after block:
 *
 * <pre>
 *   data:  | block 0          | block 1          | block 2 (partial) |
 *   out:   | digest 0 | digest 1 | digest 2 |      each digestLength() bytes
 * </pre>
 *
 * Only JDK algorithms: {@code crc32c} (4 bytes, big-endian; fast, enough to find blocks that
 * differ by accident), {@code sha1} (20 bytes; DRBD setups often name it) and {@code sha256}
 * (32 bytes). An instance keeps its checksum or message digest and reuses it for every block,
 * so digesting allocates nothing; it is therefore for one thread at a time: take one per thread.
 */
public final class BlockDigests {
    /** The names {@link #forName} knows. */
    public static final List<String> NAMES = List.of("crc32c", "sha1", "sha256");

    private final String name;
    private final int digestLength;
    private final CRC32C crc;
    private final MessageDigest md;

    private BlockDigests(String name, int digestLength, CRC32C crc, MessageDigest md) {
        this.name = name;
        this.digestLength = digestLength;
        this.crc = crc;
        this.md = md;
    }

    /** A new instance of the algorithm named (case does not matter), or a list of the names known. */
    public static BlockDigests forName(String algorithm) {
        Objects.requireNonNull(algorithm, "algorithm");
        String name = algorithm.trim().toLowerCase(Locale.ROOT);
        switch (name) {
            case "crc32c":
                return new BlockDigests(name, Integer.BYTES, new CRC32C(), null);
            case "sha1":
                return messageDigest(name, "SHA-1");
            case "sha256":
                return messageDigest(name, "SHA-256");
            default:
                throw new IllegalArgumentException("unknown digest algorithm \"" + algorithm + "\"; known: "
                        + String.join(", ", NAMES));
        }
    }

    private static BlockDigests messageDigest(String name, String jdkName) {
        try {
            MessageDigest md = MessageDigest.getInstance(jdkName);
            return new BlockDigests(name, md.getDigestLength(), null, md);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JDK has no " + jdkName + ", which every JDK must have", e);
        }
    }

    public String name() {
        return name;
    }

    /** Bytes of one block's digest. */
    public int digestLength() {
        return digestLength;
    }

    /** Blocks of {@code blockSize} that {@code length} bytes make, the last maybe partial. */
    public static int blocks(long length, int blockSize) {
        requireBlockSize(blockSize);
        if (length < 0) {
            throw new IllegalArgumentException("length must not be negative, got " + length);
        }
        long blocks = (length + blockSize - 1) / blockSize;
        if (blocks > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(length + " bytes make " + blocks + " blocks of " + blockSize
                    + ", more than one array can hold");
        }
        return (int) blocks;
    }

    /**
     * Digests the bytes between {@code data}'s position and limit, block by block, into
     * {@code out} from index 0. {@code data}'s position and limit are as they were on return.
     * Returns the number of blocks.
     */
    public int digest(ByteBuffer data, int blockSize, byte[] out) {
        int position = data.position();
        int limit = data.limit();
        int blocks = blocks(limit - position, blockSize);
        requireRoom(out, blocks);
        try {
            for (int b = 0; b < blocks; b++) {
                int from = position + b * blockSize;
                data.limit((int) Math.min(limit, (long) from + blockSize)).position(from);
                if (crc != null) {
                    crc.reset();
                    crc.update(data);
                    putInt(out, b * digestLength, (int) crc.getValue());
                } else {
                    md.update(data);
                    finish(out, b);
                }
            }
        } finally {
            data.limit(limit).position(position);
        }
        return blocks;
    }

    /** Digests {@code data[offset, offset + length)}, block by block, into {@code out}; returns the number of blocks. */
    public int digest(byte[] data, int offset, int length, int blockSize, byte[] out) {
        Objects.checkFromIndexSize(offset, length, data.length);
        int blocks = blocks(length, blockSize);
        requireRoom(out, blocks);
        for (int b = 0; b < blocks; b++) {
            int from = offset + b * blockSize;
            int size = Math.min(blockSize, offset + length - from);
            if (crc != null) {
                crc.reset();
                crc.update(data, from, size);
                putInt(out, b * digestLength, (int) crc.getValue());
            } else {
                md.update(data, from, size);
                finish(out, b);
            }
        }
        return blocks;
    }

    /**
     * The blocks whose digests differ, as a bitmask: bit {@code i} (byte {@code i / 8}, bit
     * {@code i % 8}, least significant first) is set if block {@code i} differs.
     */
    public static byte[] differing(byte[] mine, byte[] theirs, int digestLength, int blocks) {
        if (digestLength <= 0) {
            throw new IllegalArgumentException("digestLength must be above 0, got " + digestLength);
        }
        if (blocks < 0) {
            throw new IllegalArgumentException("blocks must not be negative, got " + blocks);
        }
        long need = (long) digestLength * blocks;
        if (mine.length < need || theirs.length < need) {
            throw new IllegalArgumentException(blocks + " digests of " + digestLength + " bytes need " + need
                    + " bytes, got " + mine.length + " (mine) and " + theirs.length + " (theirs)");
        }
        byte[] mask = new byte[(blocks + 7) >>> 3];
        for (int b = 0; b < blocks; b++) {
            int from = b * digestLength;
            int to = from + digestLength;
            if (!Arrays.equals(mine, from, to, theirs, from, to)) {
                mask[b >>> 3] |= (byte) (1 << (b & 7));
            }
        }
        return mask;
    }

    private void finish(byte[] out, int block) {
        try {
            md.digest(out, block * digestLength, digestLength);
        } catch (DigestException e) {
            throw new IllegalStateException(name + " digest of block " + block, e);
        }
    }

    private void requireRoom(byte[] out, int blocks) {
        long need = (long) blocks * digestLength;
        if (out.length < need) {
            throw new IllegalArgumentException(blocks + " blocks need " + need + " bytes of " + name
                    + " digests, the output array has " + out.length);
        }
    }

    private static void requireBlockSize(int blockSize) {
        if (blockSize <= 0) {
            throw new IllegalArgumentException("blockSize must be above 0, got " + blockSize);
        }
    }

    private static void putInt(byte[] out, int at, int value) {
        out[at] = (byte) (value >>> 24);
        out[at + 1] = (byte) (value >>> 16);
        out[at + 2] = (byte) (value >>> 8);
        out[at + 3] = (byte) value;
    }

    @Override
    public String toString() {
        return name;
    }
}
