package io.jrbd.systest;

import static io.jrbd.systest.TwoNodes.ALPHA;
import static io.jrbd.systest.TwoNodes.BRAVO;
import static io.jrbd.systest.TwoNodes.RESOURCE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.jrbd.nbd.control.ControlClient;
import io.jrbd.nbd.control.ControlException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two real daemons, one given {@code --metrics}, the other {@code JRBD_METRICS}: after writes
 * through NBD, Prometheus' view of each (scraped over HTTP) shows its role, disk and connection,
 * and the Primary's write-latency histogram counted them. Scraping all along a demotion, a
 * disconnect and a promotion neither fails nor holds up the commands.
 */
class MetricsTest {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final String NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
    private static final String LABEL = "[a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\\\\n]|\\\\[\\\\\"n])*\"";
    private static final Pattern SAMPLE = Pattern.compile("(" + NAME + ")(\\{(?:" + LABEL + "(?:," + LABEL + ")*)?})? "
            + "([+-]?(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]Inf|NaN)(?: -?[0-9]+)?");
    private static final Pattern HELP = Pattern.compile("# HELP " + NAME + " .*");
    private static final Pattern TYPE = Pattern.compile("# TYPE (" + NAME + ") (counter|gauge|histogram)");

    @TempDir
    Path dir;

