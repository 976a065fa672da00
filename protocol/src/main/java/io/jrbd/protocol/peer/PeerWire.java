package io.jrbd.protocol.peer;

/**
 * The layout of the peer-to-peer replication protocol: one frame header, then a payload whose
 * layout depends on the type. Every integer is big-endian and unsigned on the wire.
 *
 * <pre>
 * frame:
 * +--------------------+---------+---------+------------------+-----------------------+
 * | magic 0x6A524244 4 | type 2  | flags 2 | payload length 4 | payload (length)      |
 * |   "jRBD"           |         |  (0)    |  &lt;= MAX_PAYLOAD  |                       |
 * +--------------------+---------+---------+------------------+-----------------------+
 *
 * payloads (string = | byte length 2 | UTF-8 bytes |):
 *  1 HELLO       | version 2 | resource string | node string | nonce 32 |
 *  2 AUTH        | hmac 32 |
 *  3 AUTH_OK     (empty)
 *  4 STATE       | role 1 | disk 1 | size 8 | appliedSeq 8 | journalFirstSeq 8 |
 *                | journalLastSeq 8 | currentGeneration 8 | flags 4 |            (46 bytes)
 * 10 DATA        | seq 8 | offset 8 | flags 2 | data (rest of payload, may be empty) |
 * 11 TRIM        | seq 8 | offset 8 | length 8 |
 * 12 ZEROES      | seq 8 | offset 8 | length 8 | flags 2 |
 * 13 FLUSH       | seq 8 |
 * 20 RECV_ACK    | seq 8 |      cumulative: every write up to and including seq received
 * 21 WRITE_ACK   | seq 8 |      ... written
 * 22 SYNC_ACK    | seq 8 |      ... made durable
 * 30 PING        | nonce 8 |
 * 31 PING_ACK    | nonce 8 |
 * 40 SYNC_START  | totalBytes 8 |
 * 41 SYNC_DONE   | seq 8 |
 * 50 GOODBYE     | reason string (at most 1024 bytes) |
 * </pre>
 *
 * <p>No header flag is defined yet: a sender writes 0 and a receiver rejects any other value,
 * so a flag can be given a meaning later without old nodes misreading it. Offsets, lengths and
 * sizes are u64 on the wire but must fit a Java {@code long} (top bit clear), and
 * {@code offset + length} must not pass {@link Long#MAX_VALUE}; the decoder rejects anything
 * else. Sequence numbers, generations, nonces and STATE flags are opaque 64/32-bit values.
 */
public final class PeerWire {
    /** "jRBD" in ASCII: opens every frame. */
    public static final int MAGIC = 0x6A524244;
    /** The version this code speaks, sent in HELLO. */
    public static final int PROTOCOL_VERSION = 1;

    public static final int MAGIC_OFFSET = 0;
    public static final int TYPE_OFFSET = 4;
    public static final int FLAGS_OFFSET = 6;
    public static final int LENGTH_OFFSET = 8;
    public static final int HEADER_LENGTH = 12;

    /** The largest payload: a 32 MiB DATA write plus room for its fixed part. */
    public static final int MAX_PAYLOAD = 32 * 1024 * 1024 + 64;

    /** Length of the HELLO nonce and of the AUTH HMAC-SHA256 proof. */
    public static final int NONCE_LENGTH = 32;
    public static final int HMAC_LENGTH = 32;
    /** Resource and node names: at most this many bytes of UTF-8, never empty, no NUL. */
    public static final int MAX_NAME_BYTES = 255;
    /** GOODBYE reasons: at most this many bytes of UTF-8. */
    public static final int MAX_REASON_BYTES = 1024;
    /** The byte length in front of every string. */
    public static final int STRING_LENGTH_PREFIX = 2;

