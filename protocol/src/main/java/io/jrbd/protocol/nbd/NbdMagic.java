package io.jrbd.protocol.nbd;

/** The magic numbers that open every NBD message; a mismatch means the stream is out of sync. */
public final class NbdMagic {
    /** "NBDMAGIC": the first 8 bytes the server sends. */
    public static final long NBDMAGIC = 0x4e42444d41474943L;
    /** "IHAVEOPT": after NBDMAGIC for newstyle, and before every option the client sends. */
    public static final long IHAVEOPT = 0x49484156454F5054L;
    /** Opens every option reply. */
    public static final long OPTION_REPLY = 0x0003e889045565a9L;
    /** Opens every transmission request (compact, 28-byte header). */
    public static final int REQUEST = 0x25609513;
    /** Opens a simple reply. */
    public static final int SIMPLE_REPLY = 0x67446698;
    /** Opens a structured reply chunk. */
    public static final int STRUCTURED_REPLY = 0x668e33ef;

    private NbdMagic() {
    }
}
