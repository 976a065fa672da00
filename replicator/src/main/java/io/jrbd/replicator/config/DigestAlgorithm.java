package io.jrbd.replicator.config;

/** A block digest for online verify ({@code verify-alg}) and checksum-based resync ({@code csums-alg}). */
public enum DigestAlgorithm {
    /** CRC-32C (Castagnoli), 4 bytes: cheap, catches corruption, not tampering. */
    CRC32C("crc32c", 4),
    /** SHA-256, 32 bytes. */
    SHA256("sha256", 32);

    private final String spelling;
    private final int digestBytes;

    DigestAlgorithm(String spelling, int digestBytes) {
        this.spelling = spelling;
        this.digestBytes = digestBytes;
    }

    /** The name in the resource file ({@code crc32c}). */
    public String spelling() {
        return spelling;
    }

    /** How long one digest is. */
    public int digestBytes() {
        return digestBytes;
    }

    /** "crc32c" or "sha256", exactly; anything else throws {@link IllegalArgumentException} naming the text. */
    public static DigestAlgorithm parse(String text) {
        return Keywords.parse(values(), DigestAlgorithm::spelling, text);
    }

    /** "crc32c or sha256". */
    static String choices() {
        return Keywords.choices(values(), DigestAlgorithm::spelling);
    }
}
