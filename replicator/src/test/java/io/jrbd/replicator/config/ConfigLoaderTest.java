package io.jrbd.replicator.config;

import static io.jrbd.replicator.config.ConfigFiles.ALPHA;
import static io.jrbd.replicator.config.ConfigFiles.BRAVO;
import static io.jrbd.replicator.config.ConfigFiles.NET;
import static io.jrbd.replicator.config.ConfigFiles.RESOURCE;
import static io.jrbd.replicator.config.ConfigFiles.VALID;
import static io.jrbd.replicator.config.ConfigFiles.edit;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ConfigLoaderTest {
    @TempDir
    Path dir;

    @Test
    void shouldReadEveryKeyOfAFullFile() {
        Path file = ConfigFiles.write(dir, "r0.toml", VALID);
        ResourceConfig r = ConfigLoader.load(file);

        assertEquals("r0", r.name());
        assertEquals(1L << 30, r.size());
        assertEquals(Protocol.C, r.protocol());
        assertEquals(file, r.source());
        NetOptions net = r.net();
        assertEquals("change-me", net.sharedSecret());
        assertEquals(Duration.ofSeconds(10), net.pingInterval());
        assertEquals(Duration.ofMillis(500), net.pingTimeout());
        assertEquals(Duration.ofSeconds(6), net.timeout());
        assertEquals(Duration.ofSeconds(10), net.connectInterval());
        assertEquals(7, net.koCount());
        assertEquals(8L << 20, net.sendBuffer());
        assertEquals(64L << 20, net.journalSize());
        assertEquals(List.of("alpha", "bravo"), List.copyOf(r.nodes().keySet()));
        NodeConfig alpha = r.node("alpha");
        assertEquals(new InetSocketAddress("127.0.0.1", 7789), alpha.replication());
        assertEquals(new InetSocketAddress("127.0.0.1", 10809), alpha.nbd());
        assertEquals(Path.of("/var/lib/jrbd/r0-alpha.img"), alpha.disk());
        assertEquals(Path.of("/var/lib/jrbd/r0-alpha.md"), alpha.metaDisk());
        assertEquals(Path.of("/run/jrbd/alpha.sock"), alpha.controlSocket());
        assertEquals("bravo", r.peerOf("alpha").name());
        assertEquals("alpha", r.peerOf("bravo").name());
        assertEquals(new InetSocketAddress("127.0.0.1", 7790), r.node("bravo").replication());
    }

    @Test
    void shouldReadInternalMetadata() {
        ResourceConfig r = ConfigLoader.load(ConfigFiles.write(dir, "r0.toml",
                edit(VALID, "meta-disk = \"/var/lib/jrbd/r0-alpha.md\"", "meta-disk = \"internal\"")));
        NodeConfig alpha = r.node("alpha");
        assertTrue(alpha.internalMetadata());
        assertNull(alpha.metaDisk());
        assertEquals(Path.of("/var/lib/jrbd/r0-alpha.img"), alpha.disk());
        assertTrue(alpha.toString().contains("metaDisk=internal"), alpha.toString());
        NodeConfig bravo = r.node("bravo");
        assertFalse(bravo.internalMetadata());
        assertEquals(Path.of("/var/lib/jrbd/r0-bravo.md"), bravo.metaDisk());
    }

    @Test
    void shouldReadEveryTableOfAFullFile() {
        String text = edit(VALID, "protocol = \"C\"", "protocol = \"A\"", "journal-size = \"64M\"", """
                journal-size = "64M"
                after-sb-0pri = "discard-zero-changes"
                after-sb-1pri = "discard-secondary"
                after-sb-2pri = "disconnect"
                on-congestion = "pull-ahead"
                congestion-fill = "2G"
                congestion-extents = 1000
                verify-alg = "sha256"
                csums-alg = "crc32c"
                """) + """

                [disk]
                al-extents = 3389
                resync-rate = "40M"
                c-plan-ahead = "3s"
                c-fill-target = "1M"
                c-delay-target = "500ms"
                c-max-rate = "400M"
                c-min-rate = "20M"
                fencing = "resource-only"

                [handlers]
                handler-timeout = "2m"
                """;
        ResourceConfig r = ConfigLoader.load(ConfigFiles.write(dir, "r0.toml", text));
        assertEquals(SplitBrainPolicy.parse("discard-zero-changes", "discard-secondary", "disconnect"), r.splitBrain());
        assertEquals(new CongestionOptions(CongestionOptions.OnCongestion.PULL_AHEAD, 2L << 30, 1000), r.congestion());
        assertEquals(new ChecksumOptions(DigestAlgorithm.SHA256, Optional.of(DigestAlgorithm.CRC32C)), r.checksums());
        assertEquals(new DiskOptions(3389, DiskOptions.Fencing.RESOURCE_ONLY), r.disk());
        assertEquals(new ResyncOptions(40L << 20, Duration.ofSeconds(3), 1L << 20, Duration.ofMillis(500), 400L << 20, 20L << 20),
                r.resync());
        assertEquals(new Handlers(Map.of(), Duration.ofMinutes(2)), r.handlers());
        assertEquals(NetOptions.withDefaults("change-me"), r.net());
    }

    @Test
    void shouldApplyDrbdDefaultsWhenNetHasOnlyTheSecret() {
        String text = RESOURCE.replace("protocol = \"C\"         # A, B or C\n", "")
                + "[net]\nshared-secret = \"change-me\"\n"
                + ALPHA.replace("control-socket = \"/run/jrbd/alpha.sock\"\n", "") + BRAVO;
        ResourceConfig r = ConfigLoader.load(ConfigFiles.write(dir, "r0.toml", text));
        assertEquals(NetOptions.withDefaults("change-me"), r.net());
        assertEquals(Protocol.C, r.protocol());
        assertEquals(NodeConfig.DEFAULT_CONTROL_SOCKET, r.node("alpha").controlSocket());
        assertEquals(Duration.ofSeconds(10), r.net().pingInterval());
        assertEquals(Duration.ofMillis(500), r.net().pingTimeout());
        assertEquals(Duration.ofSeconds(6), r.net().timeout());
        assertEquals(Duration.ofSeconds(10), r.net().connectInterval());
        assertEquals(7, r.net().koCount());
        assertEquals(8L << 20, r.net().sendBuffer());
        assertEquals(64L << 20, r.net().journalSize());
    }

    @Test
    void shouldAcceptOtherSpellings() {
        String text = edit(VALID, "size = \"1G\"", "size = 1073741824", "protocol = \"C\"", "protocol = \"a\"",
                "journal-size = \"64M\"", "journal-size = 0", "ping-interval = \"10s\"", "ping-interval = \"1m\"",
                "127.0.0.1:7790", "[::1]:7790");
        ResourceConfig r = ConfigLoader.load(ConfigFiles.write(dir, "r0.toml", text));
        assertEquals(1L << 30, r.size());
        assertEquals(Protocol.A, r.protocol());
        assertFalse(r.net().journalEnabled());
        assertEquals(Duration.ofMinutes(1), r.net().pingInterval());
        assertEquals("[0:0:0:0:0:0:0:1]:7790", Addresses.format(r.node("bravo").replication()));
    }

    static Stream<Arguments> badFiles() {
        return Stream.of(
            Arguments.of(edit(VALID, "\"500ms\"", "\"5x\""), "net.ping-timeout: '5x' is not a duration (use ms, s or m)"),
            Arguments.of(edit(VALID, "ping-interval = \"10s\"", "ping-interval = 10"), "net.ping-interval: '10' is not a duration (use ms, s or m)"),
            Arguments.of(edit(VALID, "\"C\"", "\"D\""), "resource.protocol: 'D' is not A, B or C"),
            Arguments.of(edit(VALID, "protocol = \"C\"", "protocol = 3"), "resource.protocol: expected a string, found a number (3)"),
            Arguments.of(RESOURCE + NET + ALPHA, "nodes: a resource needs exactly 2 nodes, found 1"),
            Arguments.of(RESOURCE + NET, "nodes: a resource needs exactly 2 nodes, found 0"),
            Arguments.of(VALID + ALPHA.replace("alpha", "charlie").replace("7789", "7791"), "nodes: a resource needs exactly 2 nodes, found 3"),
            Arguments.of("nodes = \"alpha\"\n" + RESOURCE + NET, "nodes: expected a table, found a string ('alpha')"),
            Arguments.of(RESOURCE + NET + "[nodes]\nalpha = \"x\"\nbravo = \"y\"\n", "nodes.alpha: expected a table, found a string ('x')"),
            Arguments.of(edit(VALID, "replication = \"127.0.0.1:7789\"\n", ""), "nodes.alpha.replication: missing"),
            Arguments.of(edit(VALID, "nbd = \"127.0.0.1:10810\"\n", ""), "nodes.bravo.nbd: missing"),
            Arguments.of(edit(VALID, "disk = \"/var/lib/jrbd/r0-alpha.img\"\n", ""), "nodes.alpha.disk: missing"),
            Arguments.of(edit(VALID, "meta-disk = \"/var/lib/jrbd/r0-alpha.md\"\n", ""), "nodes.alpha.meta-disk: missing"),
            Arguments.of(edit(VALID, "ping-interval", "ping-intervall"), "net.ping-intervall: unknown key (did you mean ping-interval?)"),
            Arguments.of(edit(VALID, "disk = \"/var/lib/jrbd/r0-alpha.img\"", "dsik = \"/var/lib/jrbd/r0-alpha.img\""),
                    "nodes.alpha.dsik: unknown key (did you mean disk?)"),
            Arguments.of(VALID + "\n[handler]\nfence-peer = \"/bin/true\"\n", "handler: unknown key (did you mean handlers?)"),
            Arguments.of(VALID + "\n[syncer]\nrate = \"10M\"\n", "syncer: unknown key (known keys: resource, net, disk, handlers, nodes)"),
            Arguments.of(edit(VALID, "name = \"r0\"", "name = \"r0\"\nsyncer = 1"), "resource.syncer: unknown key (known keys: name, size, protocol)"),
            Arguments.of(edit(VALID, "timeout = \"6s\"", "timeout = \"10s\""),
                    "net.timeout: '10s' must be less than net.ping-interval ('10s'): DRBD requires timeout < ping-interval and timeout < connect-interval"),
            Arguments.of(edit(VALID, "connect-interval = \"10s\"", "connect-interval = \"5s\""),
                    "net.timeout: '6s' must be less than net.connect-interval ('5s'): DRBD requires timeout < ping-interval and timeout < connect-interval"),
            Arguments.of(edit(VALID, "127.0.0.1:7790", "127.0.0.1:7789"),
                    "nodes.bravo.replication: '127.0.0.1:7789' is also nodes.alpha.replication; each node needs its own address:port"),
            Arguments.of(edit(VALID, "127.0.0.1:7789", "db1:7789"),
                    "nodes.alpha.replication: 'db1:7789' is not an address: use IP:PORT, e.g. 192.168.1.10:7789 or [fd00::1]:7789"),
            Arguments.of(edit(VALID, "127.0.0.1:7789", "127.0.0.1"),
                    "nodes.alpha.replication: '127.0.0.1' is not an address: use IP:PORT, e.g. 192.168.1.10:7789 or [fd00::1]:7789"),
            Arguments.of(edit(VALID, "127.0.0.1:7789", "127.0.0.1:70000"), "nodes.alpha.replication: '127.0.0.1:70000': port 70000 is not in 1..65535"),
            Arguments.of(edit(VALID, "127.0.0.1:7789", "0.0.0.0:7789"),
                    "nodes.alpha.replication: '0.0.0.0:7789' is a wildcard address; the peer must be able to connect to it, so name this node's own IP"),
            Arguments.of(edit(VALID, "127.0.0.1:10809", "256.0.0.1:10809"),
                    "nodes.alpha.nbd: '256.0.0.1:10809' is not an address: use IP:PORT, e.g. 192.168.1.10:7789 or [fd00::1]:7789"),
            Arguments.of(edit(VALID, "\"/var/lib/jrbd/r0-alpha.img\"", "\"r0-alpha.img\""), "nodes.alpha.disk: 'r0-alpha.img' is not an absolute path"),
            Arguments.of(edit(VALID, "\"/var/lib/jrbd/r0-bravo.md\"", "\"/var/lib/jrbd/r0-bravo.img\""),
                    "nodes.bravo.meta-disk: '/var/lib/jrbd/r0-bravo.img' is also the disk; metadata needs its own file or device"
                    + " (or internal, at the end of the disk)"),
            Arguments.of(edit(VALID, "\"/var/lib/jrbd/r0-alpha.md\"", "\"r0-alpha.md\""),
                    "nodes.alpha.meta-disk: 'r0-alpha.md' is not an absolute path (or internal)"),
            Arguments.of(edit(VALID, "\"/var/lib/jrbd/r0-alpha.md\"", "\"Internal\""),
                    "nodes.alpha.meta-disk: 'Internal' is not an absolute path (or internal)"),
            Arguments.of(edit(VALID, "\"/var/lib/jrbd/r0-alpha.md\"", "true"),
                    "nodes.alpha.meta-disk: expected a string, found a boolean (true)"),
            Arguments.of(edit(VALID, "\"/run/jrbd/alpha.sock\"", "\"alpha.sock\""), "nodes.alpha.control-socket: 'alpha.sock' is not an absolute path"),
            Arguments.of(edit(VALID, "\"/run/jrbd/alpha.sock\"", "\"/run/" + "x".repeat(110) + "\""),
                    "nodes.alpha.control-socket: '/run/" + "x".repeat(110) + "' is 115 bytes long; a Unix socket path has at most 107"),
            Arguments.of(edit(VALID, "shared-secret = \"change-me\"   # required, 8..64 bytes\n", ""), "net.shared-secret: missing"),
            Arguments.of(edit(VALID, "\"change-me\"", "\"short\""), "net.shared-secret: must be 8 to 64 bytes, found 5"),
            Arguments.of(edit(VALID, "\"change-me\"", "\"" + "s".repeat(65) + "\""), "net.shared-secret: must be 8 to 64 bytes, found 65"),
            Arguments.of(edit(VALID, "\"change-me\"", "42"), "net.shared-secret: expected a string, found a number (42)"),
            Arguments.of(edit(VALID, "\"1G\"", "\"1.5G\""), "resource.size: '1.5G' is not a size: use bytes or a number with K, M, G or T"),
            Arguments.of(edit(VALID, "\"1G\"", "1000"), "resource.size: '1000' is not a positive multiple of 512 bytes"),
            Arguments.of(edit(VALID, "\"1G\"", "\"0\""), "resource.size: '0' is not a positive multiple of 512 bytes"),
            Arguments.of(edit(VALID, "\"1G\"", "true"), "resource.size: 'true' is not a size: use bytes or a number with K, M, G or T"),
            Arguments.of(edit(VALID, "size = \"1G\"", "# no size"), "resource.size: missing"),
            Arguments.of(edit(VALID, "name = \"r0\"\n", ""), "resource.name: missing"),
            Arguments.of(edit(VALID, "\"r0\"", "\"r 0\""),
                    "resource.name: 'r 0' is not a resource name (up to 63 letters, digits, '-', '_' or '.', starting with a letter or digit)"),
            Arguments.of(edit(VALID, "[nodes.alpha]", "[nodes.\"al pha\"]"),
                    "nodes.al pha: 'al pha' is not a node name (up to 63 letters, digits, '-', '_' or '.', starting with a letter or digit)"),
            Arguments.of(edit(VALID, "ko-count = 7", "ko-count = \"7\""), "net.ko-count: expected an integer, found a string ('7')"),
            Arguments.of(edit(VALID, "ko-count = 7", "ko-count = 201"), "net.ko-count: '201' is out of range 0..200"),
            Arguments.of(edit(VALID, "\"500ms\"", "\"40s\""), "net.ping-timeout: '40s' is out of range 100ms..30s"),
            Arguments.of(edit(VALID, "ping-interval = \"10s\"", "ping-interval = \"500ms\""), "net.ping-interval: '500ms' is out of range 1s..2m"),
            Arguments.of(edit(VALID, "send-buffer = \"8M\"", "send-buffer = \"1K\""), "net.send-buffer: 1 KiB is out of range 64 KiB..1 GiB"),
            Arguments.of(edit(VALID, "\"64M\"", "\"100K\""), "net.journal-size: 100 KiB is out of range 1 MiB..1 TiB (or 0 for no journal)"),
            Arguments.of(edit(VALID, "\"64M\"", "1048577"), "net.journal-size: 1048577 bytes is not a multiple of 4 KiB"),
            Arguments.of("net = 1\n" + RESOURCE + ALPHA + BRAVO, "net: expected a table, found a number (1)"),
            Arguments.of(edit(VALID, "[net]", "[nte]"), "nte: unknown key (did you mean net?)"));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("badFiles")
    void shouldRejectABadFileNamingFileKeyAndValue(String text, String expected) {
        Path file = ConfigFiles.write(dir, "r0.toml", text);
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(file));
        assertEquals(file + ": " + expected, e.getMessage());
        assertEquals(file, e.file());
    }

    static Stream<Arguments> syntaxErrors() {
        return Stream.of(
            Arguments.of(edit(VALID, "name = \"r0\"", "name = \"r0"), 2, "Newline not permitted here"),
            Arguments.of(edit(VALID, "name = \"r0\"", "name = r0"), 2, "Unknown token"),
            Arguments.of(edit(VALID, "name = \"r0\"", "name = \"r0\"\nname = \"r1\""), 3, "Duplicate key"),
            Arguments.of(edit(VALID, "[nodes.bravo]", "[nodes.alpha]"), 23, "Table redefined"),
            Arguments.of(edit(VALID, "[net]", "[net"), 6, "Newline not permitted here"));
    }

    @ParameterizedTest(name = "line {1}: {2}")
    @MethodSource("syntaxErrors")
    void shouldNameTheLineOfATomlSyntaxError(String text, int line, String problem) {
        Path file = ConfigFiles.write(dir, "r0.toml", text);
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(file));
        assertEquals(file + ": line " + line + ": " + problem + " (TOML syntax error)", e.getMessage());
    }

    @Test
    void shouldRejectAFileThatIsNotUtf8() throws Exception {
        Path file = dir.resolve("r0.toml");
        java.nio.file.Files.write(file, new byte[] {'a', '=', '"', (byte) 0xff, '"', '\n'});
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(file));
        assertEquals(file + ": is not UTF-8 text", e.getMessage());
    }

    @Test
    void shouldNameAMissingFile() {
        Path file = dir.resolve("nope.toml");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(file));
        assertEquals(file + ": cannot read: no such file", e.getMessage());
    }

    @Test
    void shouldLoadEveryResourceOfAFolderSortedByName() {
        ConfigFiles.write(dir, "a.toml", ConfigFiles.resource("zeta", 7000, 7001));
        ConfigFiles.write(dir, "b.toml", ConfigFiles.resource("r1", 7002, 7003));
        ConfigFiles.write(dir, "c.toml", ConfigFiles.resource("r0", 7004, 7005));
        ConfigFiles.write(dir, "notes.txt", "not a resource");
        ConfigFiles.write(dir, ".#c.toml", "editor lock file");
        ConfigFiles.write(dir, "c.toml~", "editor backup");

        List<ResourceConfig> all = ConfigLoader.loadDirectory(dir);
        assertEquals(List.of("r0", "r1", "zeta"), all.stream().map(ResourceConfig::name).toList());
        assertEquals(dir.resolve("c.toml"), all.get(0).source());
    }

    @Test
    void shouldRefuseAnEmptyFolder() {
        ConfigFiles.write(dir, "README", "nothing here");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.loadDirectory(dir));
        assertEquals("no resource files (*.toml) in " + dir, e.getMessage());
        assertEquals(dir, e.file());
    }

    @Test
    void shouldRefuseAMissingFolder() {
        Path missing = dir.resolve("etc-jrbd");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.loadDirectory(missing));
        assertEquals("configuration directory " + missing + " does not exist", e.getMessage());
    }

    @Test
    void shouldRefuseAFileGivenAsFolder() {
        Path file = ConfigFiles.write(dir, "r0.toml", VALID);
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.loadDirectory(file));
        assertEquals(file + ": is not a directory", e.getMessage());
    }

    @Test
    void shouldReportTheFirstBadFileOfAFolder() {
        ConfigFiles.write(dir, "r0.toml", ConfigFiles.resource("r0", 7000, 7001));
        Path bad = ConfigFiles.write(dir, "r1.toml", edit(ConfigFiles.resource("r1", 7002, 7003), "ko-count", "ko-cuont"));
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.loadDirectory(dir));
        assertEquals(bad + ": net.ko-cuont: unknown key (did you mean ko-count?)", e.getMessage());
    }

    @Test
    void shouldNameBothFilesOfADuplicateResourceName() {
        Path first = ConfigFiles.write(dir, "a.toml", ConfigFiles.resource("r0", 7000, 7001));
        Path second = ConfigFiles.write(dir, "b.toml", ConfigFiles.resource("r0", 7002, 7003));
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.loadDirectory(dir));
        assertEquals(second + ": resource.name: 'r0' is already defined in " + first, e.getMessage());
    }

    @Test
    void shouldRefuseTwoResourcesOnOneReplicationPort() {
        Path first = ConfigFiles.write(dir, "r0.toml", ConfigFiles.resource("r0", 7000, 7001));
        Path second = ConfigFiles.write(dir, "r1.toml", ConfigFiles.resource("r1", 7002, 7001));
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.loadDirectory(dir));
        assertEquals(second + ": nodes.bravo.replication: '127.0.0.1:7001' is already used by resource r0 ("
                + first + ", nodes.bravo.replication); each resource needs its own port", e.getMessage());
    }

    @Test
    void shouldGiveANodeItsControlSocketAndResources() {
        ConfigFiles.write(dir, "r0.toml", ConfigFiles.resource("r0", 7000, 7001));
        ConfigFiles.write(dir, "r1.toml", ConfigFiles.resource("r1", 7002, 7003));
        ConfigFiles.write(dir, "r2.toml", edit(ConfigFiles.resource("r2", 7004, 7005), "[nodes.bravo]", "[nodes.charlie]",
                "/run/jrbd/alpha.sock", "/run/jrbd/other.sock"));
        List<ResourceConfig> all = ConfigLoader.loadDirectory(dir);

        NodeSettings bravo = ConfigLoader.nodeSettings(all, "bravo");
        assertEquals(Path.of("/run/jrbd/bravo.sock"), bravo.controlSocket());
        assertEquals(List.of("r0", "r1"), bravo.resources().stream().map(ResourceConfig::name).toList());

        NodeSettings charlie = ConfigLoader.nodeSettings(all, "charlie");
        assertEquals(List.of("r2"), charlie.resources().stream().map(ResourceConfig::name).toList());
    }

    @Test
    void shouldNameBothFilesWhenANodeHasTwoControlSockets() {
        Path first = ConfigFiles.write(dir, "r0.toml", ConfigFiles.resource("r0", 7000, 7001));
        Path second = ConfigFiles.write(dir, "r1.toml", edit(ConfigFiles.resource("r1", 7002, 7003),
                "/run/jrbd/alpha.sock", "/run/jrbd/alpha2.sock"));
        List<ResourceConfig> all = ConfigLoader.loadDirectory(dir);
        assertEquals(Path.of("/run/jrbd/bravo.sock"), ConfigLoader.nodeSettings(all, "bravo").controlSocket());
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.nodeSettings(all, "alpha"));
        assertEquals(second + ": nodes.alpha.control-socket: '/run/jrbd/alpha2.sock' differs from '/run/jrbd/alpha.sock' in "
                + first + "; all resources of a node share one control socket", e.getMessage());
    }

    @Test
    void shouldRefuseANodeThatNoResourceHas() {
        ConfigFiles.write(dir, "r0.toml", VALID);
        List<ResourceConfig> all = ConfigLoader.loadDirectory(dir);
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.nodeSettings(all, "charlie"));
        assertEquals("no resource has a node named 'charlie' (nodes: alpha, bravo)", e.getMessage());
    }
}
