package io.jrbd.systest;

import static io.jrbd.systest.TwoNodes.ALPHA;
import static io.jrbd.systest.TwoNodes.BRAVO;
import static io.jrbd.systest.TwoNodes.RESOURCE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Damaged metadata is refused at {@code up} with a message naming the structure, and neither the
 * file nor the daemon is harmed: the administrator can inspect it, restore it, or recreate it.
 * (One damaged superblock copy, or one activity log slot, is what a torn write leaves; the other
 * copy is used then. Both copies damaged is corruption.)
 */
class CorruptMetadataTest {
    private static final long SLOT_B = 4096;
    private static final long AL = 8192;
    private static final long AL_SLOT = 16384;
    private static final long BITMAP = 40960 + 4096; // after the CRC table (one 4 KiB block for a small device)

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0}")
    @CsvSource({
            "superblock, 50, " + (SLOT_B + 50) + ", 'superblock: both copies are corrupt'",
            "activity log, " + (AL + 20) + ", " + (AL + AL_SLOT + 20) + ", 'activity log: no valid transaction in any slot'",
            "bitmap, " + (BITMAP + 10) + ", -1, 'bitmap page 0: checksum mismatch'"})
    void damaged_metadata_is_refused_at_up_naming_the_structure(String structure, long first, long second, String message)
            throws Exception {
        try (TwoNodes nodes = TwoNodes.configure(dir, new TwoNodes.Options().size("16M"))) {
            Path md = dir.resolve(RESOURCE + "-" + BRAVO + ".md");
            ResyncTest.flipByte(md, first);
            if (second >= 0) {
                ResyncTest.flipByte(md, second);
            }
            String before = TwoNodes.sha256(md);
            nodes.startDaemon(BRAVO);
            String out = nodes.jrbdadm(BRAVO, "up", RESOURCE).assertFailure(message);
            assertTrue(out.contains(md.toString()), "the message names the file: " + out);
            assertEquals(before, TwoNodes.sha256(md), "refusing must not write to the damaged " + structure);
            assertTrue(nodes.alive(BRAVO), "the daemon died");
            assertEquals("Diskless", nodes.statusJson(BRAVO).path("disk").asText());
            nodes.jrbdadm(BRAVO, "dump-md", RESOURCE).assertFailure(message);

            nodes.startDaemon(ALPHA);
            nodes.jrbdadm(ALPHA, "up", RESOURCE).assertOk(); // the healthy node is unaffected
        }
    }
}
