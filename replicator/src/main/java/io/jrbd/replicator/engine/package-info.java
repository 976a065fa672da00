/**
 * The replication engine. On the primary, {@link io.jrbd.replicator.engine.ReplicatedDevice}
 * runs every write through a Disruptor ring: the {@code Sequencer} numbers it and puts it in
 * the journal, then the {@code LocalWriter} writes it to the local store while the
 * {@code PeerSender} ships it to the peer, and a completion drain answers the client once the
 * write's protocol (A, B or C) allows. On the secondary, a
 * {@link io.jrbd.replicator.engine.SecondaryApplier} applies what arrives strictly in order.
 *
 * <p>The pure rules ({@link io.jrbd.replicator.engine.CompletionRule}, the applier) reach the
 * disk only through {@link io.jrbd.replicator.engine.Disk} and the peer only through
 * {@link io.jrbd.replicator.engine.PeerOutbound}, so a seeded simulation can drive them.
 */
package io.jrbd.replicator.engine;
