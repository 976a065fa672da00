package io.jrbd.nbd.control;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * The control socket's wire format: one JSON object per line, UTF-8, at most {@link #MAX_LINE} bytes
 * before the {@code \n}. A connection carries any number of exchanges, one after the other:
 *
 * <pre>
 *   client                                          daemon
 *   {"command":"status","resource":"r0","args":{}}\n ->
 *                                                 <- {"ok":true,"result":{...}}\n
 *   {"command":"events","args":{}}\n                 ->
 *                                                 <- {"event":{...}}\n        (zero or more: streaming commands)
 *                                                 <- {"event":{...}}\n
 *                                                 <- {"ok":false,"error":"one clear line"}\n   (the final response)
 * </pre>
 *
 * <p>{@code resource} may be absent or null (node-wide commands); {@code args} may be absent (read as
 * {}). Unknown request fields are refused, like unknown configuration keys. A line that is not JSON,
 * not UTF-8, or longer than the limit gets an error response and the connection is closed: the
 * framing cannot be trusted after it. A well-formed request of the wrong shape gets an error
 * response and the connection stays usable. Blank lines are ignored.
 */
public final class ControlProtocol {
    private ControlProtocol() {
    }

    /** Bytes per line, not counting the {@code \n} (nor an optional {@code \r} before it). */
    public static final int MAX_LINE = 64 * 1024;

    /** Strict JSON: trailing tokens and duplicate fields are errors. */
    static final ObjectMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    static final String COMMAND = "command";
    static final String RESOURCE = "resource";
    static final String ARGS = "args";
    static final String OK = "ok";
    static final String RESULT = "result";
    static final String ERROR = "error";
    static final String EVENT = "event";

    static byte[] request(String command, String resource, ObjectNode args) {
        ObjectNode n = JSON.createObjectNode();
        n.put(COMMAND, command);
        if (resource != null) {
            n.put(RESOURCE, resource);
        }
        n.set(ARGS, args == null ? JSON.createObjectNode() : args);
        return line(n);
    }

    static byte[] ok(JsonNode result) {
        ObjectNode n = JSON.createObjectNode();
        n.put(OK, true);
        n.set(RESULT, result == null ? NullNode.getInstance() : result);
        return line(n);
    }

    static byte[] error(String message) {
        ObjectNode n = JSON.createObjectNode();
        n.put(OK, false);
        n.put(ERROR, oneLine(message));
        return line(n);
    }

    static byte[] event(JsonNode event) {
        ObjectNode n = JSON.createObjectNode();
        n.set(EVENT, event == null ? NullNode.getInstance() : event);
        return line(n);
    }

    /** Errors are shown to people as one line: line breaks become spaces, null becomes a word. */
    static String oneLine(String message) {
        if (message == null || message.isBlank()) {
            return "unknown error";
        }
        return message.strip().replaceAll("\\s*[\\r\\n]+\\s*", " ");
    }

    /** A line that is not UTF-8 JSON; the message says why, in one line. */
    static final class MalformedLineException extends IOException {
        private static final long serialVersionUID = 1L;

        MalformedLineException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** The line as JSON (any JSON value; callers check the shape). */
    static JsonNode parse(byte[] line) throws MalformedLineException {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(line)).toString();
        } catch (CharacterCodingException e) {
            throw new MalformedLineException("not UTF-8", e);
        }
        try {
            return JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw new MalformedLineException(oneLine(e.getOriginalMessage()), e);
        }
    }

    /** Compact JSON (never contains a raw newline) and the {@code \n}. */
    static byte[] line(JsonNode n) {
        try {
            byte[] json = JSON.writeValueAsBytes(n);
            byte[] out = new byte[json.length + 1];
            System.arraycopy(json, 0, out, 0, json.length);
            out[json.length] = '\n';
            return out;
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