    @Test
    void scrapes_show_states_one_hot_and_count_every_write_in_the_latency_histogram() throws Exception {
        try (TwoNodes nodes = TwoNodes.configure(dir, new TwoNodes.Options().size("64M"))) {
            Set<Integer> taken = new HashSet<>();
            for (String n : TwoNodes.NODES) {
                taken.add(nodes.node(n).replicationPort);
                taken.add(nodes.node(n).nbdPort);
            }
            int alphaPort = TwoNodes.freePort(taken);
            int bravoPort = TwoNodes.freePort(taken);
            startDaemon(nodes, ALPHA, List.of("--metrics", "127.0.0.1:" + alphaPort), Map.of());
            startDaemon(nodes, BRAVO, List.of(), Map.of("JRBD_METRICS", "127.0.0.1:" + bravoPort));
            assertTrue(nodes.log(ALPHA).contains("metrics at http://127.0.0.1:" + alphaPort + "/metrics"), nodes.log(ALPHA));
            assertTrue(nodes.log(BRAVO).contains("metrics at http://127.0.0.1:" + bravoPort + "/metrics"), nodes.log(BRAVO));

            // Before up: the resource is down, and says so.
            Map<String, Double> down = scrape(alphaPort);
            assertEquals(0.0, down.get("jrbd_up{resource=\"r0\"}"), down.toString());
            assertEquals(1.0, down.get("jrbd_disk_state{resource=\"r0\",state=\"Diskless\"}"), down.toString());

            for (String n : TwoNodes.NODES) {
                nodes.jrbdadm(n, "up", RESOURCE).assertOk();
            }
            nodes.jrbdadm(ALPHA, "wait-connect", "--timeout", "30", RESOURCE).assertOk();
            nodes.jrbdadm(ALPHA, "primary", "--force", RESOURCE).assertOk();
            nodes.jrbdadm(ALPHA, "wait-sync", "--timeout", "120", RESOURCE).assertOk();
            nodes.waitFor(BRAVO, s -> s.path("disk").asText().equals("UpToDate"), 60, "bravo UpToDate after the initial sync");

            Command.of("qemu-io", "-f", "raw", "-c", "write -P 0x5a 0 1M", "-c", "write -P 0x33 8M 64k",
                    "-c", "write -z 16M 128k", "-c", "flush", nodes.uri(ALPHA)).ok();
            nodes.waitReplicated(ALPHA, BRAVO, 60);

            Map<String, Double> a = scrape(alphaPort);
            String peer = "resource=\"r0\",peer=\"bravo\"";
            assertEquals(1.0, a.get("jrbd_up{resource=\"r0\"}"), a.toString());
            assertEquals(1.0, a.get("jrbd_role{resource=\"r0\",role=\"Primary\"}"), a.toString());
            assertEquals(0.0, a.get("jrbd_role{resource=\"r0\",role=\"Secondary\"}"), a.toString());
            assertOneHot(a, "jrbd_disk_state{resource=\"r0\",", "UpToDate");
            assertOneHot(a, "jrbd_connection_state{" + peer + ",", "Connected");
            assertOneHot(a, "jrbd_peer_disk_state{" + peer + ",", "UpToDate");
            assertEquals(1.0, a.get("jrbd_peer_role{" + peer + ",role=\"Secondary\"}"), a.toString());
            assertEquals(0.0, a.get("jrbd_out_of_sync_bytes{" + peer + "}"), a.toString());
            assertEquals(0.0, a.get("jrbd_replication_lag_writes{" + peer + "}"), a.toString());
            assertEquals(0.0, a.get("jrbd_degraded{resource=\"r0\"}"), a.toString());
            double count = a.get("jrbd_write_latency_seconds_count{resource=\"r0\",protocol=\"C\"}");
            assertTrue(count >= 3, "qemu-io's three writes counted: " + count);
            assertEquals(count, a.get("jrbd_write_latency_seconds_bucket{resource=\"r0\",protocol=\"C\",le=\"+Inf\"}"));
            assertTrue(a.get("jrbd_write_latency_seconds_sum{resource=\"r0\",protocol=\"C\"}") > 0, a.toString());
            for (String kind : List.of("io", "sync", "no_space", "shutdown")) {
                assertEquals(0.0, a.get("jrbd_write_errors_total{resource=\"r0\",kind=\"" + kind + "\"}"), kind);
            }

            Map<String, Double> b = scrape(bravoPort);
            assertEquals(1.0, b.get("jrbd_role{resource=\"r0\",role=\"Secondary\"}"), b.toString());
            assertOneHot(b, "jrbd_disk_state{resource=\"r0\",", "UpToDate");
            assertOneHot(b, "jrbd_connection_state{resource=\"r0\",peer=\"alpha\",", "Connected");
            assertEquals(1.0, b.get("jrbd_peer_role{resource=\"r0\",peer=\"alpha\",role=\"Primary\"}"), b.toString());
            assertEquals(0.0, b.get("jrbd_write_latency_seconds_count{resource=\"r0\",protocol=\"C\"}"), b.toString());
            assertFalse(b.containsKey("jrbd_replication_lag_writes{resource=\"r0\",peer=\"alpha\"}"), b.toString());

            HttpResponse<String> other = get(alphaPort, "/");
            assertEquals(404, other.statusCode(), other.body());

            // Scrape without pause while the resource changes state: every scrape answers, every command completes.
            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger scrapes = new AtomicInteger();
            AtomicReference<Throwable> scrapeFailure = new AtomicReference<>();
            Thread scraper = new Thread(() -> {
                while (!stop.get()) {
                    try {
                        scrape(alphaPort);
                        scrapes.incrementAndGet();
                    } catch (Throwable e) {
                        scrapeFailure.compareAndSet(null, e);
                        return;
                    }
                }
            }, "scraper");
            scraper.start();
            try {
                nodes.jrbdadm(ALPHA, "secondary", RESOURCE).assertOk();
                nodes.jrbdadm(ALPHA, "disconnect", RESOURCE).assertOk();
                nodes.jrbdadm(ALPHA, "connect", RESOURCE).assertOk();
                nodes.jrbdadm(ALPHA, "wait-connect", "--timeout", "30", RESOURCE).assertOk();
                nodes.jrbdadm(ALPHA, "primary", RESOURCE).assertOk();
            } finally {
                stop.set(true);
                scraper.join(TimeUnit.SECONDS.toMillis(30));
            }
            assertFalse(scraper.isAlive(), "a scrape hung");
            if (scrapeFailure.get() != null) {
                throw new AssertionError("a scrape failed during state changes", scrapeFailure.get());
            }
            assertTrue(scrapes.get() > 0, "no scrape completed");

            // A new device after the promotion: the histogram continues where it was (a counter never goes down).
            Map<String, Double> after = scrape(alphaPort);
            assertEquals(1.0, after.get("jrbd_role{resource=\"r0\",role=\"Primary\"}"), after.toString());
            assertEquals(count, after.get("jrbd_write_latency_seconds_count{resource=\"r0\",protocol=\"C\"}"), after.toString());
            Command.of("qemu-io", "-f", "raw", "-c", "write -P 0x77 0 64k", nodes.uri(ALPHA)).ok();
            Map<String, Double> more = scrape(alphaPort);
            assertTrue(more.get("jrbd_write_latency_seconds_count{resource=\"r0\",protocol=\"C\"}") > count, more.toString());
            assertFalse(nodes.log(ALPHA).contains("ERROR"), nodes.log(ALPHA));
        }
    }

