package io.jrbd.protocol.nbd;

/** Bit flags of the handshake, of an export (transmission flags) and of a request (command flags). */
public final class NbdFlags {
    // Handshake flags, sent by the server in the greeting (16 bits).
    public static final int FIXED_NEWSTYLE = 1;
    public static final int NO_ZEROES = 1 << 1;

    // Client flags, sent once after the greeting (32 bits). Any other bit closes the connection.
    public static final int C_FIXED_NEWSTYLE = 1;
    public static final int C_NO_ZEROES = 1 << 1;
    public static final int KNOWN_CLIENT_FLAGS = C_FIXED_NEWSTYLE | C_NO_ZEROES;

    // Transmission flags (16 bits), sent with NBD_INFO_EXPORT or the EXPORT_NAME reply.
    public static final int HAS_FLAGS = 1;
    public static final int READ_ONLY = 1 << 1;
    public static final int SEND_FLUSH = 1 << 2;
    public static final int SEND_FUA = 1 << 3;
    public static final int ROTATIONAL = 1 << 4;
    public static final int SEND_TRIM = 1 << 5;
    public static final int SEND_WRITE_ZEROES = 1 << 6;
    public static final int SEND_DF = 1 << 7;
    public static final int CAN_MULTI_CONN = 1 << 8;
    public static final int SEND_RESIZE = 1 << 9;
    public static final int SEND_CACHE = 1 << 10;
    public static final int SEND_FAST_ZERO = 1 << 11;

    // Command flags (16 bits), per request.
    public static final int CMD_FUA = 1;
    public static final int CMD_NO_HOLE = 1 << 1;
    public static final int CMD_DF = 1 << 2;
    public static final int CMD_REQ_ONE = 1 << 3;
    public static final int CMD_FAST_ZERO = 1 << 4;

    // Structured reply chunk flags.
    public static final int REPLY_DONE = 1;

    // base:allocation extent status bits.
    public static final int STATE_HOLE = 1;
    public static final int STATE_ZERO = 1 << 1;

    private NbdFlags() {
    }
}
