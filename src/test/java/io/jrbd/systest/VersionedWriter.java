package io.jrbd.systest;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.zip.CRC32;

/**
 * A writer that knows exactly which writes the server acknowledged. Each of {@code connections}
 * NBD connections owns its own region of {@code blocksPerConnection} 4 KiB blocks and sweeps it
 * over and over, {@code inFlight} writes pipelined. Write number {@code c} of a connection goes
 * to block {@code c % blocksPerConnection} with version {@code c / blocksPerConnection + 1}; the
 * block's content encodes (connection, block, version), is filled from a PRNG seeded with them,
 * and ends with a CRC32, so a read-back block names the write it came from and shows whether it
 * is torn. Two writes to one block are never in flight together (the sweep is far longer than
 * the pipeline), so the order in which one block's versions are applied is never in question.
 */
final class VersionedWriter implements AutoCloseable {
    static final int BLOCK = 4096;
    private static final long MAGIC = 0x4a52424456455231L; // "JRBDVER1"

    final int connections;
    final int blocksPerConnection;
    final int inFlight;
    /** Per global block: the highest version whose write was acknowledged (0: none). */
    final AtomicLongArray acked;
    /** Per global block: the highest version sent (0: none). */
    final AtomicLongArray sent;
    final AtomicLong ackCount = new AtomicLong();
    private final List<Thread> threads = new ArrayList<>();
    private final List<RawNbdClient> clients = new ArrayList<>();
    private final AtomicReference<Throwable> firstError = new AtomicReference<>();
    private volatile boolean stop;

    VersionedWriter(int connections, int blocksPerConnection, int inFlight) {
        this.connections = connections;
        this.blocksPerConnection = blocksPerConnection;
        this.inFlight = inFlight;
        this.acked = new AtomicLongArray(connections * blocksPerConnection);
        this.sent = new AtomicLongArray(connections * blocksPerConnection);
    }

    long regionBytes() {
        return (long) connections * blocksPerConnection * BLOCK;
    }

    /** Opens every connection (so a refused connection fails the test here) and starts writing. */
    void start(int port, String export) throws IOException {
        for (int i = 0; i < connections; i++) {
            clients.add(RawNbdClient.transmission(port, export, false));
        }
        for (int i = 0; i < connections; i++) {
            int conn = i;
            RawNbdClient client = clients.get(i);
            Semaphore window = new Semaphore(inFlight);
            ConcurrentHashMap<Long, long[]> pending = new ConcurrentHashMap<>();
            Thread writer = new Thread(() -> {
                try {
                    for (long c = 0; !stop; c++) {
                        while (!window.tryAcquire(50, TimeUnit.MILLISECONDS)) {
                            if (stop) {
                                return;
                            }
                        }
                        int block = (int) (c % blocksPerConnection);
                        long version = c / blocksPerConnection + 1;
                        int global = conn * blocksPerConnection + block;
                        pending.put(c, new long[] {global, version});
                        sent.accumulateAndGet(global, version, Math::max);
                        client.write(c, (long) global * BLOCK, content(conn, global, version));
                    }
                } catch (IOException | InterruptedException e) {
                    ended(e);
                }
            }, "writer-" + conn);
            Thread reader = new Thread(() -> {
                try {
                    while (true) {
                        RawNbdClient.SimpleReply r = client.simpleReply();
                        long[] w = pending.remove(r.cookie());
                        if (w == null) {
                            throw new IllegalStateException("reply for unknown cookie " + r.cookie());
                        }
                        if (r.error() != 0) {
                            throw new IllegalStateException("write " + r.cookie() + " failed with NBD error " + r.error());
                        }
                        acked.accumulateAndGet((int) w[0], w[1], Math::max);
                        ackCount.incrementAndGet();
                        window.release();
                    }
                } catch (IOException e) {
                    ended(e);
                } catch (Throwable e) {
                    firstError.compareAndSet(null, e);
                }
            }, "reader-" + conn);
            threads.add(writer);
            threads.add(reader);
        }
        threads.forEach(Thread::start);
    }

    /** A connection ending with an I/O error is what a killed server looks like; anything else is kept. */
    private void ended(Exception e) {
        if (!stop && !(e instanceof IOException)) {
            firstError.compareAndSet(null, e);
        }
    }

    /** A failure that is not the server going away (a write error, a bad reply), or null. */
    Throwable error() {
        return firstError.get();
    }

    /** Stops sending, closes the connections and waits for the threads. */
    void stop() throws InterruptedException {
        stop = true;
        for (RawNbdClient c : clients) {
            try {
                c.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
        for (Thread t : threads) {
            t.join(15_000);
        }
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }

    static byte[] content(int conn, int global, long version) {
        byte[] b = new byte[BLOCK];
        ByteBuffer bb = ByteBuffer.wrap(b);
        bb.putLong(MAGIC).putInt(conn).putInt(global).putLong(version);
        SplittableRandom r = new SplittableRandom(global * 1_000_003L + version);
        while (bb.position() < BLOCK - 8) {
            bb.putLong(r.nextLong());
        }
        CRC32 crc = new CRC32();
        crc.update(b, 0, BLOCK - 8);
        bb.putLong(BLOCK - 8, crc.getValue());
        return b;
    }

    /**
     * The version a read-back block holds: 0 for a never-written (all zero) block; otherwise it
     * must be exactly {@link #content} of the block it was read from, or this throws naming the fault.
     */
    int decodeVersion(byte[] all, int offset, int global) {
        ByteBuffer bb = ByteBuffer.wrap(all, offset, BLOCK).slice();
        boolean zero = true;
        for (int i = 0; i < BLOCK && zero; i++) {
            zero = all[offset + i] == 0;
        }
        if (zero) {
            return 0;
        }
        long magic = bb.getLong(0);
        int conn = bb.getInt(8);
        int block = bb.getInt(12);
        long version = bb.getLong(16);
        if (magic != MAGIC || block != global || conn != global / blocksPerConnection || version <= 0 || version > Integer.MAX_VALUE) {
            throw new AssertionError("block " + global + " holds a foreign or torn header: magic " + Long.toHexString(magic)
                    + ", connection " + conn + ", block " + block + ", version " + version);
        }
        byte[] expected = content(conn, global, version);
        for (int i = 0; i < BLOCK; i++) {
            if (all[offset + i] != expected[i]) {
                throw new AssertionError("block " + global + " version " + version + " is torn or corrupt at byte " + i);
            }
        }
        return (int) version;
    }

    /** Reads the whole region from an export and decodes every block's version (asserting each is intact). */
    long[] readVersions(int port, String export) throws IOException {
        long[] versions = new long[connections * blocksPerConnection];
        try (RawNbdClient c = RawNbdClient.transmission(port, export, false)) {
            int chunkBlocks = 64;
            for (int first = 0; first < versions.length; first += chunkBlocks) {
                int n = Math.min(chunkBlocks, versions.length - first);
                byte[] data = c.read(first, (long) first * BLOCK, n * BLOCK);
                for (int i = 0; i < n; i++) {
                    versions[first + i] = decodeVersion(data, i * BLOCK, first + i);
                }
            }
        }
        return versions;
    }

    /** Write number of a connection that a block at this version shows (negative before the first sweep). */
    long writeNumber(int global, long version) {
        int block = global % blocksPerConnection;
        return (version - 1) * blocksPerConnection + block;
    }
}
