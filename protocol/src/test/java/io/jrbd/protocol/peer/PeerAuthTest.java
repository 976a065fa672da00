package io.jrbd.protocol.peer;

import static io.jrbd.protocol.peer.PeerBytes.concat;
import static io.jrbd.protocol.peer.PeerBytes.counting;
import static io.jrbd.protocol.peer.PeerBytes.hex;
import static io.jrbd.protocol.peer.PeerBytes.pattern;
import static io.jrbd.protocol.peer.PeerBytes.utf8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

class PeerAuthTest {
    private static final byte[] SECRET = utf8("correct horse battery staple");
    private static final byte[] NONCE = counting(32);

    private static byte[] proof(byte[] secret, String resource, String prover, byte[] nonce) {
        return PeerAuth.proof(secret, resource, prover, nonce);
    }

    @Test
    void shouldGiveTheSameProofForTheSameInputs() {
        byte[] a = proof(SECRET, "r0", "alpha", NONCE);
        byte[] b = proof(SECRET.clone(), "r0", "alpha", NONCE.clone());
        assertEquals(32, a.length);
        assertArrayEquals(a, b);
        assertTrue(PeerAuth.verify(a, b));
    }

    @Test
    void shouldComputeHmacSha256OverTheDocumentedInput() throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(SECRET, "HmacSHA256"));
        byte[] expected = mac.doFinal(concat(utf8("jrbd-peer-auth-v1"), new byte[1], utf8("r0"), new byte[1],
                utf8("alpha"), new byte[1], NONCE));
        assertArrayEquals(expected, proof(SECRET, "r0", "alpha", NONCE));
    }

    @Test
    void shouldMatchAKnownAnswer() {
        // Pinned so the proof cannot change by accident: a change breaks mixed-version clusters.
        // HMAC-SHA256(key "k", "jrbd-peer-auth-v1\0r0\0alpha\0" + 00..1f), computed independently.
        // (Python: hmac.new(b"k", b"jrbd-peer-auth-v1\0r0\0alpha\0" + bytes(range(32)), "sha256"))
        assertArrayEquals(hex("ae60633573e13131fc3464115a6600345287713a7f253085364a3f472e9a6b2b"),
                proof(utf8("k"), "r0", "alpha", NONCE));
    }

    @Test
    void shouldGiveDifferentProofsForDifferentSecrets() {
        assertFalse(Arrays.equals(proof(SECRET, "r0", "alpha", NONCE), proof(utf8("another secret"), "r0", "alpha", NONCE)));
        byte[] flipped = SECRET.clone();
        flipped[0] ^= 1;
        assertFalse(Arrays.equals(proof(SECRET, "r0", "alpha", NONCE), proof(flipped, "r0", "alpha", NONCE)));
    }

    @Test
    void shouldGiveDifferentProofsForDifferentNonces() {
        byte[] other = NONCE.clone();
        other[31] ^= 1;
        assertFalse(Arrays.equals(proof(SECRET, "r0", "alpha", NONCE), proof(SECRET, "r0", "alpha", other)));
    }

    @Test
    void shouldGiveDifferentProofsForDifferentProvers() {
        // So that a node's proof cannot be reflected back at it as the peer's.
        assertFalse(Arrays.equals(proof(SECRET, "r0", "alpha", NONCE), proof(SECRET, "r0", "beta", NONCE)));
    }

    @Test
    void shouldGiveDifferentProofsForDifferentResources() {
        assertFalse(Arrays.equals(proof(SECRET, "r0", "alpha", NONCE), proof(SECRET, "r1", "alpha", NONCE)));
    }

    @Test
    void shouldNotConfuseWhereOneNameEndsAndTheNextBegins() {
        assertFalse(Arrays.equals(proof(SECRET, "r0a", "lpha", NONCE), proof(SECRET, "r0", "alpha", NONCE)));
    }

    @Test
    void shouldRejectNamesWithNulBecauseTheyWouldMakeTheInputAmbiguous() {
        assertThrows(IllegalArgumentException.class, () -> proof(SECRET, "r0\0alpha", "x", NONCE));
        assertThrows(IllegalArgumentException.class, () -> proof(SECRET, "r0", "al\0pha", NONCE));
    }

    @Test
    void shouldRejectBadArguments() {
        assertThrows(IllegalArgumentException.class, () -> proof(new byte[0], "r0", "alpha", NONCE));
        assertThrows(IllegalArgumentException.class, () -> proof(null, "r0", "alpha", NONCE));
        assertThrows(IllegalArgumentException.class, () -> proof(SECRET, "r0", "alpha", new byte[31]));
        assertThrows(IllegalArgumentException.class, () -> proof(SECRET, "r0", "alpha", null));
        assertThrows(IllegalArgumentException.class, () -> proof(SECRET, "", "alpha", NONCE));
        assertThrows(IllegalArgumentException.class, () -> proof(SECRET, "r0", "x".repeat(256), NONCE));
    }

    @Test
    void shouldVerifyOnlyEqualArrays() {
        byte[] p = proof(SECRET, "r0", "alpha", NONCE);
        assertTrue(PeerAuth.verify(p, p.clone()));
        for (int i = 0; i < p.length; i++) {
            byte[] q = p.clone();
            q[i] ^= (byte) 0x80;
            assertFalse(PeerAuth.verify(p, q), "a difference in byte " + i + " went unnoticed");
        }
        assertFalse(PeerAuth.verify(p, Arrays.copyOf(p, 31)), "a prefix is not a proof");
        assertFalse(PeerAuth.verify(p, Arrays.copyOf(p, 33)), "an extension is not a proof");
        assertFalse(PeerAuth.verify(p, new byte[0]));
        assertFalse(PeerAuth.verify(p, null));
        assertFalse(PeerAuth.verify(null, p));
        assertFalse(PeerAuth.verify(new byte[0], new byte[0]), "nothing never verifies");
    }

    @Test
    void shouldMakeFreshNonces() {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 1000; i++) {
            byte[] n = PeerAuth.newNonce();
            assertEquals(PeerWire.NONCE_LENGTH, n.length);
            assertTrue(seen.add(Arrays.toString(n)), "nonce repeated after " + i);
        }
        assertNotEquals(Arrays.toString(new byte[32]), Arrays.toString(PeerAuth.newNonce()));
    }

    @Test
    void shouldCompleteTheHandshakeBetweenTwoNodesSharingTheSecret() {
        byte[] nonceA = PeerAuth.newNonce();
        byte[] nonceB = PeerAuth.newNonce();
        // A proves to B over B's nonce with its own name; B checks with A's name and its own nonce.
        byte[] authFromA = proof(SECRET, "r0", "alpha", nonceB);
        byte[] authFromB = proof(SECRET, "r0", "beta", nonceA);
        assertTrue(PeerAuth.verify(proof(SECRET, "r0", "alpha", nonceB), authFromA));
        assertTrue(PeerAuth.verify(proof(SECRET, "r0", "beta", nonceA), authFromB));
        // A reflected AUTH (B's proof sent back to B as if from A) fails.
        assertFalse(PeerAuth.verify(proof(SECRET, "r0", "alpha", nonceB), proof(SECRET, "r0", "beta", nonceB)));
        // A node without the secret fails.
        assertFalse(PeerAuth.verify(proof(SECRET, "r0", "alpha", nonceB), proof(pattern(16), "r0", "alpha", nonceB)));
    }
}
