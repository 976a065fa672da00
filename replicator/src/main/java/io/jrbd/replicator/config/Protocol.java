package io.jrbd.replicator.config;

/** When a write is reported complete to the application, as in DRBD. */
public enum Protocol {
    /** Written locally and handed to the send buffer: asynchronous replication. */
    A,
    /** Written locally and received by the peer: memory-synchronous. */
    B,
    /** Written locally and written by the peer: synchronous. DRBD's default. */
    C;

    /** "A", "B" or "C" (case-insensitive); anything else throws {@link IllegalArgumentException} naming the text. */
    public static Protocol parse(String text) {
        String t = text.trim();
        for (Protocol p : values()) {
            if (p.name().equalsIgnoreCase(t)) {
                return p;
            }
        }
        throw new IllegalArgumentException("'" + text + "' is not A, B or C");
    }
}
