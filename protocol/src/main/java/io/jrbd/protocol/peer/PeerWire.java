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
 *                | journalLastSeq 8 | currentGeneration 8 | bitmapGeneration 8 |
 *                | history 4 x 8 (newest first) | outOfSyncBytes 8 | flags 4 |   (94 bytes)
 * 10 DATA        | seq 8 | offset 8 | flags 2 | data (rest of payload, may be empty) |
 * 11 TRIM        | seq 8 | offset 8 | length 8 |
 * 12 ZEROES      | seq 8 | offset 8 | length 8 | flags 2 |
 * 13 FLUSH       | seq 8 |
 * 20 RECV_ACK    | seq 8 |      cumulative: every write up to and including seq received
 * 21 WRITE_ACK   | seq 8 |      ... written
 * 22 SYNC_ACK    | seq 8 | resyncBytes 8 |      ... made durable
 * 30 PING        | nonce 8 |
 * 31 PING_ACK    | nonce 8 |
 * 40 SYNC_START  | totalBytes 8 | full 1 (0 bitmap-based, 1 full) | syncGeneration 8 |  (17 bytes)
 * 41 SYNC_DONE   | seq 8 |
 * 42 OUT_OF_SYNC | last 1 (0 or 1) | count 2 (&lt;= 4096) | count x ( offset 8 | length 8 ) |
 *                  runs sorted by offset, non-overlapping, length &gt; 0; count 0 only if last
 * 43 DIGEST_REQUEST | id 8 | offset 8 | length 4 | blockSize 4 | digestLength 1 |
 *                   | digests: blocks x digestLength |   blocks = ceil(length / blockSize)
 * 44 DIGEST_REPLY   | id 8 | offset 8 | length 4 | blockSize 4 | differ: ceil(blocks / 8) |
 *                     bit i (LSB first, byte 0 first) set: block i differs; unused bits 0
 * 45 INVALIDATE_REQUEST | reason string (at most 1024 bytes) |
 * 50 GOODBYE     | reason string (at most 1024 bytes) |
 * </pre>
 *
 * <p>No header flag is defined yet: a sender writes 0 and a receiver rejects any other value,
 * so a flag can be given a meaning later without old nodes misreading it. Offsets, lengths and
 * sizes are u64 on the wire but must fit a Java {@code long} (top bit clear), and
 * {@code offset + length} must not pass {@link Long#MAX_VALUE}; the decoder rejects anything
 * else. Sequence numbers, generations and nonces are opaque 64-bit values. Booleans are one
 * byte, 0 or 1; flags outside the known ones are rejected. DIGEST_REQUEST and DIGEST_REPLY
 * cover {@code [offset, offset + length)} in blocks of {@code blockSize} (a power of two from
 * {@value #MIN_DIGEST_BLOCK_SIZE} to {@value #MAX_DIGEST_BLOCK_SIZE}); only the last block may
 * be partial, and {@code length} is 1 to {@value #MAX_DIGEST_SPAN}.
 */
public final class PeerWire {
    /** "jRBD" in ASCII: opens every frame. */
    public static final int MAGIC = 0x6A524244;
    /**
     * The version this code speaks, sent in HELLO; a node refuses a peer of any other version.
     * Version 2: STATE carries the bitmap generation, the history, the out-of-sync bytes and
     * defined flags; SYNC_START says full or bitmap-based and the sync generation; OUT_OF_SYNC,
     * DIGEST_REQUEST, DIGEST_REPLY and INVALIDATE_REQUEST are new.
     */
    public static final int PROTOCOL_VERSION = 2;

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
    /** GOODBYE and INVALIDATE_REQUEST reasons: at most this many bytes of UTF-8. */
    public static final int MAX_REASON_BYTES = 1024;
    /** The byte length in front of every string. */
    public static final int STRING_LENGTH_PREFIX = 2;

    /** Shortest HELLO: version, two one-byte names, nonce. */
    public static final int HELLO_MIN_LENGTH = 2 + 2 * (STRING_LENGTH_PREFIX + 1) + NONCE_LENGTH;
    /** Longest HELLO of version 1 and 2 (its layout is unchanged): version, two 255-byte names, nonce. */
    public static final int HELLO_V1_MAX_LENGTH = 2 + 2 * (STRING_LENGTH_PREFIX + MAX_NAME_BYTES) + NONCE_LENGTH;
    /**
     * Longest HELLO accepted at all. HELLO's layout is frozen: a later version may only append
     * fields, so a node can read a newer peer's HELLO, see the version and say GOODBYE clearly.
     */
    public static final int HELLO_MAX_LENGTH = 4096;
    public static final int AUTH_LENGTH = HMAC_LENGTH;
    /** The previous generations STATE carries, newest first. */
    public static final int STATE_HISTORY_COUNT = 4;
    public static final int STATE_LENGTH = 1 + 1 + 8 + 8 + 8 + 8 + 8 + 8 + STATE_HISTORY_COUNT * 8 + 8 + 4;
    /** DATA's fixed part; the written bytes follow it. */
    public static final int DATA_FIXED_LENGTH = 8 + 8 + 2;
    /** The most bytes one DATA message carries. */
    public static final int MAX_DATA_LENGTH = MAX_PAYLOAD - DATA_FIXED_LENGTH;
    public static final int TRIM_LENGTH = 8 + 8 + 8;
    public static final int ZEROES_LENGTH = 8 + 8 + 8 + 2;
    /** FLUSH, the three acks, PING, PING_ACK, SYNC_DONE: one u64. */
    public static final int U64_LENGTH = 8;
    public static final int SYNC_START_LENGTH = 8 + 1 + 8;
    public static final int GOODBYE_MIN_LENGTH = STRING_LENGTH_PREFIX;
    public static final int GOODBYE_MAX_LENGTH = STRING_LENGTH_PREFIX + MAX_REASON_BYTES;
    /** INVALIDATE_REQUEST: a reason string, as GOODBYE's. */
    public static final int INVALIDATE_REQUEST_MIN_LENGTH = STRING_LENGTH_PREFIX;
    public static final int INVALIDATE_REQUEST_MAX_LENGTH = STRING_LENGTH_PREFIX + MAX_REASON_BYTES;

    /** The most (offset, length) runs one OUT_OF_SYNC carries. */
    public static final int MAX_OUT_OF_SYNC_RUNS = 4096;
    /** OUT_OF_SYNC's fixed part: the last flag and the run count. */
    public static final int OUT_OF_SYNC_FIXED_LENGTH = 1 + 2;
    /** One run on the wire: offset and length. */
    public static final int OUT_OF_SYNC_RUN_LENGTH = 8 + 8;
    public static final int OUT_OF_SYNC_MAX_LENGTH = OUT_OF_SYNC_FIXED_LENGTH + MAX_OUT_OF_SYNC_RUNS * OUT_OF_SYNC_RUN_LENGTH;

    /** DIGEST_REQUEST / DIGEST_REPLY block sizes: a power of two in this range. */
    public static final int MIN_DIGEST_BLOCK_SIZE = 512;
    public static final int MAX_DIGEST_BLOCK_SIZE = 1024 * 1024;
    /** The most bytes of the device one DIGEST_REQUEST or DIGEST_REPLY covers. */
    public static final int MAX_DIGEST_SPAN = 8 * 1024 * 1024;
    /** The most blocks one DIGEST_REQUEST or DIGEST_REPLY covers. */
    public static final int MAX_DIGEST_BLOCKS = MAX_DIGEST_SPAN / MIN_DIGEST_BLOCK_SIZE;
    /** The longest digest of one block, in bytes (SHA-512 or BLAKE2b-512). */
    public static final int MAX_DIGEST_LENGTH = 64;
    /** DIGEST_REQUEST's fixed part: id, offset, length, block size, digest length. */
    public static final int DIGEST_REQUEST_FIXED_LENGTH = 8 + 8 + 4 + 4 + 1;
    public static final int DIGEST_REQUEST_MAX_LENGTH = DIGEST_REQUEST_FIXED_LENGTH + MAX_DIGEST_BLOCKS * MAX_DIGEST_LENGTH;
    /** DIGEST_REPLY's fixed part: id, offset, length, block size. */
    public static final int DIGEST_REPLY_FIXED_LENGTH = 8 + 8 + 4 + 4;
    public static final int DIGEST_REPLY_MAX_LENGTH = DIGEST_REPLY_FIXED_LENGTH + MAX_DIGEST_BLOCKS / 8;

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
            case INVALIDATE_REQUEST:
                return INVALIDATE_REQUEST_MIN_LENGTH;
            case DATA:
                return DATA_FIXED_LENGTH;
            case OUT_OF_SYNC:
                return OUT_OF_SYNC_FIXED_LENGTH;
            case DIGEST_REQUEST:
                // at least one block with a one-byte digest
                return DIGEST_REQUEST_FIXED_LENGTH + 1;
            case DIGEST_REPLY:
                // at least one block: one byte of bits
                return DIGEST_REPLY_FIXED_LENGTH + 1;
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
            case INVALIDATE_REQUEST:
                return INVALIDATE_REQUEST_MAX_LENGTH;
            case DATA:
                return MAX_PAYLOAD;
            case OUT_OF_SYNC:
                return OUT_OF_SYNC_MAX_LENGTH;
            case DIGEST_REQUEST:
                return DIGEST_REQUEST_MAX_LENGTH;
            case DIGEST_REPLY:
                return DIGEST_REPLY_MAX_LENGTH;
            default:
                return fixedPayloadLength(type);
        }
    }

    /**
     * The exact payload length of a fixed-size type, or -1 for the variable ones: HELLO, DATA,
     * OUT_OF_SYNC, DIGEST_REQUEST, DIGEST_REPLY, INVALIDATE_REQUEST and GOODBYE.
     */
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
            case PING:
            case PING_ACK:
            case SYNC_DONE:
                return U64_LENGTH;
            case SYNC_START:
                return SYNC_START_LENGTH;
            case SYNC_ACK:
                return 2 * U64_LENGTH;
            default:
                return -1;
        }
    }
}
