package io.jrbd.nbd.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.ConnectException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daemon's end of the control socket: a Unix domain socket, mode 0600 (root only), speaking
 * {@link ControlProtocol}.
 *
 * <p>One accept thread, and a bounded pool of connection threads: each connection is served by one
 * thread, which reads a request, calls the handler and waits for its answer before reading the next.
 * A connection beyond {@code maxConnections} is answered {@code {"ok":false,"error":"too many ..."}}
 * and closed. While a handler has not answered (a streaming command), the connection thread checks
 * every {@value #PROBE_MILLIS} ms whether the client is still there, so a client that went away frees
 * its thread even when no events come.
 *
 * <p>At start, a socket file left by a dead daemon is replaced; one that a live daemon answers on is
 * refused. At close, the socket file is removed (if it is still ours) and every connection is closed.
 */
public final class ControlServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ControlServer.class);

    public static final int DEFAULT_MAX_CONNECTIONS = 8;
    static final long PROBE_MILLIS = 200;

    private final Path socket;
    private final ControlHandler handler;
    private final int maxConnections;
    private final ServerSocketChannel server;
    private final Object fileKey;
    private final ThreadPoolExecutor pool;
    private final Thread acceptor;
    private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    private ControlServer(Path socket, ControlHandler handler, int maxConnections, ServerSocketChannel server, Object fileKey) {
        this.socket = socket;
        this.handler = handler;
        this.maxConnections = maxConnections;
        this.server = server;
        this.fileKey = fileKey;
        AtomicInteger ids = new AtomicInteger();
        this.pool = new ThreadPoolExecutor(maxConnections, maxConnections, 60, TimeUnit.SECONDS, new SynchronousQueue<>(), r -> {
            Thread t = new Thread(r, "jrbd-control-" + ids.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.pool.allowCoreThreadTimeOut(true);
        this.acceptor = new Thread(this::acceptLoop, "jrbd-control-accept");
        this.acceptor.setDaemon(true);
    }

    /** Listens on {@code socket} with {@link #DEFAULT_MAX_CONNECTIONS} connection threads. */
    public static ControlServer start(Path socket, ControlHandler handler) throws IOException {
        return start(socket, handler, DEFAULT_MAX_CONNECTIONS);
    }

    /**
     * Creates the socket's folder (mode 0700) if it is missing, replaces a stale socket file, binds,
     * sets the socket's mode to 0600 and starts serving.
     *
     * @throws IOException naming the path: another daemon is listening, the path is not a socket, bind failed
     */
    public static ControlServer start(Path socket, ControlHandler handler, int maxConnections) throws IOException {
        Objects.requireNonNull(handler, "handler");
        if (maxConnections < 1) {
            throw new IllegalArgumentException("maxConnections " + maxConnections + " is not at least 1");
        }
        Path path = socket.toAbsolutePath();
        createParent(path);
        removeStale(path);
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        Object fileKey;
        try {
            server.bind(UnixDomainSocketAddress.of(path));
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
            fileKey = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
        } catch (IOException e) {
            server.close();
            throw new IOException("cannot listen on control socket " + path + ": " + message(e), e);
        }
        ControlServer s = new ControlServer(path, handler, maxConnections, server, fileKey);
        s.acceptor.start();
        LOG.info("control socket listening on {}", path);
        return s;
    }

    /** The absolute path of the socket. */
    public Path socket() {
        return socket;
    }

    /** Connections being served now. */
    public int connectionCount() {
        return connections.size();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            server.close();
        } catch (IOException e) {
            LOG.debug("closing {}", socket, e);
        }
        deleteIfOurs();
        for (Connection c : connections) {
            c.close();
        }
        pool.shutdownNow();
        try {
            acceptor.join(1000);
            if (!pool.awaitTermination(2, TimeUnit.SECONDS)) {
                LOG.warn("control connections still busy after close: {}", pool.getActiveCount());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void acceptLoop() {
        while (!closed) {
            SocketChannel ch;
            try {
                ch = server.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (!closed) {
                    LOG.warn("control socket {}: accept failed: {}", socket, message(e));
                    sleepQuietly(100);
                }
                continue;
            }
            Connection c = new Connection(ch);
            connections.add(c);
            if (closed) {
                c.close();
                return;
            }
            try {
                pool.execute(c);
            } catch (RejectedExecutionException e) {
                c.send(ControlProtocol.error("too many control connections (limit " + maxConnections + "); try again"));
                c.close();
            }
        }
    }

    private void deleteIfOurs() {
        try {
            BasicFileAttributes a = Files.readAttributes(socket, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (Objects.equals(a.fileKey(), fileKey)) {
                Files.deleteIfExists(socket);
            }
        } catch (IOException e) {
            LOG.debug("removing {}", socket, e);
        }
    }

    private static void createParent(Path path) throws IOException {
        Path parent = path.getParent();
        if (parent == null || Files.isDirectory(parent)) {
            return;
        }
        Deque<Path> missing = new ArrayDeque<>();
        for (Path p = parent; p != null && !Files.exists(p, LinkOption.NOFOLLOW_LINKS); p = p.getParent()) {
            missing.push(p);
        }
        try {
            for (Path p : missing) {
                Files.createDirectory(p);
                // Set after creating: the mode given to mkdir is cut by the umask.
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwx------"));
            }
        } catch (IOException e) {
            throw new IOException("cannot create " + parent + " for the control socket: " + message(e), e);
        }
    }

    /** Refuses a live socket or a file that is not a socket; deletes a socket nobody answers on. */
    private static void removeStale(Path path) throws IOException {
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (!a.isOther()) {
            throw new IOException(path + " exists and is not a socket; remove it or choose another control-socket path");
        }
        boolean live;
        try {
            SocketChannel.open(UnixDomainSocketAddress.of(path)).close();
            live = true;
        } catch (ConnectException e) {
            live = false;
        } catch (IOException e) {
            throw new IOException("cannot check the existing control socket " + path + ": " + message(e), e);
        }
        if (live) {
            throw new IOException("another jrbd daemon is listening on " + path);
        }
        LOG.info("replacing stale control socket {} left by a daemon that is gone", path);
        Files.deleteIfExists(path);
    }

    private static String message(Throwable e) {
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    private static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** One client connection, owned by one pool thread (reads); writes are serialized by a lock. */
    private final class Connection implements Runnable {
        private final SocketChannel ch;
        private final LineReader reader = new LineReader(ControlProtocol.MAX_LINE);
        private final Object writeLock = new Object();
        private volatile boolean open = true;
        /** A request is being handled: the owning thread is not in a blocking read. Guarded by writeLock. */
        private boolean busy;

        Connection(SocketChannel ch) {
            this.ch = ch;
        }

        @Override
        public void run() {
            try {
                serve();
            } catch (LineReader.LineTooLongException e) {
                send(ControlProtocol.error("request line longer than " + ControlProtocol.MAX_LINE + " bytes; closing the connection"));
            } catch (IOException e) {
                if (open && !closed) {
                    LOG.debug("control connection: {}", message(e));
                }
            } finally {
                close();
                connections.remove(this);
            }
        }

        private void serve() throws IOException {
            while (open && !closed) {
                byte[] line = reader.readLine(ch);
                if (line == null) {
                    return;
                }
                if (isBlank(line)) {
                    continue;
                }
                JsonNode json;
                try {
                    json = ControlProtocol.parse(line);
                } catch (ControlProtocol.MalformedLineException e) {
                    send(ControlProtocol.error("malformed request (" + e.getMessage() + "); closing the connection"));
                    return;
                }
                ControlRequest request;
                try {
                    request = toRequest(json);
                } catch (IllegalArgumentException e) {
                    send(ControlProtocol.error(e.getMessage()));
                    continue;
                }
                Exchange exchange = new Exchange(this, request);
                setBusy(true);
                try {
                    handler.handle(request, exchange);
                } catch (RuntimeException e) {
                    LOG.warn("control command '{}' failed", request.command(), e);
                    exchange.failIfOpen("internal error: " + message(e));
                }
                boolean more = exchange.awaitAnswer();
                setBusy(false);
                if (!more) {
                    return;
                }
            }
        }

        /** True when the line is whitespace only. */
        private boolean isBlank(byte[] line) {
            for (byte b : line) {
                if (b != ' ' && b != '\t' && b != '\r') {
                    return false;
                }
            }
            return true;
        }

        /** Writes one whole line; false when the client is gone. */
        boolean send(byte[] line) {
            synchronized (writeLock) {
                if (!open) {
                    return false;
                }
                try {
                    ByteBuffer b = ByteBuffer.wrap(line);
                    while (b.hasRemaining()) {
                        ch.write(b);
                    }
                    return true;
                } catch (IOException e) {
                    LOG.debug("control connection: write failed: {}", message(e));
                    open = false;
                    return false;
                }
            }
        }

        private void setBusy(boolean b) {
            synchronized (writeLock) {
                busy = b;
            }
        }

        /**
         * Whether the client is still connected, read without waiting; bytes it sent ahead (its next
         * request) stay in the reader. Only while a request is being handled (the owning thread is then
         * not reading), and under the write lock, which keeps writers out while the channel is non-blocking.
         */
        boolean probe() {
            synchronized (writeLock) {
                if (!open || closed) {
                    return false;
                }
                if (!busy) {
                    return true;
                }
                try {
                    ch.configureBlocking(false);
                    try {
                        return reader.fill(ch) >= 0;
                    } finally {
                        ch.configureBlocking(true);
                    }
                } catch (IOException e) {
                    return false;
                }
            }
        }

        boolean isOpen() {
            return open && !closed;
        }

        void close() {
            open = false;
            try {
                ch.close();
            } catch (IOException e) {
                LOG.debug("control connection: close: {}", message(e));
            }
        }
    }

    private static ControlRequest toRequest(JsonNode json) {
        if (!json.isObject()) {
            throw new IllegalArgumentException("a request must be a JSON object like {\"command\":\"status\",\"resource\":\"r0\"}");
        }
        for (Iterator<String> it = json.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!f.equals(ControlProtocol.COMMAND) && !f.equals(ControlProtocol.RESOURCE) && !f.equals(ControlProtocol.ARGS)) {
                throw new IllegalArgumentException("unknown request field '" + f + "' (known: command, resource, args)");
            }
        }
        JsonNode command = json.get(ControlProtocol.COMMAND);
        if (command == null || !command.isTextual() || command.textValue().isEmpty()) {
            throw new IllegalArgumentException("a request needs \"command\", a non-empty string");
        }
        JsonNode resource = json.get(ControlProtocol.RESOURCE);
        if (resource != null && !resource.isNull() && !resource.isTextual()) {
            throw new IllegalArgumentException("\"resource\" must be a string, not " + resource);
        }
        JsonNode args = json.get(ControlProtocol.ARGS);
        if (args != null && !args.isNull() && !args.isObject()) {
            throw new IllegalArgumentException("\"args\" must be an object, not " + args);
        }
        return new ControlRequest(command.textValue(), resource == null || resource.isNull() ? null : resource.textValue(),
                args == null || args.isNull() ? null : (ObjectNode) args);
    }

    /** The responder of one request. */
    private static final class Exchange implements ControlResponder {
        private final Connection connection;
        private final ControlRequest request;
        private final CountDownLatch answered = new CountDownLatch(1);
        private final AtomicBoolean finished = new AtomicBoolean();

        Exchange(Connection connection, ControlRequest request) {
            this.connection = connection;
            this.request = request;
        }

        @Override
        public boolean event(JsonNode event) {
            byte[] line = ControlProtocol.event(event);
            if (line.length - 1 > ControlProtocol.MAX_LINE) {
                throw new IllegalArgumentException("event of " + (line.length - 1) + " bytes for command '" + request.command()
                        + "' is longer than the " + ControlProtocol.MAX_LINE + "-byte line limit");
            }
            // Checked under the connection's write lock would be stricter; an event racing the answer is a handler bug either way.
            if (finished.get()) {
                throw new IllegalStateException("command '" + request.command() + "' was already answered");
            }
            return connection.send(line);
        }

        @Override
        public void done(JsonNode result) {
            byte[] line = ControlProtocol.ok(result);
            if (line.length - 1 > ControlProtocol.MAX_LINE) {
                LOG.warn("control command '{}': result of {} bytes is too long for one line", request.command(), line.length - 1);
                line = ControlProtocol.error("the result of '" + request.command() + "' is " + (line.length - 1)
                        + " bytes, longer than the " + ControlProtocol.MAX_LINE + "-byte line limit");
            }
            answer(line);
        }

        @Override
        public void fail(String message) {
            answer(ControlProtocol.error(message));
        }

        @Override
        public boolean isOpen() {
            return !finished.get() && connection.probe();
        }

        void failIfOpen(String message) {
            if (!finished.get()) {
                try {
                    fail(message);
                } catch (IllegalStateException e) {
                    // answered concurrently by another thread
                }
            }
        }

        private void answer(byte[] line) {
            if (!finished.compareAndSet(false, true)) {
                throw new IllegalStateException("command '" + request.command() + "' was already answered");
            }
            connection.send(line);
            answered.countDown();
        }

        /** Waits for the answer; false when the connection ended first (client gone, server closing). */
        boolean awaitAnswer() {
            try {
                while (!answered.await(PROBE_MILLIS, TimeUnit.MILLISECONDS)) {
                    if (!connection.probe()) {
                        connection.close();
                        return false;
                    }
                }
                return connection.isOpen();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
    }
}