    /** Shortest HELLO: version, two one-byte names, nonce. */
    public static final int HELLO_MIN_LENGTH = 2 + 2 * (STRING_LENGTH_PREFIX + 1) + NONCE_LENGTH;
    /** Longest version-1 HELLO: version, two 255-byte names, nonce. */
    public static final int HELLO_V1_MAX_LENGTH = 2 + 2 * (STRING_LENGTH_PREFIX + MAX_NAME_BYTES) + NONCE_LENGTH;
    /**
     * Longest HELLO accepted at all. HELLO's layout is frozen: a later version may only append
     * fields, so a node can read a newer peer's HELLO, see the version and say GOODBYE clearly.
     */
    public static final int HELLO_MAX_LENGTH = 4096;
    public static final int AUTH_LENGTH = HMAC_LENGTH;
    public static final int STATE_LENGTH = 1 + 1 + 8 + 8 + 8 + 8 + 8 + 4;
    /** DATA's fixed part; the written bytes follow it. */
    public static final int DATA_FIXED_LENGTH = 8 + 8 + 2;
    /** The most bytes one DATA message carries. */
    public static final int MAX_DATA_LENGTH = MAX_PAYLOAD - DATA_FIXED_LENGTH;
    public static final int TRIM_LENGTH = 8 + 8 + 8;
    public static final int ZEROES_LENGTH = 8 + 8 + 8 + 2;
    /** FLUSH, the three acks, PING, PING_ACK, SYNC_START, SYNC_DONE: one u64. */
    public static final int U64_LENGTH = 8;
    public static final int GOODBYE_MIN_LENGTH = STRING_LENGTH_PREFIX;
    public static final int GOODBYE_MAX_LENGTH = STRING_LENGTH_PREFIX + MAX_REASON_BYTES;

    /** DATA flag: the write is durable on the peer before it is acknowledged (forced unit access). */
    public static final int DATA_FUA = 1;
    /** DATA flag: resync data, not an application write. */
    public static final int DATA_RESYNC = 2;
    public static final int DATA_KNOWN_FLAGS = DATA_FUA | DATA_RESYNC;

    /** ZEROES flag: the range must stay allocated (no hole punched). */
    public static final int ZEROES_NO_HOLE = 1;
    /** ZEROES flag: the peer may deallocate the range if it then reads as zeroes. */
    public static final int ZEROES_MAY_TRIM = 2;
    public static final int ZEROES_KNOWN_FLAGS = ZEROES_NO_HOLE | ZEROES_MAY_TRIM;

    private PeerWire() {
    }

    /**
     * The shortest payload a frame of {@code type} may carry.
     */
    public static int minPayloadLength(PeerMessageType type) {
        switch (type) {
            case HELLO:
                return HELLO_MIN_LENGTH;
            case GOODBYE:
                return GOODBYE_MIN_LENGTH;
            case DATA:
                return DATA_FIXED_LENGTH;
            default:
                return fixedPayloadLength(type);
        }
    }

    /**
     * The longest payload a frame of {@code type} may carry; checked when the header arrives,
     * before any of the payload is buffered.
     */
    public static int maxPayloadLength(PeerMessageType type) {
        switch (type) {
            case HELLO:
                return HELLO_MAX_LENGTH;
            case GOODBYE:
                return GOODBYE_MAX_LENGTH;
            case DATA:
                return MAX_PAYLOAD;
            default:
                return fixedPayloadLength(type);
        }
    }

    /** The exact payload length of a fixed-size type, or -1 for HELLO, DATA and GOODBYE. */
    public static int fixedPayloadLength(PeerMessageType type) {
        switch (type) {
            case AUTH:
                return AUTH_LENGTH;
            case AUTH_OK:
                return 0;
            case STATE:
                return STATE_LENGTH;
            case TRIM:
                return TRIM_LENGTH;
            case ZEROES:
                return ZEROES_LENGTH;
            case FLUSH:
            case RECV_ACK:
            case WRITE_ACK:
            case SYNC_ACK:
            case PING:
            case PING_ACK:
            case SYNC_START:
            case SYNC_DONE:
                return U64_LENGTH;
            default:
                return -1;
        }
    }
}
