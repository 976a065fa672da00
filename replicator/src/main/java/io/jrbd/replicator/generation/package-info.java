/**
 * Generation identifiers (DESIGN.md section 5): the connect-time decision
 * ({@link io.jrbd.replicator.generation.GenerationRules#decide}) and the changes a node's
 * generations go through ({@link io.jrbd.replicator.generation.GenerationTransitions}), as
 * pure functions pinned down by table-driven tests. See docs/generations.md.
 *
 * <p>Wiring (issue 4, not done yet): at connect, build a
 * {@link io.jrbd.replicator.generation.NodeView} for each side ({@code Generations.of(superblock)},
 * the disk state, the role, the crashed-primary flag as found at attach, the
 * {@code --discard-my-data} option; the peer's from its handshake message), call
 * {@code decide}, store {@code GenerationRules.repair(decision, mine)}, log
 * {@code GenerationRules.logLine}, and act on the outcome.
 */
package io.jrbd.replicator.generation;
