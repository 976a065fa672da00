package io.jrbd.protocol.peer;

/** The message types of the peer protocol and their 16-bit wire codes (see {@link PeerWire}). */
public enum PeerMessageType {
    HELLO(1),
    AUTH(2),
    AUTH_OK(3),
    STATE(4),
    DATA(10),
    TRIM(11),
    ZEROES(12),
    FLUSH(13),
    RECV_ACK(20),
    WRITE_ACK(21),
    SYNC_ACK(22),
    PING(30),
    PING_ACK(31),
    SYNC_START(40),
    SYNC_DONE(41),
    OUT_OF_SYNC(42),
    DIGEST_REQUEST(43),
    DIGEST_REPLY(44),
    INVALIDATE_REQUEST(45),
    GOODBYE(50);

    private static final PeerMessageType[] BY_CODE = new PeerMessageType[51];

    static {
        for (PeerMessageType t : values()) {
            BY_CODE[t.code] = t;
        }
    }

    private final int code;

    PeerMessageType(int code) {
        this.code = code;
    }

    /** The u16 written in the frame header. */
    public int code() {
        return code;
    }

    /** The type with wire code {@code code}, or {@code null} if no type has it. */
    public static PeerMessageType ofCode(int code) {
        return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }

    /**
     * True for the messages a node may send or accept before authentication has completed in
     * both directions: HELLO, AUTH, AUTH_OK and GOODBYE.
     */
    public boolean allowedBeforeAuth() {
        return this == HELLO || this == AUTH || this == AUTH_OK || this == GOODBYE;
    }
}
