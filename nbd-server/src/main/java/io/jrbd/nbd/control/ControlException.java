package io.jrbd.nbd.control;

import java.nio.file.Path;

/** A control request that did not succeed, with the one line to show the administrator. */
public final class ControlException extends Exception {
    private static final long serialVersionUID = 1L;

    /** Why, so a CLI can choose its exit code or rephrase. */
    public enum Kind {
        /** Nothing listens on the socket: no file, or a stale one. */
        NO_DAEMON,
        /** The daemon answered {@code "ok":false}; the message is its error text, unchanged. */
        DAEMON_ERROR,
        /** The socket could not be used (permissions, I/O error, connection dropped mid-answer). */
        IO,
        /** The daemon answered something that is not this protocol. */
        PROTOCOL
    }

    private final Kind kind;

    public ControlException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public ControlException(Kind kind, String message) {
        this(kind, message, null);
    }

    public Kind kind() {
        return kind;
    }

    /** "no jrbd daemon is listening on SOCKET (is it running? start it with: jrbd daemon -c DIR)". */
    public static ControlException noDaemon(Path socket, Path configDirectory, Throwable cause) {
        return new ControlException(Kind.NO_DAEMON, "no jrbd daemon is listening on " + socket
                + " (is it running? start it with: jrbd daemon -c " + configDirectory + ")", cause);
    }
}
