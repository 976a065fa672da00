package io.jrbd.metadata.store;

import java.io.IOException;

/** A backing-store failure, with the reason a client should see. */
public final class StoreException extends IOException {
    /** What kind of failure it was, so the front end can pick the right protocol error. */
    public enum Kind {
        /** The store is full (ENOSPC, EDQUOT, EFBIG). */
        NO_SPACE,
        /** The operation is not supported by this file system or device. */
        UNSUPPORTED,
        /** Any other I/O failure. */
        IO
    }

    private final Kind kind;

    public StoreException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public StoreException(Kind kind, String message) {
        this(kind, message, null);
    }

    public Kind kind() {
        return kind;
    }

    /** Classifies an exception the JDK threw, by the strerror text it carries. */
    static StoreException from(String what, IOException e) {
        // Some JDK exceptions (ClosedChannelException) carry no message: name the exception instead of "null".
        String m = e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
        Kind kind = m.contains("No space left") || m.contains("quota") || m.contains("File too large") ? Kind.NO_SPACE : Kind.IO;
        return new StoreException(kind, what + ": " + m, e);
    }
}
