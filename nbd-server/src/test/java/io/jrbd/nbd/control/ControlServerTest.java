package io.jrbd.nbd.control;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

@Timeout(30)
class ControlServerTest {
    @TempDir
    Path dir;

    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : toClose) {
            c.close();
        }
    }

    /** Answers {"command":..,"resource":..,"args":..}; "fail" fails with args.message; "boom" throws. */
    private static void echo(ControlRequest request, ControlResponder responder) {
        switch (request.command()) {
            case "fail" -> responder.fail(request.args().path("message").asText());
            case "boom" -> throw new IllegalStateException("the engine fell over");
            default -> {
                ObjectNode r = ControlProtocol.JSON.createObjectNode();
                r.put("command", request.command());
                r.put("resource", request.resource());
                r.set("args", request.args());
                responder.done(r);
            }
        }
    }

    private Path socket() {
        return dir.resolve("jrbd.sock");
    }

    private ControlServer start(ControlHandler handler) throws IOException {
        return start(handler, ControlServer.DEFAULT_MAX_CONNECTIONS);
    }

    private ControlServer start(ControlHandler handler, int maxConnections) throws IOException {
        ControlServer s = ControlServer.start(socket(), handler, maxConnections);
        toClose.add(s);
        return s;
    }

    private static ObjectNode args(String key, String value) {
        ObjectNode a = ControlProtocol.JSON.createObjectNode();
        a.put(key, value);
        return a;
    }

    /** A raw connection, to send what ControlClient never would. */
    private final class Raw implements AutoCloseable {
        final SocketChannel ch;
        final LineReader reader = new LineReader(1 << 20);

        Raw() throws IOException {
            ch = SocketChannel.open(UnixDomainSocketAddress.of(socket()));
        }

        Raw send(byte[] bytes) throws IOException {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) {
                ch.write(b);
            }
            return this;
        }

        Raw send(String text) throws IOException {
            return send(text.getBytes(UTF_8));
        }

        JsonNode reply() throws IOException {
            byte[] line = reader.readLine(ch);
            return line == null ? null : ControlProtocol.JSON.readTree(line);
        }

        /** True when the server closed the connection (end of stream, or reset after unread input). */
        boolean closedByServer() {
            try {
                return reader.readLine(ch) == null;
            } catch (IOException e) {
                return true;
            }
        }

        @Override
        public void close() throws IOException {
            ch.close();
        }
    }

    @Test
    void shouldAnswerARequest() throws Exception {
        start(ControlServerTest::echo);
        JsonNode result = ControlClient.call(socket(), "status", "r0", args("verbose", "yes"));
        assertEquals("{\"command\":\"status\",\"resource\":\"r0\",\"args\":{\"verbose\":\"yes\"}}", result.toString());
    }

    @Test
    void shouldSendNoResourceAndEmptyArgsWhenNoneAreGiven() throws Exception {
        start(ControlServerTest::echo);
        JsonNode result = ControlClient.call(socket(), "version", null, null);
        assertEquals("{\"command\":\"version\",\"resource\":null,\"args\":{}}", result.toString());
    }

    @Test
    void shouldPassTheDaemonsErrorTextUnchanged() throws Exception {
        start(ControlServerTest::echo);
        ControlException e = assertThrows(ControlException.class,
                () -> ControlClient.call(socket(), "fail", "r9", args("message", "r9: no such resource (known: r0, r1)")));
        assertEquals(ControlException.Kind.DAEMON_ERROR, e.kind());
        assertEquals("r9: no such resource (known: r0, r1)", e.getMessage());
    }

    @Test
    void shouldFoldAMultiLineErrorIntoOneLine() throws Exception {
        start(ControlServerTest::echo);
        ControlException e = assertThrows(ControlException.class,
                () -> ControlClient.call(socket(), "fail", "r0", args("message", "cannot attach\n  disk is busy\r\n")));
        assertEquals("cannot attach disk is busy", e.getMessage());
    }

    @Test
    void shouldServeManyRequestsOnOneConnection() throws Exception {
        start(ControlServerTest::echo);
        try (ControlClient c = ControlClient.connect(socket())) {
            for (int i = 0; i < 100; i++) {
                assertEquals("r" + i, c.request("status", "r" + i, null).get("resource").asText());
            }
            assertThrows(ControlException.class, () -> c.request("fail", null, args("message", "no")));
            assertEquals("up", c.request("up", "r0", null).get("command").asText(), "an error answer leaves the connection usable");
        }
    }

    @Test
    void shouldAnswerAnInternalErrorWhenTheHandlerThrows() throws Exception {
        start(ControlServerTest::echo);
        try (ControlClient c = ControlClient.connect(socket())) {
            ControlException e = assertThrows(ControlException.class, () -> c.request("boom", "r0", null));
            assertEquals("internal error: the engine fell over", e.getMessage());
            assertEquals("status", c.request("status", "r0", null).get("command").asText());
        }
    }

    @Test
    void shouldReturnNullResults() throws Exception {
        start((request, responder) -> responder.done(null));
        assertEquals(NullNode.getInstance(), ControlClient.call(socket(), "primary", "r0", null));
    }

    @Test
    void shouldReplaceAResultTooLongForOneLineWithAnError() throws Exception {
        start((request, responder) -> responder.done(TextNode.valueOf("x".repeat(ControlProtocol.MAX_LINE))));
        ControlException e = assertThrows(ControlException.class, () -> ControlClient.call(socket(), "status", null, null));
        assertEquals("the result of 'status' is 65559 bytes, longer than the 65536-byte line limit", e.getMessage());
    }

    @Test
    void shouldRefuseASecondAnswer() throws Exception {
        BlockingQueue<Throwable> second = new ArrayBlockingQueue<>(1);
        start((request, responder) -> {
            responder.done(IntNode.valueOf(1));
            try {
                responder.fail("again");
            } catch (IllegalStateException e) {
                second.add(e);
            }
        });
        assertEquals(1, ControlClient.call(socket(), "status", null, null).intValue());
        assertEquals("command 'status' was already answered", second.poll(5, TimeUnit.SECONDS).getMessage());
    }

    static Stream<Arguments> badShapes() {
        return Stream.of(
            Arguments.of("[1,2]", "a request must be a JSON object like {\"command\":\"status\",\"resource\":\"r0\"}"),
            Arguments.of("{}", "a request needs \"command\", a non-empty string"),
            Arguments.of("{\"command\":\"\"}", "a request needs \"command\", a non-empty string"),
            Arguments.of("{\"command\":7}", "a request needs \"command\", a non-empty string"),
            Arguments.of("{\"command\":\"status\",\"resource\":5}", "\"resource\" must be a string, not 5"),
            Arguments.of("{\"command\":\"status\",\"args\":[1]}", "\"args\" must be an object, not [1]"),
            Arguments.of("{\"command\":\"status\",\"resorce\":\"r0\"}", "unknown request field 'resorce' (known: command, resource, args)"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badShapes")
    void shouldAnswerAWrongShapeAndKeepTheConnection(String request, String error) throws Exception {
        start(ControlServerTest::echo);
        try (Raw raw = new Raw()) {
            assertEquals("{\"ok\":false,\"error\":" + ControlProtocol.JSON.writeValueAsString(error) + "}", raw.send(request + "\n").reply().toString());
            JsonNode ok = raw.send("\n  \r\n{\"command\":\"status\",\"resource\":null}\r\n").reply();
            assertEquals("{\"ok\":true,\"result\":{\"command\":\"status\",\"resource\":null,\"args\":{}}}", ok.toString());
        }
    }

    static Stream<Arguments> malformed() {
        return Stream.of(
            Arguments.of("{\"command\":\"status\"".getBytes(UTF_8)),
            Arguments.of("not json at all".getBytes(UTF_8)),
            Arguments.of("{\"command\":\"status\"} {\"command\":\"up\"}".getBytes(UTF_8)),
            Arguments.of("{\"command\":\"status\",\"command\":\"up\"}".getBytes(UTF_8)),
            Arguments.of(new byte[] {'{', '"', (byte) 0xc3, '"', ':', '1', '}'}));
    }

    @ParameterizedTest
    @MethodSource("malformed")
    void shouldAnswerMalformedInputThenCloseAndKeepServing(byte[] line) throws Exception {
        ControlServer server = start(ControlServerTest::echo);
        try (Raw raw = new Raw()) {
            raw.send(line).send("\n");
            JsonNode reply = raw.reply();
            assertFalse(reply.get("ok").booleanValue());
            assertTrue(reply.get("error").asText().startsWith("malformed request ("), reply.toString());
            assertTrue(reply.get("error").asText().endsWith("); closing the connection"), reply.toString());
            assertTrue(raw.closedByServer());
        }
        assertEquals("status", ControlClient.call(server.socket(), "status", null, null).get("command").asText());
    }

    @Test
    void shouldAnswerAnOversizeLineThenCloseAndKeepServing() throws Exception {
        start(ControlServerTest::echo);
        try (Raw raw = new Raw()) {
            raw.send("{\"command\":\"" + "x".repeat(ControlProtocol.MAX_LINE) + "\"}\n");
            assertEquals("{\"ok\":false,\"error\":\"request line longer than 65536 bytes; closing the connection\"}", raw.reply().toString());
            assertTrue(raw.closedByServer());
        }
        assertEquals("status", ControlClient.call(socket(), "status", null, null).get("command").asText());
    }

    @Test
    void shouldAcceptALineOfExactlyTheLimit() throws Exception {
        start(ControlServerTest::echo);
        String request = "{\"command\":\"status\"}";
        String padded = request + " ".repeat(ControlProtocol.MAX_LINE - request.length());
        try (Raw raw = new Raw()) {
            assertTrue(raw.send(padded + "\n").reply().get("ok").booleanValue());
        }
    }

    @Test
    void shouldCreateTheSocketReadableByItsOwnerOnly() throws Exception {
        Path socket = dir.resolve("run/jrbd/alpha.sock");
        try (ControlServer s = ControlServer.start(socket, ControlServerTest::echo)) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket.getParent())));
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("run"))));
            assertEquals(socket, s.socket());
        }
        assertFalse(Files.exists(socket), "close removes the socket file");
    }

    @Test
    void shouldLeaveAnExistingParentFolderAlone() throws Exception {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        start(ControlServerTest::echo);
        assertEquals("rwxr-xr-x", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
    }

    @Test
    void shouldReplaceAStaleSocket() throws Exception {
        try (ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            dead.bind(UnixDomainSocketAddress.of(socket()));
        }
        assertTrue(Files.exists(socket()), "a closed Unix server socket leaves its file behind, like a killed daemon");
        start(ControlServerTest::echo);
        assertEquals("status", ControlClient.call(socket(), "status", null, null).get("command").asText());
    }

    @Test
    void shouldRefuseASocketALiveDaemonAnswersOn() throws Exception {
        start(ControlServerTest::echo);
        IOException e = assertThrows(IOException.class, () -> ControlServer.start(socket(), ControlServerTest::echo));
        assertEquals("another jrbd daemon is listening on " + socket(), e.getMessage());
        assertEquals("status", ControlClient.call(socket(), "status", null, null).get("command").asText(), "the first daemon still serves");
    }

    @Test
    void shouldRefuseAPathThatIsNotASocket() throws Exception {
        Files.writeString(socket(), "important");
        IOException e = assertThrows(IOException.class, () -> ControlServer.start(socket(), ControlServerTest::echo));
        assertEquals(socket() + " exists and is not a socket; remove it or choose another control-socket path", e.getMessage());
        assertEquals("important", Files.readString(socket()));
    }

    @Test
    void shouldServeConcurrentClients() throws Exception {
        start(ControlServerTest::echo, 8);
        ExecutorService clients = Executors.newFixedThreadPool(8);
        try {
            List<Future<Integer>> results = new ArrayList<>();
            CountDownLatch go = new CountDownLatch(1);
            for (int t = 0; t < 8; t++) {
                String resource = "r" + t;
                results.add(clients.submit(() -> {
                    go.await();
                    int n = 0;
                    try (ControlClient c = ControlClient.connect(socket())) {
                        for (int i = 0; i < 200; i++) {
                            JsonNode r = c.request("status", resource, args("i", Integer.toString(i)));
                            if (r.get("resource").asText().equals(resource) && r.get("args").get("i").asText().equals(Integer.toString(i))) {
                                n++;
                            }
                        }
                    }
                    return n;
                }));
            }
            go.countDown();
            for (Future<Integer> f : results) {
                assertEquals(200, f.get(20, TimeUnit.SECONDS));
            }
        } finally {
            clients.shutdownNow();
        }
    }

    @Test
    void shouldTurnAwayConnectionsBeyondTheLimit() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch holding = new CountDownLatch(1);
        start((request, responder) -> {
            if (request.command().equals("hold")) {
                holding.countDown();
                await(release);
            }
            responder.done(TextNode.valueOf(request.command()));
        }, 1);
        ExecutorService first = Executors.newSingleThreadExecutor();
        try {
            Future<JsonNode> held = first.submit(() -> ControlClient.call(socket(), "hold", null, null));
            assertTrue(holding.await(5, TimeUnit.SECONDS));
            ControlException e = assertThrows(ControlException.class, () -> ControlClient.call(socket(), "status", null, null));
            assertEquals("too many control connections (limit 1); try again", e.getMessage());
            release.countDown();
            assertEquals("hold", held.get(5, TimeUnit.SECONDS).asText());
        } finally {
            first.shutdownNow();
        }
    }

    @Test
    void shouldStreamEventsBeforeTheFinalAnswer() throws Exception {
        start((request, responder) -> {
            for (int i = 0; i < 3; i++) {
                ObjectNode e = ControlProtocol.JSON.createObjectNode();
                e.put("n", i);
                assertTrue(responder.event(e));
            }
            responder.done(TextNode.valueOf("end"));
        });
        List<JsonNode> events = new ArrayList<>();
        JsonNode result = ControlClient.stream(socket(), "events", "r0", null, events::add);
        assertEquals("end", result.asText());
        assertEquals("[{\"n\":0}, {\"n\":1}, {\"n\":2}]", events.toString());
    }

    @Test
    void shouldStreamFromAnotherThreadAfterTheHandlerReturns() throws Exception {
        ExecutorService engine = Executors.newSingleThreadExecutor();
        try {
            start((request, responder) -> engine.execute(() -> {
                for (int i = 0; i < 50; i++) {
                    responder.event(IntNode.valueOf(i));
                }
                responder.fail("resource r0 went down");
            }));
            List<JsonNode> events = new CopyOnWriteArrayList<>();
            try (ControlClient c = ControlClient.connect(socket())) {
                ControlException e = assertThrows(ControlException.class, () -> c.request("events", "r0", null, events::add));
                assertEquals("resource r0 went down", e.getMessage());
                assertEquals(50, events.size());
                assertEquals(49, events.get(49).intValue());
                assertThrows(ControlException.class, () -> c.request("events", "r0", null, events::add));
                assertEquals(100, events.size(), "the connection carries a second stream after the first");
            }
        } finally {
            engine.shutdownNow();
        }
    }

    @Test
    void shouldNoticeAStreamingClientLeavingEvenWithoutEvents() throws Exception {
        BlockingQueue<ControlResponder> streams = new ArrayBlockingQueue<>(1);
        ControlServer server = start((request, responder) -> streams.add(responder));
        try (Raw raw = new Raw()) {
            raw.send("{\"command\":\"events\"}\n");
            ControlResponder r = streams.poll(5, TimeUnit.SECONDS);
            assertTrue(r.isOpen());
            assertTrue(r.event(IntNode.valueOf(1)));
            assertEquals("{\"event\":1}", raw.reply().toString());
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (server.connectionCount() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(0, server.connectionCount(), "the connection thread is freed");
    }

    @Test
    void shouldTellAStreamingHandlerThatTheClientLeft() throws Exception {
        BlockingQueue<ControlResponder> streams = new ArrayBlockingQueue<>(1);
        start((request, responder) -> streams.add(responder));
        ControlResponder r;
        try (Raw raw = new Raw()) {
            raw.send("{\"command\":\"events\"}\n");
            r = streams.poll(5, TimeUnit.SECONDS);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (r.isOpen() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertFalse(r.isOpen());
        assertFalse(r.event(IntNode.valueOf(2)), "events to a client that left report false");
        r.done(null); // answering a client that left is harmless
    }

    @Test
    void shouldLetAHandlerThatWaitsSeeTheClientLeave() throws Exception {
        CountDownLatch waiting = new CountDownLatch(1);
        BlockingQueue<Boolean> sawClientLeave = new ArrayBlockingQueue<>(1);
        start((request, responder) -> {
            waiting.countDown();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (responder.isOpen() && System.nanoTime() < deadline) {
                sleep(20);
            }
            sawClientLeave.add(!responder.isOpen());
            responder.fail("gave up waiting");
        });
        try (Raw raw = new Raw()) {
            raw.send("{\"command\":\"wait-connect\",\"resource\":\"r0\"}\n");
            assertTrue(waiting.await(5, TimeUnit.SECONDS));
            sleep(100);
        }
        assertEquals(Boolean.TRUE, sawClientLeave.poll(5, TimeUnit.SECONDS));
    }

    @Test
    void shouldEndStreamsWhenTheServerCloses() throws Exception {
        CountDownLatch streaming = new CountDownLatch(1);
        ControlServer server = ControlServer.start(socket(), (request, responder) -> streaming.countDown());
        ExecutorService client = Executors.newSingleThreadExecutor();
        try {
            Future<ControlException> f = client.submit(() -> assertThrows(ControlException.class,
                    () -> ControlClient.stream(socket(), "events", null, null, e -> { })));
            assertTrue(streaming.await(5, TimeUnit.SECONDS));
            server.close();
            ControlException e = f.get(5, TimeUnit.SECONDS);
            assertEquals(ControlException.Kind.IO, e.kind());
            assertTrue(e.getMessage().contains("closed the connection before answering 'events'")
                    || e.getMessage().contains("lost the connection"), e.getMessage());
        } finally {
            client.shutdownNow();
        }
    }

    @Test
    void shouldSayNoDaemonIsListeningWhenThereIsNoSocket() {
        ControlException e = assertThrows(ControlException.class, () -> ControlClient.call(socket(), "status", null, null));
        assertEquals(ControlException.Kind.NO_DAEMON, e.kind());
        assertEquals("no jrbd daemon is listening on " + socket() + " (is it running? start it with: jrbd daemon -c /etc/jrbd)", e.getMessage());
    }

    @Test
    void shouldSayNoDaemonIsListeningOnAStaleSocket() throws Exception {
        try (ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            dead.bind(UnixDomainSocketAddress.of(socket()));
        }
        ControlException e = assertThrows(ControlException.class, () -> ControlClient.connect(socket(), Path.of("/srv/jrbd")));
        assertEquals(ControlException.Kind.NO_DAEMON, e.kind());
        assertEquals("no jrbd daemon is listening on " + socket() + " (is it running? start it with: jrbd daemon -c /srv/jrbd)", e.getMessage());
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