    /** Exactly one state of the family {@code prefix} (the labels before "state") is 1: {@code expected}. */
    private static void assertOneHot(Map<String, Double> samples, String prefix, String expected) {
        List<String> ones = new ArrayList<>();
        for (Map.Entry<String, Double> e : samples.entrySet()) {
            if (e.getKey().startsWith(prefix) && e.getValue() == 1.0) {
                ones.add(e.getKey());
            } else if (e.getKey().startsWith(prefix)) {
                assertEquals(0.0, e.getValue(), e.getKey());
            }
        }
        assertEquals(List.of(prefix + "state=\"" + expected + "\"}"), ones, samples.toString());
    }

    private static HttpResponse<String> get(int port, String path) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(10)).GET().build();
        return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
    }

    /**
     * GET /metrics; asserts the answer is the text format 0.0.4 (every line a HELP, a TYPE or a
     * sample of the family last typed) and returns its samples, "name{labels}" to value.
     */
    private static Map<String, Double> scrape(int port) throws Exception {
        HttpResponse<String> r = get(port, "/metrics");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("text/plain; version=0.0.4; charset=utf-8", r.headers().firstValue("Content-Type").orElse(""));
        Map<String, Double> samples = new LinkedHashMap<>();
        String family = null;
        String type = null;
        for (String line : r.body().split("\n")) {
            Matcher m;
            if (HELP.matcher(line).matches()) {
                continue;
            }
            if ((m = TYPE.matcher(line)).matches()) {
                family = m.group(1);
                type = m.group(2);
            } else if ((m = SAMPLE.matcher(line)).matches()) {
                String name = m.group(1);
                String base = "histogram".equals(type) ? name.replaceAll("_(bucket|sum|count)$", "") : name;
                assertEquals(family, base, "a sample outside its family: " + line);
                String value = m.group(3);
                samples.put(name + (m.group(2) == null ? "" : m.group(2)),
                        value.equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(value));
            } else {
                fail("not a line of the text format 0.0.4: '" + line + "'\n" + r.body());
            }
        }
        assertFalse(samples.isEmpty(), r.body());
        return samples;
    }

    /**
     * {@link TwoNodes#startDaemon} with extra arguments and environment: the process joins the
     * node's, so the harness kills it and checks its log on close.
     */
    private static void startDaemon(TwoNodes nodes, String name, List<String> extraArgs, Map<String, String> env)
            throws Exception {
        TwoNodes.Node n = nodes.node(name);
        List<String> argv = new ArrayList<>(List.of(Jrbd.launcher("jrbd"), "daemon", "-c", n.confDir.toString(),
                "--node", name));
        argv.addAll(extraArgs);
        ProcessBuilder pb = new ProcessBuilder(argv).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(n.log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().put("JRBD_JAVA_OPTS", TwoNodes.JAVA_OPTS);
        pb.environment().remove("JRBD_METRICS");
        pb.environment().putAll(env);
        n.process = pb.start();
        n.pids.add(n.process.pid());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            if (Files.exists(n.log) && nodes.log(name).contains("running as node " + name)) {
                try (ControlClient c = ControlClient.connect(n.socket)) {
                    assertNotNull(c);
                    return;
                } catch (ControlException e) {
                    // not yet
                }
            }
            if (!n.process.isAlive()) {
                fail(name + "'s daemon exited with " + n.process.exitValue() + " while starting:\n" + nodes.log(name));
            }
            Thread.sleep(50);
        }
        fail(name + "'s daemon did not open its control socket within 30 s:\n" + nodes.log(name));
    }
}
