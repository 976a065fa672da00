package io.jrbd.replicator.config;

import static io.jrbd.replicator.config.ConfigFiles.VALID;
import static io.jrbd.replicator.config.ConfigFiles.edit;
import static io.jrbd.replicator.config.ConfigFiles.withDisk;
import static io.jrbd.replicator.config.ConfigFiles.withNet;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrbd.replicator.config.CongestionOptions.OnCongestion;
import io.jrbd.replicator.config.SplitBrainPolicy.NoPrimary;
import io.jrbd.replicator.config.SplitBrainPolicy.OnePrimary;
import io.jrbd.replicator.config.SplitBrainPolicy.TwoPrimaries;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The split-brain, congestion and digest keys of {@code [net]}. */
class NetPolicyKeysTest {
    private static final String PROTOCOL_A = "protocol = \"A\"";

    @TempDir
    Path dir;

    private ResourceConfig load(String text) {
        return ConfigLoader.load(ConfigFiles.write(dir, "r0.toml", text));
    }

    @Test
    void shouldUseDrbdDefaultsWhenTheKeysAreAbsent() {
        ResourceConfig r = load(VALID);
        assertEquals(SplitBrainPolicy.DEFAULT, r.splitBrain());
        assertEquals(NoPrimary.DISCONNECT, r.splitBrain().noPrimary());
        assertNull(r.splitBrain().discardNode());
        assertEquals(OnePrimary.DISCONNECT, r.splitBrain().onePrimary());
        assertEquals(TwoPrimaries.DISCONNECT, r.splitBrain().twoPrimaries());
        assertEquals(OnCongestion.BLOCK, r.congestion().onCongestion());
        assertFalse(r.congestion().pullAhead());
        assertEquals(0, r.congestion().fill());
        assertEquals(1237, r.congestion().extents());
        assertEquals(DigestAlgorithm.CRC32C, r.checksums().verifyAlg());
        assertEquals(Optional.empty(), r.checksums().csumsAlg());
        assertFalse(r.checksums().checksumResync());
    }

