package io.jrbd.replicator.resource;

/** An administrative command that the resource's state does not allow; the message says why. */
public final class RefusedException extends Exception {
    public RefusedException(String message) {
        super(message);
    }
}
