package io.jrbd.nbd.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class MetricsServerTest {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private static HttpResponse<String> call(MetricsServer server, String method, String path) throws Exception {
        URI uri = URI.create("http://127.0.0.1:" + server.address().getPort() + path);
        HttpRequest request = HttpRequest.newBuilder(uri).method(method, HttpRequest.BodyPublishers.noBody())
                .timeout(Duration.ofSeconds(5)).build();
        return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void shouldServeThePageAtSlashMetricsInTheTextFormat() throws Exception {
        AtomicInteger renders = new AtomicInteger();
        try (MetricsServer server = MetricsServer.start(new InetSocketAddress("127.0.0.1", 0),
                () -> "# HELP a_b A.\n# TYPE a_b gauge\na_b " + renders.incrementAndGet() + "\n")) {
            assertEquals("127.0.0.1", server.address().getAddress().getHostAddress());
            HttpResponse<String> r = call(server, "GET", "/metrics");
            assertEquals(200, r.statusCode());
            assertEquals("text/plain; version=0.0.4; charset=utf-8", r.headers().firstValue("Content-Type").orElse(""));
            assertEquals("# HELP a_b A.\n# TYPE a_b gauge\na_b 1\n", r.body());
            assertEquals(200, call(server, "GET", "/metrics?x=1").statusCode());
            assertEquals(2, renders.get(), "each scrape renders afresh");
            assertEquals(200, call(server, "HEAD", "/metrics").statusCode());
        }
    }

    @Test
    void shouldAnswer404ForOtherPathsAnd405ForOtherMethods() throws Exception {
        try (MetricsServer server = MetricsServer.start(new InetSocketAddress("127.0.0.1", 0), () -> "")) {
            for (String path : new String[] {"/", "/metricsx", "/metrics/", "/status"}) {
                HttpResponse<String> r = call(server, "GET", path);
                assertEquals(404, r.statusCode(), path);
                assertTrue(r.body().contains("/metrics"), r.body());
            }
            HttpResponse<String> post = call(server, "POST", "/metrics");
            assertEquals(405, post.statusCode());
            assertEquals("GET, HEAD", post.headers().firstValue("Allow").orElse(""));
        }
    }

    @Test
    void shouldAnswer500WhenRenderingFailsAndKeepServing() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        try (MetricsServer server = MetricsServer.start(new InetSocketAddress("127.0.0.1", 0), () -> {
            if (calls.incrementAndGet() == 1) {
                throw new IllegalStateException("boom");
            }
            return "ok\n";
        })) {
            HttpResponse<String> first = call(server, "GET", "/metrics");
            assertEquals(500, first.statusCode());
            assertTrue(first.body().contains("boom"), first.body());
            assertEquals(200, call(server, "GET", "/metrics").statusCode());
        }
    }

    @Test
    void shouldParseHostAndPortAndNameTheCulpritOtherwise() {
        InetSocketAddress a = MetricsServer.parseAddress(" 127.0.0.1:9942 ", "--metrics");
        assertEquals("127.0.0.1", a.getAddress().getHostAddress());
        assertEquals(9942, a.getPort());
        assertEquals(9942, MetricsServer.parseAddress("[::1]:9942", "--metrics").getPort());
        assertEquals(0, MetricsServer.parseAddress("0.0.0.0:0", "--metrics").getPort());
        String[][] bad = {
            {"9942", "is not HOST:PORT"}, {":9942", "is not HOST:PORT"}, {"localhost:", "is not HOST:PORT"},
            {"::1:9942", "[ADDRESS]:PORT"}, {"127.0.0.1:http", "'http' is not a port"},
            {"127.0.0.1:70000", "port 70000 is not in 0..65535"},
        };
        for (String[] row : bad) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> MetricsServer.parseAddress(row[0], "JRBD_METRICS"), row[0]);
            assertTrue(e.getMessage().startsWith("JRBD_METRICS '" + row[0] + "'"), e.getMessage());
            assertTrue(e.getMessage().contains(row[1]), e.getMessage());
        }
    }
}
