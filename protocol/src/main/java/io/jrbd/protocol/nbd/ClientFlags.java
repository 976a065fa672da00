package io.jrbd.protocol.nbd;

/** The 32-bit flags a client sends right after the server's greeting. */
public record ClientFlags(int bits) {
    public boolean noZeroes() {
        return (bits & NbdFlags.C_NO_ZEROES) != 0;
    }

    public boolean fixedNewstyle() {
        return (bits & NbdFlags.C_FIXED_NEWSTYLE) != 0;
    }

    /** Bits the spec does not define; a server must close the connection when any is set. */
    public int unknownBits() {
        return bits & ~NbdFlags.KNOWN_CLIENT_FLAGS;
    }
}
