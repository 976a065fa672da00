package io.jrbd.replicator.resource;

import io.jrbd.metadata.md.DiskState;
import io.jrbd.metadata.md.Superblock;
import io.jrbd.metadata.md.SuperblockFlag;
import io.jrbd.protocol.peer.PeerMessage;
import io.jrbd.replicator.generation.Decision;
import io.jrbd.replicator.generation.GenerationRules;
import io.jrbd.replicator.generation.GenerationTransitions;
import io.jrbd.replicator.generation.Generations;
import java.security.SecureRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's data generations as they change ({@link GenerationTransitions}), each change
 * written in the same superblock write as the disk state and flags that go with it, so a crash
 * never leaves one without the other. Writes go through the metadata lock, never the resource's
 * monitor, so the data path's threads may call in too.
 */
final class GenerationBook {
    // The resource's logger: operators and tests read these lines under the name "Resource".
    private static final Logger LOG = LoggerFactory.getLogger(Resource.class);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final String resource;
    private final String peer;
    private final SuperblockWriter superblock;

    GenerationBook(String resource, String peer, SuperblockWriter superblock) {
        this.resource = resource;
        this.peer = peer;
        this.superblock = superblock;
    }

    /**
     * {@code primary --force}: DRBD 8.4 makes the new generation at once when forced, so that a
     * just-created or Inconsistent node becomes a source on the next connect instead of staying
     * "just created". Returns {@code sb} with it, for the caller to write with the role's flags.
     */
    Superblock promotedByForce(Superblock sb) {
        Generations before = Generations.of(sb);
        Generations after = GenerationTransitions.onPromoteForce(before, RANDOM::nextLong);
        Superblock next = after.applyTo(sb);
        LOG.info("{}: forced promotion: new data generation {} (was {})", resource, after, before);
        return next;
    }

    /**
     * {@code new-current-uuid} from {@code sb}; with {@code clearBitmap} the bitmap generation
     * is dropped and the disk made UpToDate, since the caller cleared the bitmap and the peer
     * adopts the generation without a sync.
     */
    void newCurrent(Superblock sb, boolean clearBitmap) {
        Generations before = Generations.of(sb);
        Generations after = GenerationTransitions.onFirstWriteWithoutPeer(before, RANDOM::nextLong);
        Superblock next;
        if (clearBitmap) {
            after = Generations.of(after.current(), 0, before.history());
            next = after.applyTo(sb).withDiskState(DiskState.UP_TO_DATE).with(SuperblockFlag.CONSISTENT)
                    .without(SuperblockFlag.FULL_SYNC_NEEDED);
        } else {
            next = after.applyTo(sb);
        }
        superblock.persist(x -> next);
        LOG.info("{}: new current generation {} (was {}){}", resource, after, before,
                clearBitmap ? "; bitmap cleared, the peer adopts it without a sync" : "");
    }

    /** The Primary's first write that the peer does not get: a new data generation, before the write goes ahead. */
    void firstWriteWithoutPeer() {
        Generations[] made = new Generations[2];
        superblock.persist(sb -> {
            made[0] = Generations.of(sb);
            made[1] = GenerationTransitions.onFirstWriteWithoutPeer(made[0], RANDOM::nextLong);
            return made[1].applyTo(sb);
        });
        LOG.info("{}: first write without {}: new data generation {} (was {})", resource, peer, made[1], made[0]);
    }

    /** This node starts a resync as its source: returns the sync generation the target is sent (0 while down). */
    long resyncStarting() {
        Generations[] g = new Generations[1];
        superblock.persist(sb -> {
            g[0] = GenerationTransitions.onResyncStart(Generations.of(sb), RANDOM::nextLong);
            return g[0].applyTo(sb);
        });
        return g[0] == null ? 0 : g[0].bitmap();
    }

    /** This node is the target of a resync that starts: Inconsistent until it ends, on the source's sync generation. */
    void targetStarting(boolean full, long syncGeneration) {
        superblock.persist(sb -> {
            Superblock next = sb.withDiskState(DiskState.INCONSISTENT).without(SuperblockFlag.CONSISTENT);
            if (syncGeneration != 0) {
                next = GenerationTransitions.onSyncGenerationReceived(Generations.of(sb), syncGeneration).applyTo(next);
            }
            return full ? next.with(SuperblockFlag.FULL_SYNC_NEEDED) : next;
        });
    }

    /**
     * This node's resync from {@code source} (its last STATE; null if it left) ended at
     * {@code seq}: UpToDate on the source's generations. Returns the generations stored, or
     * null if the resource went down meanwhile.
     */
    Generations targetFinished(PeerMessage.State source, long seq) {
        Generations[] adopted = new Generations[1];
        superblock.persist(sb -> {
            Generations g = source == null ? Generations.of(sb) : adoptedFrom(Handshake.peerGenerations(source));
            adopted[0] = g;
            return g.applyTo(sb).withDiskState(DiskState.UP_TO_DATE).with(SuperblockFlag.CONSISTENT)
                    .without(SuperblockFlag.FULL_SYNC_NEEDED).without(SuperblockFlag.CRASHED_PRIMARY)
                    .without(SuperblockFlag.PRIMARY_AT_SPLIT).withAppliedSeq(seq);
        });
        return adopted[0];
    }

    /**
     * This node's resync or catch-up of the peer is complete and durable there: the sync
     * generation retires, and the split, full-sync and fencing marks with it; a Secondary's
     * crash as Primary is repaired too.
     */
    void sourceFinished(boolean secondary) {
        superblock.persist(sb -> {
            Superblock next = adoptedFrom(Generations.of(sb)).applyTo(sb)
                    .without(SuperblockFlag.PRIMARY_AT_SPLIT).without(SuperblockFlag.FULL_SYNC_NEEDED)
                    .without(SuperblockFlag.PEER_OUTDATED);
            return secondary ? next.without(SuperblockFlag.CRASHED_PRIMARY) : next;
        });
    }

    /**
     * What both ends of a resync store when it ends: the source's generations as the source
     * stores them when it learns of the end ({@link #sourceFinished}), which the target adopts.
     */
    private static Generations adoptedFrom(Generations source) {
        return source.bitmap() == 0 ? source : GenerationTransitions.onResyncEndAsSource(source);
    }

    /** The repair the connect decision {@code d} calls for (a lost message of an earlier resync), if any. */
    void repair(Decision d, Generations mine) {
        Generations repaired = GenerationRules.repair(d, mine);
        if (!repaired.equals(mine)) {
            LOG.info("{}: generations repaired by {}: {} -> {}", resource, d.rule(), mine, repaired);
            superblock.persist(repaired::applyTo);
        }
    }
}
