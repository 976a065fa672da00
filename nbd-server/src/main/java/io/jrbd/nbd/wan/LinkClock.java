package io.jrbd.nbd.wan;

/**
 * The timing rule of one direction of a simulated link: when does a chunk read now come out of the far end.
 *
 * <pre>
 *   uncapped:  delivery = now + delay
 *   capped:    start    = max(now, linkFreeAt)          the link sends one chunk at a time
 *              linkFreeAt = start + ceil(n / rate)      n bytes occupy the link for n/rate seconds
 *              delivery = linkFreeAt + delay
 *   always:    delivery = max(delivery, last delivery)  bytes never overtake (after a smaller setDelay)
 * </pre>
 *
 * Times are {@link System#nanoTime()} values, compared by subtraction. Not thread-safe: one event loop owns it.
 */
final class LinkClock {
    private long linkFreeAt;
    private long lastDeliveryAt;
    private boolean started;

    /** Reserves the link for {@code bytes} read at {@code now} and returns when they must be delivered. */
    long deliveryTime(long now, int bytes, long delayNanos, long bytesPerSecond) {
        long departure = now;
        if (bytesPerSecond > 0) {
            long start = started && linkFreeAt - now > 0 ? linkFreeAt : now;
            linkFreeAt = start + serialisationNanos(bytes, bytesPerSecond);
            departure = linkFreeAt;
        }
        long delivery = departure + delayNanos;
        if (started && delivery - lastDeliveryAt < 0) {
            delivery = lastDeliveryAt;
        }
        lastDeliveryAt = delivery;
        started = true;
        return delivery;
    }

    /** How long {@code bytes} occupy a link of {@code bytesPerSecond}, rounded up so the cap is never exceeded. */
    static long serialisationNanos(long bytes, long bytesPerSecond) {
        if (bytesPerSecond <= 0) {
            throw new IllegalArgumentException("rate " + bytesPerSecond + " bytes/s must be positive");
        }
        long whole = bytes / bytesPerSecond;
        long rest = bytes % bytesPerSecond;
        // rest < bytesPerSecond; rest * 1e9 can overflow only for rates above ~9.2 GB/s, so go through double there
        long restNanos = bytesPerSecond <= Long.MAX_VALUE / 1_000_000_000L
                ? (rest * 1_000_000_000L + bytesPerSecond - 1) / bytesPerSecond
                : (long) Math.ceil(rest * 1e9 / bytesPerSecond);
        return whole * 1_000_000_000L + restNanos;
    }

    /**
     * How many delayed bytes one direction may hold before the proxy stops reading from the sender:
     * twice the bandwidth-delay product, at least {@link #MIN_QUEUE_LIMIT}. An uncapped link is sized as if
     * it ran at {@link #UNCAPPED_SIZING_RATE}, and its limit is at most {@link #MAX_UNCAPPED_QUEUE_LIMIT}.
     */
    static long queueLimit(long delayNanos, long bytesPerSecond) {
        double rate = bytesPerSecond > 0 ? bytesPerSecond : UNCAPPED_SIZING_RATE;
        double bdp2 = 2.0 * rate * delayNanos / 1e9;
        long limit = (long) Math.min(bdp2, (double) Long.MAX_VALUE / 2);
        if (bytesPerSecond <= 0) {
            limit = Math.min(limit, MAX_UNCAPPED_QUEUE_LIMIT);
        }
        return Math.max(limit, MIN_QUEUE_LIMIT);
    }

    static final long MIN_QUEUE_LIMIT = 4L << 20;
    static final long UNCAPPED_SIZING_RATE = 1L << 30;
    static final long MAX_UNCAPPED_QUEUE_LIMIT = 256L << 20;
}
