package io.jrbd.resync;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ByteRangesTest {
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = ';', value = {
        "apart stay apart;             0+10 20+10;        0+10, 20+10",
        "touching merge;               0+10 10+10;        0+20",
        "overlapping merge;            0+15 10+10;        0+20",
        "contained is absorbed;        0+100 10+10;       0+100",
        "containing absorbs;           10+10 0+100;       0+100",
        "bridge joins three;           0+10 20+10 10+10;  0+30",
        "added out of order;           50+5 0+5 25+5;     0+5, 25+5, 50+5",
        "spanning several;             0+1 2+1 4+1 6+1 1+5; 0+7",
        "empty range ignored;          5+0 10+1;          10+1",
    })
    void shouldMergeRanges(String title, String adds, String expected) {
        ByteRanges ranges = new ByteRanges();
        for (String add : adds.trim().split(" ")) {
            String[] parts = add.split("\\+");
            ranges.add(Long.parseLong(parts[0]), Long.parseLong(parts[1]));
        }

        assertEquals(expected.trim(), ranges.toString());
    }

    @Test
    void shouldAgreeWithAByteByByteModelForRandomAdds() {
        Random random = new Random(42);
        for (int round = 0; round < 200; round++) {
            ByteRanges ranges = new ByteRanges();
            TreeSet<Long> bytes = new TreeSet<>();
            for (int i = 0; i < 20; i++) {
                long offset = random.nextInt(200);
                long length = random.nextInt(12);
                ranges.add(offset, length);
                for (long b = offset; b < offset + length; b++) {
                    bytes.add(b);
                }
            }

            assertEquals(bytes.size(), ranges.totalBytes());
            long[] pairs = ranges.flatten();
            assertEquals(2 * ranges.count(), pairs.length);
            TreeSet<Long> covered = new TreeSet<>();
            for (int i = 0; i < pairs.length; i += 2) {
                assertTrue(pairs[i + 1] > 0);
                if (i > 0) {
                    assertTrue(pairs[i] > pairs[i - 2] + pairs[i - 1], "ranges touch at " + pairs[i]);
                }
                for (long b = pairs[i]; b < pairs[i] + pairs[i + 1]; b++) {
                    covered.add(b);
                }
            }
            assertEquals(bytes, covered);
        }
    }

    @Test
    void shouldDescribeAtMostMaxRangesAndCountTheRest() {
        ByteRanges ranges = new ByteRanges().add(12288, 4096).add(1048576, 8192).add(2 << 20, 4096)
                .add(3 << 20, 512);

        assertEquals(List.of("12288+4096", "1048576+8192", "... 2 more ranges (4608 bytes)"), ranges.describe(2));
        assertEquals(List.of("12288+4096", "1048576+8192", "2097152+4096", "... 1 more range (512 bytes)"),
                ranges.describe(3));
        assertEquals(4, ranges.describe(4).size());
        assertEquals(List.of("... 4 more ranges (16896 bytes)"), ranges.describe(0));
        assertEquals(16896, ranges.totalBytes());
        assertEquals(4, ranges.count());
    }

    @Test
    void shouldTurnSetBitsIntoRangesCutAtTheDevicesEnd() {
        byte[] mask = {(byte) 0b1000_0110, 0b0000_0011, (byte) 0xff};
        long deviceSize = 1_000_000 + 9 * 4096 + 100;

        ByteRanges ranges = ByteRanges.fromBits(1_000_000, 4096, mask, 10, deviceSize);

        assertArrayEquals(new long[] {1_004_096, 8192, 1_028_672, 2 * 4096 + 100}, ranges.flatten());
    }

    @Test
    void shouldGatherBitsOfSeveralBatches() {
        ByteRanges ranges = new ByteRanges();

        ranges.addBits(0, 4096, new byte[] {(byte) 0x80}, 8, 1 << 20);
        ranges.addBits(8 * 4096, 4096, new byte[] {0x01}, 8, 1 << 20);

        assertEquals("28672+8192", ranges.toString());
    }

    @Test
    void shouldRefuseBitsPastTheDevice() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ByteRanges.fromBits(0, 4096, new byte[2], 9, 8 * 4096));

        assertEquals("9 blocks of 4096 from 0 reach past the device's end at 32768", e.getMessage());
    }

    @Test
    void shouldRefuseAShortMask() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ByteRanges.fromBits(0, 4096, new byte[1], 9, 1 << 20));

        assertEquals("9 blocks need 2 bytes of mask, got 1", e.getMessage());
    }

    @Test
    void shouldRefuseNegativeAndOverflowingRanges() {
        ByteRanges ranges = new ByteRanges();

        assertEquals("range -1+10: offset and length must not be negative",
                assertThrows(IllegalArgumentException.class, () -> ranges.add(-1, 10)).getMessage());
        assertEquals("range " + (Long.MAX_VALUE - 5) + "+10 ends past " + Long.MAX_VALUE,
                assertThrows(IllegalArgumentException.class, () -> ranges.add(Long.MAX_VALUE - 5, 10)).getMessage());
        assertTrue(ranges.isEmpty());
    }
}
