package io.jrbd.protocol.nbd;

/**
 * An option whose payload contradicts its own length fields. The payload has been consumed
 * whole, so the stream is still in sync: the server answers NBD_REP_ERR_INVALID and goes on.
 */
public final class MalformedOptionException extends Exception {
    public MalformedOptionException(String message) {
        super(message);
    }
}
