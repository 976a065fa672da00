package io.jrbd.protocol.peer;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * HMAC-SHA256 challenge-response over the shared secret of a resource (the sequence is in the
 * package documentation).
 *
 * <pre>
 * proof = HMAC-SHA256(secret, "jrbd-peer-auth-v1" 0x00 resource 0x00 proverNodeName 0x00 challengeNonce)
 *                                                  (UTF-8)           (UTF-8)             (32 bytes)
 * </pre>
 *
 * <p>The prover's own node name is inside the MAC, so a proof cannot be reflected back to the
 * node that asked for it; the resource name binds it to one resource; the verifier's fresh
 * nonce makes it useless for any other connection. Names may not contain NUL, so the
 * separators are unambiguous. Thread-safe.
 */
public final class PeerAuth {
    static final String ALGORITHM = "HmacSHA256";
    static final byte[] DOMAIN = "jrbd-peer-auth-v1".getBytes(StandardCharsets.US_ASCII);

    private static final SecureRandom RANDOM = new SecureRandom();

    private PeerAuth() {
    }

    /** A fresh 32-byte challenge from {@link SecureRandom}, for HELLO. */
    public static byte[] newNonce() {
        byte[] nonce = new byte[PeerWire.NONCE_LENGTH];
        RANDOM.nextBytes(nonce);
        return nonce;
    }

    /**
     * The 32-byte proof that {@code proverNodeName} holds {@code secret}, answering the challenge
     * {@code challengeNonce} (the other side's HELLO nonce) for {@code resource}.
     *
     * @throws IllegalArgumentException if the secret is empty, the nonce is not 32 bytes, or a
     *                                  name is empty, over 255 bytes of UTF-8 or contains NUL
     */
    public static byte[] proof(byte[] secret, String resource, String proverNodeName, byte[] challengeNonce) {
        if (secret == null || secret.length == 0) {
            throw new IllegalArgumentException("shared secret is empty");
        }
        if (challengeNonce == null || challengeNonce.length != PeerWire.NONCE_LENGTH) {
            throw new IllegalArgumentException("challenge nonce is "
                    + (challengeNonce == null ? "null" : challengeNonce.length + " bytes")
                    + ", must be exactly " + PeerWire.NONCE_LENGTH);
        }
        byte[] resourceBytes = PeerStrings.nameBytes(resource, "resource name");
        byte[] proverBytes = PeerStrings.nameBytes(proverNodeName, "prover node name");
        Mac mac;
        try {
            mac = Mac.getInstance(ALGORITHM);
            mac.init(new SecretKeySpec(secret, ALGORITHM));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(ALGORITHM + " unavailable; every Java runtime must provide it", e);
        }
        mac.update(DOMAIN);
        mac.update((byte) 0);
        mac.update(resourceBytes);
        mac.update((byte) 0);
        mac.update(proverBytes);
        mac.update((byte) 0);
        mac.update(challengeNonce);
        return mac.doFinal();
    }

    /**
     * True if {@code actual} equals {@code expected}, compared in time that depends only on the
     * lengths, never on where the first difference is ({@link MessageDigest#isEqual}). Null or
     * empty arrays never verify.
     */
    public static boolean verify(byte[] expected, byte[] actual) {
        if (expected == null || actual == null || expected.length == 0) {
            return false;
        }
        return MessageDigest.isEqual(expected, actual);
    }
}
