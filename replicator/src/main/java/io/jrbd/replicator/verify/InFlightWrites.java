package io.jrbd.replicator.verify;

import java.io.IOException;

/**
 * The owner's view of replicated writes still on their way, which {@link OnlineVerify} waits
 * out before it re-checks blocks that differed: a block written while verify read it differs
 * for a moment and must not be reported.
 *
 * <p>Contract of {@link #awaitSettled}: returns once every application write that was
 * sequenced (on whichever node is Primary) before the call is on both nodes' stores. On the
 * Primary that is "the peer has acknowledged as written every write sequenced so far"; on a
 * Secondary, "every write the Primary had sequenced when asked has been applied here". Writes
 * sequenced after the call may land meanwhile; they are not waited for. Called on the verify
 * thread, at most once per chunk that differed.
 */
@FunctionalInterface
public interface InFlightWrites {
    /** No writes to wait for: a device nobody writes to (tests, an idle Secondary). */
    InFlightWrites NONE = () -> { };

    /**
     * Blocks until the writes in flight at the time of the call have settled.
     *
     * @throws InterruptedException   when the verify is cancelled; must answer to interrupts
     * @throws SessionEndedException  when the peer session ends while waiting
     * @throws IOException            when the writes can never settle (a failed device)
     */
    void awaitSettled() throws InterruptedException, IOException;
}
