package io.jrbd.nbd.daemon;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.jrbd.nbd.Causes;
import io.jrbd.nbd.control.ControlHandler;
import io.jrbd.nbd.control.ControlRequest;
import io.jrbd.nbd.control.ControlResponder;
import io.jrbd.nbd.control.ControlServer;
import io.jrbd.nbd.metrics.MetricsServer;
import io.jrbd.nbd.metrics.NodeMetrics;
import io.jrbd.replicator.config.ConfigLoader;
import io.jrbd.replicator.config.NodeSettings;
import io.jrbd.replicator.config.ResourceConfig;
import io.jrbd.replicator.resource.RefusedException;
import io.jrbd.replicator.resource.Resource;
import io.jrbd.replicator.resource.ResourceEventHub;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One node: every resource configured for it, each with its NBD listener and peer link, and
 * the control socket through which {@code jrbdadm} drives them. Resources start down; `up`
 * attaches one.
 */
public final class NodeDaemon implements ControlHandler, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NodeDaemon.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** How often a waiting events stream checks that its client is still there. */
    private static final long EVENTS_PROBE_MILLIS = 200;

    private final Path configDir;
    private final String node;
    private final int ioThreads;
    private final int eventLoops;
    private final Map<String, ResourceConfig> configs = new LinkedHashMap<>();
    private final Map<String, Running> running = new LinkedHashMap<>();
    private EventLoopGroup group;
    private ControlServer control;
    /** The source of `jrbdadm events`: every resource tells it of its changes. */
    private ResourceEventHub events;
    /** Write latency and errors per resource, kept whether or not metrics are served. */
    private final NodeMetrics meters = new NodeMetrics();
    private volatile MetricsServer metrics;

    /** A resource that is up: the engine and its NBD listener. */
    private record Running(Resource resource, ResourceExport export) {
    }

    public NodeDaemon(Path configDir, String node, int ioThreads, int eventLoops) {
        this.configDir = configDir;
        this.node = node;
        this.ioThreads = ioThreads;
        this.eventLoops = eventLoops;
    }

    public NodeDaemon start() throws Exception {
        List<ResourceConfig> resources = ConfigLoader.loadDirectory(configDir);
        NodeSettings settings = ConfigLoader.nodeSettings(resources, node);
        for (ResourceConfig r : settings.resources()) {
            configs.put(r.name(), r);
        }
        group = Epoll.isAvailable() ? new EpollEventLoopGroup(eventLoops) : new NioEventLoopGroup(eventLoops);
        events = ResourceEventHub.start(this::eventStatus, ResourceEventHub.DEFAULT_QUEUE_LINES);
        control = ControlServer.start(settings.controlSocket(), this);
        LOG.info("node {}: {} resource(s) {} from {}; control socket {}", node, configs.size(), configs.keySet(), configDir,
                settings.controlSocket());
        return this;
    }

    public Path controlSocket() {
        return control.socket();
    }

    // ------------------------------------------------------------------ control

    @Override
    public void handle(ControlRequest request, ControlResponder responder) {
        if (request.command().equals("events")) {
            events(request, responder); // streams until the client goes away: answers by itself
            return;
        }
        try {
            JsonNode result = switch (request.command()) {
                case "up" -> each(request, name -> up(name, true));
                case "attach" -> each(request, name -> up(name, false));
                case "detach" -> each(request, this::detach);
                case "adjust" -> adjust(request);
                case "down" -> each(request, this::down);
                case "primary" -> each(request, name -> running(name).primary(request.args().path("force").asBoolean(false)));
                case "secondary" -> each(request, name -> running(name).secondary());
                case "connect" -> each(request, name -> running(name).connect(
                        request.args().path("discardMyData").asBoolean(false)));
                case "invalidate" -> each(request, name -> running(name).invalidate());
                case "invalidate-remote" -> each(request, name -> running(name).invalidateRemote());
                case "new-current-uuid" -> each(request, name -> running(name).newCurrentUuid(
                        request.args().path("clearBitmap").asBoolean(false)));
                case "pause-sync" -> each(request, name -> running(name).pauseSync());
                case "verify" -> verify(request);
                case "resume-io" -> each(request, name -> running(name).resumeIo());
                case "outdate" -> each(request, name -> running(name).outdate());
                case "resume-sync" -> each(request, name -> running(name).resumeSync());
                case "disconnect" -> each(request, name -> running(name).disconnect());
                case "status" -> status(request);
                case "wait-connect" -> waitFor(request, "connected", r -> r.connectedToPeer());
                case "wait-sync" -> waitFor(request, "in sync", r -> r.connectedToPeer()
                        && r.connectionState().equals("Connected") && r.diskState().equals("UpToDate")
                        && r.peerDiskState().equals("UpToDate"));
                default -> throw new RefusedException("unknown command '" + request.command() + "'");
            };
            responder.done(result);
        } catch (RefusedException e) {
            responder.fail(e.getMessage());
        } catch (Exception e) {
            LOG.error("{} {} failed", request.command(), request.resource(), e);
            responder.fail(request.command() + " failed: " + Causes.rootMessage(e));
        }
    }

    private interface Action {
        void apply(String resource) throws Exception;
    }

    /** Runs an action on the named resource, or on every resource for "all". */
    private JsonNode each(ControlRequest request, Action action) throws Exception {
        ArrayNode done = JSON.createArrayNode();
        for (String name : names(request)) {
            action.apply(name);
            done.add(name);
        }
        return done;
    }

    private List<String> names(ControlRequest request) throws RefusedException {
        String r = request.resource();
        if (r == null || r.isEmpty()) {
            throw new RefusedException(request.command() + " needs a resource name (or all)");
        }
        if (r.equals("all")) {
            return new ArrayList<>(configs.keySet());
        }
        if (!configs.containsKey(r)) {
            throw new RefusedException("no resource '" + r + "' is configured for node " + node + " in " + configDir
                    + " (known: " + String.join(", ", configs.keySet()) + ")");
        }
        return List.of(r);
    }

    private synchronized void up(String name, boolean connect) throws Exception {
        if (running.containsKey(name)) {
            throw new RefusedException(name + " is already up");
        }
        ResourceConfig config = configs.get(name);
        ResourceExport export = new ResourceExport(config, node, 2);
        Resource resource = new Resource(config, node, group, PooledByteBufAllocator.DEFAULT, meters.export(name, export),
                null, ioThreads);
        resource.addEventListener(events);
        try {
            resource.up(connect);
        } catch (Exception e) {
            export.close();
            throw e;
        }
        running.put(name, new Running(resource, export));
        events.onEvent(name, "up"); // its own "up" came while this daemon still showed it down
    }

    /**
     * {@code detach}: jrbd has no Diskless mode (a Primary reading and writing through its peer),
     * so detaching means taking the resource down, and a Primary must be demoted first.
     */
    private synchronized void detach(String name) throws Exception {
        Resource r = running(name);
        if (r.role() == Resource.Role.Primary) {
            throw new RefusedException(name + " is Primary here: jrbd has no Diskless mode, so a Primary cannot give up "
                    + "its disk; run 'jrbdadm secondary " + name + "' first");
        }
        down(name);
    }

    /**
     * {@code adjust}: reads the configuration folder again and brings each named resource to it: a
     * resource that is down comes up; a running one takes the changed options it can change live.
     */
    private JsonNode adjust(ControlRequest request) throws Exception {
        List<ResourceConfig> fresh = ConfigLoader.nodeSettings(ConfigLoader.loadDirectory(configDir), node).resources();
        Map<String, ResourceConfig> byName = new LinkedHashMap<>();
        for (ResourceConfig r : fresh) {
            byName.put(r.name(), r);
        }
        ArrayNode done = JSON.createArrayNode();
        for (String name : names(request)) {
            ResourceConfig c = byName.get(name);
            if (c == null) {
                throw new RefusedException(name + " is no longer configured for node " + node + " in " + configDir
                        + "; run 'jrbdadm down " + name + "' to stop it");
            }
            Running r;
            synchronized (this) {
                r = running.get(name);
            }
            if (r == null) {
                synchronized (this) {
                    configs.put(name, c);
                }
                up(name, true);
                done.add(name + ": up");
            } else {
                List<String> changed = r.resource().adjust(c);
                synchronized (this) {
                    configs.put(name, c);
                }
                done.add(name + ": " + (changed.isEmpty() ? "nothing changed" : String.join(", ", changed)));
            }
        }
        return done;
    }

    private synchronized void down(String name) throws Exception {
        Running r = running.get(name);
        if (r == null) {
            throw new RefusedException(name + " is not up");
        }
        r.resource().down();
        meters.retire(name);
        r.export().close();
        running.remove(name);
        events.onEvent(name, "down");
    }

    private synchronized Resource running(String name) throws RefusedException {
        Running r = running.get(name);
        if (r == null) {
            throw new RefusedException(name + " is not up (run: jrbdadm up " + name + ")");
        }
        return r.resource();
    }

    private JsonNode status(ControlRequest request) throws RefusedException {
        String r = request.resource();
        List<String> names = r == null || r.isEmpty() ? new ArrayList<>(configs.keySet()) : names(request);
        ArrayNode list = JSON.createArrayNode();
        for (String name : names) {
            list.add(JSON.valueToTree(statusMap(name)));
        }
        return list;
    }

    /** One resource's status: the resource's own while it is up, a fixed "down" one otherwise. */
    private Map<String, Object> statusMap(String name) {
        Running run;
        synchronized (this) {
            run = running.get(name);
        }
        if (run != null) {
            return run.resource().status();
        }
        Map<String, Object> down = new LinkedHashMap<>();
        down.put("resource", name);
        down.put("node", node);
        down.put("up", false);
        down.put("role", "Secondary");
        down.put("disk", "Diskless");
        down.put("connection", "StandAlone");
        return down;
    }

    // ------------------------------------------------------------------ events

    /**
     * {@code events}: a line per state change of the named resources (all if none), after an
     * {@code exists} line per object and {@code exists -}; with {@code now}, only those. Runs on the
     * control connection's thread until the client goes away, falls behind (a last {@code error} line),
     * or the daemon stops; each event is {@code {"time":...,"line":...}}.
     */
    private void events(ControlRequest request, ControlResponder responder) {
        List<String> names;
        try {
            String r = request.resource();
            names = r == null || r.isEmpty() ? List.copyOf(configs.keySet()) : names(request);
        } catch (RefusedException e) {
            responder.fail(e.getMessage());
            return;
        }
        try (ResourceEventHub.Subscription sub = events.subscribe(names, request.args().path("now").asBoolean(false))) {
            while (true) {
                ResourceEventHub.Event e = sub.poll(EVENTS_PROBE_MILLIS, TimeUnit.MILLISECONDS);
                if (e == null) {
                    if (!responder.isOpen()) {
                        return; // the client went away: unsubscribed by the try
                    }
                    continue;
                }
                if (e.line() != null && !responder.event(JSON.createObjectNode().put("time", e.time()).put("line", e.line()))) {
                    return;
                }
                if (e.end() == ResourceEventHub.End.FINISHED) {
                    responder.done(null);
                    return;
                }
                if (e.end() != null) {
                    responder.fail(e.end().message(sub.limit()));
                    return;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            if (responder.isOpen()) {
                responder.fail(ResourceEventHub.End.SHUTDOWN.message(0));
            }
        }
    }

    /** A resource's status for events: {@link #statusMap}, with the peer's name even while down. */
    private Map<String, Object> eventStatus(String name) {
        ResourceConfig config;
        synchronized (this) {
            config = configs.get(name);
        }
        if (config == null) {
            return null;
        }
        Map<String, Object> status = new LinkedHashMap<>(statusMap(name));
        if (!(status.get("peer") instanceof Map<?, ?>)) {
            status.put("peer", Map.of("node", config.peerOf(node).name()));
        }
        return status;
    }

    // ------------------------------------------------------------------ metrics

    /**
     * Serves {@code GET /metrics} for Prometheus on {@code address} (port 0: any free port) until
     * {@link #close()}; returns where it listens. Off unless called.
     */
    public InetSocketAddress startMetrics(InetSocketAddress address) throws IOException {
        MetricsServer m = MetricsServer.start(address, () -> {
            List<Map<String, Object>> statuses = new ArrayList<>();
            for (String name : configs.keySet()) {
                statuses.add(statusMap(name));
            }
            return meters.render(statuses);
        });
        metrics = m;
        LOG.info("node {}: metrics at http://{}:{}/metrics", node, m.address().getHostString(), m.address().getPort());
        return m.address();
    }

    /** Starts online verify on each named resource; unless told not to wait, waits and reports the result. */
    private JsonNode verify(ControlRequest request) throws Exception {
        boolean wait = !request.args().path("noWait").asBoolean(false);
        double timeout = request.args().path("timeout").asDouble(0);
        long waitMillis = !wait ? 0 : timeout <= 0 ? Long.MAX_VALUE / 2 : (long) (timeout * 1000);
        ArrayNode results = JSON.createArrayNode();
        for (String name : names(request)) {
            io.jrbd.replicator.verify.VerifyResult r = running(name).verify(waitMillis);
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("resource", name);
            out.put("finished", r != null);
            if (r != null) {
                out.put("outcome", r.outcome().name());
                out.put("differingBytes", r.differingBytes());
                out.put("ranges", r.ranges().describe(1000));
                out.put("summary", r.summary());
            }
            results.add(JSON.valueToTree(out));
        }
        return results;
    }

    private interface Condition {
        boolean holds(Resource r);
    }

    private JsonNode waitFor(ControlRequest request, String what, Condition condition) throws Exception {
        long timeoutMillis = (long) (request.args().path("timeout").asDouble(0) * 1000);
        long deadline = timeoutMillis <= 0 ? Long.MAX_VALUE : System.currentTimeMillis() + timeoutMillis;
        for (String name : names(request)) {
            while (true) {
                Resource r = running(name);
                if (condition.holds(r)) {
                    break;
                }
                if (System.currentTimeMillis() > deadline) {
                    throw new RefusedException(name + " is not " + what + " after " + timeoutMillis / 1000.0
                            + " s (connection " + r.connectionState() + ", disk " + r.diskState() + ", peer disk "
                            + r.peerDiskState() + ")");
                }
                TimeUnit.MILLISECONDS.sleep(100);
            }
        }
        return status(request);
    }

    /** Brings every resource down cleanly (Primary devices drained and made durable). */
    @Override
    public synchronized void close() {
        if (events != null) {
            events.close(); // ends every events stream with "error reason:shutdown"; does not wait
        }
        MetricsServer m = metrics;
        if (m != null) {
            m.close();
        }
        for (Map.Entry<String, Running> e : running.entrySet()) {
            try {
                e.getValue().resource().close();
            } catch (RuntimeException ex) {
                LOG.error("{}: closing failed: {}", e.getKey(), ex.getMessage());
            }
            e.getValue().export().close();
        }
        running.clear();
        if (control != null) {
            control.close();
        }
        if (group != null) {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
