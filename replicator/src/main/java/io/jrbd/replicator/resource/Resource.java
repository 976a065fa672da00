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
import io.jrbd.replicator.engine.SecondaryApplier;
import io.jrbd.replicator.engine.StoreDisk;
import io.jrbd.replicator.link.PeerLink;
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

    private final ResourceConfig config;
    private final NodeConfig node;
    private final NodeConfig peerNode;
    private final EventLoopGroup group;
    private final ByteBufAllocator alloc;
    private final ExportControl export;
    private final InetSocketAddress connectTo;
    private final int ioThreads;

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
    /**
     * This node crashed while Primary: writes it made just before may never have reached the
     * peer, so if it is Primary again its peer gets a full resync (the activity log will make
     * that partial).
     */
    private volatile boolean crashRecoveryNeeded;
    private boolean demoting;
    private volatile long clearBitmapAt = -1;
    private volatile long clearBitmapSession = -1;

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
        if (store != null) {
            throw new RefusedException(config.name() + " is already up");
        }
        Metadata m = Metadata.open(node.metaDisk(), config.size());
        BackingStore s;
        try {
            s = BackingStore.open(node.disk(), config.size(), false);
        } catch (IOException e) {
            m.close();
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
            LOG.warn("{}: this node was Primary and did not stop cleanly; the peer will get a full resync if this node is "
                    + "promoted again", config.name());
        }
        LOG.info("{}: up as Secondary, disk {}, generation {}, applied sequence {}", config.name(), sb.diskState(),
                Superblock.hex(sb.currentGen()), sb.appliedSeq());
        link = new PeerLink(config, node.name(), connectTo, group, this);
        link.start();
        link.enable();
        connection = "Connecting";
        housekeeper = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "jrbd-housekeeping-" + config.name());
            t.setDaemon(true);
            return t;
        });
        housekeeper.scheduleAtFixedRate(this::housekeeping, 1, 1, TimeUnit.SECONDS);
        event("up");
    }

    private java.nio.file.Path journalPath() {
        return node.metaDisk().resolveSibling(node.metaDisk().getFileName() + ".journal");
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
        if (sb.diskState() != DiskState.UP_TO_DATE && !force) {
            throw new RefusedException("the local disk is " + sb.diskState().drbdName()
                    + ", not UpToDate; use primary --force to make it the source of a full sync to the peer");
        }
        if (connection.equals("SyncTarget") && !force) {
            throw new RefusedException("a resync from the peer is running; wait for it (wait-sync) or use --force");
        }
        boolean peerInSync = peer != null && peer.disk() == io.jrbd.protocol.peer.DiskState.UpToDate
                && peer.currentGeneration() == sb.currentGen() && sb.currentGen() != 0;
        long generation = sb.currentGen();
        stopApplier(); // applies whatever the old Primary sent before it stepped down
        long seq = Math.max(sb.appliedSeq(), applierState == null ? -1 : applierState.appliedSeq());
        if (!peerInSync || force) {
            long previous = generation;
            generation = newGeneration();
            long[] history = sb.historyGens().clone();
            System.arraycopy(history, 0, history, 1, history.length - 1);
            history[0] = previous;
            sb = sb.withGenerations(generation, previous, history);
            log.release(log.lastSeq());
            LOG.info("{}: new data generation {} (previous {}), because the peer is {}", config.name(),
                    Superblock.hex(generation), Superblock.hex(previous), peer == null ? "not connected" : "not in sync");
        }
        if (log.lastSeq() != seq) {
            log.release(Long.MAX_VALUE); // the journal restarts at this node's next sequence number
        }
        sb = sb.withDiskState(DiskState.UP_TO_DATE).with(SuperblockFlag.CONSISTENT).with(SuperblockFlag.WAS_PRIMARY)
                .with(SuperblockFlag.CRASHED_PRIMARY).withAppliedSeq(seq);
        md.writeSuperblock(sb);
        persistedSeq = seq;
        device = new ReplicatedDevice(config.protocol(), store, log, new BitmapTracker(md.bitmap()), link, alloc,
                new DeviceListener(), seq, RING_SIZE, ioThreads);
        role = Role.Primary;
        if (session >= 0 && peer != null) {
            attachPeer(session, peer);
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
                    startApplier(session);
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
        requireUp();
        if (link.wanted()) {
            throw new RefusedException(config.name() + " is already " + connection);
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
        long applied = role == Role.Primary && d != null ? d.lastSeq() : appliedHere(sb);
        return new PeerMessage.State(role == Role.Primary ? PeerRole.Primary : PeerRole.Secondary,
                io.jrbd.protocol.peer.DiskState.valueOf(sb.diskState().drbdName()), config.size(), applied,
                l.firstSeq() == Long.MAX_VALUE ? 0 : l.firstSeq(), Math.max(0, l.lastSeq()), sb.currentGen(), 0);
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
        LOG.info("{}: peer {} is {} with disk {}, generation {}, applied sequence {}", config.name(), peerNode.name(),
                peer.role(), peer.disk(), Superblock.hex(peer.currentGeneration()), peer.appliedSeq());
        if (role == Role.Primary && peer.role() == PeerRole.Primary) {
            LOG.error("{}: SPLIT BRAIN: both nodes are Primary; disconnecting (StandAlone)", config.name());
            link.disable();
            connection = "StandAlone";
            return;
        }
        connection = "Connected";
        if (role == Role.Primary) {
            attachPeer(s, peer);
        } else {
            startApplier(s);
        }
        event("connected");
    }

    /** Decides between journal catch-up and a full resync, and starts shipping. */
    private void attachPeer(long s, PeerMessage.State peer) {
        Superblock sb = md.superblock();
        long last = device.lastSeq();
        long from = -1;
        String why;
        boolean peerConsistent = peer.disk() == io.jrbd.protocol.peer.DiskState.UpToDate
                || peer.disk() == io.jrbd.protocol.peer.DiskState.Consistent
                || peer.disk() == io.jrbd.protocol.peer.DiskState.Outdated;
        if (crashRecoveryNeeded) {
            why = "this node crashed while Primary, so its last writes may never have reached the peer";
        } else if (!peerConsistent) {
            why = "the peer's disk is " + peer.disk();
        } else if (peer.currentGeneration() != sb.currentGen()) {
            why = "the peer holds generation " + Superblock.hex(peer.currentGeneration()) + ", this node "
                    + Superblock.hex(sb.currentGen());
        } else if (peer.appliedSeq() > last) {
            why = "the peer claims sequence " + peer.appliedSeq() + ", beyond this node's " + last;
        } else if (peer.appliedSeq() == last) {
            from = last + 1;
            why = "the peer is up to date";
        } else if (peer.appliedSeq() + 1 >= log.firstSeq() && log.lastSeq() >= last) {
            from = peer.appliedSeq() + 1;
            why = "the journal holds sequence " + from + ".." + last;
        } else {
            // Same data generation, a consistent peer, a trustworthy bitmap: only what changed.
            from = ReplicatedDevice.RESYNC_BITMAP;
            why = "the journal no longer holds sequence " + (peer.appliedSeq() + 1) + " (it holds "
                    + (log.lastSeq() < 0 ? "nothing" : log.firstSeq() + ".." + log.lastSeq()) + "); "
                    + md.bitmap().dirtyBytes() + " bytes are marked out of sync";
        }
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
                }
            }
        } else if (message instanceof PeerMessage.State st) {
            onPeerState(s, st);
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
        if (role == Role.Primary && connection.equals("SyncSource") && st.disk() == io.jrbd.protocol.peer.DiskState.UpToDate) {
            connection = "Connected";
            crashRecoveryNeeded = false;
            md.bitmap().clearRange(0, config.size());
            LOG.info("{}: resync of {} finished", config.name(), peerNode.name());
            event("resync-finished");
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
        if (device != null) {
            device.detach(s);
        }
        stopApplier();
        connection = link != null && link.wanted() ? "Connecting" : "StandAlone";
        if (role == Role.Primary) {
            LOG.warn("{}: peer {} lost ({}); serving without it, changes are tracked in the bitmap", config.name(),
                    peerNode.name(), reason);
        }
        event("disconnected");
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
        public void synced(long seq) {
            link.send(s, new PeerMessage.SyncAck(seq));
        }

        @Override
        public void syncStarted(long totalBytes) {
            LOG.warn("{}: full resync from {} starting ({} bytes): this disk is Inconsistent until it ends", config.name(),
                    peerNode.name(), totalBytes);
            resyncTargetTotal = totalBytes;
            resyncTargetStartNanos = System.nanoTime();
            connection = "SyncTarget";
            persist(sb -> sb.withDiskState(DiskState.INCONSISTENT).without(SuperblockFlag.CONSISTENT)
                    .with(SuperblockFlag.FULL_SYNC_NEEDED));
            event("resync-started");
            sendState();
        }

        @Override
        public void syncCompleted(long seq) {
            PeerMessage.State p = peerState;
            long generation = p == null ? md.superblock().currentGen() : p.currentGeneration();
            persistedSeq = seq;
            persist(sb -> sb.withDiskState(DiskState.UP_TO_DATE).with(SuperblockFlag.CONSISTENT)
                    .without(SuperblockFlag.FULL_SYNC_NEEDED).without(SuperblockFlag.CRASHED_PRIMARY)
                    .withCurrentGen(generation).withAppliedSeq(seq));
            resyncTargetTotal = -1;
            crashRecoveryNeeded = false;
            connection = "Connected";
            LOG.info("{}: resync from {} finished: disk UpToDate at sequence {}, generation {}", config.name(),
                    peerNode.name(), seq, Superblock.hex(generation));
            event("resync-finished");
            sendState();
        }
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

    private void event(String what) {
        lastEvent = what;
    }

    /** What the pipeline tells us about resyncs it runs. */
    private final class DeviceListener implements ReplicatedDevice.Listener {
        @Override
        public void resyncStarted(long s, long totalBytes) {
            connection = "SyncSource";
        }

        @Override
        public void caughtUp(long s, long seq) {
            clearBitmapAt = seq;
            clearBitmapSession = s;
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
        m.put("connection", connection);
        m.put("generation", Superblock.hex(sb.currentGen()));
        Map<String, Object> peer = new LinkedHashMap<>();
        peer.put("node", peerNode.name());
        PeerMessage.State p = peerState;
        peer.put("role", p == null ? "Unknown" : p.role().name());
        peer.put("disk", p == null ? "DUnknown" : p.disk().name());
        if (p != null) {
            peer.put("generation", Superblock.hex(p.currentGeneration()));
            peer.put("appliedSeq", p.appliedSeq());
        }
        if (link != null && !link.lastFailure().isEmpty() && p == null) {
            peer.put("lastError", link.lastFailure());
        }
        m.put("peer", peer);
        m.put("outOfSyncBytes", md.bitmap().dirtyBytes());
        ReplicatedDevice d = device;
        if (d != null) {
            m.put("nbd", export.uri());
            m.put("nbdClients", export.clients());
            m.put("lastSeq", d.lastSeq());
            m.put("peerSyncedSeq", d.peerSyncedSeq());
            if (connection.equals("SyncSource")) {
                m.put("resync", progress(d.resyncBytesDone(), d.resyncBytesTotal(), d.resyncStartNanos()));
            }
        } else {
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
