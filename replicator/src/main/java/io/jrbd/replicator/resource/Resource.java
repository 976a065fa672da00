package io.jrbd.replicator.resource;

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
import io.jrbd.replicator.generation.Decision;
import io.jrbd.replicator.generation.GenerationRules;
import io.jrbd.replicator.generation.Generations;
import io.jrbd.replicator.generation.NodeView;
import io.jrbd.replicator.generation.SyncDecision;
import io.jrbd.replicator.link.PeerLink;
import io.jrbd.replicator.verify.ChecksumProbe;
import io.jrbd.replicator.verify.DigestExchange;
import io.jrbd.replicator.verify.OnlineVerify;
import io.jrbd.replicator.verify.SessionEndedException;
import io.jrbd.replicator.verify.VerifyResult;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.EventLoopGroup;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
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
 *
 * <p>The parts that need little of this state are collaborators in this package, called from
 * here and never taking the monitor themselves: the connect decision ({@link Handshake}), the
 * generation changes ({@link GenerationBook}), fencing ({@link PeerFencing}), online verify
 * ({@link VerifyControl}), the Secondary's applier ({@link ApplierControl}), the milestones of
 * a resync this node sources ({@link SourceMilestones}) and the status sections ({@link ResourceStatus}).
 */
public final class Resource implements PeerLink.Handler, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Resource.class);
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
    private final ResourceEvents events;
    private final Handshake handshake;
    private final GenerationBook generations;
    private final PeerFencing fencing;
    private final VerifyControl verification;
    private final ApplierControl applier;
    private final SourceMilestones milestones = new SourceMilestones();

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
    private volatile long session = -1;
    private volatile PeerMessage.State peerState;
    private volatile String connection = "StandAlone";
    private volatile long persistedSeq = -1;
    /**
     * This node crashed while Primary: writes it made just before may never have reached the
     * peer, so if it is Primary again its peer gets a full resync (the activity log will make
     * that partial).
     */
    private volatile boolean crashRecoveryNeeded;
    private boolean demoting;
    private boolean resyncWasRunning;
    /** The next connect volunteers this node as the SyncTarget of a split brain. */
    private volatile boolean discardMyData;

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
        this.handlers = new HandlerRunner(config.name(), nodeName, name -> HandlerRunner.program(this.config, name),
                config.handlers().timeout());
        this.throttle = new RateThrottle(config.resync());
        this.events = new ResourceEvents(config.name());
        this.handshake = new Handshake(config.name(), peerNode.name(), handlers);
        this.generations = new GenerationBook(config.name(), peerNode.name(), this::persist);
        this.fencing = new PeerFencing(config.name(), peerNode.name(), handlers, this::persist, events);
        this.verification = new VerifyControl(config.name(), peerNode.name(), handlers, events, this::flushBitmap,
                this::dropConnection);
        this.applier = new ApplierControl(config.name());
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
        ConfigAdjustment.requireAdjustable(old, fresh);
        java.util.List<String> changed = ConfigAdjustment.changes(old, fresh);
        ReplicatedDevice d = device;
        if (d != null && !fresh.congestion().equals(old.congestion())) {
            d.setPullAhead(fresh.congestion().pullAhead(), fresh.congestion().fill());
        }
        if (!fresh.checksums().equals(old.checksums())) {
            verification.checksumsChanged(fresh, store);
        }
        if (!fresh.resync().equals(old.resync())) {
            throttle.update(fresh.resync());
        }
        config = fresh;
        LOG.info("{}: adjusted: {}", fresh.name(), changed.isEmpty() ? "nothing changed" : String.join(", ", changed));
        event("adjusted");
        return changed;
    }

    /** Attaches the disk and metadata; with {@code connect}, also starts connecting (else StandAlone: {@code attach}). */
    public synchronized void up(boolean connect) throws IOException, InterruptedException, RefusedException {
        if (store != null) {
            throw new RefusedException(config.name() + " is already up");
        }
        LocalStorage.Opened opened = LocalStorage.open(config, node);
        store = opened.store();
        md = opened.md();
        if (config.net().journalEnabled()) {
            log = LocalStorage.openJournal(config, node);
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
        verification.attached(config, store);
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
        verification.detached();
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

    /**
     * Promotes. With fencing on and the peer not connected (nor known to be outdated), the
     * {@code fence-peer} handler must succeed first, as in DRBD: a node cut off from its peer
     * must not become Primary while the peer may still be one. {@code --force} skips that. The
     * handler runs before the monitor is taken, so link events are not held up by it.
     */
    public void primary(boolean force) throws RefusedException, IOException {
        boolean fenceFirst;
        synchronized (this) {
            requireUp();
            fenceFirst = !force && role == Role.Secondary && session < 0
                    && config.disk().fencing() != io.jrbd.replicator.config.DiskOptions.Fencing.DONT_CARE
                    && !md.superblock().has(SuperblockFlag.PEER_OUTDATED);
        }
        if (fenceFirst) {
            fencing.fenceBeforePromotion();
        }
        promote(force);
    }

    private synchronized void promote(boolean force) throws RefusedException, IOException {
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
                : Math.max(sb.appliedSeq(), applier.appliedSeq());
        if (force) {
            sb = generations.promotedByForce(sb);
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
            if (force && !handshake.peerView(peer).consistent()) {
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
        flushBitmap();
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
                        + Handshake.peerGenerations(p));
            }
            md.bitmap().clearRange(0, config.size());
        }
        generations.newCurrent(sb, clearBitmap);
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
            long s = session;
            v = verification.start(config, store, md.bitmap(), m -> link.send(s, m), () -> awaitWritesSettled(s), throttle);
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
        long target = applier.receivedSeq();
        while (applier.applying(target)) {
            if (session != s) {
                throw new SessionEndedException("the connection to " + peerNode.name() + " was lost");
            }
            Thread.sleep(2);
        }
        Thread.sleep(50); // what the Primary had sent but this node not yet received
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
        if (role == Role.Secondary && applier.running()) {
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

    @Override
    public synchronized void connected(long s, PeerMessage.State peer) {
        if (peer.size() != config.size()) {
            link.drop("the peer's device is " + peer.size() + " bytes, this node's " + config.size());
            return;
        }
        session = s;
        peerState = peer;
        applier.sessionStarted();
        milestones.sessionStarted();
        verification.sessionStarted(m -> link.send(s, m));
        NodeView me = selfView();
        Decision d = handshake.decide(me, peer, md, config.splitBrain());
        generations.repair(d, me.generations());
        if (!Handshake.connects(d)) {
            // Split brain, unrelated data, or a Primary that would be overwritten: StandAlone, nothing touched.
            handshake.refuse(d);
            link.disable();
            connection = "StandAlone";
            event(d.outcome().isSplitBrain() ? "split-brain" : "refused");
            return;
        }
        discardMyData = false;
        connection = "Connected";
        SyncDecision outcome = d.outcome();
        if (outcome.isTarget()) {
            // SyncTarget from the decision on (DRBD's WFBitMapT/WFSyncUUID come first there), so
            // nothing reads "Connected" in the moment before the source's SYNC_START arrives.
            connection = "SyncTarget";
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
                connection = "SyncSource"; // waiting for the target's out-of-sync blocks, then shipping
                milestones.awaitPeerBits(s);
            }
        } else if (role == Role.Primary) {
            attachPeer(s, peer);
        } else {
            startApplier(s);
        }
        event("connected");
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

    /** The Primary ships to a peer with the same data generation: see {@link ShippingPlan}. */
    private void attachPeer(long s, PeerMessage.State peer) {
        long last = device.lastSeq();
        Decision d = GenerationRules.decide(selfView(), handshake.peerView(peer));
        ShippingPlan plan = ShippingPlan.choose(d, peer, last, log, md.bitmap());
        // After a catch-up across a generation change, SYNC_DONE tells the peer to adopt this node's.
        milestones.catchUpEndsWithSyncDone(peer.currentGeneration() != md.superblock().currentGen());
        startShipping(s, peer, plan.from(), plan.why());
    }

    private void startShipping(long s, PeerMessage.State peer, long from, String why) {
        milestones.shippingStarted();
        DigestExchange x = verification.exchange();
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
        if (s != session || device == null || !milestones.takePeerBits(s)) {
            return;
        }
        long peerBitsBytes = milestones.peerBitsBytes();
        PeerMessage.State peer = peerState;
        Decision d = handshake.lastDecision();
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
            if (milestones.durable(s, a.seq())) {
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
            if (milestones.peerBits(s, o)) {
                peerBitsReceived(s);
            }
        } else if (message instanceof PeerMessage.InvalidateRequest r) {
            onInvalidateRequest(r.reason());
        } else if (message instanceof PeerMessage.DigestRequest r) {
            try {
                if (!verification.answer(r, reply -> link.send(s, reply))) {
                    link.drop("protocol error: more digest requests at once than this node queues");
                }
            } catch (IllegalArgumentException e) {
                link.drop(e.getMessage());
            }
        } else if (message instanceof PeerMessage.DigestReply r) {
            verification.onReply(r);
        } else if (role == Role.Primary || !applier.offer(message)) {
            ReferenceCountUtil.release(message);
            link.drop("protocol error: the peer sent " + message.type() + " to a node that is not its Secondary");
        }
    }

    private synchronized void onPeerState(long s, PeerMessage.State st) {
        PeerMessage.State before = peerState;
        peerState = st;
        if (before != null && (before.role() != st.role() || before.disk() != st.disk())) {
            LOG.info("{}: peer {} is now {} with disk {}", config.name(), peerNode.name(), st.role(), st.disk());
            event("peer:" + st.role() + "/" + st.disk());
        }
        if (device != null && connection.equals("SyncSource") && milestones.targetReported(st.disk())) {
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
        if (s == session) {
            long received = applier.takeUnacknowledged();
            if (received >= 0) {
                link.send(s, new PeerMessage.RecvAck(received));
            }
        }
    }

    @Override
    public synchronized void disconnected(long s, String reason) {
        if (s != session) {
            return;
        }
        session = -1;
        peerState = null;
        milestones.sessionEnded();
        verification.sessionEnded(reason);
        if (device != null) {
            device.detach(s);
        }
        stopApplier();
        connection = link != null && link.wanted() ? "Connecting" : "StandAlone";
        if (role == Role.Primary) {
            persist(sb -> sb.with(SuperblockFlag.PRIMARY_AT_SPLIT));
            LOG.warn("{}: peer {} lost ({}); serving without it, changes are tracked in the bitmap", config.name(),
                    peerNode.name(), reason);
            Decision last = handshake.lastDecision();
            if (last != null && last.outcome() == SyncDecision.REFUSED_PRIMARY_WOULD_BECOME_TARGET) {
                // Refused because this node's data is the older one: it must not fence the node that has the newer.
                LOG.warn("{}: not fencing {}: the last connect found this node's data older than the peer's", config.name(),
                        peerNode.name());
            } else {
                fencing.peerLost(config.disk().fencing(), device);
            }
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

    /** Resumes application I/O suspended by fencing (after the administrator made sure the peer is not Primary). */
    public synchronized void resumeIo() throws RefusedException {
        requireUp();
        fencing.resumeIo(device);
    }

    /** Marks this node's data Outdated (what a peer's fence-peer handler asks for): it will not be promoted without --force. */
    public synchronized void outdate() throws RefusedException {
        requireUp();
        fencing.outdate(role == Role.Primary, md.superblock().diskState());
        sendState();
    }

    // ------------------------------------------------------------------ the secondary side

    /** The highest sequence number written to this Secondary's disk (maybe not yet durable). */
    private long appliedHere(Superblock sb) {
        return Math.max(Math.max(sb.appliedSeq(), persistedSeq), applier.appliedSeq());
    }

    private void startApplier(long s) {
        stopApplier();
        Superblock sb = md.superblock();
        long seq = appliedHere(sb);
        applier.start(store, seq, new TargetListener(s), new ApplierThread.Sink() {
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
    }

    private void stopApplier() {
        long synced = applier.stop();
        if (synced >= 0) {
            recordSynced(synced);
        }
    }

    /** The applier's writes up to {@code synced} are durable on this disk: the superblock says so, while UpToDate. */
    private void recordSynced(long synced) {
        Metadata m = md;
        if (synced > persistedSeq && m != null && m.superblock().diskState() == DiskState.UP_TO_DATE) {
            persistedSeq = synced;
            persist(sb -> sb.withAppliedSeq(synced));
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
            applier.resyncStarted(totalBytes);
            connection = "SyncTarget";
            handlers.run("before-resync-target", peerNode.name());
            generations.targetStarting(full, syncGeneration);
            event("resync-started");
            sendState();
        }

        @Override
        public void syncCompleted(long seq) {
            PeerMessage.State p = peerState;
            persistedSeq = seq;
            Generations adopted = generations.targetFinished(p, seq);
            Metadata m = md;
            if (m != null) {
                m.bitmap().clearRange(0, config.size()); // this node's own changes went to the source and came back
            }
            applier.resyncEnded();
            crashRecoveryNeeded = false;
            connection = "Connected";
            LOG.info("{}: resync from {} finished: disk UpToDate at sequence {}, generations {}", config.name(),
                    peerNode.name(), seq, adopted);
            handlers.run("after-resync-target", peerNode.name());
            event("resync-finished");
            sendState();
        }
    }

    /** This node's resync or catch-up of the peer is complete and durable there. */
    private void sourceFinished() {
        boolean secondary = role == Role.Secondary;
        fencing.peerCaughtUp(md.superblock().has(SuperblockFlag.PEER_OUTDATED));
        generations.sourceFinished(secondary);
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
            long synced = applier.syncedSeq();
            if (role == Role.Secondary && synced >= 0) {
                recordSynced(synced);
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

    /** See {@link SuperblockWriter}: under {@link #mdLock}, never the monitor. */
    private void persist(UnaryOperator<Superblock> change) {
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

    /** Writes the bitmap's changes to disk, if up; a failure is logged, not thrown. */
    private void flushBitmap() {
        Metadata m = md;
        try {
            if (m != null) {
                m.flushBitmap();
            }
        } catch (IOException e) {
            LOG.error("{}: writing the bitmap: {}", config.name(), e.getMessage());
        }
    }

    private void dropConnection(String why) {
        PeerLink l = link;
        if (l != null) {
            l.drop(why);
        }
    }

    /**
     * Records what happened (status' {@code lastEvent}) and tells the listeners that the state may
     * have changed. Call it after every change that {@code status()} shows; it never blocks.
     */
    private void event(String what) {
        events.happened(what);
    }

    /** From now on {@code listener} hears of every state change; it must never block (see {@link ResourceEventListener}). */
    public void addEventListener(ResourceEventListener listener) {
        events.add(listener);
    }

    public void removeEventListener(ResourceEventListener listener) {
        events.remove(listener);
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
            if (milestones.caughtUp(s, seq)) {
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
            generations.firstWriteWithoutPeer();
        }

        @Override
        public long resyncStarting(long s, long totalBytes, boolean full) {
            long syncGeneration = generations.resyncStarting();
            sendState(); // before SYNC_START: the target adopts these generations when it ends
            return syncGeneration;
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
        m.put("peer", ResourceStatus.peer(peerNode.name(), peerState, link));
        handshake.describe(m);
        m.put("resyncPaused", throttle.paused());
        verification.describe(m);
        m.put("outOfSyncBytes", md.bitmap().dirtyBytes());
        ReplicatedDevice dev = device;
        if (dev != null && role == Role.Secondary) {
            m.put("lastSeq", dev.lastSeq());
            if (connection.equals("SyncSource")) {
                m.put("resync", ResourceStatus.sourceProgress(dev));
            }
        }
        if (dev != null && role == Role.Primary) {
            m.put("nbd", export.uri());
            m.put("nbdClients", export.clients());
            m.put("lastSeq", dev.lastSeq());
            m.put("peerSyncedSeq", dev.peerSyncedSeq());
            if (connection.equals("SyncSource")) {
                m.put("resync", ResourceStatus.sourceProgress(dev));
            }
        } else if (dev == null) {
            m.put("appliedSeq", applier.running() ? applier.appliedSeq() : Math.max(persistedSeq, sb.appliedSeq()));
            if (connection.equals("SyncTarget")) {
                applier.resyncProgress().ifPresent(p -> m.put("resync", p));
            }
        }
        m.put("journal", ResourceStatus.journal(log));
        m.put("degraded", role == Role.Primary && session < 0);
        m.put("ioSuspended", dev != null && dev.ioSuspended());
        m.put("lastEvent", events.last());
        return m;
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
