package io.jrbd.nbd.control;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One request read from the control socket.
 *
 * @param command   what to do ({@code status}, {@code primary}, ...), never empty
 * @param resource  the resource it is about, or null for node-wide commands
 * @param args      the command's arguments, never null (empty when the client sent none); the handler owns it
 */
public record ControlRequest(String command, String resource, ObjectNode args) {
    public ControlRequest {
        if (command == null || command.isEmpty()) {
            throw new IllegalArgumentException("a request needs a command");
        }
        if (args == null) {
            args = ControlProtocol.JSON.createObjectNode();
        }
    }
}
