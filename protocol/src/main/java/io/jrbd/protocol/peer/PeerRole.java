package io.jrbd.protocol.peer;

/** A node's role for one resource, as STATE carries it; names are spelled as DRBD spells them. */
public enum PeerRole {
    Secondary(0),
    Primary(1);

    private final int code;

    PeerRole(int code) {
        this.code = code;
    }

    /** The u8 written on the wire. */
    public int code() {
        return code;
    }

    /** The role with wire code {@code code}, or {@code null} if no role has it. */
    public static PeerRole ofCode(int code) {
        switch (code) {
            case 0:
                return Secondary;
            case 1:
                return Primary;
            default:
                return null;
        }
    }
}
