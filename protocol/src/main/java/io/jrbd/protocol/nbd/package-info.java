/**
 * The NBD wire format as jrbd speaks it: fixed newstyle handshake, option haggling,
 * transmission requests, simple and structured replies.
 *
 * <p>Only framing and encoding live here; what a request <em>means</em> is decided by the
 * server. Every integer on the wire is big-endian; lengths and offsets are unsigned and are
 * kept in Java {@code long}s so that {@code offset + length} never wraps.
 */
package io.jrbd.protocol.nbd;
