package io.jrbd.replicator.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ResourceConfigTest {
    private static NodeConfig node(String name, int port) {
        return new NodeConfig(name, new InetSocketAddress("127.0.0.1", port), new InetSocketAddress("127.0.0.1", port + 3000),
                Path.of("/var/lib/jrbd/" + name + ".img"), Path.of("/var/lib/jrbd/" + name + ".md"), NodeConfig.DEFAULT_CONTROL_SOCKET);
    }

    private static Map<String, NodeConfig> nodes(NodeConfig... list) {
        Map<String, NodeConfig> m = new LinkedHashMap<>();
        for (NodeConfig n : list) {
            m.put(n.name(), n);
        }
        return m;
    }

    private static ResourceConfig resource(Map<String, NodeConfig> nodes) {
        return new ResourceConfig("r0", 1L << 20, Protocol.C, NetOptions.withDefaults("change-me"), nodes, null);
    }

    @Test
    void shouldKeepNodesInNameOrderAndUnmodifiable() {
        ResourceConfig r = resource(nodes(node("zulu", 7001), node("alpha", 7000)));
        assertEquals(List.of("alpha", "zulu"), List.copyOf(r.nodes().keySet()));
        assertThrows(UnsupportedOperationException.class, () -> r.nodes().remove("alpha"));
        assertTrue(r.hasNode("zulu"));
        assertFalse(r.hasNode("bravo"));
        assertEquals("zulu", r.peerOf("alpha").name());
    }

    @Test
    void shouldNameTheNodesWhenAskedForAnUnknownOne() {
        ResourceConfig r = resource(nodes(node("alpha", 7000), node("bravo", 7001)));
        ConfigException e = assertThrows(ConfigException.class, () -> r.peerOf("charlie"));
        assertEquals("nodes: resource 'r0' has no node 'charlie' (its nodes are alpha, bravo)", e.getMessage());
        assertNull(e.file());
    }

    @Test
    void shouldValidateWhenBuiltInCode() {
        ConfigException e = assertThrows(ConfigException.class, () -> resource(nodes(node("alpha", 7000))));
        assertEquals("nodes: a resource needs exactly 2 nodes, found 1", e.getMessage());
        ConfigException size = assertThrows(ConfigException.class, () -> new ResourceConfig("r0", 513, Protocol.C,
                NetOptions.withDefaults("change-me"), nodes(node("alpha", 7000), node("bravo", 7001)), null));
        assertEquals("resource.size", size.key());
        assertEquals("'513' is not a positive multiple of 512 bytes", size.problem());
        Map<String, NodeConfig> misnamed = new LinkedHashMap<>();
        misnamed.put("alpha", node("alpha", 7000));
        misnamed.put("bravo", node("charlie", 7001));
        ConfigException keyed = assertThrows(ConfigException.class, () -> resource(misnamed));
        assertEquals("nodes.bravo: is keyed 'bravo' but named 'charlie'", keyed.getMessage());
    }

    @Test
    void shouldGiveDefaultOptionsWhenBuiltWithoutThem() {
        ResourceConfig r = resource(nodes(node("alpha", 7000), node("bravo", 7001)));
        assertEquals(SplitBrainPolicy.DEFAULT, r.splitBrain());
        assertEquals(CongestionOptions.defaults(1237), r.congestion());
        assertEquals(ChecksumOptions.DEFAULTS, r.checksums());
        assertEquals(DiskOptions.DEFAULTS, r.disk());
        assertEquals(ResyncOptions.DEFAULTS, r.resync());
        assertEquals(Handlers.NONE, r.handlers());
    }

    @Test
    void shouldCheckSettingsThatTieTablesTogetherWhenBuiltInCode() {
        Map<String, NodeConfig> nodes = nodes(node("alpha", 7000), node("bravo", 7001));
        NetOptions net = NetOptions.withDefaults("change-me");
        ConfigException node = assertThrows(ConfigException.class, () -> new ResourceConfig("r0", 1L << 20, Protocol.C, net,
                SplitBrainPolicy.parse("discard-node-zulu", null, null), CongestionOptions.defaults(1237), ChecksumOptions.DEFAULTS,
                DiskOptions.DEFAULTS, ResyncOptions.DEFAULTS, Handlers.NONE, nodes, null));
        assertEquals("net.after-sb-0pri: 'discard-node-zulu' names no node of this resource (its nodes are alpha, bravo)",
                node.getMessage());
        ConfigException missing = assertThrows(ConfigException.class, () -> new ResourceConfig("r0", 1L << 20, Protocol.C, net,
                SplitBrainPolicy.DEFAULT, CongestionOptions.defaults(1237), ChecksumOptions.DEFAULTS, null,
                ResyncOptions.DEFAULTS, Handlers.NONE, nodes, null));
        assertEquals("disk: missing", missing.getMessage());
        ResourceConfig ok = new ResourceConfig("r0", 1L << 20, Protocol.A, net, SplitBrainPolicy.parse("discard-node-bravo", null, null),
                new CongestionOptions(CongestionOptions.OnCongestion.PULL_AHEAD, 0, 7), ChecksumOptions.DEFAULTS,
                DiskOptions.DEFAULTS, ResyncOptions.DEFAULTS, Handlers.NONE, nodes, null);
        assertEquals("bravo", ok.splitBrain().discardNode());
    }

    @Test
    void shouldKeepInternalMetadataApartFromThePathForm() {
        NodeConfig internal = new NodeConfig("alpha", new InetSocketAddress("127.0.0.1", 7000), new InetSocketAddress("127.0.0.1", 10000),
                Path.of("/dev/vg0/r0"), null, NodeConfig.DEFAULT_CONTROL_SOCKET);
        assertTrue(internal.internalMetadata());
        assertNull(internal.metaDisk());
        assertFalse(node("bravo", 7001).internalMetadata());
    }

    @Test
    void shouldNeverShowTheSecret() {
        NetOptions net = NetOptions.withDefaults("very-secret-words");
        assertFalse(net.toString().contains("very-secret-words"), net.toString());
        assertFalse(resource(nodes(node("alpha", 7000), node("bravo", 7001))).toString().contains("change-me"));
        assertEquals("NetOptions[sharedSecret=<hidden>, pingInterval=10s, pingTimeout=500ms, timeout=6s, connectInterval=10s, "
                + "koCount=7, sendBuffer=8 MiB, journalSize=64 MiB]", net.toString());
    }

    @Test
    void shouldCountSecretLengthInUtf8Bytes() {
        // 4 characters, 8 bytes.
        assertEquals(8, NetOptions.withDefaults("éééé").sharedSecretBytes().length);
        ConfigException e = assertThrows(ConfigException.class, () -> NetOptions.withDefaults("é".repeat(33)));
        assertEquals("net.shared-secret: must be 8 to 64 bytes, found 66", e.getMessage());
    }

    @Test
    void shouldAllowTimeoutJustBelowPingAndConnectIntervals() {
        NetOptions n = new NetOptions("change-me", Duration.ofSeconds(2), Duration.ofMillis(500), Duration.ofMillis(1999),
                Duration.ofSeconds(2), 0, 64 << 10, 0);
        assertEquals(Duration.ofMillis(1999), n.timeout());
    }
}
