package io.jrbd.nbd.wan;

/** Which way bytes travel through a {@link WanProxy}. */
public enum Direction {
    /** From the accepted (client) connection to the target. */
    CLIENT_TO_TARGET,
    /** From the target back to the client. */
    TARGET_TO_CLIENT
}
