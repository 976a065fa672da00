package io.jrbd.replicator.resource;

/**
 * Told by a {@link Resource} that its state may have changed (role, disk, connection, the peer,
 * a resync, a verify, a refusal, up or down), so that it takes a fresh look at {@code status()}.
 *
 * <p>Called on whichever thread made the change (an administrative command, the link's event loop,
 * the applier, the pipeline), often while that thread holds the resource's monitor: an
 * implementation must return at once, never block, never take a lock the resource may wait for, and
 * never call back into the resource. Queue a note and return.
 */
@FunctionalInterface
public interface ResourceEventListener {
    /**
     * @param resource the resource's name
     * @param what     what happened, as {@code status()} shows it in {@code lastEvent} (e.g. {@code role:Primary},
     *                 {@code connected}, {@code split-brain}, {@code resync-finished}, {@code verify-finished})
     */
    void onEvent(String resource, String what);
}
