/**
 * The peer-to-peer replication protocol: the frames two nodes of a resource exchange over one
 * TCP (optionally TLS) link. Wire formats only; what a message means, and when it may be sent,
 * is the engine's business (the {@code replicator} module).
 *
 * <ul>
 *   <li>{@link io.jrbd.protocol.peer.PeerWire} &mdash; the frame and payload layouts, limits and flags;</li>
 *   <li>{@link io.jrbd.protocol.peer.PeerMessage} &mdash; one type per message; DATA is reference counted;</li>
 *   <li>{@link io.jrbd.protocol.peer.PeerFrameDecoder} / {@link io.jrbd.protocol.peer.PeerMessageEncoder} &mdash; the Netty codec;</li>
 *   <li>{@link io.jrbd.protocol.peer.PeerAuth} &mdash; the HMAC challenge-response.</li>
 * </ul>
 *
 * <h2>Connection handshake</h2>
 *
 * <pre>
 *   node A                                              node B
 *   HELLO(v, resource, "a", nonceA)  ----------------&gt;
 *                                    &lt;----------------  HELLO(v, resource, "b", nonceB)
 *   AUTH(proof(secret, resource, "a", nonceB)) ------&gt;
 *                                    &lt;----------------  AUTH(proof(secret, resource, "b", nonceA))
 *   verifies B's proof against nonceA, name "b"        verifies A's proof against nonceB, name "a"
 *   AUTH_OK  ----------------------------------------&gt;
 *                                    &lt;----------------  AUTH_OK
 *   authenticated: STATE, then replication messages
 * </pre>
 *
 * <ol>
 *   <li>Both sides send HELLO first, without waiting: protocol version, resource name, own node
 *       name and a fresh {@link io.jrbd.protocol.peer.PeerAuth#newNonce() nonce}.</li>
 *   <li>On the peer's HELLO, a node checks the version (a version it does not speak: GOODBYE
 *       naming both versions, close), the resource name (must be its own), the node name (must be
 *       the configured peer, and not its own) and the nonce (must differ from its own: a
 *       reflected HELLO). It then sends AUTH = {@code proof(secret, resource, ownNodeName,
 *       peerNonce)}.</li>
 *   <li>On the peer's AUTH, it computes {@code proof(secret, resource, peerNodeName, ownNonce)}
 *       and compares with {@link io.jrbd.protocol.peer.PeerAuth#verify}. On a match it sends
 *       AUTH_OK; otherwise GOODBYE ("authentication failed", nothing more) and closes.</li>
 *   <li>The link is authenticated once a node has both sent and received AUTH_OK. Before that,
 *       only HELLO, AUTH, AUTH_OK and GOODBYE are valid
 *       ({@link io.jrbd.protocol.peer.PeerMessageType#allowedBeforeAuth()}); any other message,
 *       a second HELLO or AUTH, or an AUTH before the peer's HELLO closes the link. The engine
 *       enforces this; the codec decodes every well-formed frame in any order. A GOODBYE
 *       received before authentication is from an unauthenticated peer: log it, trust nothing
 *       in it.</li>
 * </ol>
 *
 * <h2>Errors</h2>
 *
 * <p>Any malformed frame (wrong magic, unknown type, bad length, field out of range, invalid
 * UTF-8) raises {@link io.netty.handler.codec.CorruptedFrameException} or
 * {@link io.netty.handler.codec.TooLongFrameException} and the link is closed: a peer protocol
 * error is never recovered on the same connection.
 */
package io.jrbd.protocol.peer;
