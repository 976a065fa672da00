package io.jrbd.protocol.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ClientFlagsTest {
    @ParameterizedTest(name = "bits 0x{0}: fixed newstyle {1}, no zeroes {2}, unknown 0x{3}")
    @CsvSource({
            "00000000, false, false, 00000000",
            "00000001, true,  false, 00000000",
            "00000002, false, true,  00000000",
            "00000003, true,  true,  00000000",
            "00000004, false, false, 00000004",
            "80000003, true,  true,  80000000",
            "ffffffff, true,  true,  fffffffc",
    })
    void shouldSplitBitsIntoKnownFlagsAndUnknownBits(String bitsHex, boolean fixed, boolean noZeroes, String unknownHex) {
        ClientFlags flags = new ClientFlags(Integer.parseUnsignedInt(bitsHex, 16));

        assertEquals(fixed, flags.fixedNewstyle());
        assertEquals(noZeroes, flags.noZeroes());
        assertEquals(Integer.parseUnsignedInt(unknownHex, 16), flags.unknownBits());
    }

    @Test
    void shouldTreatEveryBitAboveTheSecondAsUnknown() {
        for (int bit = 2; bit < 32; bit++) {
            ClientFlags flags = new ClientFlags(NbdFlags.C_FIXED_NEWSTYLE | 1 << bit);
            assertEquals(1 << bit, flags.unknownBits(), "bit " + bit);
            assertTrue(flags.fixedNewstyle());
            assertFalse(flags.noZeroes());
        }
    }
}
