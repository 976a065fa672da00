package io.jrbd.resync;

import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * How far a resync (or verify) has come: bytes done of the total, the rate over the last
 * {@link #RATE_WINDOW} and the time left at that rate. The time left follows the recent rate,
 * not the average since the start, as DRBD's status does, so it answers to throttling and to
 * the controller speeding up. One thread updates it at a time.
 */
public final class ResyncProgress {
    /** How far back {@link #recentRate} looks. */
    public static final Duration RATE_WINDOW = Duration.ofSeconds(10);

    private static final int RATE_SLOTS = 20;

    private final long totalBytes;
    private final LongSupplier clock;
    private final long startNanos;
    private final SlidingWindow recent;
    private long doneBytes;

    /** Starts now, with {@code totalBytes} to go. */
    public ResyncProgress(long totalBytes, LongSupplier nanoClock) {
        if (totalBytes < 0) {
            throw new IllegalArgumentException("totalBytes must not be negative, got " + totalBytes);
        }
        this.totalBytes = totalBytes;
        this.clock = Objects.requireNonNull(nanoClock, "nanoClock");
        this.startNanos = nanoClock.getAsLong();
        this.recent = new SlidingWindow(RATE_WINDOW.toNanos(), RATE_SLOTS, startNanos);
    }

    /**
     * {@code bytes} more are in sync. Done never passes the total (blocks that application writes
     * bring in sync can make the count run over), but the rate counts every byte.
     */
    public void synced(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("synced bytes must not be negative, got " + bytes);
        }
        doneBytes = bytes >= totalBytes - doneBytes ? totalBytes : doneBytes + bytes;
        recent.add(bytes, clock.getAsLong());
    }

    public long doneBytes() {
        return doneBytes;
    }

    public long totalBytes() {
        return totalBytes;
    }

    public long remainingBytes() {
        return totalBytes - doneBytes;
    }

    public boolean finished() {
        return doneBytes == totalBytes;
    }

    public long startNanos() {
        return startNanos;
    }

    public Duration elapsed() {
        return Duration.ofNanos(Math.max(0, clock.getAsLong() - startNanos));
    }

    /** Done, 0 to 100; 100 when there was nothing to do. DRBD prints it with two decimals ({@code done:42.17}). */
    public double percent() {
        return totalBytes == 0 ? 100 : 100.0 * doneBytes / totalBytes;
    }

    /** Bytes/s over the last {@link #RATE_WINDOW} (or since the start, if that is shorter). */
    public long recentRate() {
        return (long) recent.ratePerSecond(clock.getAsLong());
    }

    /** Bytes/s since the start. */
    public long averageRate() {
        long elapsed = clock.getAsLong() - startNanos;
        return elapsed <= 0 ? 0 : (long) (doneBytes * 1e9 / elapsed);
    }

    /** Seconds left at the {@link #recentRate}, rounded up; 0 when done, -1 while nothing moves. */
    public long etaSeconds() {
        long remaining = remainingBytes();
        if (remaining == 0) {
            return 0;
        }
        long rate = recentRate();
        return rate == 0 ? -1 : (remaining + rate - 1) / rate;
    }

    /**
     * A bar of {@code width} cells between brackets, as drbdadm draws it:
     * {@code [=====>..............]}; all {@code =} when done.
     */
    public String bar(int width) {
        if (width <= 0) {
            throw new IllegalArgumentException("width must be above 0, got " + width);
        }
        int filled = finished() ? width : (int) Math.min(width - 1, (long) (percent() / 100 * width));
        StringBuilder bar = new StringBuilder(width + 2).append('[');
        for (int i = 0; i < filled; i++) {
            bar.append('=');
        }
        if (filled < width) {
            bar.append('>');
            for (int i = filled + 1; i < width; i++) {
                bar.append('.');
            }
        }
        return bar.append(']').toString();
    }

    /** {@code [====>...............] done:25.00% 1048576/4194304 bytes, 262144 bytes/s, eta 12 s}. */
    @Override
    public String toString() {
        long eta = etaSeconds();
        return String.format(Locale.ROOT, "%s done:%.2f%% %d/%d bytes, %d bytes/s, eta %s", bar(20),
                percent(), doneBytes, totalBytes, recentRate(), eta < 0 ? "unknown" : eta + " s");
    }
}
