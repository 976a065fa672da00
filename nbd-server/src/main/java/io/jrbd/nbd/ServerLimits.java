package io.jrbd.nbd;

/**
 * What one connection may ask of the server. The block sizes are advertised with
 * NBD_INFO_BLOCK_SIZE; the in-flight bounds stop reading from a client that has that much
 * outstanding, so a flood of requests meets backpressure instead of filling the heap.
 */
public record ServerLimits(int minimumBlock, int preferredBlock, int maxPayload, int maxInFlightRequests,
        long maxInFlightBytes) {
    public static final ServerLimits DEFAULT = new ServerLimits(1, 4096, 32 << 20, 256, 128L << 20);

    public ServerLimits {
        if (maxInFlightBytes < maxPayload) {
            throw new IllegalArgumentException("maxInFlightBytes " + maxInFlightBytes + " < maxPayload " + maxPayload);
        }
    }
}
