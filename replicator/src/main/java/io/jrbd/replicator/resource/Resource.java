package io.jrbd.replicator.resource;

import io.jrbd.metadata.journal.Journal;
import io.jrbd.metadata.md.DiskState;
import io.jrbd.metadata.md.Metadata;
import io.jrbd.metadata.md.Superblock;
import io.jrbd.metadata.md.SuperblockFlag;
import io.jrbd.metadata.store.BackingStore;
import io.jrbd.protocol.peer.PeerMessage;
import io.jrbd.protocol.peer.PeerRole;
import io.jrbd.replicator.config.NodeConfig;
import io.jrbd.replicator.config.ResourceConfig;
import io.jrbd.replicator.engine.ReplicatedDevice;
import io.jrbd.replicator.engine.ReplicationLog;
import io.jrbd.replicator.engine.ActivityLogHook;
import io.jrbd.replicator.engine.SecondaryApplier;
import io.jrbd.replicator.engine.StoreDisk;
import io.jrbd.replicator.generation.Decision;
import io.jrbd.replicator.generation.GenerationRules;
import io.jrbd.replicator.generation.GenerationTransitions;
import io.jrbd.replicator.generation.Generations;
import io.jrbd.replicator.generation.NodeView;
import io.jrbd.replicator.generation.SyncDecision;
import io.jrbd.replicator.link.PeerLink;
import io.jrbd.replicator.verify.ChecksumProbe;
import io.jrbd.replicator.verify.DigestExchange;
import io.jrbd.replicator.verify.DigestResponder;
import io.jrbd.replicator.verify.OnlineVerify;
import io.jrbd.replicator.verify.SessionEndedException;
import io.jrbd.replicator.verify.VerifyOptions;
import io.jrbd.replicator.verify.VerifyResult;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.EventLoopGroup;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One replicated resource on this node: its data, metadata and journal, its link to the peer,
 * its role, and the device it exports while Primary. Administrative commands and link events
 * are serialised on this object's monitor; the data path never takes it.
 *
 * <p>Nothing waits for the network while holding the monitor: draining a device (which needs
 * the peer's acknowledgements, delivered on the link's event loop) and closing the link happen
 * outside it, because the event loop itself takes the monitor for link events. Metadata
 * writes have their own lock, so the applier and housekeeping threads never need the monitor.
 */
