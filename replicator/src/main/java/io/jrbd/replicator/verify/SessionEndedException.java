package io.jrbd.replicator.verify;

import java.io.IOException;

/**
 * The peer session a digest exchange ran over has ended (disconnect, resource down): no reply
 * will come. Not a fault of the data or of this node; the caller stops and tries again in the
 * next session.
 */
public final class SessionEndedException extends IOException {
    private static final long serialVersionUID = 1L;

    private final String reason;

    public SessionEndedException(String reason) {
        super("peer session ended: " + reason);
        this.reason = reason;
    }

    /** Why the session ended, as given to {@link DigestExchange#failAll}. */
    public String reason() {
        return reason;
    }
}
