package io.jrbd.nbd.control;

/**
 * What the daemon does with a control request. Called on one of the control server's connection
 * threads, one request at a time per connection.
 *
 * <p>The handler answers through the responder exactly once, with {@link ControlResponder#done} or
 * {@link ControlResponder#fail}, before or after returning; a streaming command first sends any number
 * of {@link ControlResponder#event}s. The connection reads its next request only after the answer, so
 * a handler that returns without answering keeps that connection (and one of the server's bounded
 * threads) until it answers or the client goes away. A handler that throws, without having answered,
 * answers {@code {"ok":false,"error":"internal error: ..."}}.
 */
@FunctionalInterface
public interface ControlHandler {
    void handle(ControlRequest request, ControlResponder responder);
}
