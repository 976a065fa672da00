package io.jrbd.nbd.daemon;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.jrbd.nbd.Causes;
import io.jrbd.nbd.control.ControlHandler;
import io.jrbd.nbd.control.ControlRequest;
import io.jrbd.nbd.control.ControlResponder;
import io.jrbd.nbd.control.ControlServer;
import io.jrbd.replicator.config.ConfigLoader;
import io.jrbd.replicator.config.NodeSettings;
import io.jrbd.replicator.config.ResourceConfig;
import io.jrbd.replicator.resource.RefusedException;
import io.jrbd.replicator.resource.Resource;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
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

    private final Path configDir;
    private final String node;
    private final int ioThreads;
    private final int eventLoops;
    private final Map<String, ResourceConfig> configs = new LinkedHashMap<>();
    private final Map<String, Running> running = new LinkedHashMap<>();
    private EventLoopGroup group;
    private ControlServer control;

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
        try {
            JsonNode result = switch (request.command()) {
                case "up" -> each(request, this::up);
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

    private synchronized void up(String name) throws Exception {
        if (running.containsKey(name)) {
            throw new RefusedException(name + " is already up");
        }
        ResourceConfig config = configs.get(name);
        ResourceExport export = new ResourceExport(config, node, 2);
        Resource resource = new Resource(config, node, group, PooledByteBufAllocator.DEFAULT, export, null, ioThreads);
        try {
            resource.up();
        } catch (Exception e) {
            export.close();
            throw e;
        }
        running.put(name, new Running(resource, export));
    }

    private synchronized void down(String name) throws Exception {
        Running r = running.get(name);
        if (r == null) {
            throw new RefusedException(name + " is not up");
        }
        r.resource().down();
        r.export().close();
        running.remove(name);
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
            Running run;
            synchronized (this) {
                run = running.get(name);
            }
            if (run == null) {
                Map<String, Object> down = new LinkedHashMap<>();
                down.put("resource", name);
                down.put("node", node);
                down.put("up", false);
                down.put("role", "Secondary");
                down.put("disk", "Diskless");
                down.put("connection", "StandAlone");
                list.add(JSON.valueToTree(down));
            } else {
                list.add(JSON.valueToTree(run.resource().status()));
            }
        }
        return list;
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
