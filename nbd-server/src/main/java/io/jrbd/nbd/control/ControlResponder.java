package io.jrbd.nbd.control;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * How a {@link ControlHandler} answers one request. Thread-safe: events and the final answer may come
 * from any thread; lines are written whole and in call order.
 */
public interface ControlResponder {
    /**
     * Sends {@code {"event":event}} ahead of the final answer. Returns false once the client has gone
     * (a streaming handler should then stop and unsubscribe); blocks while the client is slow to read.
     *
     * @throws IllegalStateException if the request was already answered
     * @throws IllegalArgumentException if the event is longer than {@link ControlProtocol#MAX_LINE}
     */
    boolean event(JsonNode event);

    /**
     * The final answer {@code {"ok":true,"result":result}}; null sends {@code "result":null}. A result
     * too long for one line is replaced by an error answer saying so.
     *
     * @throws IllegalStateException if the request was already answered
     */
    void done(JsonNode result);

    /**
     * The final answer {@code {"ok":false,"error":message}}; the message should be one clear line
     * (line breaks are folded into spaces).
     *
     * @throws IllegalStateException if the request was already answered
     */
    void fail(String message);

    /**
     * Whether the request still waits for its answer and the client is still connected (checked with a
     * non-blocking read, so a handler that waits synchronously, e.g. {@code wait-connect}, can poll it
     * and give up when the administrator presses Ctrl-C). False once answered.
     */
    boolean isOpen();
}
