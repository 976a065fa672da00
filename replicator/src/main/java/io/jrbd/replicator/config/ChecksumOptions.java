package io.jrbd.replicator.config;

import java.util.Optional;

/**
 * The digests of {@code [net]}: which one online verify compares ({@code verify-alg}) and whether a
 * resync first compares digests and ships only the blocks that differ ({@code csums-alg}).
 *
 * <pre>
 * key         default       allowed
 * verify-alg  crc32c        crc32c, sha256  (DRBD has no default and cannot verify without one)
 * csums-alg   "" (off)      "", crc32c, sha256
 * </pre>
 *
 * @param verifyAlg  the digest online verify compares
 * @param csumsAlg   the digest of a checksum-based resync, or empty for resyncs that ship every block
 */
public record ChecksumOptions(DigestAlgorithm verifyAlg, Optional<DigestAlgorithm> csumsAlg) {
    public static final String KEY_VERIFY_ALG = "net.verify-alg";
    public static final String KEY_CSUMS_ALG = "net.csums-alg";

    public static final DigestAlgorithm DEFAULT_VERIFY_ALG = DigestAlgorithm.CRC32C;

    public static final ChecksumOptions DEFAULTS = new ChecksumOptions(DEFAULT_VERIFY_ALG, Optional.empty());

    public ChecksumOptions {
        if (verifyAlg == null) {
            throw new ConfigException(KEY_VERIFY_ALG, "missing");
        }
        if (csumsAlg == null) {
            throw new ConfigException(KEY_CSUMS_ALG, "missing (use Optional.empty() for off)");
        }
    }

    /**
     * The options the two keys spell; a null text is that key's default, and an empty
     * {@code csums-alg} is off, as in DRBD.
     */
    public static ChecksumOptions parse(String verifyAlg, String csumsAlg) {
        DigestAlgorithm verify = DEFAULT_VERIFY_ALG;
        if (verifyAlg != null) {
            try {
                verify = DigestAlgorithm.parse(verifyAlg);
            } catch (IllegalArgumentException e) {
                throw new ConfigException(KEY_VERIFY_ALG, e.getMessage());
            }
        }
        Optional<DigestAlgorithm> csums = Optional.empty();
        if (csumsAlg != null && !csumsAlg.isEmpty()) {
            try {
                csums = Optional.of(DigestAlgorithm.parse(csumsAlg));
            } catch (IllegalArgumentException e) {
                throw new ConfigException(KEY_CSUMS_ALG, e.getMessage() + " (or \"\" for off)");
            }
        }
        return new ChecksumOptions(verify, csums);
    }

    /** Whether resyncs compare digests before shipping a block. */
    public boolean checksumResync() {
        return csumsAlg.isPresent();
    }
}
