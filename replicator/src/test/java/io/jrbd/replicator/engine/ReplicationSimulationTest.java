package io.jrbd.replicator.engine;

import static org.junit.jupiter.api.Assertions.fail;

import io.jrbd.replicator.config.Protocol;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Deterministic simulation of two nodes (DESIGN.md section 12; issue 3, point 10).
 *
 * <h2>Deterministic simulation</h2>
 *
 * <p><b>What is real.</b> The secondary is the engine's own {@link SecondaryApplier} writing
 * to a {@link SimDisk} (an in-memory disk with a volatile cache: writes are visible at once and
 * survive a crash of the process; a power loss keeps only what the last sync made durable),
 * with the simulation's virtual clock as its clock supplier. The primary acknowledges a write
 * when the engine's own {@link CompletionRule} says so, and it tracks unconfirmed writes in the
 * engine's own {@link PendingIndex}.
 *
 * <p><b>What is a model.</b> {@link ReplicatedDevice} runs three Disruptor stages on three
 * threads plus a group-commit thread and a completion drain; that is not deterministic, so the
 * simulation cannot drive it. {@link Sim.Primary} is a small sequential model of it, written
 * against ReplicatedDevice's code: each part names the rule it mirrors ("mirrors
 * ReplicatedDevice.Sequencer.sequence"). The three stages are separate simulated processes that
 * each take what is available when they wake up, so their relative timing varies with the
 * seed as the threads' would; the completion drain runs where the real one runs (end of a local
 * batch, end of a send batch, every ack, group commit, detach). Likewise the link (PeerLink),
 * the secondary's ApplierThread and the handshake/attach logic of Resource are modelled, each
 * naming what it mirrors. A bug in the real threading (a missed wake-up, a torn read of two
 * progress counters, a lazySet seen late) is outside what this can find.
 *
 * <p><b>Faults.</b> Message delays (random per message, in order per connection as TCP
 * gives), partitions (the whole connection fails, every message in flight either way is lost;
 * each side notices after its own timeout, and a side that has not noticed yet may be offered
 * the new connection, as PeerLink allows), heals and reconnects with catch-up from the journal,
 * a crash of the primary's process (kill -9), a crash of the secondary's process (its applier
 * queue is lost, its page cache is not) and a power loss of the secondary.
 *
 * <p><b>Invariants.</b>
 * <ul>
 * <li>(b) after every batch the secondary applies, its disk equals the primary's op sequence
 *     applied up to the secondary's appliedSeq (a state the primary passed through);</li>
 * <li>(a, d, e) after a primary crash, once the secondary has applied what reached it, every
 *     write acknowledged to the client whose peer condition was met by the peer's own
 *     acknowledgements (C: written, B: received) is there (its data or a newer write's); under A,
 *     every acknowledged write that had been pushed onto a connection that was still alive is
 *     there: only writes not yet handed to the network may be lost;</li>
 * <li>(c) after a power loss of the secondary, its disk equals a prefix of the op sequence up to
 *     at least its last synced ack, and holds every FLUSH acknowledged before (B, C) and every
 *     FUA write acknowledged before (C);</li>
 * <li>(a) after a crash of the secondary's process (armed to strike while its applier queue
 *     holds received, unapplied messages): under C every write acknowledged as written on the
 *     peer is on its disk (this is what tells C from B);</li>
 * <li>liveness: every client op completes (after a partition, after the peer is lost); and
 *     without a crash, once healed and idle, both disks are identical.</li>
 * </ul>
 *
 * <p><b>Not simulated</b>: the full resync (the journal here never wraps, so a reconnect always
 * catches up), the journal's backpressure and the ring's gating (both unbounded here), the
 * send buffer's backpressure (awaitWritable is always true on a live connection), disk errors
 * inside the simulation (SecondaryApplierTest covers sticky failure), a restart of a crashed
 * node, the primary's own disk (its local writes are modelled only as
 * progress), the dirty bitmap's persistence, and split brain. Whether the kernel still delivers
 * a killed process's socket buffer (FIN) or discards it (RST, when unread input was pending)
 * matters only to protocol A; the model assumes it is delivered.
 *
 * <p><b>Reported, not failed.</b> A write completed by the detach waiver before the DETACH
 * event marked it dirty is counted and noted in the trace ("completes by waiver before the
 * sequencer marked it dirty"): ReplicatedDevice.detach drains before the sequencer runs
 * pending.markAllDirty, so for a moment an acknowledged write the peer may lack is in neither
 * the bitmap nor the peer. {@code -Djrbd.sim.stateAsIs=true} mirrors Resource's handshake as it
 * is today (see {@code STATE_AS_IS}); it fails on seed 99 under A.
 *
 * <p>Seeds: {@code -Djrbd.sim.seeds=N} (default 300) runs seeds 1..N, each for protocols A, B
 * and C; {@code -Djrbd.sim.seed=S -Djrbd.sim.protocols=C -Djrbd.sim.trace=true} replays one.
 */
final class ReplicationSimulationTest {
    private static final int SEEDS = Integer.getInteger("jrbd.sim.seeds", 300);
    private static final String ONE_SEED = System.getProperty("jrbd.sim.seed");
    private static final String PROTOCOLS = System.getProperty("jrbd.sim.protocols", "A,B,C");
    private static final boolean TRACE = Boolean.getBoolean("jrbd.sim.trace");
    /** Run every seed and list all failures instead of stopping at the first. */
    private static final boolean KEEP_GOING = Boolean.getBoolean("jrbd.sim.keepGoing");
    /**
     * Mirror Resource's handshake as it is today: the secondary's State is taken from the
     * applier still running for the old connection (its syncedSeq, which may lag what it has
     * applied), and the old applier is drained only afterwards. The catch-up then resends writes
     * the secondary already applied, and it writes them again over newer data (seed 99 under A
     * shows it). Off by default: the default models the handshake with that fixed (the old
     * applier drained and synced before the State is taken); see the engineer's report.
     */
    private static final boolean STATE_AS_IS = Boolean.getBoolean("jrbd.sim.stateAsIs");

    @Test
    void shouldKeepEveryInvariantForEverySeed() {
        long start = System.nanoTime();
        List<Long> seeds = new ArrayList<>();
        if (ONE_SEED != null) {
            seeds.add(Long.parseLong(ONE_SEED));
        } else {
            for (long s = 1; s <= SEEDS; s++) {
                seeds.add(s);
            }
        }
        Stats stats = new Stats();
        List<String> failures = new ArrayList<>();
        for (long seed : seeds) {
            for (String p : PROTOCOLS.split(",")) {
                Protocol protocol = Protocol.valueOf(p.trim());
                Sim sim = new Sim(seed, protocol, stats);
                try {
                    sim.run();
                } catch (AssertionError | RuntimeException | IOException e) {
                    String hint = "reproduce: mvn -B -o -pl replicator test -Dtest=ReplicationSimulationTest"
                            + " -Djrbd.sim.seed=" + seed + " -Djrbd.sim.protocols=" + protocol + " -Djrbd.sim.trace=true"
                            + (STATE_AS_IS ? " -Djrbd.sim.stateAsIs=true" : "");
                    System.out.println("SIMULATION FAILED: seed " + seed + ", protocol " + protocol + ": " + e.getMessage()
                            + "; " + hint);
                    if (!KEEP_GOING) {
                        fail("seed " + seed + ", protocol " + protocol + ": " + e.getMessage() + "\n" + hint
                                + "\nlast events:\n" + sim.trace(), e);
                    }
                    failures.add("seed " + seed + " " + protocol);
                }
            }
        }
        System.out.printf("simulation: %d seeds x %s in %d ms: %s%n", seeds.size(), PROTOCOLS,
                (System.nanoTime() - start) / 1_000_000, stats);
        if (!failures.isEmpty()) {
            fail(failures.size() + " runs failed: " + failures);
        }
    }

    /** Counts over all runs, printed at the end so a reader can see the faults were exercised. */
    static final class Stats {
        long runs;
        long ops;
        long acked;
        long primaryCrashes;
        long powerLosses;
        long secondaryCrashes;
        long partitions;
        long reconnects;
        long staleStates;
        long catchUpRecords;
        long appliedBatches;
        long waivedAcks;
        long ackedBeforeDirtyMark;
        long lostUnsentUnderA;
        long maxFuaTrimZeroesLatencyC;
        long maxFuaWriteLatencyC;

        @Override
        public String toString() {
            return runs + " runs, " + ops + " client ops (" + acked + " acknowledged), " + primaryCrashes
                    + " primary crashes, " + secondaryCrashes + " secondary crashes, " + powerLosses + " secondary power losses, " + partitions + " partitions, "
                    + reconnects + " reconnects (" + catchUpRecords + " records caught up, " + staleStates
                    + " with a State behind the secondary's applied sequence), " + appliedBatches
                    + " batches applied and compared, " + waivedAcks + " acks by waiver (" + ackedBeforeDirtyMark
                    + " of them before their dirty mark), " + lostUnsentUnderA
                    + " protocol A acks lost unsent in a crash; protocol C max latency: FUA write "
                    + maxFuaWriteLatencyC / 1000 + " us, FUA trim/zeroes " + maxFuaTrimZeroesLatencyC / 1000 + " us";
        }
    }

    // ====================================================================== the simulation

    static final class Sim {
        static final int BLOCKS = 256;
        static final int DEVICE = BLOCKS * SimDisk.BLOCK;
        static final int SECTOR = 512;
        static final long US = 1_000;
        static final long MS = 1_000_000;
        /** Mirrors ApplierThread: {@code queue.poll(100, MILLISECONDS)}, then idle(). */
        static final long IDLE_POLL = 100 * MS;
        /** Mirrors ApplierThread: at most 256 messages per batch. */
        static final int APPLY_BATCH = 256;
        static final long GIVE_UP = 60_000 * MS;

        final long seed;
        final Protocol protocol;
        final Stats stats;
        /** The workload and the faults: the same for A, B and C of one seed. */
        final Random scenario;
        /** Timing: differs per protocol, since completions differ. */
        final Random rnd;

        // ------------------------------------------------------------ the scheduler

        long now;
        private long order;
        private final PriorityQueue<Event> queue = new PriorityQueue<>();
        private final ArrayDeque<String> trace = new ArrayDeque<>();

        private record Event(long time, long order, String what, Runnable action) implements Comparable<Event> {
            @Override
            public int compareTo(Event o) {
                return time != o.time ? Long.compare(time, o.time) : Long.compare(order, o.order);
            }
        }

        void at(long delay, String what, Runnable action) {
            queue.add(new Event(now + delay, order++, what, action));
        }

        void log(String line) {
            String l = String.format("%10.3f ms  %s", now / 1e6, line);
            if (TRACE) {
                System.out.println(l);
            }
            trace.addLast(l);
            if (trace.size() > 80) {
                trace.removeFirst();
            }
        }

        String trace() {
            return String.join("\n", trace);
        }

        long between(long lo, long hi) {
            return lo + (long) (rnd.nextDouble() * (hi - lo));
        }

        // ------------------------------------------------------------ the op sequence

        /** An operation a client submits; once sequenced, it is op {@code seq} of the primary. */
        static final class ClientOp {
            final int index;
            final int type;
            final int flags;
            final long offset;
            final long length;
            final byte[] data;
            long seq = -1;
            long submitted = -1;
            boolean acked;
            /** Its peer condition was met by the peer's acknowledgements, not waived or absent. */
            boolean peerMet;
            /** Pushed onto a connection (session number), for protocol A's check; -1 if never. */
            long flushedOn = -1;

            ClientOp(int index, int type, int flags, long offset, long length, byte[] data) {
                this.index = index;
                this.type = type;
                this.flags = flags;
                this.offset = offset;
                this.length = length;
                this.data = data;
            }

            @Override
            public String toString() {
                return OpType.name(type) + ((flags & OpType.FUA) != 0 ? "+FUA" : "") + " #" + index + " seq " + seq + " ["
                        + offset + "+" + length + ")";
            }
        }

        final List<ClientOp> ops = new ArrayList<>();
        /** The primary's op sequence: {@code bySeq.get(seq)}; index 0 unused (seqs start at 1). */
        final List<ClientOp> bySeq = new ArrayList<>(List.of(new ClientOp(-1, OpType.FLUSH, 0, 0, 0, null)));
        /** Every version each 4 KiB block went through: (seq, content). */
        final List<List<Version>> versions = new ArrayList<>();
        final byte[] primaryImage = new byte[DEVICE];

        record Version(long seq, byte[] content) {
        }

        static void applyTo(byte[] image, ClientOp op) {
            switch (op.type) {
                case OpType.WRITE -> System.arraycopy(op.data, 0, image, (int) op.offset, (int) op.length);
                case OpType.TRIM, OpType.ZEROES -> Arrays.fill(image, (int) op.offset, (int) (op.offset + op.length), (byte) 0);
                default -> {
                }
            }
        }

        /** The primary numbered {@code op}: its data becomes the next state it passes through. */
        void recordSequenced(ClientOp op) {
            if (op.seq != bySeq.size()) {
                throw new AssertionError("sequence numbers are not dense: " + op + " after " + (bySeq.size() - 1));
            }
            bySeq.add(op);
            applyTo(primaryImage, op);
            if (op.length > 0) {
                for (int b = (int) (op.offset / SimDisk.BLOCK); b <= (op.offset + op.length - 1) / SimDisk.BLOCK; b++) {
                    versions.get(b).add(new Version(op.seq,
                            Arrays.copyOfRange(primaryImage, b * SimDisk.BLOCK, (b + 1) * SimDisk.BLOCK)));
                }
            }
        }

        // ------------------------------------------------------------ construction

        final Primary primary = new Primary();
        final Secondary secondary = new Secondary();
        final List<Conn> conns = new ArrayList<>();
        Conn conn;
        int partitions;
        long sessionCounter;
        int iodepth;
        int nextOp;
        int outstanding;
        int ending; // 0 none, 1 primary crash, 2 secondary power loss
        long oneWayLo;
        long oneWayHi;

        Sim(long seed, Protocol protocol, Stats stats) {
            this.seed = seed;
            this.protocol = protocol;
            this.stats = stats;
            this.scenario = new Random(seed);
            this.rnd = new Random(seed * 1_000_003L + protocol.ordinal());
            for (int b = 0; b < BLOCKS; b++) {
                versions.add(new ArrayList<>(List.of(new Version(0, new byte[SimDisk.BLOCK]))));
            }
        }

        void run() throws IOException {
            stats.runs++;
            generateWorkload();
            scheduleFaults();
            connect(); // both nodes start UpToDate at sequence 0 and connected
            for (int i = 0; i < iodepth; i++) {
                at(between(0, 50 * US), "client starts", this::submitNext);
            }
            while (!queue.isEmpty()) {
                Event e = queue.poll();
                now = e.time;
                if (now > GIVE_UP) {
                    throw new AssertionError("no quiescence after " + GIVE_UP / MS + " ms of virtual time");
                }
                if (e.what != null) {
                    log(e.what);
                }
                e.action.run();
                secondary.rethrow();
            }
            finalChecks();
        }

        void generateWorkload() {
            int n = 100 + scenario.nextInt(201);
            iodepth = 1 + scenario.nextInt(8);
            int hot = scenario.nextInt(DEVICE / SECTOR - 64);
            for (int i = 0; i < n; i++) {
                int roll = scenario.nextInt(100);
                int type = roll < 70 ? OpType.WRITE : roll < 78 ? OpType.TRIM : roll < 86 ? OpType.ZEROES : OpType.FLUSH;
                int flags = 0;
                long offset = 0;
                long length = 0;
                byte[] data = null;
                if (type != OpType.FLUSH) {
                    if (scenario.nextInt(5) == 0) {
                        flags |= OpType.FUA;
                    }
                    if (type == OpType.ZEROES && scenario.nextBoolean()) {
                        flags |= OpType.NO_HOLE;
                    }
                    // half the ops in a small hot range, so that writes overlap often
                    int sector = scenario.nextBoolean() ? hot + scenario.nextInt(64) : scenario.nextInt(DEVICE / SECTOR);
                    int sectors = 1 + scenario.nextInt(scenario.nextInt(4) == 0 ? 64 : 8);
                    sectors = Math.min(sectors, DEVICE / SECTOR - sector);
                    offset = (long) sector * SECTOR;
                    length = (long) sectors * SECTOR;
                    if (type == OpType.WRITE) {
                        data = new byte[(int) length];
                        scenario.nextBytes(data);
                    }
                }
                ops.add(new ClientOp(i, type, flags, offset, length, data));
            }
            oneWayLo = (5 + scenario.nextInt(200)) * US;
            oneWayHi = oneWayLo + scenario.nextInt(2000) * US;
        }

        void scheduleFaults() {
            int roll = scenario.nextInt(10);
            int count = roll < 4 ? 0 : roll < 8 ? 1 : 2;
            for (int i = 0; i < count; i++) {
                long start = scenario.nextInt(80) * MS + scenario.nextInt(1000) * US;
                long length = (1 + scenario.nextInt(60)) * MS;
                at(start, "PARTITION", this::partition);
                at(start + length, "HEAL", this::heal);
            }
            int end = scenario.nextInt(20);
            long when = scenario.nextInt(120) * MS + scenario.nextInt(1000) * US;
            if (end < 7) {
                ending = 1;
                at(when, "CRASH of the primary's process (kill -9)", this::crashPrimary);
            } else if (end < 12) {
                ending = 2;
                at(when, "POWER LOSS of the secondary", this::powerLossSecondary);
            } else if (end < 15) {
                ending = 3;
                // Armed at `when`: strikes at the next client ack that finds the secondary's
                // applier queue non-empty (the window B and C differ in), or 50 ms later anyway.
                crashSecondaryArmedAt = when;
                at(when + 50 * MS, null, () -> {
                    if (secondary.alive) {
                        log("CRASH of the secondary's process (kill -9)");
                        crashSecondary();
                    }
                });
            }
        }

        // ------------------------------------------------------------ clients

        /** A client with one op in flight at a time; {@code iodepth} of them run at once. */
        void submitNext() {
            if (!primary.alive || nextOp >= ops.size()) {
                return;
            }
            ClientOp op = ops.get(nextOp++);
            op.submitted = now;
            outstanding++;
            stats.ops++;
            log("submit " + op);
            primary.publish(op.type, op);
        }

        void acknowledged(ClientOp op, boolean peerMet) {
            op.acked = true;
            op.peerMet = peerMet;
            outstanding--;
            stats.acked++;
            if (!peerMet) {
                stats.waivedAcks++;
            }
            long latency = now - op.submitted;
            if (protocol == Protocol.C && (op.flags & OpType.FUA) != 0) {
                if (op.type == OpType.WRITE) {
                    stats.maxFuaWriteLatencyC = Math.max(stats.maxFuaWriteLatencyC, latency);
                } else {
                    stats.maxFuaTrimZeroesLatencyC = Math.max(stats.maxFuaTrimZeroesLatencyC, latency);
                }
            }
            log("ACK " + op + (peerMet ? "" : " (no peer condition: waived or degraded)") + " after "
                    + latency / US + " us");
            at(between(0, 200 * US), null, this::submitNext);
            if (crashSecondaryArmedAt >= 0 && now >= crashSecondaryArmedAt && secondary.alive
                    && !secondary.applierQueue.isEmpty()) {
                crashSecondaryArmedAt = -1;
                at(0, "CRASH of the secondary's process (kill -9) with " + secondary.applierQueue.size()
                        + " messages received and not applied", this::crashSecondary);
            }
        }

        // ------------------------------------------------------------ the network

        /**
         * One TCP connection between the nodes (mirrors PeerLink: one authenticated session).
         * Messages arrive in order; a partition breaks the connection and loses what is in flight.
         */
        final class Conn {
            final long session;
            boolean broken;
            long lastToSecondary;
            long lastToPrimary;

            Conn(long session) {
                this.session = session;
            }

            /** Pushes {@code msgs} to the secondary; they arrive together, as one read burst. */
            void toSecondary(List<Msg> msgs) {
                if (broken || msgs.isEmpty()) {
                    return;
                }
                // TCP may hand the receiver what was sent together in several reads.
                int from = 0;
                while (from < msgs.size()) {
                    int to = rnd.nextInt(3) == 0 ? from + 1 + rnd.nextInt(msgs.size() - from) : msgs.size();
                    long t = Math.max(now + between(oneWayLo, oneWayHi), lastToSecondary);
                    lastToSecondary = t;
                    List<Msg> chunk = List.copyOf(msgs.subList(from, to));
                    queue.add(new Event(t, order++, null, () -> {
                        if (!broken) {
                            secondary.received(this, chunk);
                        }
                    }));
                    from = to;
                }
            }

            void toPrimary(Msg m) {
                if (broken) {
                    return;
                }
                long t = Math.max(now + between(oneWayLo, oneWayHi), lastToPrimary);
                lastToPrimary = t;
                queue.add(new Event(t, order++, null, () -> {
                    if (!broken) {
                        primary.received(this, m);
                    }
                }));
            }
        }

        enum Kind { DATA, TRIM, ZEROES, FLUSH, RECV_ACK, WRITE_ACK, SYNC_ACK }

        record Msg(Kind kind, long seq, ClientOp op) {
            @Override
            public String toString() {
                return kind + " " + seq;
            }
        }

        void partition() {
            partitions++;
            stats.partitions++;
            if (conn != null && !conn.broken) {
                Conn c = conn;
                c.broken = true;
                // Each side notices on its own timeout (ping timeout / ko-count); the secondary may
                // notice only after the partition healed and the primary reconnected.
                at(between(5 * MS, 60 * MS), "primary notices the connection " + c.session + " is dead",
                        () -> primary.linkLost(c));
                at(between(5 * MS, 150 * MS), "secondary notices the connection " + c.session + " is dead",
                        () -> secondary.linkLost(c));
            }
        }

        void heal() {
            partitions--;
            maybeReconnect();
        }

        /** Mirrors PeerLink: the side without an active connection retries every connect interval. */
        void maybeReconnect() {
            if (partitions == 0 && primary.alive && secondary.alive && primary.linkSession < 0) {
                at(between(2 * MS, 30 * MS), null, () -> {
                    if (partitions == 0 && primary.alive && secondary.alive && primary.linkSession < 0
                            && (conn == null || conn.broken)) {
                        connect();
                    }
                });
            }
        }

        /**
         * A new session. Mirrors PeerLink.establish and Resource.connected/attachPeer: the
         * secondary's State (its applied sequence: max(persisted, syncedSeq of the applier that
         * is running, even an old one)) is sent during the handshake; then the secondary, on
         * connected(), stops any old applier (it applies its queue and syncs) and starts a new one
         * from max(persisted, ...); the primary attaches with catch-up from State + 1. Unless
         * {@code STATE_AS_IS}, the old applier is stopped before the State is taken (the fix).
         */
        void connect() {
            Conn c = new Conn(++sessionCounter);
            if (!STATE_AS_IS) {
                secondary.stopApplier();
            }
            long peerApplied = secondary.stateAppliedSeq();
            if (secondary.applier != null && secondary.applier.appliedSeq() > peerApplied) {
                stats.staleStates++;
                log("  note: the secondary's State says " + peerApplied + " while its old applier has applied "
                        + secondary.applier.appliedSeq() + " (not yet synced): the catch-up will resend those");
            }
            conn = c;
            conns.add(c);
            if (c.session > 1) {
                stats.reconnects++;
            }
            log("CONNECT session " + c.session + ": the secondary reports applied sequence " + peerApplied);
            secondary.connected(c);
            primary.connected(c, peerApplied);
        }

        // ------------------------------------------------------------ faults

        List<ClientOp> ackedAtFault = List.of();
        long crashSecondaryArmedAt = -1;
        Conn liveAtCrash;

        void crashPrimary() {
            stats.primaryCrashes++;
            primary.alive = false;
            ackedAtFault = ops.stream().filter(o -> o.acked).toList();
            liveAtCrash = conn != null && !conn.broken ? conn : null;
            log("  " + ackedAtFault.size() + " ops acknowledged at the crash; the primary's unflushed send buffer ("
                    + primary.outbound.size() + " messages) is lost; what is on the wire still arrives");
            // The kernel closes the socket: the secondary sees the FIN after what is in flight.
            if (conn != null && !conn.broken) {
                Conn c = conn;
                long t = Math.max(now, c.lastToSecondary) + 1;
                queue.add(new Event(t, order++, "secondary sees the primary's connection close", () -> {
                    c.broken = true;
                    secondary.linkLost(c);
                }));
            }
        }

        void powerLossSecondary() throws AssertionError {
            stats.powerLosses++;
            ackedAtFault = ops.stream().filter(o -> o.acked).toList();
            secondary.powerLoss();
            if (conn != null && !conn.broken) {
                Conn c = conn;
                c.broken = true;
                at(between(5 * MS, 60 * MS), "primary notices the connection " + c.session + " is dead",
                        () -> primary.linkLost(c));
            }
            checkAfterPowerLoss();
        }

        /**
         * kill -9 of the secondary's process: its applier queue is lost, its page cache is not.
         * (a) for C: every write acknowledged as written on the peer is on its disk. (No restart.)
         */
        void crashSecondary() {
            stats.secondaryCrashes++;
            ackedAtFault = ops.stream().filter(o -> o.acked).toList();
            secondary.alive = false;
            secondary.applierQueue.clear();
            if (conn != null && !conn.broken) {
                Conn c = conn;
                c.broken = true;
                at(between(100 * US, 2 * MS), "primary sees the secondary's connection close", () -> primary.linkLost(c));
            }
            if (secondary.applier != null) {
                checkPrefix(secondary.disk, secondary.applier.appliedSeq(), "at the secondary's crash");
            }
            if (protocol == Protocol.C) {
                for (ClientOp op : ackedAtFault) {
                    if (op.peerMet && !present(secondary.disk.image(), op)) {
                        throw new AssertionError("(a) " + op + " was acknowledged under protocol C as written on the peer,"
                                + " but the secondary's disk does not hold it after its process crashed");
                    }
                }
            }
        }

        // ------------------------------------------------------------ checks

        /** (b) The secondary's disk is the op sequence applied up to appliedSeq. Incremental. */
        final byte[] reference = new byte[DEVICE];
        long referenceSeq;
        final BitSet referenceTouched = new BitSet();

        void checkPrefix(SimDisk disk, long appliedSeq, String when) {
            if (appliedSeq < referenceSeq) {
                throw new AssertionError("the secondary's appliedSeq went back from " + referenceSeq + " to " + appliedSeq);
            }
            while (referenceSeq < appliedSeq) {
                ClientOp op = bySeq.get((int) ++referenceSeq);
                applyTo(reference, op);
                if (op.length > 0) {
                    referenceTouched.set((int) (op.offset / SimDisk.BLOCK), (int) ((op.offset + op.length - 1) / SimDisk.BLOCK) + 1);
                }
            }
            BitSet check = (BitSet) referenceTouched.clone();
            check.or(disk.touched());
            byte[] image = disk.image();
            for (int b = check.nextSetBit(0); b >= 0; b = check.nextSetBit(b + 1)) {
                int from = b * SimDisk.BLOCK;
                int to = from + SimDisk.BLOCK;
                if (!Arrays.equals(image, from, to, reference, from, to)) {
                    throw new AssertionError("(b) " + when + ": the secondary's block " + b
                            + " differs from the primary's state at sequence " + appliedSeq
                            + ": its disk is not a state the primary passed through");
                }
            }
            referenceTouched.clear();
            disk.clearTouched();
        }

        /** The smallest j in [lo, hi] with image == ops 1..j applied, or -1. */
        long matchingPrefix(byte[] image, long lo, long hi) {
            byte[] ref = new byte[DEVICE];
            for (long s = 1; s <= lo; s++) {
                applyTo(ref, bySeq.get((int) s));
            }
            for (long j = lo; j <= hi; j++) {
                if (j > lo) {
                    applyTo(ref, bySeq.get((int) j));
                }
                if (Arrays.equals(ref, image)) {
                    return j;
                }
            }
            return -1;
        }

        /** Its data, or a newer write's, is on every block {@code op} touched. */
        boolean present(byte[] image, ClientOp op) {
            if (op.length == 0) {
                return true;
            }
            for (int b = (int) (op.offset / SimDisk.BLOCK); b <= (op.offset + op.length - 1) / SimDisk.BLOCK; b++) {
                int from = b * SimDisk.BLOCK;
                boolean found = false;
                for (Version v : versions.get(b)) {
                    if (v.seq >= op.seq && Arrays.equals(image, from, from + SimDisk.BLOCK, v.content, 0, SimDisk.BLOCK)) {
                        found = true;
                        break;
                    }
                }
                if (!found) {
                    return false;
                }
            }
            return true;
        }

        /** (c) after a power loss of the secondary. */
        void checkAfterPowerLoss() {
            byte[] survived = secondary.disk.image();
            long lastSyncedAck = secondary.lastSyncedAck;
            long applied = secondary.applier == null ? lastSyncedAck : secondary.applier.appliedSeq();
            long j = matchingPrefix(survived, lastSyncedAck, Math.max(applied, lastSyncedAck));
            log("  (c) the surviving disk is the primary's state at sequence " + j + "; last synced ack " + lastSyncedAck);
            if (j < 0) {
                throw new AssertionError("(c) after a power loss the secondary's disk is no prefix of the op sequence in "
                        + lastSyncedAck + ".." + applied + " (last synced ack " + lastSyncedAck + ")");
            }
            for (ClientOp op : ackedAtFault) {
                boolean durableOnPeer = op.peerMet && (op.type == OpType.FLUSH && protocol != Protocol.A
                        || protocol == Protocol.C && (op.flags & OpType.FUA) != 0);
                if (durableOnPeer && (j < op.seq || !present(survived, op))) {
                    throw new AssertionError("(c) " + op + " was acknowledged under protocol " + protocol
                            + " as durable on the peer, but the secondary lost it in a power loss (disk at " + j + ")");
                }
            }
        }

        /** (a), (d), (e): after the primary's crash and the secondary having applied what it got. */
        void checkAfterPrimaryCrash() {
            byte[] image = secondary.disk.image();
            for (ClientOp op : ackedAtFault) {
                boolean mustBeThere;
                if (protocol == Protocol.A) {
                    // (e) A: only writes not yet handed to the network may be lost.
                    // Pushed onto the connection that was alive at the crash: the kernel still
                    // delivers it (FIN case). Handed but still in the send buffer, or pushed onto
                    // a connection a partition had broken: may be lost.
                    mustBeThere = op.peerMet && liveAtCrash != null && op.flushedOn == liveAtCrash.session;
                } else {
                    // (a) C: written on the peer; (d) B: received by the peer (queued or applied).
                    mustBeThere = op.peerMet;
                }
                boolean there = present(image, op);
                if (mustBeThere && !there) {
                    throw new AssertionError((protocol == Protocol.C ? "(a)" : protocol == Protocol.B ? "(d)" : "(e)") + " "
                            + op + " was acknowledged under protocol " + protocol
                            + " with its peer condition met, but it is missing on the secondary after the primary's crash");
                }
                if (!there && protocol == Protocol.A && op.peerMet) {
                    stats.lostUnsentUnderA++;
                }
            }
        }

        void finalChecks() {
            if (primary.alive && outstanding != 0) {
                throw new AssertionError("liveness: " + outstanding + " client ops never completed");
            }
            if (primary.alive && nextOp != ops.size()) {
                throw new AssertionError("liveness: the clients stopped at op " + nextOp + " of " + ops.size());
            }
            if (!primary.alive) {
                checkAfterPrimaryCrash();
            }
            if (secondary.alive) {
                checkPrefix(secondary.disk, secondary.appliedSeq(), "at the end");
                if (primary.alive && !Arrays.equals(secondary.disk.image(), primaryImage)) {
                    throw new AssertionError("convergence: healed and idle, the secondary (at " + secondary.appliedSeq()
                            + ") differs from the primary (at " + primary.lastSeq + ")");
                }
            }
        }

        // ================================================================== the primary

        /**
         * A sequential model of {@link ReplicatedDevice}: the ring, the Sequencer, the LocalWriter
         * with its GroupCommit, the PeerSender and the completion drain; plus the acks handling of
         * Resource.received and the detach/attach of Resource.disconnected/attachPeer.
         */
        final class Primary {
            boolean alive = true;

            /** Mirrors PipelineEvent. */
            final class Slot {
                final int type;
                final ClientOp op;
                int flags;
                long offset;
                long length;
                long seq;
                long session = -1;
                long catchUpFrom = -1;

                Slot(int type, ClientOp op) {
                    this.type = type;
                    this.op = op;
                    if (op != null) {
                        flags = op.flags;
                        offset = op.offset;
                        length = op.length;
                    }
                }
            }

            static final int ATTACH = ReplicatedDevice.ATTACH;
            static final int DETACH = ReplicatedDevice.DETACH;

            final List<Slot> ring = new ArrayList<>();
            // Progress, mirrors ReplicatedDevice's AtomicLongs: ring positions and peer seqs.
            long localPos = -1;
            long handedPos = -1;
            long localSynced = -1;
            long waivedUpTo = -1;
            long peerReceived = -1;
            long peerWritten = -1;
            long peerSynced = -1;
            long completed = -1;
            // Owned by the sequencer.
            long lastSeq;
            long currentSession = -1;
            final PendingIndex pending = new PendingIndex();
            long released = -1;
            /** The journal: every op from {@code released + 1} on (never wraps here). */
            final TreeMap<Long, ClientOp> journal = new TreeMap<>();
            /** The dirty bitmap, per sector. */
            final BitSet dirty = new BitSet();
            final DirtyTracker tracker = new DirtyTracker() {
                @Override
                public void markDirty(long offset, long length) {
                    dirty.set((int) (offset / SECTOR), (int) ((offset + length) / SECTOR));
                }

                @Override
                public long dirtyBytes() {
                    return (long) dirty.cardinality() * SECTOR;
                }

                @Override
                public void clearAll() {
                    dirty.clear();
                }
            };
            /** Mirrors PeerLink.session(): -1 from the moment the link saw the connection die. */
            long linkSession = -1;
            Conn linkConn;
            long sequenced = -1;
            long localNext;
            long senderNext;
            boolean sequencerScheduled;
            boolean localBusy;
            boolean senderBusy;
            final List<Msg> outbound = new ArrayList<>();
            Conn outboundConn;
            final List<Long> syncWaiters = new ArrayList<>();
            boolean syncing;

            void publish(int type, ClientOp op) {
                ring.add(new Slot(type, op));
                wakeSequencer();
            }

            Slot publish(int type) {
                Slot s = new Slot(type, null);
                ring.add(s);
                wakeSequencer();
                return s;
            }

            long cursor() {
                return ring.size() - 1;
            }

            // -------------------------------------------------------- the link and Resource

            /** Mirrors Resource.connected + attachPeer + ReplicatedDevice.attach. */
            void connected(Conn c, long peerApplied) {
                if (!alive) {
                    return;
                }
                linkSession = c.session;
                linkConn = c;
                long last = lastSeq;
                long from;
                if (peerApplied > last) {
                    throw new AssertionError("the secondary claims sequence " + peerApplied + " beyond the primary's " + last);
                } else if (peerApplied == last) {
                    from = last + 1;
                } else if (journal.isEmpty() || peerApplied + 1 >= journal.firstKey()) {
                    from = peerApplied + 1;
                } else {
                    throw new AssertionError("catch-up needs sequence " + (peerApplied + 1) + " but the journal starts at "
                            + journal.firstKey() + " (a full resync, which the simulation does not model)");
                }
                // ReplicatedDevice.attach: peerHas is the peer's applied (durable) sequence.
                peerReceived = Math.max(peerReceived, peerApplied);
                peerWritten = Math.max(peerWritten, peerApplied);
                peerSynced = Math.max(peerSynced, peerApplied);
                Slot s = publish(ATTACH);
                s.session = c.session;
                s.catchUpFrom = from;
            }

            /** Mirrors PeerLink.channelInactive (session = -1) then Resource.disconnected -> detach. */
            void linkLost(Conn c) {
                if (!alive || linkConn != c) {
                    return;
                }
                linkSession = -1;
                linkConn = null;
                // ReplicatedDevice.detach: waive every op published so far, drain (frees their
                // slots), then publish DETACH (which marks them dirty when sequenced).
                waivedUpTo = Math.max(waivedUpTo, cursor());
                drain();
                Slot s = publish(DETACH);
                s.session = c.session;
                maybeReconnect();
            }

            /** Mirrors Resource.received (acks of another session are dropped) and onPeer*. */
            void received(Conn c, Msg m) {
                if (!alive || c.session != linkSession) {
                    return;
                }
                switch (m.kind()) {
                    case RECV_ACK -> peerReceived = Math.max(peerReceived, m.seq());
                    case WRITE_ACK -> {
                        peerReceived = Math.max(peerReceived, m.seq());
                        peerWritten = Math.max(peerWritten, m.seq());
                    }
                    case SYNC_ACK -> {
                        peerReceived = Math.max(peerReceived, m.seq());
                        peerWritten = Math.max(peerWritten, m.seq());
                        peerSynced = Math.max(peerSynced, m.seq());
                    }
                    default -> throw new AssertionError("the primary got " + m);
                }
                log("primary gets " + m + " (session " + c.session + ")");
                drain();
            }

            // -------------------------------------------------------- completion

            /** Mirrors ReplicatedDevice.completeReady: in ring order, up to min(local, handed). */
            void drain() {
                if (!alive) {
                    return;
                }
                long limit = Math.min(localPos, handedPos);
                CompletionRule.Progress p = new CompletionRule.Progress(localPos, localSynced, handedPos, waivedUpTo,
                        peerReceived, peerWritten, peerSynced);
                CompletionRule.Progress unwaived = new CompletionRule.Progress(localPos, localSynced, handedPos, -1,
                        peerReceived, peerWritten, peerSynced);
                for (long r = completed + 1; r <= limit; r++) {
                    Slot e = ring.get((int) r);
                    boolean ready = !OpType.isApplication(e.type)
                            || CompletionRule.isComplete(protocol, e.type, e.flags, e.session >= 0, r, e.seq, p);
                    if (!ready) {
                        return;
                    }
                    completed = r;
                    if (e.op != null) {
                        boolean peerMet = e.session >= 0
                                && CompletionRule.isComplete(protocol, e.type, e.flags, true, r, e.seq, unwaived);
                        if (!peerMet && e.type != OpType.FLUSH && !coveredByDirty(e)) {
                            // Reported, not failed: see the class comment of this finding in the report.
                            stats.ackedBeforeDirtyMark++;
                            log("  note: " + e.op + " completes by waiver before the sequencer marked it dirty");
                        }
                        acknowledged(e.op, peerMet);
                    }
                }
            }

            boolean coveredByDirty(Slot e) {
                int from = (int) (e.offset / SECTOR);
                int to = (int) ((e.offset + e.length) / SECTOR);
                return dirty.nextClearBit(from) >= to;
            }

            // -------------------------------------------------------- the sequencer

            void wakeSequencer() {
                if (!sequencerScheduled && sequenced < cursor()) {
                    sequencerScheduled = true;
                    at(between(1 * US, 20 * US), null, this::sequencerBatch);
                }
            }

            /** Mirrors Sequencer.onEvent over one batch (everything published when it wakes). */
            void sequencerBatch() {
                sequencerScheduled = false;
                if (!alive) {
                    return;
                }
                long end = cursor();
                for (long r = sequenced + 1; r <= end; r++) {
                    Slot e = ring.get((int) r);
                    if (peerSynced > released) {
                        released = peerSynced;
                        pending.releaseUpTo(released);
                        journal.headMap(released, true).clear();
                    }
                    switch (e.type) {
                        case OpType.WRITE, OpType.TRIM, OpType.ZEROES, OpType.FLUSH -> sequence(e);
                        case ATTACH -> {
                            currentSession = e.session;
                            e.seq = lastSeq;
                        }
                        case DETACH -> {
                            if (currentSession == e.session) {
                                currentSession = -1;
                            }
                            pending.markAllDirty(tracker);
                            e.seq = lastSeq;
                        }
                        default -> throw new AssertionError("unexpected slot type " + e.type);
                    }
                    sequenced = r;
                }
                wakeLocal();
                wakeSender();
            }

            /** Mirrors Sequencer.sequence and journal (which never needs to wait here). */
            void sequence(Slot e) {
                e.seq = ++lastSeq;
                e.op.seq = e.seq;
                recordSequenced(e.op);
                boolean toPeer = currentSession >= 0 && linkSession == currentSession;
                journal.put(e.seq, e.op);
                if (toPeer) {
                    e.session = currentSession;
                    if (e.type != OpType.FLUSH) {
                        pending.add(e.seq, e.offset, e.length);
                    }
                    if (linkSession != currentSession) {
                        markDirty(e);
                    }
                } else {
                    e.session = -1;
                    markDirty(e);
                }
            }

            void markDirty(Slot e) {
                if (e.type != OpType.FLUSH) {
                    tracker.markDirty(e.offset, e.length);
                }
            }

            // -------------------------------------------------------- the local writer

            void wakeLocal() {
                if (!localBusy && localNext <= sequenced) {
                    localBusy = true;
                    at(between(1 * US, 20 * US), null, this::localWrite);
                }
            }

            /** Mirrors LocalWriter.onEvent: one op at a time, in ring order. */
            void localWrite() {
                if (!alive) {
                    return;
                }
                long r = localNext;
                Slot e = ring.get((int) r);
                long cost = OpType.isApplication(e.type) && e.type != OpType.FLUSH ? between(10 * US, 150 * US) : US;
                at(cost, null, () -> {
                    if (!alive) {
                        return;
                    }
                    boolean durable = e.type == OpType.FLUSH || (e.flags & OpType.FUA) != 0;
                    if (durable) {
                        submitSync(r);
                    }
                    localPos = r;
                    localNext = r + 1;
                    boolean endOfBatch = localNext > sequenced;
                    if (endOfBatch) {
                        drain();
                    }
                    if (localNext <= sequenced) {
                        at(US, null, this::localWrite);
                    } else {
                        localBusy = false;
                    }
                });
            }

            /** Mirrors GroupCommit: one fdatasync serves every waiter queued when it starts. */
            void submitSync(long r) {
                syncWaiters.add(r);
                if (!syncing) {
                    startSync();
                }
            }

            void startSync() {
                syncing = true;
                List<Long> batch = new ArrayList<>(syncWaiters);
                syncWaiters.clear();
                at(between(50 * US, 1000 * US), null, () -> {
                    if (!alive) {
                        return;
                    }
                    syncing = false;
                    for (long r : batch) {
                        localSynced = Math.max(localSynced, r); // SyncWaiter.onDone
                        drain();
                    }
                    if (!syncWaiters.isEmpty()) {
                        startSync();
                    }
                });
            }

            // -------------------------------------------------------- the peer sender

            void wakeSender() {
                if (!senderBusy && senderNext <= sequenced) {
                    senderBusy = true;
                    at(between(1 * US, 20 * US), null, this::sendBatch);
                }
            }

            /**
             * Mirrors PeerSender.onEvent over one batch: handedPos advances per event (and the
             * local writer's drain may see it), the buffer is pushed out at the end of the batch
             * (peer.endOfBatch), a little later; a crash in between loses the buffer.
             */
            void sendBatch() {
                if (!alive) {
                    return;
                }
                long end = sequenced;
                Conn batchConn = null;
                for (long r = senderNext; r <= end; r++) {
                    Slot e = ring.get((int) r);
                    long s = e.session;
                    if (e.type == ATTACH) {
                        if (s == linkSession) {
                            catchUp(s, e.catchUpFrom, e.seq);
                            batchConn = linkConn;
                        }
                    } else if (s >= 0 && s == linkSession) {
                        // awaitWritable: the link has room (the send buffer is not modelled)
                        outboundConn = linkConn;
                        outbound.add(message(e.op));
                        // PeerSender.flushIfFua: TRIM and ZEROES carry no FUA bit on the wire, so
                        // a FLUSH of the same sequence number follows a FUA one.
                        if ((e.type == OpType.TRIM || e.type == OpType.ZEROES) && (e.flags & OpType.FUA) != 0) {
                            outbound.add(new Msg(Kind.FLUSH, e.seq, e.op));
                        }
                        batchConn = linkConn;
                    }
                    handedPos = r;
                }
                senderNext = end + 1;
                Conn flushTo = batchConn;
                at(between(0, 20 * US), null, () -> {
                    if (!alive) {
                        return;
                    }
                    if (flushTo != null) {
                        flush();
                    }
                    drain();
                    senderBusy = false;
                    wakeSender();
                });
            }

            /** Mirrors PeerSender.catchUp: journal records from..upTo, then endOfBatch. */
            void catchUp(long s, long from, long upTo) {
                log("primary catches session " + s + " up: sequence " + from + ".." + upTo);
                outboundConn = linkConn;
                for (long seq = from; seq <= upTo; seq++) {
                    ClientOp op = journal.get(seq);
                    if (op == null) {
                        throw new AssertionError("the journal lost sequence " + seq + " before the peer had it durably");
                    }
                    outbound.add(message(op));
                    stats.catchUpRecords++;
                }
                flush();
            }

            Msg message(ClientOp op) {
                Kind k = switch (op.type) {
                    case OpType.WRITE -> Kind.DATA;
                    case OpType.TRIM -> Kind.TRIM;
                    case OpType.ZEROES -> Kind.ZEROES;
                    default -> Kind.FLUSH;
                };
                return new Msg(k, op.seq, op);
            }

            /** PeerOutbound.endOfBatch: what was buffered goes onto the connection. */
            void flush() {
                if (outbound.isEmpty()) {
                    return;
                }
                Conn c = outboundConn;
                if (!c.broken) {
                    for (Msg m : outbound) {
                        if (m.op().flushedOn < 0 || m.op().flushedOn < c.session) {
                            m.op().flushedOn = c.session;
                        }
                    }
                }
                log("primary sends " + outbound.size() + " messages on session " + c.session + " (" + outbound.get(0) + ".."
                        + outbound.get(outbound.size() - 1) + ")" + (c.broken ? ", lost in the partition" : ""));
                c.toSecondary(outbound);
                outbound.clear();
            }
        }

        // ================================================================== the secondary

        /**
         * The secondary: the engine's {@link SecondaryApplier} on a {@link SimDisk}, fed by a
         * model of ApplierThread (queue, batches of up to 256, idle() after 100 ms of silence)
         * and of Resource's secondary side (RECV_ACK of the highest DATA seq per read burst,
         * written/synced acks sent as the applier reports them).
         */
        final class Secondary {
            final SimDisk disk = new SimDisk(DEVICE);
            boolean alive = true;
            SecondaryApplier applier;
            Conn session;
            /** Mirrors Resource.persistedSeq: the synced seq recorded when an applier stopped. */
            long persistedSeq;
            long lastSyncedAck;
            final ArrayDeque<Msg> applierQueue = new ArrayDeque<>();
            boolean applierBusy;
            long arrivals;
            long maxReceived = -1;
            long ackedReceived = -1;
            private AssertionError failure;

            long appliedSeq() {
                return applier == null ? persistedSeq : applier.appliedSeq();
            }

            void rethrow() {
                if (failure != null) {
                    throw failure;
                }
            }

            /** Mirrors Resource.localState on a Secondary: max(persisted, running applier's syncedSeq). */
            long stateAppliedSeq() {
                return Math.max(persistedSeq, applier == null ? -1 : applier.syncedSeq());
            }

            void connected(Conn c) {
                // PeerLink.establish closes the old connection; what is in flight on it is lost.
                if (session != null && session != c) {
                    session.broken = true;
                }
                stopApplier();
                session = c;
                maxReceived = -1;
                ackedReceived = -1;
                SecondaryApplier.Listener listener = new Acks(c);
                applier = new SecondaryApplier(disk, listener, () -> now, persistedSeq);
            }

            /** Mirrors Resource.disconnected on the secondary. */
            void linkLost(Conn c) {
                if (!alive || session != c) {
                    return;
                }
                session = null;
                stopApplier();
            }

            /** Mirrors ApplierThread.finish (apply the queue, idle) and Resource.stopApplier. */
            void stopApplier() {
                if (applier == null) {
                    return;
                }
                try {
                    while (!applierQueue.isEmpty()) {
                        applyBatch();
                    }
                    applier.idle();
                } catch (IOException e) {
                    throw new AssertionError("the simulated disk failed: " + e.getMessage(), e);
                }
                persistedSeq = Math.max(persistedSeq, applier.syncedSeq());
                log("secondary stops its applier at applied " + applier.appliedSeq() + ", synced " + applier.syncedSeq());
                checkPrefix(disk, applier.appliedSeq(), "after the applier stopped");
                applier = null;
            }

            /** Mirrors Resource.received then readComplete: enqueue, then one RECV_ACK per burst. */
            void received(Conn c, List<Msg> msgs) {
                if (!alive || c != session) {
                    return;
                }
                log("secondary receives " + msgs.size() + " messages (" + msgs.get(0) + ".." + msgs.get(msgs.size() - 1)
                        + ")");
                for (Msg m : msgs) {
                    if (m.kind() == Kind.DATA) {
                        maxReceived = Math.max(maxReceived, m.seq());
                    }
                    applierQueue.add(m);
                }
                arrivals++;
                if (maxReceived > ackedReceived) {
                    ackedReceived = maxReceived;
                    c.toPrimary(new Msg(Kind.RECV_ACK, maxReceived, null));
                }
                if (!applierBusy) {
                    applierBusy = true;
                    at(between(1 * US, 30 * US), null, this::applierRun);
                }
            }

            /** One turn of ApplierThread.run's loop. */
            void applierRun() {
                if (!alive || applier == null) {
                    applierBusy = false;
                    return;
                }
                int syncsBefore = disk.syncs();
                int n;
                try {
                    n = applyBatch();
                } catch (IOException e) {
                    failure = new AssertionError("the simulated disk failed: " + e.getMessage(), e);
                    return;
                } catch (AssertionError e) {
                    failure = e;
                    return;
                }
                long cost = n * 3 * US + (disk.syncs() > syncsBefore ? between(50 * US, 1000 * US) : 0);
                at(cost, null, () -> {
                    if (!applierQueue.isEmpty() && applier != null && alive) {
                        applierRun();
                    } else {
                        applierBusy = false;
                        scheduleIdle();
                    }
                });
            }

            int applyBatch() throws IOException {
                int n = 0;
                while (n < APPLY_BATCH && !applierQueue.isEmpty()) {
                    apply(applierQueue.poll());
                    n++;
                }
                applier.endOfBatch();
                stats.appliedBatches++;
                checkPrefix(disk, applier.appliedSeq(), "after a batch");
                return n;
            }

            void scheduleIdle() {
                long seen = arrivals;
                SecondaryApplier a = applier;
                at(IDLE_POLL, null, () -> {
                    if (alive && applier == a && a != null && arrivals == seen && !applierBusy) {
                        try {
                            a.idle();
                        } catch (IOException e) {
                            failure = new AssertionError("the simulated disk failed: " + e.getMessage(), e);
                        }
                    }
                });
            }

            /** Mirrors ApplierThread.apply: note TRIM loses its flags and ZEROES keeps only NO_HOLE. */
            void apply(Msg m) throws IOException {
                ClientOp op = m.op();
                switch (m.kind()) {
                    case DATA -> {
                        ByteBuf data = Unpooled.wrappedBuffer(op.data);
                        try {
                            applier.write(m.seq(), op.offset, data, op.flags & OpType.FUA);
                        } finally {
                            data.release();
                        }
                    }
                    case TRIM -> applier.trim(m.seq(), op.offset, op.length, 0);
                    case ZEROES -> applier.zeroes(m.seq(), op.offset, op.length, op.flags & OpType.NO_HOLE);
                    case FLUSH -> applier.flush(m.seq());
                    default -> throw new AssertionError("the secondary got " + m);
                }
            }

            void powerLoss() {
                alive = false;
                disk.powerLoss();
                applierQueue.clear();
                log("  the secondary's disk keeps what was synced; last synced ack sent: " + lastSyncedAck);
            }

            /** Mirrors Resource.TargetListener: acks go back on the session's connection. */
            final class Acks implements SecondaryApplier.Listener {
                final Conn c;

                Acks(Conn c) {
                    this.c = c;
                }

                @Override
                public void written(long seq) {
                    c.toPrimary(new Msg(Kind.WRITE_ACK, seq, null));
                }

                @Override
                public void synced(long seq, long resyncBytes) {
                    lastSyncedAck = Math.max(lastSyncedAck, seq);
                    c.toPrimary(new Msg(Kind.SYNC_ACK, seq, null));
                }

                @Override
                public void syncStarted(long totalBytes, boolean full, long syncGeneration) {
                    throw new AssertionError("no full resync in the simulation");
                }

                @Override
                public void syncCompleted(long seq) {
                    throw new AssertionError("no full resync in the simulation");
                }
            }
        }
    }
}
