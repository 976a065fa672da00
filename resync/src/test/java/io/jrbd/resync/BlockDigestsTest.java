package io.jrbd.resync;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Random;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class BlockDigestsTest {
    private static final int BLOCK = 4096;

    @ParameterizedTest(name = "{0} is {1} bytes")
    @CsvSource({"crc32c, 4", "sha1, 20", "sha256, 32", "SHA256, 32", " Crc32C , 4"})
    void shouldKnowEachAlgorithmsLength(String name, int length) {
        BlockDigests digests = BlockDigests.forName(name);

        assertEquals(length, digests.digestLength());
        assertEquals(name.trim().toLowerCase(), digests.name());
    }

    @Test
    void shouldListTheKnownNamesWhenTheNameIsUnknown() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BlockDigests.forName("md4"));

        assertEquals("unknown digest algorithm \"md4\"; known: crc32c, sha1, sha256", e.getMessage());
    }

    @Test
    void shouldWriteCrc32cOfEachBlockBigEndian() {
        byte[] data = randomBytes(2 * BLOCK + 100, 1);
        BlockDigests digests = BlockDigests.forName("crc32c");
        byte[] out = new byte[3 * 4];

        int blocks = digests.digest(ByteBuffer.wrap(data), BLOCK, out);

        assertEquals(3, blocks);
        for (int b = 0; b < 3; b++) {
            CRC32C crc = new CRC32C();
            crc.update(data, b * BLOCK, Math.min(BLOCK, data.length - b * BLOCK));
            byte[] expected = ByteBuffer.allocate(4).putInt((int) crc.getValue()).array();
            assertArrayEquals(expected, Arrays.copyOfRange(out, b * 4, b * 4 + 4), "block " + b);
        }
    }

    @Test
    void shouldWriteSha256OfEachBlockWithTheLastOnePartial() throws Exception {
        byte[] data = randomBytes(3 * BLOCK - 1, 2);
        BlockDigests digests = BlockDigests.forName("sha256");
        byte[] out = new byte[3 * 32];

        digests.digest(data, 0, data.length, BLOCK, out);

        for (int b = 0; b < 3; b++) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(data, b * BLOCK, Math.min(BLOCK, data.length - b * BLOCK));
            assertArrayEquals(md.digest(), Arrays.copyOfRange(out, b * 32, b * 32 + 32), "block " + b);
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"crc32c", "sha1", "sha256"})
    void shouldGiveTheSameDigestsForHeapDirectAndArrayData(String name) {
        byte[] data = randomBytes(5 * BLOCK + 17, 3);
        int offset = 3;
        int length = data.length - offset - 5;
        BlockDigests digests = BlockDigests.forName(name);
        int blocks = BlockDigests.blocks(length, BLOCK);
        byte[] fromArray = new byte[blocks * digests.digestLength()];
        byte[] fromHeap = new byte[fromArray.length];
        byte[] fromDirect = new byte[fromArray.length];
        ByteBuffer heap = ByteBuffer.wrap(data, offset, length);
        ByteBuffer direct = ByteBuffer.allocateDirect(data.length).put(data);
        direct.limit(offset + length).position(offset);

        digests.digest(data, offset, length, BLOCK, fromArray);
        digests.digest(heap, BLOCK, fromHeap);
        digests.digest(direct, BLOCK, fromDirect);

        assertArrayEquals(fromArray, fromHeap);
        assertArrayEquals(fromArray, fromDirect);
        assertEquals(offset, heap.position());
        assertEquals(offset + length, heap.limit());
        assertEquals(offset, direct.position());
        assertEquals(offset + length, direct.limit());
    }

    @Test
    void shouldMarkExactlyTheBlocksThatDifferLeastSignificantBitFirst() {
        byte[] mine = randomBytes(10 * BLOCK, 4);
        byte[] theirs = mine.clone();
        theirs[BLOCK * 1] ^= 1;
        theirs[BLOCK * 8 + 4095] ^= (byte) 0x80;
        theirs[BLOCK * 9 + 77] ^= 4;
        BlockDigests digests = BlockDigests.forName("crc32c");
        byte[] myDigests = new byte[10 * 4];
        byte[] theirDigests = new byte[10 * 4];
        digests.digest(mine, 0, mine.length, BLOCK, myDigests);
        digests.digest(theirs, 0, theirs.length, BLOCK, theirDigests);

        byte[] mask = BlockDigests.differing(myDigests, theirDigests, 4, 10);

        assertArrayEquals(new byte[] {0b0000_0010, 0b0000_0011}, mask);
    }

    @Test
    void shouldFindNothingDifferingInEqualDigests() {
        byte[] digests = randomBytes(32 * 9, 5);

        assertArrayEquals(new byte[2], BlockDigests.differing(digests, digests.clone(), 32, 9));
    }

    @Test
    void shouldDigestNothingForEmptyData() {
        assertEquals(0, BlockDigests.forName("sha256").digest(ByteBuffer.allocate(0), BLOCK, new byte[0]));
    }

    @Test
    void shouldRefuseAnOutputArrayTooSmall() {
        BlockDigests digests = BlockDigests.forName("sha256");

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> digests.digest(ByteBuffer.allocate(2 * BLOCK), BLOCK, new byte[63]));

        assertEquals("2 blocks need 64 bytes of sha256 digests, the output array has 63", e.getMessage());
    }

    @Test
    void shouldRefuseBadBlockSizesAndShortDigestArrays() {
        BlockDigests digests = BlockDigests.forName("crc32c");

        assertEquals("blockSize must be above 0, got 0", assertThrows(IllegalArgumentException.class,
                () -> digests.digest(ByteBuffer.allocate(10), 0, new byte[40])).getMessage());
        assertEquals("3 digests of 4 bytes need 12 bytes, got 12 (mine) and 8 (theirs)",
                assertThrows(IllegalArgumentException.class,
                        () -> BlockDigests.differing(new byte[12], new byte[8], 4, 3)).getMessage());
    }

    private static byte[] randomBytes(int length, long seed) {
        byte[] bytes = new byte[length];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }
}