public final class Resource implements PeerLink.Handler, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Resource.class);
    private static final SecureRandom RANDOM = new SecureRandom();
    static final int RING_SIZE = 4096;

    public enum Role { Primary, Secondary }

    /** Replaced by {@link #adjust}; the parts that cannot change while up stay as they were. */
    private volatile ResourceConfig config;
    private final NodeConfig node;
    private final NodeConfig peerNode;
    private final EventLoopGroup group;
    private final ByteBufAllocator alloc;
    private final ExportControl export;
    private final InetSocketAddress connectTo;
    private final int ioThreads;
    private final HandlerRunner handlers;
    private final RateThrottle throttle;

    // attached state (null while down)
    private volatile BackingStore store;
    private volatile Metadata md;
    private volatile ReplicationLog log = ReplicationLog.NONE;
    private volatile PeerLink link;
    private ScheduledExecutorService housekeeper;
    /** Superblock writes are serialised here, never under the resource's monitor (see the class comment). */
    private final Object mdLock = new Object();

    private volatile Role role = Role.Secondary;
    private volatile ReplicatedDevice device;
    private volatile ApplierThread applier;
    private SecondaryApplier applierState;
    private volatile long session = -1;
    private volatile PeerMessage.State peerState;
    private volatile String connection = "StandAlone";
    private volatile long maxReceived = -1;
    private long ackedReceived = -1;
    private volatile long persistedSeq = -1;
    private volatile long resyncTargetTotal = -1;
    private volatile long resyncTargetStartNanos;
    private volatile String lastEvent = "";
    /** Told of every {@link #event}: the events stream ({@code jrbdadm events}); see {@link ResourceEventListener}. */
    private final java.util.List<ResourceEventListener> eventListeners = new java.util.concurrent.CopyOnWriteArrayList<>();
    /**
     * This node crashed while Primary: writes it made just before may never have reached the
     * peer, so if it is Primary again its peer gets a full resync (the activity log will make
     * that partial).
     */
    private volatile boolean crashRecoveryNeeded;
    private boolean demoting;
    private boolean resyncWasRunning;
    private volatile long clearBitmapAt = -1;
    private volatile long clearBitmapSession = -1;
    /** The next connect volunteers this node as the SyncTarget of a split brain. */
    private volatile boolean discardMyData;
    /** The decision of the last connect, and the line logged for it (for status). */
    private volatile Decision lastDecision;
    private volatile String lastDecisionLine = "";
    /** Why the last connect was refused (split brain, unrelated data), for status; empty if it was not. */
    private volatile String connectRefusal = "";
    /** A bitmap-based SyncSource waits for the target's out-of-sync blocks before it starts. */
    private long bitsSession = -1;
    private long peerBitsBytes;
    /** Answers the peer's digest requests (its verify, its checksum resync) from this node's disk, while up. */
    private DigestResponder responder;
    /** This node's digest requests to the peer of the current session. */
    private volatile DigestExchange exchange;
    private volatile OnlineVerify verify;
    private volatile VerifyResult lastVerify;
    private volatile long verifyStartNanos;
    /** A catch-up ends with SYNC_DONE: the peer is on this node's previous generation and adopts the current one. */
    private volatile boolean catchUpEndsWithSyncDone;
    /** The SyncTarget has reported Inconsistent since this node's resync to it started. */
    private boolean targetStarted;

    public Resource(ResourceConfig config, String nodeName, EventLoopGroup group, ByteBufAllocator alloc,
            ExportControl export, InetSocketAddress connectTo, int ioThreads) {
        this.config = config;
        this.node = config.node(nodeName);
        this.peerNode = config.peerOf(nodeName);
        this.group = group;
        this.alloc = alloc;
        this.export = export;
        this.connectTo = connectTo;
        this.ioThreads = ioThreads;
        this.handlers = new HandlerRunner(config.name(), nodeName, name -> handlerProgram(this.config, name),
                config.handlers().timeout());
        this.throttle = new RateThrottle(config.resync());
    }

    private static java.util.Optional<java.nio.file.Path> handlerProgram(ResourceConfig config, String name) {
        for (io.jrbd.replicator.config.Handlers.Handler h : io.jrbd.replicator.config.Handlers.Handler.values()) {
            if (h.spelling().equals(name)) {
                return config.handlers().program(h);
            }
        }
        return java.util.Optional.empty();
    }

    public String name() {
        return config.name();
    }

    public ResourceConfig config() {
        return config;
    }

    public synchronized boolean isUp() {
        return store != null;
    }

    // ------------------------------------------------------------------ up / down

    /** Attaches the disk and metadata, and starts connecting to the peer. As Secondary. */
    public synchronized void up() throws IOException, InterruptedException, RefusedException {
        up(true);
    }

    /**
     * Applies a changed configuration to the running resource ({@code jrbdadm adjust}): split-brain
     * policies, congestion, checksums, fencing, activity log size (from the next promotion), resync
     * rates and handlers take effect at once. What the connection or the disk was built from (size,
     * protocol, [net], the nodes) cannot change while up: refused, naming it.
     *
     * @return what changed, for the administrator ("nothing" if nothing)
     */
    public synchronized java.util.List<String> adjust(ResourceConfig fresh) throws RefusedException {
        ResourceConfig old = config;
        java.util.List<String> fixed = new java.util.ArrayList<>();
        if (fresh.size() != old.size()) {
            fixed.add("size");
        }
        if (fresh.protocol() != old.protocol()) {
            fixed.add("protocol");
        }
        if (!fresh.net().equals(old.net())) {
            fixed.add("[net] connection settings");
        }
        if (!fresh.nodes().equals(old.nodes())) {
            fixed.add("[nodes]");
        }
        if (!fixed.isEmpty()) {
            throw new RefusedException(String.join(", ", fixed) + " changed in " + fresh.source()
                    + ": that needs 'jrbdadm down " + old.name() + "' and 'up' (nothing was changed)");
        }
        java.util.List<String> changed = new java.util.ArrayList<>();
        if (!fresh.splitBrain().equals(old.splitBrain())) {
            changed.add("split-brain policies");
        }
        if (!fresh.congestion().equals(old.congestion())) {
            changed.add("congestion");
            ReplicatedDevice d = device;
            if (d != null) {
                d.setPullAhead(fresh.congestion().pullAhead(), fresh.congestion().fill());
            }
        }
        if (!fresh.checksums().equals(old.checksums())) {
            changed.add("checksums");
            if (responder != null) {
                responder.close();
                responder = newResponder(fresh);
            }
        }
        if (!fresh.disk().equals(old.disk())) {
            changed.add("[disk] fencing/al-extents");
        }
        if (!fresh.resync().equals(old.resync())) {
            changed.add("resync rates");
            throttle.update(fresh.resync());
        }
        if (!fresh.handlers().equals(old.handlers())) {
            changed.add("handlers");
        }
        config = fresh;
        LOG.info("{}: adjusted: {}", fresh.name(), changed.isEmpty() ? "nothing changed" : String.join(", ", changed));
        event("adjusted");
        return changed;
    }

    /** Answers the peer's digest requests with the algorithms {@code c} names (verify-alg, csums-alg). */
    private DigestResponder newResponder(ResourceConfig c) {
        java.util.List<String> algorithms = new java.util.ArrayList<>(java.util.List.of(c.checksums().verifyAlg().spelling()));
        c.checksums().csumsAlg().ifPresent(a -> algorithms.add(a.spelling()));
        return new DigestResponder(c.name(), store, algorithms, 32, (request, failure) -> {
            LOG.error("{}: reading this disk for the peer's digests failed: {}", c.name(), failure.getMessage());
            PeerLink l = link;
            if (l != null) {
                l.drop("local disk failure: " + failure.getMessage());
            }
        });
    }

    /** Attaches the disk and metadata; with {@code connect}, also starts connecting (else StandAlone: {@code attach}). */
    public synchronized void up(boolean connect) throws IOException, InterruptedException, RefusedException {
        if (store != null) {
            throw new RefusedException(config.name() + " is already up");
        }
        boolean internal = node.internalMetadata();
        Metadata m = internal ? Metadata.openInternal(node.disk(), config.size()) : Metadata.open(node.metaDisk(), config.size());
        BackingStore s;
        try {
            m.activityLog().setCapacity(config.disk().alExtents());
            s = internal ? BackingStore.openPrefix(node.disk(), config.size(), false)
                    : BackingStore.open(node.disk(), config.size(), false);
        } catch (IOException | IllegalArgumentException e) {
            m.close();
            if (e instanceof IllegalArgumentException) {
                throw new RefusedException(config.name() + ": " + e.getMessage());
            }
            throw e;
        }
        store = s;
        md = m;
        if (config.net().journalEnabled()) {
            log = new JournalLog(Journal.open(journalPath(), config.net().journalSize()));
        }
        Superblock sb = md.superblock();
        if (sb.has(SuperblockFlag.BITMAP_VALID)) {
            // From now on the bitmap changes in memory first: only a clean stop makes it valid again.
            sb = sb.without(SuperblockFlag.BITMAP_VALID);
            md.writeSuperblock(sb);
        }
        persistedSeq = sb.appliedSeq();
        crashRecoveryNeeded = sb.has(SuperblockFlag.CRASHED_PRIMARY);
        if (crashRecoveryNeeded) {
            // Writes in flight at the crash may be on one disk only: they lie in the hot extents.
            long marked = md.activityLog().markHotInBitmap(md.bitmap());
            md.flushBitmap();
            LOG.warn("{}: this node was Primary and did not stop cleanly; the {} hot extents of its activity log ({} "
                    + "blocks not yet out of sync) are marked out of sync and will be resynced from this node",
                    config.name(), md.activityLog().hotExtents().length, marked);
        }
        LOG.info("{}: up as Secondary, disk {}, generation {}, applied sequence {}", config.name(), sb.diskState(),
                Superblock.hex(sb.currentGen()), sb.appliedSeq());
        responder = newResponder(config);
        link = new PeerLink(config, node.name(), connectTo, group, this);
        link.start();
        if (connect) {
            link.enable();
            connection = "Connecting";
        }
        housekeeper = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "jrbd-housekeeping-" + config.name());
            t.setDaemon(true);
            return t;
        });
        housekeeper.scheduleAtFixedRate(this::housekeeping, 1, 1, TimeUnit.SECONDS);
        event("up");
    }

    private java.nio.file.Path journalPath() {
        java.nio.file.Path beside = node.internalMetadata() ? node.disk() : node.metaDisk();
        return beside.resolveSibling(beside.getFileName() + ".journal");
    }

    /** Disconnects, stops exporting, and detaches everything, making it durable first. */
    public void down() throws RefusedException {
        synchronized (this) {
            if (store == null) {
                throw new RefusedException(config.name() + " is not up");
            }
        }
        if (role == Role.Primary) {
            demote(false);
        }
        shutdown();
        event("down");
    }

    private void shutdown() {
        if (housekeeper != null) {
            housekeeper.shutdownNow();
            try {
                housekeeper.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        PeerLink l = link;
        if (l != null) {
            l.close(); // outside the monitor: the event loop may be waiting for it
        }
        synchronized (this) {
            link = null;
            shutdownLocked();
        }
    }

    private void shutdownLocked() {
        if (store == null) {
            return;
        }
        stopApplier();
        retireSourceDevice();
        OnlineVerify v = verify;
        if (v != null) {
            v.cancel("the resource is going down");
        }
        if (responder != null) {
            responder.close();
            responder = null;
        }
        try {
            md.flushBitmap();
            persist(sb -> sb.withAppliedSeq(Math.max(sb.appliedSeq(), persistedSeq)).with(SuperblockFlag.BITMAP_VALID));
            md.close();
        } catch (IOException e) {
            LOG.error("{}: closing metadata: {}", config.name(), e.getMessage());
        }
        log.close();
        log = ReplicationLog.NONE;
        try {
            store.sync();
            store.close();
        } catch (IOException e) {
            LOG.error("{}: closing the disk: {}", config.name(), e.getMessage());
        }
        store = null;
        md = null;
        session = -1;
        peerState = null;
        connection = "StandAlone";
    }

    @Override
    public void close() {
        if (store == null) {
            return;
        }
        if (role == Role.Primary) {
            demote(false);
        }
        shutdown();
    }

    // ------------------------------------------------------------------ roles

    public synchronized void primary(boolean force) throws RefusedException, IOException {
        requireUp();
        if (role == Role.Primary) {
            return;
        }
        PeerMessage.State peer = session >= 0 ? peerState : null;
        if (peer != null && peer.role() == PeerRole.Primary) {
            throw new RefusedException("peer " + peerNode.name() + " is Primary; make it Secondary first");
        }
        Superblock sb = md.superblock();
        if (connection.equals("SyncTarget")) {
            throw new RefusedException("a resync from " + peerNode.name() + " is running and this disk is "
                    + sb.diskState().drbdName() + "; wait for it (jrbdadm wait-sync " + config.name() + ")");
        }
        if (sb.diskState() != DiskState.UP_TO_DATE && !force) {
            throw new RefusedException("the local disk is " + sb.diskState().drbdName()
                    + ", not UpToDate; use primary --force to make it the source of a full sync to the peer");
        }
        boolean sourceRunning = device != null;
        stopApplier(); // applies whatever the old Primary sent before it stepped down
        long seq = sourceRunning ? device.lastSeq()
                : Math.max(sb.appliedSeq(), applierState == null ? -1 : applierState.appliedSeq());
        if (force) {
            // DRBD 8.4 makes the new generation at once when forced, so that a just-created or
            // Inconsistent node becomes a source on the next connect instead of staying "just created".
            Generations before = Generations.of(sb);
            Generations after = GenerationTransitions.onPromoteForce(before, RANDOM::nextLong);
            sb = after.applyTo(sb);
            LOG.info("{}: forced promotion: new data generation {} (was {})", config.name(), after, before);
        }
        if (log.lastSeq() != seq) {
            log.release(Long.MAX_VALUE); // the journal restarts at this node's next sequence number
        }
        sb = sb.withDiskState(DiskState.UP_TO_DATE).with(SuperblockFlag.CONSISTENT).with(SuperblockFlag.WAS_PRIMARY)
                .with(SuperblockFlag.CRASHED_PRIMARY).without(SuperblockFlag.FULL_SYNC_NEEDED).withAppliedSeq(seq);
        md.writeSuperblock(sb);
        persistedSeq = seq;
        if (device == null) {
            device = newDevice(seq);
        }
        if (!force) {
            // A new generation is made lazily, at the first write the peer does not get.
            device.armNewGeneration();
        }
        role = Role.Primary;
        if (session >= 0 && peer != null && !sourceRunning) {
            if (force && !peerView(peer).consistent()) {
                startShipping(session, peer, ReplicatedDevice.RESYNC_FULL, "forced promotion over "
                        + peerNode.name() + "'s " + peer.disk() + " disk");
            } else {
                attachPeer(session, peer);
            }
        }
        sendState();
        export.offer(device);
        LOG.info("{}: now Primary{} (sequence {}), exported as {}", config.name(), force ? " (forced)" : "", seq, export.uri());
        event("role:Primary");
    }

    public void secondary() throws RefusedException {
        synchronized (this) {
            requireUp();
            if (role == Role.Secondary) {
                return;
            }
            int clients = export.clients();
            if (clients > 0) {
                throw new RefusedException(clients + " NBD client" + (clients == 1 ? " is" : "s are") + " connected to "
                        + export.uri() + "; disconnect " + (clients == 1 ? "it" : "them") + " first");
            }
        }
        demote(true);
        event("role:Secondary");
    }

    /** Stops exporting and drains the device (outside the monitor), then becomes Secondary. */
    private void demote(boolean keepConnection) {
        ReplicatedDevice closing;
        synchronized (this) {
            if (role != Role.Primary || demoting) {
                return;
            }
            demoting = true;
            export.withdraw("resource " + config.name() + " is Secondary on " + node.name());
            closing = device;
            resyncWasRunning = connection.equals("SyncSource");
        }
        try {
            closeDevice(closing, true);
        } finally {
            synchronized (this) {
                device = null;
                role = Role.Secondary;
                demoting = false;
                LOG.info("{}: now Secondary", config.name());
                if (keepConnection && session >= 0) {
                    if (resyncWasRunning) {
                        // The resync goes on from this node as Secondary: a new handshake resumes it from the bitmap.
                        link.reconnect("resync continues after demotion");
                    } else {
                        startApplier(session);
                    }
                }
                sendState();
            }
        }
    }

    private void closeDevice(ReplicatedDevice closing, boolean clean) {
        if (closing == null) {
            return;
        }
        long s = session;
        if (s >= 0 && !closing.awaitPeerDurable(s, config.net().timeout().toMillis() * Math.max(1, config.net().koCount()))) {
            LOG.warn("{}: the peer did not confirm every write before this node stopped being Primary; they are in the bitmap",
                    config.name());
        }
        closing.close();
        long seq = closing.lastSeq();
        persistedSeq = seq;
        persist(sb -> (clean ? sb.without(SuperblockFlag.CRASHED_PRIMARY) : sb).withAppliedSeq(seq).withLastPrimarySeq(seq));
        try {
            if (clean) {
                md.activityLog().reset(); // nothing is in flight any more: no extent needs a resync after a crash
            }
            md.flushBitmap();
        } catch (IOException e) {
            LOG.error("{}: writing the bitmap: {}", config.name(), e.getMessage());
        }
    }

    private static long newGeneration() {
        long g;
        do {
            g = RANDOM.nextLong();
        } while (g == 0);
        return g;
    }

    // ------------------------------------------------------------------ connection commands

    public synchronized void connect() throws RefusedException {
        connect(false);
    }

    /**
     * Connects; with {@code discardMyData} this node volunteers as the victim of a split brain:
     * its changes are overwritten by the peer's (DRBD's {@code connect --discard-my-data}).
     */
    public synchronized void connect(boolean discard) throws RefusedException {
        requireUp();
        if (link.wanted()) {
            throw new RefusedException(config.name() + " is already " + connection
                    + (discard ? "; to discard this node's data, disconnect first" : ""));
        }
        if (discard && role == Role.Primary) {
            throw new RefusedException("this node is Primary: a split-brain victim must be Secondary (run: jrbdadm secondary "
                    + config.name() + ")");
        }
        discardMyData = discard;
        if (discard) {
            LOG.warn("{}: connecting with --discard-my-data: if this is a split brain, this node's changes are overwritten",
                    config.name());
        }
        link.enable();
        connection = "Connecting";
        event("connect");
    }

    public synchronized void disconnect() throws RefusedException {
        requireUp();
        link.disable();
        connection = "StandAlone";
        event("disconnect");
    }

    // ------------------------------------------------------------------ data administration

    /**
     * This node's data is not to be trusted: every block is marked out of sync and the disk
     * Inconsistent, so the next connect makes it the SyncTarget of its peer (at once if connected).
     */
    public synchronized void invalidate() throws RefusedException {
        requireUp();
        if (role == Role.Primary) {
            throw new RefusedException("this node is Primary; invalidate needs it Secondary (run: jrbdadm secondary "
                    + config.name() + ")");
        }
        PeerMessage.State p = session >= 0 ? peerState : null;
        if (p != null && p.disk() != io.jrbd.protocol.peer.DiskState.UpToDate) {
            throw new RefusedException("the peer's disk is " + p.disk() + ": it cannot be the source of a full sync");
        }
        if (connection.equals("SyncSource")) {
            throw new RefusedException("this node is the source of a resync to " + peerNode.name()
                    + "; wait for it (jrbdadm wait-sync " + config.name() + ")");
        }
        invalidateLocally("jrbdadm invalidate");
    }

    private void invalidateLocally(String why) {
        md.bitmap().setRange(0, config.size());
        persist(sb -> sb.withDiskState(DiskState.INCONSISTENT).without(SuperblockFlag.CONSISTENT)
                .with(SuperblockFlag.FULL_SYNC_NEEDED));
        try {
            md.flushBitmap();
        } catch (IOException e) {
            LOG.error("{}: writing the bitmap: {}", config.name(), e.getMessage());
        }
        LOG.warn("{}: {}: this node's data is invalid; a full sync from {} follows", config.name(), why, peerNode.name());
        event("invalidated");
        if (session >= 0) {
            link.reconnect("re-handshake after invalidate"); // the new decision makes this node SyncTarget
        }
    }

    /** The peer's data is not to be trusted: it becomes the SyncTarget of a full sync from this node. */
    public synchronized void invalidateRemote() throws RefusedException {
        requireUp();
        PeerMessage.State p = session >= 0 ? peerState : null;
        if (p == null) {
            throw new RefusedException("not connected to " + peerNode.name() + " (" + connection + ")");
        }
        if (p.role() == PeerRole.Primary) {
            throw new RefusedException("peer " + peerNode.name() + " is Primary; make it Secondary first");
        }
        if (md.superblock().diskState() != DiskState.UP_TO_DATE) {
            throw new RefusedException("the local disk is " + md.superblock().diskState().drbdName()
                    + ": it cannot be the source of a full sync");
        }
        if (connection.equals("SyncSource") || connection.equals("SyncTarget")) {
            throw new RefusedException("a resync is running (" + connection + "); wait for it (jrbdadm wait-sync "
                    + config.name() + ")");
        }
        link.send(session, new PeerMessage.InvalidateRequest("jrbdadm invalidate-remote on " + node.name()));
        LOG.warn("{}: asked {} to invalidate its data (full sync from this node)", config.name(), peerNode.name());
        event("invalidate-remote");
    }

    private synchronized void onInvalidateRequest(String reason) {
        if (role == Role.Primary || md == null) {
            LOG.error("{}: {} asked this node to invalidate its data ({}), but it is {}; ignored", config.name(),
                    peerNode.name(), reason, role);
            return;
        }
        invalidateLocally(peerNode.name() + " asked (" + reason + ")");
    }

    /**
     * Starts a new data generation ({@code new-current-uuid}). With {@code clearBitmap} on a
     * connected pair whose disks are both fresh (just created), both take the new generation and
     * become UpToDate without a sync: DRBD's way to skip the initial sync of empty disks.
     */
    public synchronized void newCurrentUuid(boolean clearBitmap) throws RefusedException {
        requireUp();
        Superblock sb = md.superblock();
        if (clearBitmap) {
            PeerMessage.State p = session >= 0 ? peerState : null;
            if (p == null) {
                throw new RefusedException("--clear-bitmap needs the peer connected, so both nodes take the new generation");
            }
            if (role == Role.Primary || p.role() == PeerRole.Primary) {
                throw new RefusedException("--clear-bitmap needs both nodes Secondary");
            }
            if (sb.currentGen() != 0 || p.currentGeneration() != 0) {
                throw new RefusedException("--clear-bitmap skips the initial sync of freshly created metadata only; "
                        + "this node's generation is " + Generations.of(sb) + ", the peer's "
                        + peerGenerations(p));
            }
        }
        Generations before = Generations.of(sb);
        Generations after = GenerationTransitions.onFirstWriteWithoutPeer(before, RANDOM::nextLong);
        if (clearBitmap) {
            after = Generations.of(after.current(), 0, before.history());
            md.bitmap().clearRange(0, config.size());
            sb = after.applyTo(sb).withDiskState(DiskState.UP_TO_DATE).with(SuperblockFlag.CONSISTENT)
                    .without(SuperblockFlag.FULL_SYNC_NEEDED);
        } else {
            sb = after.applyTo(sb);
        }
        final Superblock next = sb;
        persist(x -> next);
        LOG.info("{}: new current generation {} (was {}){}", config.name(), after, before,
                clearBitmap ? "; bitmap cleared, the peer adopts it without a sync" : "");
        event("new-current-uuid");
        if (clearBitmap) {
            // An empty bitmap resync: SYNC_START carries the generation and SYNC_DONE ends it at once.
            ensureSourceDevice();
            startShipping(session, peerState, ReplicatedDevice.RESYNC_BITMAP, "new-current-uuid --clear-bitmap");
        } else if (session >= 0) {
            link.reconnect("re-handshake after new-current-uuid");
        }
    }

    /** Holds resync traffic from this node (pause-sync); application writes go on. */
    public synchronized void pauseSync() throws RefusedException {
        requireUp();
        if (throttle.paused()) {
            throw new RefusedException("resync is already paused");
        }
        if (connection.equals("SyncTarget")) {
            throw new RefusedException("this node is SyncTarget; pause the resync on its source, " + peerNode.name());
        }
        throttle.pause();
        LOG.info("{}: resync paused", config.name());
        event("pause-sync");
    }

    /**
     * Online verify ({@code jrbdadm verify}): compares every block with the peer by digest,
     * re-checks each difference once the writes in flight have settled, marks what still
     * differs out of sync on both nodes and reports it as ranges. A later resync (disconnect,
     * connect) repairs them, from the Primary. Waits up to {@code waitMillis} for the result
     * (0: returns at once, the result comes in status and the log).
     */
    public VerifyResult verify(long waitMillis) throws RefusedException, InterruptedException {
        OnlineVerify v;
        synchronized (this) {
            requireUp();
            if (session < 0) {
                throw new RefusedException("not connected to " + peerNode.name() + " (" + connection + "): verify compares with the peer");
            }
            if (connection.equals("SyncSource") || connection.equals("SyncTarget")) {
                throw new RefusedException("a resync is running (" + connection + "); verify after it (jrbdadm wait-sync "
                        + config.name() + ")");
            }
            OnlineVerify running = verify;
            if (running != null && running.running()) {
                throw new RefusedException("a verify is already running (" + running.doneBytes() + " of "
                        + running.totalBytes() + " bytes compared)");
            }
            long s = session;
            v = new OnlineVerify(config.name(), store, md.bitmap(), exchange, m -> link.send(s, m),
                    () -> awaitWritesSettled(s), throttle, VerifyOptions.of(config.checksums().verifyAlg().spelling()),
                    this::verifyFinished);
            verify = v;
            verifyStartNanos = System.nanoTime();
            v.start();
            LOG.info("{}: online verify against {} started ({})", config.name(), peerNode.name(),
                    config.checksums().verifyAlg().spelling());
            event("verify-started");
        }
        if (waitMillis > 0) {
            v.awaitFinished(waitMillis, TimeUnit.MILLISECONDS);
        }
        return v.result().orElse(null);
    }

    /** Until every write sequenced now is on both disks: so verify never reports one in flight. */
    private void awaitWritesSettled(long s) throws InterruptedException, IOException {
        ReplicatedDevice d = device;
        if (role == Role.Primary && d != null) {
            long target = d.lastSeq();
            while (d.peerSyncedSeq() < target) {
                if (session != s) {
                    throw new SessionEndedException("the connection to " + peerNode.name() + " was lost");
                }
                Thread.sleep(2);
            }
            return;
        }
        long target = maxReceived;
        SecondaryApplier a = applierState;
        while (a != null && applier != null && a.appliedSeq() < target) {
            if (session != s) {
                throw new SessionEndedException("the connection to " + peerNode.name() + " was lost");
            }
            Thread.sleep(2);
        }
        Thread.sleep(50); // what the Primary had sent but this node not yet received
    }

    private void verifyFinished(VerifyResult r) {
        lastVerify = r;
        for (String line : r.logLines(20)) {
            LOG.warn("{}: {}", config.name(), line);
        }
        LOG.info("{}: online verify {}", config.name(), r.summary());
        Metadata m = md;
        try {
            if (m != null) {
                m.flushBitmap();
            }
        } catch (IOException e) {
            LOG.error("{}: writing the bitmap: {}", config.name(), e.getMessage());
        }
        if (r.differingBytes() > 0) {
            handlers.run("out-of-sync", peerNode.name());
        }
        event("verify-finished");
    }

    public synchronized void resumeSync() throws RefusedException {
        requireUp();
        if (!throttle.paused()) {
            throw new RefusedException("resync is not paused");
        }
        throttle.resume();
        LOG.info("{}: resync resumed", config.name());
        event("resume-sync");
    }

    // ------------------------------------------------------------------ link events

    @Override
    public PeerMessage.State localState() {
        // A Secondary tells a (re)connecting Primary exactly what its disk holds: first apply
        // what the old session still has queued, or the Primary would resend from too early
        // and briefly roll blocks back (or, if cut off again, leave them so).
        if (role == Role.Secondary && applier != null) {
            stopApplier();
        }
        return stateNow();
    }

    /** This node's state for the peer, as it is now; takes no lock. */
    private PeerMessage.State stateNow() {
        Metadata m = md;
        ReplicationLog l = log;
        Superblock sb = m.superblock();
        ReplicatedDevice d = device;
        long applied = d != null ? d.lastSeq() : appliedHere(sb);
        int flags = (crashRecoveryNeeded ? PeerMessage.State.FLAG_CRASHED_PRIMARY : 0)
                | (discardMyData ? PeerMessage.State.FLAG_DISCARD_MY_DATA : 0)
                | (sb.has(SuperblockFlag.PRIMARY_AT_SPLIT) ? PeerMessage.State.FLAG_PRIMARY_AT_SPLIT : 0)
                | (sb.currentGen() == 0 ? PeerMessage.State.FLAG_JUST_CREATED : 0)
                | (d != null && d.ahead() ? PeerMessage.State.FLAG_AHEAD : 0);
        return new PeerMessage.State(role == Role.Primary ? PeerRole.Primary : PeerRole.Secondary,
                io.jrbd.protocol.peer.DiskState.valueOf(sb.diskState().drbdName()), config.size(), applied,
                l.firstSeq() == Long.MAX_VALUE ? 0 : l.firstSeq(), Math.max(0, l.lastSeq()), sb.currentGen(),
                sb.bitmapGen(), sb.historyGens(), m.bitmap().dirtyBytes(), flags);
    }

    /** This node as the connect decision sees it. */
    private NodeView selfView() {
        Superblock sb = md.superblock();
        return new NodeView(node.name(), Generations.of(sb), sb.diskState(), role == Role.Primary, crashRecoveryNeeded,
                discardMyData);
    }

    /** The peer as the connect decision sees it, from its STATE. */
    private NodeView peerView(PeerMessage.State p) {
        return new NodeView(peerNode.name(), peerGenerations(p), DiskState.valueOf(p.disk().name().equals("UpToDate")
                ? "UP_TO_DATE" : p.disk().name().toUpperCase(java.util.Locale.ROOT)), p.role() == PeerRole.Primary,
                (p.flags() & PeerMessage.State.FLAG_CRASHED_PRIMARY) != 0,
                (p.flags() & PeerMessage.State.FLAG_DISCARD_MY_DATA) != 0);
    }

    private static Generations peerGenerations(PeerMessage.State p) {
        return Generations.of(p.currentGeneration(), p.bitmapGeneration(), p.history());
    }

    @Override
    public synchronized void connected(long s, PeerMessage.State peer) {
        if (peer.size() != config.size()) {
            link.drop("the peer's device is " + peer.size() + " bytes, this node's " + config.size());
            return;
        }
        session = s;
        peerState = peer;
        maxReceived = -1;
        ackedReceived = -1;
        bitsSession = -1;
        exchange = new DigestExchange(m -> link.send(s, m));
        NodeView me = selfView();
        NodeView them = peerView(peer);
        Decision d = GenerationRules.decide(me, them);
        if (d.outcome().isSplitBrain()) {
            d = resolveSplitBrain(me, them, d);
        }
        lastDecision = d;
        lastDecisionLine = GenerationRules.logLine(config.name(), me, them, d);
        connectRefusal = "";
        if (d.outcome().connects() && d.outcome() != SyncDecision.UNRELATED) {
            LOG.info(lastDecisionLine);
        }
        Generations repaired = GenerationRules.repair(d, me.generations());
        if (!repaired.equals(me.generations())) {
            LOG.info("{}: generations repaired by {}: {} -> {}", config.name(), d.rule(), me.generations(), repaired);
            persist(repaired::applyTo);
        }
        if (!d.outcome().connects() || d.outcome() == SyncDecision.UNRELATED) {
            refuseConnection(d);
            return;
        }
        discardMyData = false;
        connection = "Connected";
        SyncDecision outcome = d.outcome();
        if (outcome.isTarget()) {
            if (device != null) { // an idle source device of an earlier session
                retireSourceDevice();
            }
            if (!outcome.isFullSync()) {
                sendOutOfSyncRuns(s);
            }
            startApplier(s);
        } else if (outcome.isSource()) {
            ensureSourceDevice();
            if (outcome.isFullSync()) {
                startShipping(s, peer, ReplicatedDevice.RESYNC_FULL, "full sync: " + d.why());
            } else {
                bitsSession = s; // starts when the target's out-of-sync blocks are in
                peerBitsBytes = 0;
            }
        } else if (role == Role.Primary) {
            attachPeer(s, peer);
        } else {
            startApplier(s);
        }
        event("connected");
    }

    /** Split brain, unrelated data, or a Primary that would be overwritten: StandAlone, nothing touched. */
    private void refuseConnection(Decision d) {
        String what = switch (d.outcome()) {
            case UNRELATED -> "Unrelated data, aborting! The two nodes' data have no generation in common";
            case SPLIT_BRAIN, SPLIT_BRAIN_UNRECOVERABLE -> "SPLIT BRAIN detected, dropping the connection! Both nodes "
                    + "changed the data independently; nothing was overwritten. Choose the victim and run "
                    + "'jrbdadm connect --discard-my-data " + config.name() + "' on it";
            default -> "connection refused";
        };
        connectRefusal = what + " (" + d + ")";
        LOG.error("{}: {}", config.name(), what);
        LOG.error(lastDecisionLine);
        if (d.outcome().isSplitBrain()) {
            handlers.run("split-brain", peerNode.name());
        }
        link.disable();
        connection = "StandAlone";
        event(d.outcome().isSplitBrain() ? "split-brain" : "refused");
    }

    /** The after-split-brain policies; returns the decision with the victim discarding, or {@code d} unchanged. */
    private Decision resolveSplitBrain(NodeView me, NodeView them, Decision d) {
        SplitBrainResolver.Victim victim = SplitBrainResolver.choose(config.splitBrain(),
                new SplitBrainResolver.Side(me, md.bitmap().dirtyBytes(), md.superblock().has(SuperblockFlag.PRIMARY_AT_SPLIT)),
                new SplitBrainResolver.Side(them, peerState.outOfSyncBytes(),
                        (peerState.flags() & PeerMessage.State.FLAG_PRIMARY_AT_SPLIT) != 0));
        if (victim == null) {
            return d;
        }
        boolean meVictim = victim.node().equals(me.name());
        Decision resolved = GenerationRules.decide(me.withDiscardMyData(meVictim), them.withDiscardMyData(!meVictim));
        LOG.warn("{}: split brain detected and resolved automatically by {}: {} discards its changes ({})", config.name(),
                victim.policy(), victim.node(), victim.why());
        return resolved;
    }

    /** Sends this node's out-of-sync blocks as OUT_OF_SYNC runs, the last message marked. */
    private void sendOutOfSyncRuns(long s) {
        OutOfSyncRuns.send(md.bitmap(), config.size(), runs -> link.send(s, runs));
    }

    /** A node that is SyncSource drives the resync through a device of its own, even as Secondary (not exported). */
    private void ensureSourceDevice() {
        if (device != null) {
            return;
        }
        stopApplier();
        long seq = appliedHere(md.superblock());
        device = newDevice(seq);
    }

    private ReplicatedDevice newDevice(long seq) {
        md.activityLog().setCapacity(config.disk().alExtents());
        ReplicatedDevice d = new ReplicatedDevice(config.protocol(), store, log, new BitmapTracker(md.bitmap()), link, alloc,
                new DeviceListener(), seq, RING_SIZE, ioThreads, activityLogHook(), throttle);
        d.setPullAhead(config.congestion().pullAhead(), config.congestion().fill());
        return d;
    }

    /** The activity log as the pipeline's hook. */
    private ActivityLogHook activityLogHook() {
        return new ActivityLogGate(md.activityLog());
    }

    /** A Secondary's source device after its resync ended or its peer left: closed, the applier takes over. */
    private void retireSourceDevice() {
        ReplicatedDevice d = device;
        if (d == null || role == Role.Primary) {
            return;
        }
        device = null;
        d.close();
        long seq = d.lastSeq();
        persistedSeq = Math.max(persistedSeq, seq);
        persist(sb -> sb.withAppliedSeq(Math.max(sb.appliedSeq(), seq)));
    }

    /**
     * The Primary ships to a peer with the same data generation: from the journal if it holds
     * everything the peer missed, else the blocks the bitmap marks (or everything, when forced
     * over an Inconsistent peer).
     */
    private void attachPeer(long s, PeerMessage.State peer) {
        long last = device.lastSeq();
        long from;
        String why;
        boolean peerConsistent = peer.disk() == io.jrbd.protocol.peer.DiskState.UpToDate
                || peer.disk() == io.jrbd.protocol.peer.DiskState.Consistent
                || peer.disk() == io.jrbd.protocol.peer.DiskState.Outdated;
        Decision d = GenerationRules.decide(selfView(), peerView(peer));
        if (d.outcome().isFullSync()) {
            from = ReplicatedDevice.RESYNC_FULL;
            why = d.why();
        } else if (!peerConsistent && d.outcome() == SyncDecision.BITMAP_SOURCE) {
            from = ReplicatedDevice.RESYNC_BITMAP; // an interrupted resync resumes where it stopped
            why = d.why() + "; the peer's disk is " + peer.disk() + " (a resync was interrupted), "
                    + md.bitmap().dirtyBytes() + " bytes are still out of sync";
        } else if (!peerConsistent) {
            from = ReplicatedDevice.RESYNC_FULL;
            why = "the peer's disk is " + peer.disk();
        } else if (peer.appliedSeq() > last) {
            from = ReplicatedDevice.RESYNC_BITMAP;
            why = "the peer claims sequence " + peer.appliedSeq() + ", beyond this node's " + last
                    + "; resyncing the " + md.bitmap().dirtyBytes() + " bytes marked out of sync";
        } else if (peer.appliedSeq() == last && md.bitmap().dirtyBytes() > 0) {
            from = ReplicatedDevice.RESYNC_BITMAP;
            why = "the peer has every write, but " + md.bitmap().dirtyBytes()
                    + " bytes are marked out of sync (e.g. by verify)";
        } else if (peer.appliedSeq() == last) {
            from = last + 1;
            why = "the peer is up to date";
        } else if (peer.appliedSeq() + 1 >= log.firstSeq() && log.lastSeq() >= last) {
            from = peer.appliedSeq() + 1;
            why = "the journal holds sequence " + from + ".." + last;
        } else {
            from = ReplicatedDevice.RESYNC_BITMAP;
            why = "the journal no longer holds sequence " + (peer.appliedSeq() + 1) + " (it holds "
                    + (log.lastSeq() < 0 ? "nothing" : log.firstSeq() + ".." + log.lastSeq()) + "); "
                    + md.bitmap().dirtyBytes() + " bytes are marked out of sync";
        }
        // After a catch-up across a generation change, SYNC_DONE tells the peer to adopt this node's.
        catchUpEndsWithSyncDone = peer.currentGeneration() != md.superblock().currentGen();
        startShipping(s, peer, from, why);
    }

    private void startShipping(long s, PeerMessage.State peer, long from, String why) {
        targetStarted = false;
        DigestExchange x = exchange;
        device.setResyncFilter(config.checksums().csumsAlg().isPresent() && x != null
                ? new ChecksumProbe(store, x, config.checksums().csumsAlg().get().spelling(), 4096)::differingRuns : null);
        if (from == ReplicatedDevice.RESYNC_BITMAP) {
            LOG.warn("{}: bitmap resync to {}: {}", config.name(), peerNode.name(), why);
            connection = "SyncSource";
        } else if (from < 0) {
            LOG.warn("{}: full resync to {}: {}", config.name(), peerNode.name(), why);
            connection = "SyncSource";
        } else {
            LOG.info("{}: catching {} up from the journal: {}", config.name(), peerNode.name(), why);
            connection = "Connected";
        }
        device.attach(s, from, from < 0 ? -1 : peer.appliedSeq());
    }

    /** The target's out-of-sync blocks are all in: a bitmap-based source starts (catch-up if it can). */
    private synchronized void peerBitsReceived(long s) {
        if (s != session || s != bitsSession || device == null) {
            return;
        }
        bitsSession = -1;
        PeerMessage.State peer = peerState;
        Decision d = lastDecision;
        boolean journalMayDo = d != null && d.outcome() == SyncDecision.BITMAP_SOURCE && peerBitsBytes == 0
                && !crashRecoveryNeeded && role == Role.Primary;
        if (journalMayDo) {
            attachPeer(s, peer);
        } else {
            startShipping(s, peer, ReplicatedDevice.RESYNC_BITMAP, (d == null ? "" : d.why()) + "; "
                    + md.bitmap().dirtyBytes() + " bytes out of sync (" + peerBitsBytes + " of them marked by "
                    + peerNode.name() + ")");
        }
    }

    @Override
    public void received(long s, PeerMessage message) {
        if (s != session) {
            ReferenceCountUtil.release(message);
            return;
        }
        ReplicatedDevice d = device;
        if (message instanceof PeerMessage.RecvAck a) {
            if (d != null) {
                d.onPeerReceived(a.seq());
            }
        } else if (message instanceof PeerMessage.WriteAck a) {
            if (d != null) {
                d.onPeerWritten(a.seq());
            }
        } else if (message instanceof PeerMessage.SyncAck a) {
            if (d != null) {
                d.onPeerSynced(a.seq());
                d.onPeerResyncDurable(s, a.resyncBytes());
            }
            // Caught up and durable on the peer: what the bitmap recorded meanwhile is there.
            // (On the link's thread, like a disconnect, so no later dirty mark is wiped.)
            if (clearBitmapSession == s && clearBitmapAt >= 0 && a.seq() >= clearBitmapAt) {
                clearBitmapAt = -1;
                Metadata m = md;
                if (m != null) {
                    m.bitmap().clearRange(0, config.size());
                    LOG.info("{}: {} holds every write durably again; out-of-sync blocks cleared", config.name(),
                            peerNode.name());
                    sourceFinished();
                }
            }
        } else if (message instanceof PeerMessage.State st) {
            onPeerState(s, st);
        } else if (message instanceof PeerMessage.OutOfSync o) {
            Metadata m = md;
            for (int i = 0; i < o.runCount() && m != null; i++) {
                m.bitmap().setRange(o.offset(i), o.length(i));
            }
            if (s == bitsSession) {
                peerBitsBytes += o.totalBytes();
                if (o.last()) {
                    peerBitsReceived(s);
                }
            }
        } else if (message instanceof PeerMessage.InvalidateRequest r) {
            onInvalidateRequest(r.reason());
        } else if (message instanceof PeerMessage.DigestRequest r) {
            DigestResponder resp = responder;
            try {
                if (resp == null || !resp.submit(r, reply -> link.send(s, reply))) {
                    link.drop("protocol error: more digest requests at once than this node queues");
                }
            } catch (IllegalArgumentException e) {
                link.drop(e.getMessage());
            }
        } else if (message instanceof PeerMessage.DigestReply r) {
            DigestExchange x = exchange;
            if (x != null) {
                x.onReply(r);
            }
        } else {
            ApplierThread a = applier;
            if (a == null || role == Role.Primary) {
                ReferenceCountUtil.release(message);
                link.drop("protocol error: the peer sent " + message.type() + " to a node that is not its Secondary");
                return;
            }
            if (message instanceof PeerMessage.Data data) {
                maxReceived = Math.max(maxReceived, data.seq());
            }
            a.enqueue(message);
        }
    }

    private synchronized void onPeerState(long s, PeerMessage.State st) {
        PeerMessage.State before = peerState;
        peerState = st;
        if (before != null && (before.role() != st.role() || before.disk() != st.disk())) {
            LOG.info("{}: peer {} is now {} with disk {}", config.name(), peerNode.name(), st.role(), st.disk());
            event("peer:" + st.role() + "/" + st.disk());
        }
        if (device != null && connection.equals("SyncSource") && st.disk() == io.jrbd.protocol.peer.DiskState.Inconsistent) {
            targetStarted = true; // its SYNC_START arrived: the next UpToDate is the end of this resync
        }
        if (device != null && connection.equals("SyncSource") && targetStarted
                && st.disk() == io.jrbd.protocol.peer.DiskState.UpToDate) {
            targetStarted = false;
            connection = "Connected";
            md.bitmap().clearRange(0, config.size());
            sourceFinished();
            LOG.info("{}: resync of {} finished", config.name(), peerNode.name());
            event("resync-finished");
            if (role == Role.Secondary) {
                retireSourceDevice();
                startApplier(s);
            }
        }
        if (role == Role.Secondary && st.hasFlag(PeerMessage.State.FLAG_AHEAD) && device == null
                && md.superblock().diskState() == DiskState.UP_TO_DATE) {
            persist(sb -> sb.withDiskState(DiskState.OUTDATED));
            connection = "Behind";
            LOG.warn("{}: {} pulled ahead (its link was congested): this disk is Outdated until the resync that follows",
                    config.name(), peerNode.name());
            event("behind");
            sendState();
        }
        if (role == Role.Secondary && st.role() == PeerRole.Secondary && before != null && before.role() == PeerRole.Primary) {
            LOG.info("{}: peer {} is Secondary now", config.name(), peerNode.name());
        }
    }

    @Override
    public void readComplete(long s) {
        // Protocol B: the primary waits for "received"; acknowledge once per burst of reads.
        long received = maxReceived;
        if (s == session && received > ackedReceived) {
            ackedReceived = received;
            link.send(s, new PeerMessage.RecvAck(received));
        }
    }

    @Override
    public synchronized void disconnected(long s, String reason) {
        if (s != session) {
            return;
        }
        session = -1;
        peerState = null;
        bitsSession = -1;
        targetStarted = false;
        DigestExchange x = exchange;
        if (x != null) {
            x.failAll("the connection to " + peerNode.name() + " was lost: " + reason);
        }
        OnlineVerify v = verify;
        if (v != null) {
            v.cancel("the connection to " + peerNode.name() + " was lost");
        }
        if (device != null) {
            device.detach(s);
        }
        stopApplier();
        connection = link != null && link.wanted() ? "Connecting" : "StandAlone";
        if (role == Role.Primary) {
            persist(sb -> sb.with(SuperblockFlag.PRIMARY_AT_SPLIT));
            LOG.warn("{}: peer {} lost ({}); serving without it, changes are tracked in the bitmap", config.name(),
                    peerNode.name(), reason);
            fencePeer();
        } else if (device != null && housekeeper != null) {
            housekeeper.execute(() -> {
                synchronized (Resource.this) {
                    if (session < 0) {
                        retireSourceDevice();
                    }
                }
            });
        }
        event("disconnected");
    }

    // ------------------------------------------------------------------ fencing

    /**
     * The Primary lost its peer and fencing is on: the {@code fence-peer} handler must make sure
     * the peer cannot be promoted (outdate it over another path, or have the cluster manager keep
     * it from promotion, or shoot it). With {@code resource-and-stonith}, application I/O is
     * suspended until the handler succeeds, so no write completes that the peer might not have
     * while it could be promoted. Handler exit codes as DRBD's: 3 the peer is Inconsistent, 4 it
     * was outdated, 7 it was fenced (STONITH) are success; 5 (unreachable) counts only without
     * the freeze; anything else leaves I/O suspended until {@code jrbdadm resume-io}.
     */
    private void fencePeer() {
        io.jrbd.replicator.config.DiskOptions.Fencing fencing = config.disk().fencing();
        if (fencing == io.jrbd.replicator.config.DiskOptions.Fencing.DONT_CARE) {
            return;
        }
        boolean freeze = fencing == io.jrbd.replicator.config.DiskOptions.Fencing.RESOURCE_AND_STONITH;
        ReplicatedDevice d = device;
        if (freeze && d != null) {
            d.suspendIo();
            LOG.warn("{}: fencing {}: application I/O suspended until the fence-peer handler succeeds", config.name(),
                    fencing.spelling());
            event("io-suspended");
        }
        Thread t = new Thread(() -> {
            int code = handlers.runAndWait("fence-peer", peerNode.name());
            boolean fenced = code == 3 || code == 4 || code == 7 || (!freeze && code == 5);
            if (fenced) {
                persist(sb -> sb.with(SuperblockFlag.PEER_OUTDATED));
                LOG.warn("{}: fence-peer: {} is fenced (exit {})", config.name(), peerNode.name(), code);
                if (d != null && d.ioSuspended()) {
                    d.resumeIo();
                    LOG.warn("{}: application I/O resumed", config.name());
                }
                event("peer-fenced");
            } else {
                LOG.error("{}: fence-peer {} (exit {}): {} may still be promoted{}", config.name(),
                        code < 0 ? "did not run or did not finish" : "failed", code, peerNode.name(),
                        freeze ? "; application I/O stays suspended until 'jrbdadm resume-io " + config.name() + "'" : "");
                event("fence-peer-failed");
            }
        }, "jrbd-fence-peer-" + config.name());
        t.setDaemon(true);
        t.start();
    }

    /** Resumes application I/O suspended by fencing (after the administrator made sure the peer is not Primary). */
    public synchronized void resumeIo() throws RefusedException {
        requireUp();
        ReplicatedDevice d = device;
        if (d == null || !d.ioSuspended()) {
            throw new RefusedException("application I/O is not suspended");
        }
        d.resumeIo();
        LOG.warn("{}: application I/O resumed by the administrator", config.name());
        event("io-resumed");
    }

    /** Marks this node's data Outdated (what a peer's fence-peer handler asks for): it will not be promoted without --force. */
    public synchronized void outdate() throws RefusedException {
        requireUp();
        if (role == Role.Primary) {
            throw new RefusedException("this node is Primary; only a Secondary's data can be outdated");
        }
        DiskState disk = md.superblock().diskState();
        if (disk == DiskState.INCONSISTENT) {
            throw new RefusedException("the disk is Inconsistent, which is already worse than Outdated");
        }
        persist(sb -> sb.withDiskState(DiskState.OUTDATED));
        LOG.warn("{}: data marked Outdated (jrbdadm outdate)", config.name());
        event("outdated");
        sendState();
    }

    // ------------------------------------------------------------------ the secondary side

    /** The highest sequence number written to this Secondary's disk (maybe not yet durable). */
    private long appliedHere(Superblock sb) {
        return Math.max(Math.max(sb.appliedSeq(), persistedSeq), applierState == null ? -1 : applierState.appliedSeq());
    }

    private void startApplier(long s) {
        stopApplier();
        Superblock sb = md.superblock();
        long seq = appliedHere(sb);
        SecondaryApplier state = new SecondaryApplier(new StoreDisk(store), new TargetListener(s), System::nanoTime, seq, true);
        applierState = state;
        applier = new ApplierThread("jrbd-applier-" + config.name(), state, new ApplierThread.Sink() {
            @Override
            public void paused(boolean reading) {
                link.setReading(s, reading);
            }

            @Override
            public void failed(String why) {
                LOG.error("{}: local disk failed while applying the peer's writes: {}", config.name(), why);
                persist(sb2 -> sb2.withDiskState(DiskState.INCONSISTENT).without(SuperblockFlag.CONSISTENT));
                link.drop("local disk failure: " + why);
            }
        });
        applier.start();
    }

    private void stopApplier() {
        ApplierThread a = applier;
        applier = null;
        if (a != null) {
            a.finish();
            applierState.close();
            long synced = applierState.syncedSeq();
            Metadata m = md;
            if (synced > persistedSeq && m != null && m.superblock().diskState() == DiskState.UP_TO_DATE) {
                persistedSeq = synced;
                persist(sb -> sb.withAppliedSeq(synced));
            }
        }
    }

    /** Acknowledgements and resync milestones of the applier, sent back over the link. */
    private final class TargetListener implements SecondaryApplier.Listener {
        private final long s;

        TargetListener(long s) {
            this.s = s;
        }

        @Override
        public void written(long seq) {
            link.send(s, new PeerMessage.WriteAck(seq));
        }

        @Override
        public void synced(long seq, long resyncBytes) {
            link.send(s, new PeerMessage.SyncAck(seq, resyncBytes));
        }

        @Override
        public void syncStarted(long totalBytes, boolean full, long syncGeneration) {
            LOG.warn("{}: {} resync from {} starting ({} bytes): this disk is Inconsistent until it ends", config.name(),
                    full ? "full" : "bitmap-based", peerNode.name(), totalBytes);
            resyncTargetTotal = totalBytes;
            resyncTargetStartNanos = System.nanoTime();
            connection = "SyncTarget";
            handlers.run("before-resync-target", peerNode.name());
            persist(sb -> {
                Superblock next = sb.withDiskState(DiskState.INCONSISTENT).without(SuperblockFlag.CONSISTENT);
                if (syncGeneration != 0) {
                    next = GenerationTransitions.onSyncGenerationReceived(Generations.of(sb), syncGeneration).applyTo(next);
                }
                return full ? next.with(SuperblockFlag.FULL_SYNC_NEEDED) : next;
            });
            event("resync-started");
            sendState();
        }

        @Override
        public void syncCompleted(long seq) {
            PeerMessage.State p = peerState;
            persistedSeq = seq;
            Generations[] adopted = new Generations[1];
            persist(sb -> {
                Generations g = p == null ? Generations.of(sb) : adoptedFrom(peerGenerations(p));
                adopted[0] = g;
                return g.applyTo(sb).withDiskState(DiskState.UP_TO_DATE).with(SuperblockFlag.CONSISTENT)
                        .without(SuperblockFlag.FULL_SYNC_NEEDED).without(SuperblockFlag.CRASHED_PRIMARY)
                        .without(SuperblockFlag.PRIMARY_AT_SPLIT).withAppliedSeq(seq);
            });
            Metadata m = md;
            if (m != null) {
                m.bitmap().clearRange(0, config.size()); // this node's own changes went to the source and came back
            }
            resyncTargetTotal = -1;
            crashRecoveryNeeded = false;
            connection = "Connected";
            LOG.info("{}: resync from {} finished: disk UpToDate at sequence {}, generations {}", config.name(),
                    peerNode.name(), seq, adopted[0]);
            handlers.run("after-resync-target", peerNode.name());
            event("resync-finished");
            sendState();
        }
    }

    /**
     * What a SyncTarget stores when its resync (or catch-up) ends: the source's generations as
     * the source will store them when it learns of the end ({@link #sourceFinished}).
     */
    private static Generations adoptedFrom(Generations source) {
        return source.bitmap() == 0 ? source : GenerationTransitions.onResyncEndAsSource(source);
    }

    /** This node's resync or catch-up of the peer is complete and durable there. */
    private void sourceFinished() {
        boolean secondary = role == Role.Secondary;
        if (md.superblock().has(SuperblockFlag.PEER_OUTDATED)) {
            handlers.run("unfence-peer", peerNode.name()); // the peer holds everything again: undo what fence-peer did
        }
        persist(sb -> {
            Generations g = Generations.of(sb);
            Superblock next = (g.bitmap() == 0 ? g : GenerationTransitions.onResyncEndAsSource(g)).applyTo(sb)
                    .without(SuperblockFlag.PRIMARY_AT_SPLIT).without(SuperblockFlag.FULL_SYNC_NEEDED)
                    .without(SuperblockFlag.PEER_OUTDATED);
            return secondary ? next.without(SuperblockFlag.CRASHED_PRIMARY) : next;
        });
        crashRecoveryNeeded = false;
        ReplicatedDevice d = device;
        if (d != null) {
            d.armNewGeneration();
        }
        sendState();
    }

    private void sendState() {
        long s = session;
        PeerLink l = link;
        if (s >= 0 && l != null && md != null) {
            l.send(s, stateNow());
        }
    }

    // ------------------------------------------------------------------ background upkeep

    private void housekeeping() {
        if (md == null) {
            return;
        }
        try {
            SecondaryApplier a = applierState;
            if (role == Role.Secondary && a != null && applier != null) {
                long synced = a.syncedSeq();
                if (synced > persistedSeq && md.superblock().diskState() == DiskState.UP_TO_DATE) {
                    persistedSeq = synced;
                    persist(sb -> sb.withAppliedSeq(synced));
                }
            }
            md.flushBitmap();
            ReplicatedDevice d = device;
            long s = session;
            if (d != null && s >= 0 && d.ahead() && d.resumeFromAhead(s)) {
                LOG.info("{}: the link to {} drained; resyncing what was written while Ahead", config.name(), peerNode.name());
            }
            if (d != null && session >= 0) {
                long oldest = d.oldestWaitingNanos();
                long limit = config.net().timeout().toNanos() * config.net().koCount();
                if (oldest > 0 && System.nanoTime() - oldest > limit) {
                    link.drop("a write has waited for the peer longer than ko-count x timeout ("
                            + config.net().koCount() + " x " + config.net().timeout().toMillis() + " ms)");
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.error("{}: housekeeping failed: {}", config.name(), e.getMessage());
        }
    }

    private interface Change {
        Superblock apply(Superblock sb);
    }

    private void persist(Change change) {
        synchronized (mdLock) {
            Metadata m = md;
            if (m == null) {
                return;
            }
            try {
                m.writeSuperblock(change.apply(m.superblock()));
            } catch (IOException e) {
                LOG.error("{}: writing the superblock failed: {}", config.name(), e.getMessage());
            }
        }
    }

    private void requireUp() throws RefusedException {
        if (store == null) {
            throw new RefusedException(config.name() + " is not up (run: jrbdadm up " + config.name() + ")");
        }
    }

    /**
     * Records what happened (status' {@code lastEvent}) and tells the listeners that the state may
     * have changed. Call it after every change that {@code status()} shows; it never blocks.
     */
    private void event(String what) {
        lastEvent = what;
        for (ResourceEventListener l : eventListeners) {
            try {
                l.onEvent(config.name(), what);
            } catch (RuntimeException e) {
                LOG.error("{}: an events listener failed on '{}'", config.name(), what, e);
            }
        }
    }

    /** From now on {@code listener} hears of every state change; it must never block (see {@link ResourceEventListener}). */
    public void addEventListener(ResourceEventListener listener) {
        eventListeners.add(java.util.Objects.requireNonNull(listener, "listener"));
    }

    public void removeEventListener(ResourceEventListener listener) {
        eventListeners.remove(listener);
    }

    /** What the pipeline tells us about resyncs it runs. */
    private final class DeviceListener implements ReplicatedDevice.Listener {
        @Override
        public void resyncStarted(long s, long totalBytes) {
            connection = "SyncSource";
            event("resync-started");
        }

        @Override
        public void caughtUp(long s, long seq) {
            clearBitmapAt = seq;
            clearBitmapSession = s;
            if (catchUpEndsWithSyncDone) {
                link.syncDone(s, seq); // on the peer-sender thread, in order after the caught-up records
                link.endOfBatch(s);
            }
        }

        @Override
        public void wentAhead(long s, long pendingBytes) {
            connection = "Ahead";
            LOG.warn("{}: the link to {} is congested ({} bytes waiting): pulling ahead, writes are tracked in the bitmap "
                    + "until it drains, then resynced (on-congestion pull-ahead)", config.name(), peerNode.name(), pendingBytes);
            sendState();
            event("ahead");
        }

        @Override
        public void firstUnreplicatedWrite() {
            Generations[] made = new Generations[2];
            persist(sb -> {
                made[0] = Generations.of(sb);
                made[1] = GenerationTransitions.onFirstWriteWithoutPeer(made[0], RANDOM::nextLong);
                return made[1].applyTo(sb);
            });
            LOG.info("{}: first write without {}: new data generation {} (was {})", config.name(), peerNode.name(),
                    made[1], made[0]);
        }

        @Override
        public long resyncStarting(long s, long totalBytes, boolean full) {
            Generations[] g = new Generations[1];
            persist(sb -> {
                g[0] = GenerationTransitions.onResyncStart(Generations.of(sb), RANDOM::nextLong);
                return g[0].applyTo(sb);
            });
            sendState(); // before SYNC_START: the target adopts these generations when it ends
            return g[0] == null ? 0 : g[0].bitmap();
        }

        @Override
        public void catchUpImpossible(long s, String why) {
            LOG.warn("{}: catch-up impossible ({}); full resync instead", config.name(), why);
            connection = "SyncSource";
        }
    }

    // ------------------------------------------------------------------ status

    /** The state as `jrbdadm status --json` shows it: stable keys, documented in docs/operations.md. */
    public synchronized Map<String, Object> status() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("resource", config.name());
        m.put("node", node.name());
        m.put("up", store != null);
        m.put("role", role.name());
        m.put("protocol", config.protocol().name());
        if (store == null) {
            m.put("disk", "Diskless");
            m.put("connection", "StandAlone");
            return m;
        }
        Superblock sb = md.superblock();
        m.put("disk", sb.diskState().drbdName());
        m.put("connection", connection.equals("SyncSource") && throttle.paused() ? "PausedSyncS" : connection);
        m.put("generation", Superblock.hex(sb.currentGen()));
        m.put("generations", Generations.of(sb).toString());
        Map<String, Object> peer = new LinkedHashMap<>();
        peer.put("node", peerNode.name());
        PeerMessage.State p = peerState;
        peer.put("role", p == null ? "Unknown" : p.role().name());
        peer.put("disk", p == null ? "DUnknown" : p.disk().name());
        if (p != null) {
            peer.put("generation", Superblock.hex(p.currentGeneration()));
            peer.put("generations", peerGenerations(p).toString());
            peer.put("appliedSeq", p.appliedSeq());
            peer.put("outOfSyncBytes", p.outOfSyncBytes());
        }
        if (link != null && !link.lastFailure().isEmpty() && p == null) {
            peer.put("lastError", link.lastFailure());
        }
        m.put("peer", peer);
        Decision d = lastDecision;
        if (d != null) {
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("outcome", d.outcome().name());
            c.put("rule", d.ruleNumber());
            c.put("ruleName", d.rule().toString());
            c.put("why", d.why());
            m.put("lastConnect", c);
        }
        if (!connectRefusal.isEmpty()) {
            m.put("refused", connectRefusal);
        }
        m.put("resyncPaused", throttle.paused());
        OnlineVerify v = verify;
        if (v != null && v.running()) {
            m.put("connection", "VerifyS");
            m.put("verify", progress(v.doneBytes(), v.totalBytes(), verifyStartNanos));
        }
        VerifyResult vr = lastVerify;
        if (vr != null) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("outcome", vr.outcome().name());
            r.put("differingBytes", vr.differingBytes());
            r.put("ranges", vr.ranges().describe(100));
            r.put("summary", vr.summary());
            m.put("lastVerify", r);
        }
        m.put("outOfSyncBytes", md.bitmap().dirtyBytes());
        ReplicatedDevice dev = device;
        if (dev != null && role == Role.Secondary) {
            m.put("lastSeq", dev.lastSeq());
            if (connection.equals("SyncSource")) {
                m.put("resync", progress(dev.resyncBytesDone(), dev.resyncBytesTotal(), dev.resyncStartNanos()));
            }
        }
        if (dev != null && role == Role.Primary) {
            m.put("nbd", export.uri());
            m.put("nbdClients", export.clients());
            m.put("lastSeq", dev.lastSeq());
            m.put("peerSyncedSeq", dev.peerSyncedSeq());
            if (connection.equals("SyncSource")) {
                m.put("resync", progress(dev.resyncBytesDone(), dev.resyncBytesTotal(), dev.resyncStartNanos()));
            }
        } else if (dev == null) {
            SecondaryApplier a = applierState;
            m.put("appliedSeq", a != null && applier != null ? a.appliedSeq() : Math.max(persistedSeq, sb.appliedSeq()));
            ApplierThread at = applier;
            if (connection.equals("SyncTarget") && resyncTargetTotal > 0 && at != null) {
                m.put("resync", progress(Math.min(at.resyncBytes(), resyncTargetTotal), resyncTargetTotal, resyncTargetStartNanos));
            }
        }
        m.put("journal", log == ReplicationLog.NONE ? "off" : (log.lastSeq() < 0 || log.firstSeq() > log.lastSeq()
                ? "empty" : log.firstSeq() + ".." + log.lastSeq()));
        m.put("degraded", role == Role.Primary && session < 0);
        m.put("ioSuspended", dev != null && dev.ioSuspended());
        m.put("lastEvent", lastEvent);
        return m;
    }

    private static Map<String, Object> progress(long done, long total, long startNanos) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("doneBytes", done);
        r.put("totalBytes", total);
        r.put("percent", total <= 0 ? 0.0 : Math.round(1000.0 * done / total) / 10.0);
        double seconds = (System.nanoTime() - startNanos) / 1e9;
        long rate = seconds > 0 ? (long) (done / seconds) : 0;
        r.put("bytesPerSecond", rate);
        r.put("secondsLeft", rate > 0 ? (total - done) / rate : -1);
        return r;
    }

    public synchronized boolean connectedToPeer() {
        return session >= 0;
    }

    public synchronized String connectionState() {
        return connection;
    }

    public synchronized String diskState() {
        return md == null ? "Diskless" : md.superblock().diskState().drbdName();
    }

    public synchronized String peerDiskState() {
        PeerMessage.State p = peerState;
        return p == null ? "DUnknown" : p.disk().name();
    }

    public synchronized Role role() {
        return role;
    }
}
