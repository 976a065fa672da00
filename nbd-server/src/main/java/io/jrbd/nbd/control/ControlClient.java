package io.jrbd.nbd.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jrbd.replicator.config.ConfigLoader;
import java.io.IOException;
import java.net.ConnectException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * The client end of the control socket, as {@code jrbdadm} uses it: one connection, any number of
 * requests one after the other. Not thread-safe. Every failure is a {@link ControlException} whose
 * message is the one line to print.
 *
 * <pre>
 *   JsonNode status = ControlClient.call(socket, "status", "r0", null);
 *   ControlClient.stream(socket, "events", null, null, e -> System.out.println(e));
 * </pre>
 */
public final class ControlClient implements AutoCloseable {
    private final Path socket;
    private final SocketChannel ch;
    private final LineReader reader = new LineReader(ControlProtocol.MAX_LINE);

    private ControlClient(Path socket, SocketChannel ch) {
        this.socket = socket;
        this.ch = ch;
    }

    /**
     * Connects to the daemon. A missing socket file, or one nobody listens on, is
     * {@link ControlException.Kind#NO_DAEMON} with a hint naming the default configuration folder.
     */
    public static ControlClient connect(Path socket) throws ControlException {
        return connect(socket, ConfigLoader.DEFAULT_DIRECTORY);
    }

    /** As {@link #connect(Path)}, with the configuration folder to name in the "start it with" hint. */
    public static ControlClient connect(Path socket, Path configDirectory) throws ControlException {
        if (!Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
            throw ControlException.noDaemon(socket, configDirectory, null);
        }
        SocketChannel ch = null;
        try {
            ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            ch.connect(UnixDomainSocketAddress.of(socket));
            return new ControlClient(socket, ch);
        } catch (ConnectException e) {
            closeQuietly(ch);
            throw ControlException.noDaemon(socket, configDirectory, e);
        } catch (IOException e) {
            closeQuietly(ch);
            String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            if (m.contains("Permission denied")) {
                throw new ControlException(ControlException.Kind.IO, "cannot connect to " + socket
                        + ": permission denied (the control socket is for root only)", e);
            }
            if (m.contains("No such file")) {
                throw ControlException.noDaemon(socket, configDirectory, e);
            }
            throw new ControlException(ControlException.Kind.IO, "cannot connect to " + socket + ": " + m, e);
        }
    }

    /** One request on a fresh connection; returns the result. */
    public static JsonNode call(Path socket, String command, String resource, ObjectNode args) throws ControlException {
        try (ControlClient c = connect(socket)) {
            return c.request(command, resource, args);
        }
    }

    /** One streaming request on a fresh connection: each event goes to {@code events}; returns the final result. */
    public static JsonNode stream(Path socket, String command, String resource, ObjectNode args, Consumer<JsonNode> events)
            throws ControlException {
        try (ControlClient c = connect(socket)) {
            return c.request(command, resource, args, events);
        }
    }

    /** Sends a request and returns its result; events, if the daemon sends any, are ignored. */
    public JsonNode request(String command, String resource, ObjectNode args) throws ControlException {
        return request(command, resource, args, e -> { });
    }

    /**
     * Sends a request, hands every {@code {"event":...}} line to {@code events} in order, and returns the
     * final result ({@link NullNode} when the daemon sent {@code "result":null}). An exception thrown by
     * {@code events} ends the exchange: the connection is closed and the exception propagates.
     *
     * @throws ControlException {@code DAEMON_ERROR} with the daemon's error text, or IO/PROTOCOL problems
     */
    public JsonNode request(String command, String resource, ObjectNode args, Consumer<JsonNode> events) throws ControlException {
        byte[] line = ControlProtocol.request(command, resource, args);
        if (line.length - 1 > ControlProtocol.MAX_LINE) {
            throw new ControlException(ControlException.Kind.PROTOCOL, "request '" + command + "' is " + (line.length - 1)
                    + " bytes, longer than the " + ControlProtocol.MAX_LINE + "-byte line limit");
        }
        try {
            ByteBuffer b = ByteBuffer.wrap(line);
            while (b.hasRemaining()) {
                ch.write(b);
            }
        } catch (IOException e) {
            // The daemon may have answered and closed before reading (too many connections): show its answer.
            String answer = pendingError();
            close();
            if (answer != null) {
                throw new ControlException(ControlException.Kind.DAEMON_ERROR, answer, e);
            }
            throw new ControlException(ControlException.Kind.IO, "cannot send '" + command + "' to the daemon on " + socket
                    + ": " + e.getMessage(), e);
        }
        while (true) {
            JsonNode reply = readReply(command);
            JsonNode event = reply.get(ControlProtocol.EVENT);
            if (event != null && reply.size() == 1) {
                try {
                    events.accept(event);
                } catch (RuntimeException e) {
                    close();
                    throw e;
                }
                continue;
            }
            JsonNode ok = reply.get(ControlProtocol.OK);
            if (ok == null || !ok.isBoolean()) {
                throw protocolError(command, "a reply without \"ok\": " + abbreviate(reply.toString()));
            }
            if (ok.booleanValue()) {
                JsonNode result = reply.get(ControlProtocol.RESULT);
                return result == null ? NullNode.getInstance() : result;
            }
            JsonNode error = reply.get(ControlProtocol.ERROR);
            throw new ControlException(ControlException.Kind.DAEMON_ERROR,
                    error != null && error.isTextual() ? error.textValue() : "the daemon refused '" + command + "' without saying why");
        }
    }

    /** The error text of an answer already waiting on a connection the daemon closed, or null. */
    private String pendingError() {
        try {
            byte[] line = reader.readLine(ch);
            JsonNode reply = line == null ? null : ControlProtocol.parse(line);
            JsonNode error = reply == null ? null : reply.get(ControlProtocol.ERROR);
            return error != null && error.isTextual() ? error.textValue() : null;
        } catch (IOException e) {
            return null;
        }
    }

    private JsonNode readReply(String command) throws ControlException {
        byte[] line;
        try {
            do {
                line = reader.readLine(ch);
            } while (line != null && line.length == 0);
        } catch (LineReader.LineTooLongException e) {
            throw protocolError(command, "a reply longer than " + ControlProtocol.MAX_LINE + " bytes");
        } catch (IOException e) {
            close();
            throw new ControlException(ControlException.Kind.IO, "lost the connection to the daemon on " + socket
                    + " while waiting for '" + command + "': " + e.getMessage(), e);
        }
        if (line == null) {
            close();
            throw new ControlException(ControlException.Kind.IO, "the daemon on " + socket + " closed the connection before answering '"
                    + command + "' (see its log)");
        }
        JsonNode reply;
        try {
            reply = ControlProtocol.parse(line);
        } catch (ControlProtocol.MalformedLineException e) {
            throw protocolError(command, "a reply that is not JSON (" + e.getMessage() + ")");
        }
        if (!reply.isObject()) {
            throw protocolError(command, "a reply that is not a JSON object: " + abbreviate(reply.toString()));
        }
        return reply;
    }

    private ControlException protocolError(String command, String what) {
        close();
        return new ControlException(ControlException.Kind.PROTOCOL, "the daemon on " + socket + " answered '" + command + "' with " + what);
    }

    private static String abbreviate(String s) {
        return s.length() <= 200 ? s : s.substring(0, 200) + "...";
    }

    @Override
    public void close() {
        closeQuietly(ch);
    }

    private static void closeQuietly(SocketChannel ch) {
        if (ch != null) {
            try {
                ch.close();
            } catch (IOException e) {
                // nothing left to do with it
            }
        }
    }
}
