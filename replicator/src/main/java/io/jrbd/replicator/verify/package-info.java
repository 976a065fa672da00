/**
 * Comparing the two nodes' data by digests, without shipping it: online verify
 * ({@code jrbdadm verify}, {@code verify-alg}) and the digest step of a checksum-based resync
 * ({@code csums-alg}).
 *
 * <pre>
 *   requesting node                                    answering node
 *   OnlineVerify / ChecksumProbe
 *     reads + digests its blocks
 *     DigestExchange.request ---- DIGEST_REQUEST ----&gt; DigestResponder.submit
 *                                                        (own thread: reads, digests, compares)
 *     DigestExchange.onReply &lt;--- DIGEST_REPLY ------- replyTo
 *   OnlineVerify only, for blocks that differ twice:
 *     Bitmap.setRange + OUT_OF_SYNC -----------------&gt; marks its own bitmap
 * </pre>
 *
 * Nothing here touches a channel: messages leave through a {@code Consumer<PeerMessage>} the
 * resource binds to the peer link's current session, and arrive through the methods named
 * {@code onX} / {@code submit}, which never block and so are safe on the network thread.
 */
package io.jrbd.replicator.verify;
