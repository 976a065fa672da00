package io.jrbd.replicator.engine;

import io.jrbd.replicator.config.Protocol;

/**
 * When a write may be reported complete (DESIGN.md section 3, rule 1). Pure: the pipeline and
 * the simulation both ask it, and a table-driven test pins it down.
 *
 * <p>Positions are compared in two numbering spaces: {@code ring} positions for what happens
 * on this node (local write, local fdatasync, handed to the network) and write sequence
 * numbers ({@code seq}) for what the peer acknowledges.
 *
 * <table>
 * <caption>peer condition by protocol</caption>
 * <tr><th></th><th>write / trim / zeroes</th><th>FUA</th><th>FLUSH</th></tr>
 * <tr><td>A</td><td>handed to the network</td><td>handed</td><td>handed</td></tr>
 * <tr><td>B</td><td>peer received</td><td>peer received</td><td>peer durable</td></tr>
 * <tr><td>C</td><td>peer written</td><td>peer durable</td><td>peer durable</td></tr>
 * </table>
 * The local condition is always "written locally", and for FUA and FLUSH "and fdatasync'd".
 * A write that did not need the peer (sequenced while no peer was attached), or whose peer
 * was lost before it acknowledged (the write is then in the dirty bitmap), has no peer
 * condition.
 */
public final class CompletionRule {
    private CompletionRule() {
    }

    /** Where this node and its peer have got to; every field only ever grows. */
    public record Progress(long localWritten, long localSynced, long handed, long waivedUpTo,
            long peerReceived, long peerWritten, long peerSynced) {
    }

    public static boolean isComplete(Protocol protocol, int type, int flags, boolean peerRequired, long ring, long seq,
            Progress p) {
        boolean fua = (flags & OpType.FUA) != 0;
        boolean flush = type == OpType.FLUSH;
        if (p.localWritten() < ring || ((fua || flush) && p.localSynced() < ring)) {
            return false;
        }
        if (!peerRequired || p.waivedUpTo() >= ring) {
            return true;
        }
        return switch (protocol) {
            case A -> p.handed() >= ring;
            case B -> flush ? p.peerSynced() >= seq : p.peerReceived() >= seq;
            case C -> (fua || flush) ? p.peerSynced() >= seq : p.peerWritten() >= seq;
        };
    }
}
