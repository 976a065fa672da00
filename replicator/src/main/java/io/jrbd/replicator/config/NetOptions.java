package io.jrbd.replicator.config;

import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * The {@code [net]} section of a resource: peer authentication, liveness timers and buffers.
 * Defaults and limits are DRBD's ({@code drbd_limits.h}), and so is the rule that {@code timeout}
 * is shorter than both {@code ping-interval} and {@code connect-interval}.
 *
 * <pre>
 * key               default  limits
 * shared-secret     -        8..64 bytes (UTF-8), required
 * ping-interval     10s      1s..120s
 * ping-timeout      500ms    100ms..30s
 * timeout           6s       100ms..60s, &lt; ping-interval, &lt; connect-interval
 * connect-interval  10s      1s..120s
 * ko-count          7        0..200 (0 = never drop a slow peer)
 * send-buffer       8M       64K..1G
 * journal-size      64M      0 (off), or 1M..1T in whole 4K blocks
 * </pre>
 *
 * <p>{@link #toString()} never shows the secret.
 */
public record NetOptions(String sharedSecret, Duration pingInterval, Duration pingTimeout, Duration timeout,
                         Duration connectInterval, int koCount, long sendBuffer, long journalSize) {
    public static final Duration DEFAULT_PING_INTERVAL = Duration.ofSeconds(10);
    public static final Duration DEFAULT_PING_TIMEOUT = Duration.ofMillis(500);
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(6);
    public static final Duration DEFAULT_CONNECT_INTERVAL = Duration.ofSeconds(10);
    public static final int DEFAULT_KO_COUNT = 7;
    public static final long DEFAULT_SEND_BUFFER = 8L << 20;
    public static final long DEFAULT_JOURNAL_SIZE = 64L << 20;

    public static final int MIN_SECRET_BYTES = 8;
    public static final int MAX_SECRET_BYTES = 64;
    public static final int MAX_KO_COUNT = 200;
    public static final long MIN_SEND_BUFFER = 64L << 10;
    public static final long MAX_SEND_BUFFER = 1L << 30;
    public static final long MIN_JOURNAL_SIZE = 1L << 20;
    public static final long MAX_JOURNAL_SIZE = 1L << 40;
    public static final long JOURNAL_BLOCK = 4096;

    public NetOptions {
        if (sharedSecret == null) {
            throw new ConfigException("net.shared-secret", "missing");
        }
        int secretBytes = sharedSecret.getBytes(StandardCharsets.UTF_8).length;
        if (secretBytes < MIN_SECRET_BYTES || secretBytes > MAX_SECRET_BYTES) {
            // The secret itself is never echoed: error messages end up in logs.
            throw new ConfigException("net.shared-secret", "must be " + MIN_SECRET_BYTES + " to " + MAX_SECRET_BYTES
                    + " bytes, found " + secretBytes);
        }
        checkRange("net.ping-interval", pingInterval, Duration.ofSeconds(1), Duration.ofSeconds(120));
        checkRange("net.ping-timeout", pingTimeout, Duration.ofMillis(100), Duration.ofSeconds(30));
        checkRange("net.timeout", timeout, Duration.ofMillis(100), Duration.ofSeconds(60));
        checkRange("net.connect-interval", connectInterval, Duration.ofSeconds(1), Duration.ofSeconds(120));
        if (timeout.compareTo(pingInterval) >= 0) {
            throw notShorter("net.ping-interval", timeout, pingInterval);
        }
        if (timeout.compareTo(connectInterval) >= 0) {
            throw notShorter("net.connect-interval", timeout, connectInterval);
        }
        if (koCount < 0 || koCount > MAX_KO_COUNT) {
            throw new ConfigException("net.ko-count", "'" + koCount + "' is out of range 0.." + MAX_KO_COUNT);
        }
        if (sendBuffer < MIN_SEND_BUFFER || sendBuffer > MAX_SEND_BUFFER) {
            throw new ConfigException("net.send-buffer", Sizes.format(sendBuffer) + " is out of range "
                    + Sizes.format(MIN_SEND_BUFFER) + ".." + Sizes.format(MAX_SEND_BUFFER));
        }
        if (journalSize != 0) {
            if (journalSize < MIN_JOURNAL_SIZE || journalSize > MAX_JOURNAL_SIZE) {
                throw new ConfigException("net.journal-size", Sizes.format(journalSize) + " is out of range "
                        + Sizes.format(MIN_JOURNAL_SIZE) + ".." + Sizes.format(MAX_JOURNAL_SIZE) + " (or 0 for no journal)");
            }
            if (journalSize % JOURNAL_BLOCK != 0) {
                throw new ConfigException("net.journal-size", Sizes.format(journalSize) + " is not a multiple of 4 KiB");
            }
        }
    }

    /** DRBD's defaults for everything but the secret, which has none. */
    public static NetOptions withDefaults(String sharedSecret) {
        return new NetOptions(sharedSecret, DEFAULT_PING_INTERVAL, DEFAULT_PING_TIMEOUT, DEFAULT_TIMEOUT,
                DEFAULT_CONNECT_INTERVAL, DEFAULT_KO_COUNT, DEFAULT_SEND_BUFFER, DEFAULT_JOURNAL_SIZE);
    }

    /** The secret as the bytes the HMAC is keyed with (a fresh copy each call). */
    public byte[] sharedSecretBytes() {
        return sharedSecret.getBytes(StandardCharsets.UTF_8);
    }

    /** Whether the primary keeps a journal of recent writes for quick catch-up. */
    public boolean journalEnabled() {
        return journalSize != 0;
    }

    @Override
    public String toString() {
        return "NetOptions[sharedSecret=<hidden>, pingInterval=" + Durations.format(pingInterval)
                + ", pingTimeout=" + Durations.format(pingTimeout) + ", timeout=" + Durations.format(timeout)
                + ", connectInterval=" + Durations.format(connectInterval) + ", koCount=" + koCount
                + ", sendBuffer=" + Sizes.format(sendBuffer) + ", journalSize=" + Sizes.format(journalSize) + "]";
    }

    private static void checkRange(String key, Duration value, Duration min, Duration max) {
        if (value == null) {
            throw new ConfigException(key, "missing");
        }
        if (value.compareTo(min) < 0 || value.compareTo(max) > 0) {
            throw new ConfigException(key, "'" + Durations.format(value) + "' is out of range "
                    + Durations.format(min) + ".." + Durations.format(max));
        }
    }

    private static ConfigException notShorter(String otherKey, Duration timeout, Duration other) {
        return new ConfigException("net.timeout", "'" + Durations.format(timeout) + "' must be less than " + otherKey
                + " ('" + Durations.format(other) + "'): DRBD requires timeout < ping-interval and timeout < connect-interval");
    }
}
