package io.jrbd.replicator.resource;

import java.time.Clock;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The source of {@code jrbdadm events}: one thread that looks at the resources' state whenever one
 * says it changed ({@link #onEvent}) and once per {@link #TICK_NANOS} (for resync progress and for
 * any change no notification announced), and hands each subscriber the lines of what differs.
 *
 * <pre>
 *   Resource.event() --onEvent--> [notes: bounded, never blocks] --> events thread
 *                                                                     | status() of each noted resource
 *                                                                     | StateEventDiffer per subscriber
 *                                   control thread <-- poll -- [lines: bounded per subscriber]
 * </pre>
 *
 * <p>Nothing the resources do ever waits for this hub: a note that does not fit is dropped and the
 * next look covers every resource. A subscriber whose queue is full (its client reads too slowly) is
 * dropped: its last line is {@link End#OVERFLOW}'s error line, and it gets no more. One slot of each
 * queue is kept for that last line.
 */
public final class ResourceEventHub implements ResourceEventListener, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ResourceEventHub.class);

    public static final long TICK_NANOS = TimeUnit.SECONDS.toNanos(1);
    public static final int DEFAULT_QUEUE_LINES = 1024;
    static final int NOTES = 4096;
    /** drbdsetup's --timestamps form: local time with microseconds and the UTC offset. */
    static final DateTimeFormatter TIMESTAMP = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSSxxx");

    /** The state of one resource as {@code status()} gives it; null when there is no such resource. */
    @FunctionalInterface
    public interface Snapshots {
        Map<String, ?> status(String resource);
    }

    /** Why a subscription gives no more lines. */
    public enum End {
        /** {@code --now}: the exists lines are all there is. */
        FINISHED(null, null),
        /** The client read too slowly and lines were lost. */
        OVERFLOW("error reason:overflow", "this events client read too slowly (more than %d lines waited), so it was dropped;"
                + " run events again: its exists lines give the current state"),
        /** The daemon is stopping. */
        SHUTDOWN("error reason:shutdown", "the daemon is stopping");

        private final String line;
        private final String message;

        End(String line, String message) {
            this.line = line;
            this.message = message;
        }

        /** The events line that says so, or null for {@link #FINISHED}. */
        public String line() {
            return line;
        }

        /** One line for the administrator, or null for {@link #FINISHED}. */
        public String message(int queueLines) {
            return message == null ? null : String.format(message, queueLines);
        }
    }

    /** One line to send, stamped with when its change was seen; or, with {@code end} set, the last one of all. */
    public record Event(String time, String line, End end) {
    }

    private record Note(String resource, String what) {
    }

    /** Wakes the events thread for a new subscriber; carries no change. */
    private static final Note WAKE = new Note("", "");

    private final Snapshots snapshots;
    private final int queueLines;
    private final Clock clock;
    private final LongSupplier nanoTime;
    private final ArrayBlockingQueue<Note> notes = new ArrayBlockingQueue<>(NOTES);
    private final AtomicBoolean notesLost = new AtomicBoolean();
    private final ConcurrentLinkedQueue<Subscription> joining = new ConcurrentLinkedQueue<>();
    private final Set<Subscription> all = ConcurrentHashMap.newKeySet();
    /** Owned by the events thread. */
    private final List<Subscription> subscribers = new ArrayList<>();
    private final Thread thread;
    private volatile boolean closed;

    private ResourceEventHub(Snapshots snapshots, int queueLines, Clock clock, LongSupplier nanoTime) {
        if (queueLines < 1) {
            throw new IllegalArgumentException("events queue of " + queueLines + " lines is not at least 1");
        }
        this.snapshots = Objects.requireNonNull(snapshots, "snapshots");
        this.queueLines = queueLines;
        this.clock = clock;
        this.nanoTime = nanoTime;
        this.thread = new Thread(this::run, "jrbd-events");
        this.thread.setDaemon(true);
    }

    /** Starts the events thread; each subscriber may have {@code queueLines} lines waiting before it is dropped. */
    public static ResourceEventHub start(Snapshots snapshots, int queueLines) {
        return start(snapshots, queueLines, Clock.systemDefaultZone(), System::nanoTime);
    }

    static ResourceEventHub start(Snapshots snapshots, int queueLines, Clock clock, LongSupplier nanoTime) {
        ResourceEventHub hub = new ResourceEventHub(snapshots, queueLines, clock, nanoTime);
        hub.thread.start();
        return hub;
    }

    /** Never blocks: notes the change for the events thread (see {@link ResourceEventListener}). */
    @Override
    public void onEvent(String resource, String what) {
        if (all.isEmpty()) {
            return; // a subscriber that joins later starts from a fresh look anyway
        }
        if (!notes.offer(new Note(resource, what))) {
            notesLost.set(true);
        }
    }

    /**
     * Follows {@code resources}: the subscription gets an {@code exists} line per object, then
     * {@code exists -}, then (unless {@code existsOnly}) a {@code change} line per change, until it is
     * closed, overflows or the hub closes. The caller closes it when its client goes away.
     */
    public Subscription subscribe(List<String> resources, boolean existsOnly) {
        Subscription s = new Subscription(List.copyOf(resources), existsOnly, queueLines);
        all.add(s);
        if (closed) {
            s.end(End.SHUTDOWN);
            return s;
        }
        joining.add(s);
        notes.offer(WAKE); // if the queue is full, the thread is awake anyway
        return s;
    }

    /** Ends every subscription with {@link End#SHUTDOWN} and stops the thread; does not wait for it. */
    @Override
    public void close() {
        closed = true;
        thread.interrupt();
        for (Subscription s : all) {
            s.end(End.SHUTDOWN);
        }
    }

    /** Subscriptions that still get lines (for tests and metrics). */
    public int subscriberCount() {
        return all.size();
    }

    private void run() {
        long nextTick = nanoTime.getAsLong() + TICK_NANOS;
        try {
            while (!closed) {
                Note first = notes.poll(Math.max(0, nextTick - nanoTime.getAsLong()), TimeUnit.NANOSECONDS);
                Map<String, Set<String>> occurred = new HashMap<>();
                for (Note n = first; n != null; n = notes.poll()) {
                    if (n != WAKE) {
                        occurred.computeIfAbsent(n.resource(), r -> new LinkedHashSet<>()).add(n.what());
                    }
                }
                long now = nanoTime.getAsLong();
                boolean everything = notesLost.getAndSet(false);
                if (now - nextTick >= 0) {
                    everything = true;
                    nextTick = Math.max(nextTick + TICK_NANOS, now + TICK_NANOS / 2);
                }
                try {
                    round(occurred, everything, now);
                } catch (RuntimeException e) {
                    LOG.error("events: a look at the resources failed; events go on", e);
                }
            }
        } catch (InterruptedException e) {
            // closing
        } finally {
            for (Subscription s : all) {
                s.end(End.SHUTDOWN);
            }
        }
    }

    /** One look: snapshots what is due, once each, and gives every subscriber its lines. */
    private void round(Map<String, Set<String>> occurred, boolean everything, long now) {
        subscribers.removeIf(s -> s.ended);
        List<Subscription> joined = new ArrayList<>();
        for (Subscription s = joining.poll(); s != null; s = joining.poll()) {
            if (!s.ended) {
                joined.add(s);
            }
        }
        if (subscribers.isEmpty() && joined.isEmpty()) {
            return;
        }
        String time = TIMESTAMP.format(OffsetDateTime.now(clock));
        Map<String, List<StateEventObject>> seen = new HashMap<>();
        Set<String> failed = new HashSet<>();
        for (Subscription s : subscribers) {
            List<String> lines = new ArrayList<>();
            for (String r : s.resources) {
                if (everything || occurred.containsKey(r)) {
                    List<StateEventObject> objects = look(r, seen, failed);
                    if (objects != null) {
                        lines.addAll(s.differ.changes(objects, occurred.getOrDefault(r, Set.of()), now));
                    }
                }
            }
            s.offer(time, lines);
        }
        for (Subscription s : joined) {
            List<String> lines = new ArrayList<>();
            for (String r : s.resources) {
                List<StateEventObject> objects = look(r, seen, failed);
                if (objects != null) {
                    lines.addAll(s.differ.exists(objects, now));
                }
            }
            lines.add(StateEventDiffer.existsEnd());
            if (s.offer(time, lines) && s.existsOnly) {
                s.end(End.FINISHED);
            } else if (!s.ended) {
                subscribers.add(s);
            }
        }
    }

    private List<StateEventObject> look(String resource, Map<String, List<StateEventObject>> seen, Set<String> failed) {
        if (failed.contains(resource)) {
            return null;
        }
        List<StateEventObject> objects = seen.get(resource);
        if (objects != null) {
            return objects;
        }
        try {
            Map<String, ?> status = snapshots.status(resource);
            if (status != null) {
                objects = StateEventObject.fromStatus(status);
                seen.put(resource, objects);
                return objects;
            }
        } catch (RuntimeException e) {
            LOG.warn("events: the status of {} failed: {}", resource, e.toString());
        }
        failed.add(resource);
        return null;
    }

    /**
     * One events client's lines. The events thread fills the queue; the client's thread takes from it
     * ({@link #poll}) and closes the subscription when the client goes away.
     */
    public final class Subscription implements AutoCloseable {
        private final List<String> resources;
        private final boolean existsOnly;
        private final StateEventDiffer differ = new StateEventDiffer();
        /** One slot more than the limit: the last line (an end) always fits. */
        private final ArrayBlockingQueue<Event> lines;
        private final int limit;
        private volatile boolean ended;

        private Subscription(List<String> resources, boolean existsOnly, int limit) {
            this.resources = resources;
            this.existsOnly = existsOnly;
            this.limit = limit;
            this.lines = new ArrayBlockingQueue<>(limit + 1);
        }

        /** The next line, waiting up to {@code timeout}; null if none came. After an end, nothing more comes. */
        public Event poll(long timeout, TimeUnit unit) throws InterruptedException {
            return lines.poll(timeout, unit);
        }

        /** The resources it follows. */
        public List<String> resources() {
            return resources;
        }

        /** Adds lines; false (and the subscription ended by {@link End#OVERFLOW}) if they do not all fit. */
        synchronized boolean offer(String time, List<String> batch) {
            if (ended) {
                return false;
            }
            for (String line : batch) {
                if (lines.size() >= limit || !lines.offer(new Event(time, line, null))) {
                    LOG.warn("events: a client of {} read too slowly ({} lines waiting); dropping it", resources, limit);
                    end(End.OVERFLOW);
                    return false;
                }
            }
            return true;
        }

        /** The last event: nothing is added after it. */
        synchronized void end(End why) {
            if (ended) {
                return;
            }
            ended = true;
            all.remove(this);
            lines.offer(new Event(TIMESTAMP.format(OffsetDateTime.now(clock)), why.line(), why));
        }

        /** The limit on waiting lines, for messages. */
        public int limit() {
            return limit;
        }

        /** Stops following: the events thread forgets it at its next look. */
        @Override
        public void close() {
            synchronized (this) {
                ended = true;
                all.remove(this);
            }
        }
    }
}
