package io.jrbd.nbd.metrics;

import io.jrbd.nbd.HostPort;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP endpoint Prometheus scrapes: {@code GET /metrics} answers the page {@code page}
 * supplies (text format 0.0.4); any other path is 404, any other method 405. It listens only on
 * the address it is given, on one thread of its own ({@code jrbd-metrics}).
 *
 * <p>A scrape reads state the way {@code jrbdadm status} does: it holds no lock of its own, and
 * holds each resource's monitor only while that resource builds its status map, never while
 * the page is rendered or sent. A slow or stuck client delays only the next scrape.
 */
public final class MetricsServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MetricsServer.class);
    static final String PATH = "/metrics";
    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private final HttpServer server;
    private final ExecutorService executor;

    private MetricsServer(HttpServer server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    /** Listens on {@code address} (port 0: any free port, see {@link #address()}) and serves {@code page}. */
    public static MetricsServer start(InetSocketAddress address, Supplier<String> page) throws IOException {
        HttpServer server = HttpServer.create(address, 16);
        ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "jrbd-metrics");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        server.createContext("/", exchange -> answer(exchange, page));
        server.start();
        return new MetricsServer(server, executor);
    }

    /** Where it listens (with the port chosen if 0 was asked for). */
    public InetSocketAddress address() {
        return server.getAddress();
    }

    private static void answer(HttpExchange exchange, Supplier<String> page) throws IOException {
        try {
            String method = exchange.getRequestMethod();
            if (!exchange.getRequestURI().getPath().equals(PATH)) {
                send(exchange, 404, "text/plain; charset=utf-8", "not found: metrics are at " + PATH + "\n", method);
            } else if (!method.equals("GET") && !method.equals("HEAD")) {
                exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                send(exchange, 405, "text/plain; charset=utf-8", "method " + method + " not allowed: use GET\n", method);
            } else {
                String body;
                try {
                    body = page.get();
                } catch (RuntimeException e) {
                    LOG.error("rendering {} failed", PATH, e);
                    send(exchange, 500, "text/plain; charset=utf-8", "rendering metrics failed: " + e + "\n", method);
                    return;
                }
                send(exchange, 200, CONTENT_TYPE, body, method);
            }
        } finally {
            exchange.close();
        }
    }

    private static void send(HttpExchange exchange, int status, String contentType, String body, String method)
            throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", contentType);
        if (method.equals("HEAD")) {
            exchange.sendResponseHeaders(status, -1);
            return;
        }
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    /**
     * {@code HOST:PORT} or {@code [IPV6]:PORT}, as {@code --metrics} takes it. The host is
     * required (the endpoint binds only where told): {@code 0.0.0.0:9942} for every interface.
     *
     * @param where what the text came from, for the error message (e.g. {@code --metrics})
     */
    public static InetSocketAddress parseAddress(String text, String where) {
        HostPort hp;
        try {
            hp = HostPort.parse(text, where);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage() + (e.getMessage().endsWith("is not HOST:PORT")
                    ? " (e.g. 127.0.0.1:9942)" : ""));
        }
        String host = hp.host();
        int port = hp.port();
        InetSocketAddress address = new InetSocketAddress(host, port);
        if (address.isUnresolved()) {
            throw new IllegalArgumentException(where + " '" + text + "': cannot resolve host '" + host + "'");
        }
        return address;
    }

    /** Stops listening at once; a scrape in progress is cut off. */
    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