    static Stream<Arguments> validValues() {
        Function<ResourceConfig, Object> sb0 = r -> r.splitBrain().noPrimary();
        Function<ResourceConfig, Object> sb1 = r -> r.splitBrain().onePrimary();
        Function<ResourceConfig, Object> sb2 = r -> r.splitBrain().twoPrimaries();
        return Stream.of(
            Arguments.of("after-sb-0pri = \"disconnect\"", sb0, NoPrimary.DISCONNECT),
            Arguments.of("after-sb-0pri = \"discard-zero-changes\"", sb0, NoPrimary.DISCARD_ZERO_CHANGES),
            Arguments.of("after-sb-0pri = \"discard-least-changes\"", sb0, NoPrimary.DISCARD_LEAST_CHANGES),
            Arguments.of("after-sb-0pri = \"discard-younger-primary\"", sb0, NoPrimary.DISCARD_YOUNGER_PRIMARY),
            Arguments.of("after-sb-0pri = \"discard-older-primary\"", sb0, NoPrimary.DISCARD_OLDER_PRIMARY),
            Arguments.of("after-sb-0pri = \"discard-node-bravo\"", sb0, NoPrimary.DISCARD_NODE),
            Arguments.of("after-sb-1pri = \"consensus\"", sb1, OnePrimary.CONSENSUS),
            Arguments.of("after-sb-1pri = \"discard-secondary\"", sb1, OnePrimary.DISCARD_SECONDARY),
            Arguments.of("after-sb-1pri = \"call-pri-lost-after-sb\"", sb1, OnePrimary.CALL_PRI_LOST_AFTER_SB),
            Arguments.of("after-sb-2pri = \"call-pri-lost-after-sb\"", sb2, TwoPrimaries.CALL_PRI_LOST_AFTER_SB),
            Arguments.of("on-congestion = \"block\"", (Function<ResourceConfig, Object>) r -> r.congestion().onCongestion(),
                    OnCongestion.BLOCK),
            Arguments.of("congestion-fill = \"1G\"", (Function<ResourceConfig, Object>) r -> r.congestion().fill(), 1L << 30),
            Arguments.of("congestion-fill = 0", (Function<ResourceConfig, Object>) r -> r.congestion().fill(), 0L),
            Arguments.of("congestion-extents = 500", (Function<ResourceConfig, Object>) r -> r.congestion().extents(), 500),
            Arguments.of("congestion-extents = 65534", (Function<ResourceConfig, Object>) r -> r.congestion().extents(), 65534),
            Arguments.of("verify-alg = \"sha256\"", (Function<ResourceConfig, Object>) r -> r.checksums().verifyAlg(),
                    DigestAlgorithm.SHA256),
            Arguments.of("csums-alg = \"crc32c\"", (Function<ResourceConfig, Object>) r -> r.checksums().csumsAlg(),
                    Optional.of(DigestAlgorithm.CRC32C)),
            Arguments.of("csums-alg = \"sha256\"", (Function<ResourceConfig, Object>) r -> r.checksums().csumsAlg(),
                    Optional.of(DigestAlgorithm.SHA256)),
            Arguments.of("csums-alg = \"\"", (Function<ResourceConfig, Object>) r -> r.checksums().csumsAlg(), Optional.empty()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("validValues")
    void shouldReadAValidValue(String line, Function<ResourceConfig, Object> getter, Object expected) {
        assertEquals(expected, getter.apply(load(withNet(line))));
    }

    @Test
    void shouldKeepTheNodeOfDiscardNode() {
        SplitBrainPolicy p = load(withNet("after-sb-0pri = \"discard-node-alpha\"")).splitBrain();
        assertEquals(NoPrimary.DISCARD_NODE, p.noPrimary());
        assertEquals("alpha", p.discardNode());
        assertEquals("discard-node-alpha", p.noPrimarySpelling());
    }

    @Test
    void shouldReadTheTypicalDualPolicy() {
        SplitBrainPolicy p = load(withNet("after-sb-0pri = \"discard-zero-changes\"\nafter-sb-1pri = \"discard-secondary\"\n"
                + "after-sb-2pri = \"disconnect\"")).splitBrain();
        assertEquals(new SplitBrainPolicy(NoPrimary.DISCARD_ZERO_CHANGES, null, OnePrimary.DISCARD_SECONDARY,
                TwoPrimaries.DISCONNECT), p);
    }

    @Test
    void shouldPullAheadUnderProtocolA() {
        CongestionOptions c = load(edit(withNet("on-congestion = \"pull-ahead\"\ncongestion-fill = \"900M\"\ncongestion-extents = 1100"),
                "protocol = \"C\"", PROTOCOL_A)).congestion();
        assertEquals(new CongestionOptions(OnCongestion.PULL_AHEAD, 900L << 20, 1100), c);
        assertTrue(c.pullAhead());
    }

    @Test
    void shouldDefaultCongestionExtentsToAlExtents() {
        assertEquals(3000, load(withDisk("al-extents = 3000")).congestion().extents());
        assertEquals(200, load(edit(withDisk("al-extents = 3000"), "journal-size = \"64M\"",
                "journal-size = \"64M\"\ncongestion-extents = 200")).congestion().extents());
    }

    static Stream<Arguments> badValues() {
        return Stream.of(
            Arguments.of(withNet("after-sb-0pri = \"discard-both\""), "net.after-sb-0pri: 'discard-both' is not disconnect, "
                    + "discard-zero-changes, discard-least-changes, discard-younger-primary, discard-older-primary or discard-node-NAME"),
            Arguments.of(withNet("after-sb-0pri = \"Disconnect\""), "net.after-sb-0pri: 'Disconnect' is not disconnect, "
                    + "discard-zero-changes, discard-least-changes, discard-younger-primary, discard-older-primary or discard-node-NAME"),
            Arguments.of(withNet("after-sb-0pri = \"discard-node-charlie\""),
                    "net.after-sb-0pri: 'discard-node-charlie' names no node of this resource (its nodes are alpha, bravo)"),
            Arguments.of(withNet("after-sb-0pri = \"discard-node-\""), "net.after-sb-0pri: 'discard-node-' does not end in a node name"
                    + " (up to 63 letters, digits, '-', '_' or '.', starting with a letter or digit)"),
            Arguments.of(withNet("after-sb-0pri = 1"), "net.after-sb-0pri: expected a string, found a number (1)"),
            Arguments.of(withNet("after-sb-1pri = \"violently-as0p\""),
                    "net.after-sb-1pri: 'violently-as0p' is not disconnect, consensus, discard-secondary or call-pri-lost-after-sb"),
            Arguments.of(withNet("after-sb-1pri = true"), "net.after-sb-1pri: expected a string, found a boolean (true)"),
            Arguments.of(withNet("after-sb-2pri = \"discard-secondary\""),
                    "net.after-sb-2pri: 'discard-secondary' is not disconnect or call-pri-lost-after-sb"),
            Arguments.of(withNet("after-sb-2pri = \"violently-as0p\""),
                    "net.after-sb-2pri: 'violently-as0p' is not disconnect or call-pri-lost-after-sb"),
            Arguments.of(withNet("after-sb-3pri = \"disconnect\""), "net.after-sb-3pri: unknown key (did you mean after-sb-0pri?)"),
            Arguments.of(withNet("on-congestion = \"drop\""), "net.on-congestion: 'drop' is not block or pull-ahead"),
            Arguments.of(withNet("on-congestion = \"pull-ahead\""), "net.on-congestion: 'pull-ahead' needs resource.protocol A, "
                    + "found C (as in DRBD: under B and C a write waits for the peer)"),
            Arguments.of(edit(withNet("on-congestion = \"pull-ahead\""), "protocol = \"C\"", "protocol = \"B\""),
                    "net.on-congestion: 'pull-ahead' needs resource.protocol A, found B (as in DRBD: under B and C a write waits for the peer)"),
            Arguments.of(withNet("congestion-fill = \"11G\""), "net.congestion-fill: 11 GiB is out of range 0..10 GiB (0 = off)"),
            Arguments.of(withNet("congestion-fill = \"lots\""),
                    "net.congestion-fill: 'lots' is not a size: use bytes or a number with K, M, G or T"),
            Arguments.of(withNet("congestion-extents = 6"), "net.congestion-extents: '6' is out of range 7..65534"),
            Arguments.of(withNet("congestion-extents = 65535"), "net.congestion-extents: '65535' is out of range 7..65534"),
            Arguments.of(withNet("congestion-extents = \"100\""), "net.congestion-extents: expected an integer, found a string ('100')"),
            Arguments.of(withNet("verify-alg = \"md5\""), "net.verify-alg: 'md5' is not crc32c or sha256"),
            Arguments.of(withNet("verify-alg = \"\""), "net.verify-alg: '' is not crc32c or sha256"),
            Arguments.of(withNet("verify-alg = \"CRC32C\""), "net.verify-alg: 'CRC32C' is not crc32c or sha256"),
            Arguments.of(withNet("verify-alg = 32"), "net.verify-alg: expected a string, found a number (32)"),
            Arguments.of(withNet("csums-alg = \"sha1\""), "net.csums-alg: 'sha1' is not crc32c or sha256 (or \"\" for off)"),
            Arguments.of(withNet("csums-alg = false"), "net.csums-alg: expected a string, found a boolean (false)"));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("badValues")
    void shouldRejectABadValueNamingFileKeyAndValue(String text, String expected) {
        Path file = ConfigFiles.write(dir, "r0.toml", text);
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(file));
        assertEquals(file + ": " + expected, e.getMessage());
        assertEquals(file, e.file());
    }

    @Test
    void shouldCheckThePolicyWhenBuiltInCode() {
        ConfigException noName = assertThrows(ConfigException.class,
                () -> new SplitBrainPolicy(NoPrimary.DISCARD_NODE, null, OnePrimary.DISCONNECT, TwoPrimaries.DISCONNECT));
        assertEquals("net.after-sb-0pri: discard-node-NAME needs a node name", noName.getMessage());
        ConfigException stray = assertThrows(ConfigException.class,
                () -> new SplitBrainPolicy(NoPrimary.DISCONNECT, "alpha", OnePrimary.DISCONNECT, TwoPrimaries.DISCONNECT));
        assertEquals("net.after-sb-0pri: 'disconnect' names no node, but a node 'alpha' was given", stray.getMessage());
        ConfigException missing = assertThrows(ConfigException.class,
                () -> new SplitBrainPolicy(NoPrimary.DISCONNECT, null, null, TwoPrimaries.DISCONNECT));
        assertEquals("net.after-sb-1pri: missing", missing.getMessage());
        assertEquals(SplitBrainPolicy.DEFAULT, SplitBrainPolicy.parse(null, null, null));
    }

    @Test
    void shouldSpellEveryChoiceAsDrbdDoes() {
        assertEquals("discard-younger-primary", NoPrimary.DISCARD_YOUNGER_PRIMARY.spelling());
        assertEquals("call-pri-lost-after-sb", OnePrimary.CALL_PRI_LOST_AFTER_SB.spelling());
        assertEquals("call-pri-lost-after-sb", TwoPrimaries.CALL_PRI_LOST_AFTER_SB.spelling());
        assertEquals("pull-ahead", OnCongestion.PULL_AHEAD.spelling());
        assertEquals("sha256", DigestAlgorithm.SHA256.spelling());
        assertEquals("disconnect", SplitBrainPolicy.DEFAULT.noPrimarySpelling());
    }
}
