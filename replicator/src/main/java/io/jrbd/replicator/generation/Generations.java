package io.jrbd.replicator.generation;

import io.jrbd.metadata.md.MetadataLayout;
import io.jrbd.metadata.md.Superblock;
import java.util.Arrays;
import java.util.Objects;

/**
 * One node's generation identifiers, as the superblock keeps them (DESIGN.md section 5,
 * drbd-notes.md section 4 "the tuple"). Immutable: the array is copied in and out.
 *
 * <p>Unlike DRBD, jrbd does not encode "was Primary" in bit 0 of a generation (it has the
 * {@code WAS_PRIMARY} superblock flag for that), so generations are compared on all 64 bits.
 * {@value #JUST_CREATED} as the current generation means "just created" (DRBD's
 * {@code UUID_JUST_CREATED}); 0 as the bitmap generation means "not tracking anything";
 * 0 in the history is an empty slot.
 *
 * @param current the generation of the data this node holds
 * @param bitmap  the generation the bitmap counts changes against; 0 when none
 * @param history older generations, newest first, exactly {@value MetadataLayout#HISTORY_COUNT}
 */
public record Generations(long current, long bitmap, long[] history) {

    /** The current generation of metadata that has never held data. */
    public static final long JUST_CREATED = 0;

    /** Slots in {@link #history()}, as the superblock keeps them. */
    public static final int HISTORY = MetadataLayout.HISTORY_COUNT;

    public Generations {
        Objects.requireNonNull(history, "history");
        if (history.length != HISTORY) {
            throw new IllegalArgumentException(history.length + " history generations, expected " + HISTORY);
        }
        history = history.clone();
    }

    /** Generations with the given history, newest first; missing slots are 0. */
    public static Generations of(long current, long bitmap, long... history) {
        if (history.length > HISTORY) {
            throw new IllegalArgumentException(history.length + " history generations, at most " + HISTORY);
        }
        return new Generations(current, bitmap, Arrays.copyOf(history, HISTORY));
    }

    /** What {@code create-md} writes: current 0 (just created), no bitmap, empty history. */
    public static Generations justCreated() {
        return new Generations(JUST_CREATED, 0, new long[HISTORY]);
    }

    /** The generations a superblock holds. */
    public static Generations of(Superblock sb) {
        return new Generations(sb.currentGen(), sb.bitmapGen(), sb.historyGens());
    }

    /** {@code sb} with these generations; everything else unchanged. */
    public Superblock applyTo(Superblock sb) {
        return sb.withGenerations(current, bitmap, history.clone());
    }

    /** A copy: the record never hands out its own array. */
    @Override
    public long[] history() {
        return history.clone();
    }

    public long history(int i) {
        return history[i];
    }

    public boolean isJustCreated() {
        return current == JUST_CREATED;
    }

    /** Whether {@code gen} (non-zero) is one of the history slots. */
    public boolean inHistory(long gen) {
        if (gen == 0) {
            return false;
        }
        for (long h : history) {
            if (h == gen) {
                return true;
            }
        }
        return false;
    }

    /** Whether {@code gen} is any of current, bitmap or history (0 never is). */
    public boolean holds(long gen) {
        return gen != 0 && (gen == current || gen == bitmap || inHistory(gen));
    }

    /**
     * A copy with {@code gen} pushed onto the front of the history (the oldest slot falls
     * off), as DRBD's {@code drbd_uuid_move_history} followed by setting the first slot. A zero
     * {@code gen} is not pushed: DRBD only moves a non-zero identifier into history.
     */
    long[] historyPushed(long gen) {
        long[] h = history.clone();
        if (gen != 0) {
            System.arraycopy(h, 0, h, 1, h.length - 1);
            h[0] = gen;
        }
        return h;
    }

    /** {@code CURRENT:BITMAP:H1:H2:H3:H4} in hex, as DRBD's {@code show-gi} and handshake log print it. */
    @Override
    public String toString() {
        StringBuilder b = new StringBuilder(Superblock.hex(current)).append(':').append(Superblock.hex(bitmap));
        for (long h : history) {
            b.append(':').append(Superblock.hex(h));
        }
        return b.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Generations g && g.current == current && g.bitmap == bitmap
                && Arrays.equals(g.history, history);
    }

    @Override
    public int hashCode() {
        return Objects.hash(current, bitmap, Arrays.hashCode(history));
    }
}
