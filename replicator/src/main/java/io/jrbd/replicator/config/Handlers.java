package io.jrbd.replicator.config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;

/**
 * The {@code [handlers]} table: programs jrbd runs when something needs a person or another
 * system, as DRBD's handlers, plus how long each may run. Each is an absolute path to an
 * executable file (a program, not a command line: no arguments; wrap a command in a script).
 * {@link ConfigLoader} checks that each exists and is executable when it reads the file.
 *
 * @param programs  the configured handlers (unmodifiable, in {@link Handler} order); absent ones are not run
 * @param timeout   how long a handler may run ({@code handler-timeout}, 1s..10m, default 60s)
 */
public record Handlers(Map<Handler, Path> programs, Duration timeout) {
    public static final String KEY_TIMEOUT = "handlers.handler-timeout";

    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);
    public static final Duration MIN_TIMEOUT = Duration.ofSeconds(1);
    public static final Duration MAX_TIMEOUT = Duration.ofMinutes(10);

    /** No handlers, the default timeout. */
    public static final Handlers NONE = new Handlers(Map.of(), DEFAULT_TIMEOUT);

    /** The events a handler can be configured for, named as DRBD's. */
    public enum Handler {
        /** A split brain was detected and not resolved automatically. */
        SPLIT_BRAIN("split-brain"),
        /** A Primary lost its peer and fencing is on: outdate the peer (e.g. through the cluster manager). */
        FENCE_PEER("fence-peer"),
        /** The peer is back and resynced: undo what fence-peer did. */
        UNFENCE_PEER("unfence-peer"),
        /** This node is about to become SyncTarget (e.g. snapshot its consistent data). */
        BEFORE_RESYNC_TARGET("before-resync-target"),
        /** This node finished a resync as SyncTarget. */
        AFTER_RESYNC_TARGET("after-resync-target"),
        /** A split-brain policy chose this Primary as the loser and it could not step down. */
        PRI_LOST_AFTER_SB("pri-lost-after-sb"),
        /** Online verify found blocks out of sync. */
        OUT_OF_SYNC("out-of-sync");

        private final String spelling;

        Handler(String spelling) {
            this.spelling = spelling;
        }

        /** The key in {@code [handlers]}. */
        public String spelling() {
            return spelling;
        }

        /** The dotted key: {@code handlers.split-brain}. */
        public String key() {
            return "handlers." + spelling;
        }
    }

    public Handlers {
        if (programs == null) {
            throw new ConfigException("handlers", "missing");
        }
        EnumMap<Handler, Path> copy = new EnumMap<>(Handler.class);
        for (Map.Entry<Handler, Path> e : programs.entrySet()) {
            if (e.getKey() == null) {
                throw new ConfigException("handlers", "a handler without a name");
            }
            if (e.getValue() == null) {
                throw new ConfigException(e.getKey().key(), "missing");
            }
            if (!e.getValue().isAbsolute()) {
                throw new ConfigException(e.getKey().key(), "'" + e.getValue() + "' is not an absolute path");
            }
            copy.put(e.getKey(), e.getValue());
        }
        programs = Collections.unmodifiableMap(copy);
        if (timeout == null) {
            throw new ConfigException(KEY_TIMEOUT, "missing");
        }
        if (timeout.compareTo(MIN_TIMEOUT) < 0 || timeout.compareTo(MAX_TIMEOUT) > 0) {
            throw new ConfigException(KEY_TIMEOUT, "'" + Durations.format(timeout) + "' is out of range "
                    + Durations.format(MIN_TIMEOUT) + ".." + Durations.format(MAX_TIMEOUT));
        }
    }

    /** The program configured for {@code handler}, if any. */
    public Optional<Path> program(Handler handler) {
        return Optional.ofNullable(programs.get(handler));
    }

    /**
     * Throws {@link ConfigException} for the first handler (in {@link Handler} order) that is not an
     * existing, executable regular file on this machine.
     */
    public void checkInstalled() {
        for (Map.Entry<Handler, Path> e : programs.entrySet()) {
            Path p = e.getValue();
            if (!Files.exists(p)) {
                throw new ConfigException(e.getKey().key(), "'" + p + "' does not exist");
            }
            if (!Files.isRegularFile(p)) {
                throw new ConfigException(e.getKey().key(), "'" + p + "' is not a file");
            }
            if (!Files.isExecutable(p)) {
                throw new ConfigException(e.getKey().key(), "'" + p + "' is not executable");
            }
        }
    }
}
