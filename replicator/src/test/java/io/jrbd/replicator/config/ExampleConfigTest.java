package io.jrbd.replicator.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The commented example shipped for /etc/jrbd must load as it is, with the defaults it claims. */
class ExampleConfigTest {
    private static final Path EXAMPLE = Path.of("..", "packaging", "etc", "r0.toml.example");

    @Test
    void theShippedExampleLoadsWithInternalMetadataAndTheDefaultsItDocuments() throws Exception {
        ResourceConfig r = ConfigLoader.parse(Files.readString(EXAMPLE), EXAMPLE);
        assertEquals("r0", r.name());
        assertEquals(10L << 30, r.size());
        assertEquals(Protocol.C, r.protocol());
        assertTrue(r.node("alpha").internalMetadata());
        assertEquals(1237, r.disk().alExtents());
        assertEquals(SplitBrainPolicy.DEFAULT, r.splitBrain());
        assertEquals(100L << 20, r.resync().maxRate());
    }
}
