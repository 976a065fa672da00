package io.jrbd.metadata.al;

import static io.jrbd.metadata.al.ActivityLogLayout.REGION_SIZE;
import static io.jrbd.metadata.al.ActivityLogLayout.SLOTS;
import static io.jrbd.metadata.al.ActivityLogLayout.SLOT_SIZE;

import io.jrbd.metadata.al.TransactionCodec.Slot;
import io.jrbd.metadata.al.TransactionCodec.SlotState;
import java.nio.ByteBuffer;

/**
 * Reads the activity log region at attach and decides what it holds. The rules:
 *
 * <table>
 *   <caption>slot 0, slot 1: the state</caption>
 *   <tr><td>one or both valid</td><td>the valid transaction with the highest number; an
 *       unusable other slot is the torn write of the next transaction (what a crash during a
 *       write leaves; that transaction was not durable, so no write waited on it was issued)
 *       and is only warned about</td></tr>
 *   <tr><td>both all zeroes</td><td>empty (metadata from before the activity log, or never
 *       written)</td></tr>
 *   <tr><td>slot 0 unusable, slot 1 all zeroes</td><td>empty: the torn write of transaction 1,
 *       the only transaction ever written (the one {@code create-md} writes, or the first
 *       after an all-zero region), warned about</td></tr>
 *   <tr><td>anything else</td><td>corrupt: refused, naming every slot, its offset and its
 *       problem</td></tr>
 * </table>
 *
 * <p>A bit flip in the newest transaction after its write completed looks exactly like a torn
 * write of it and is taken as one (as DRBD does): the hot set falls back to the previous
 * transaction's. Only a flip in both slots is caught for sure.
 */
public final class ActivityLogRecovery {
    /**
     * What the region holds.
     *
     * @param newest  the transaction that is the state, or null when the log is empty
     * @param slots   every slot as decoded
     * @param warning what was set aside (a torn write), or null
     * @param problem why the region is refused, or null when it is usable
     */
    public record Result(Transaction newest, Slot[] slots, String warning, String problem) {
        public Result {
            slots = slots.clone();
        }

        @Override
        public Slot[] slots() {
            return slots.clone();
        }

        public boolean usable() {
            return problem == null;
        }

        /** The number of the newest transaction, 0 when none. */
        public long number() {
            return newest == null ? 0 : newest.number();
        }
    }

    private ActivityLogRecovery() {
    }

    /**
     * Decides what {@code region} ({@link ActivityLogLayout#REGION_SIZE} bytes from position 0)
     * holds for a device of {@code extentLimit} extents; {@code regionOffset} is where the region
     * is in its file, for the messages.
     */
    public static Result recover(ByteBuffer region, int extentLimit, long regionOffset) {
        if (region.limit() < REGION_SIZE) {
            throw new IllegalArgumentException("region of " + region.limit() + " bytes, expected " + REGION_SIZE);
        }
        Slot[] slots = new Slot[SLOTS];
        Slot newest = null;
        int newestSlot = -1;
        for (int s = 0; s < SLOTS; s++) {
            int at = ActivityLogLayout.slotOffset(s);
            slots[s] = TransactionCodec.decode(region.duplicate().limit(at + SLOT_SIZE).position(at).slice(), s,
                    extentLimit);
            if (slots[s].state() == SlotState.VALID && (newest == null
                    || Long.compareUnsigned(slots[s].transaction().number(), newest.transaction().number()) > 0)) {
                newest = slots[s];
                newestSlot = s;
            }
        }
        if (newest != null) {
            String warning = null;
            for (int s = 0; s < SLOTS; s++) {
                if (slots[s].state() == SlotState.INVALID) {
                    warning = "activity log slot " + s + " @" + position(regionOffset, s) + " is unusable ("
                            + slots[s].problem() + "): taken as the torn write of transaction "
                            + Long.toUnsignedString(newest.transaction().number() + 1) + "; using transaction "
                            + Long.toUnsignedString(newest.transaction().number()) + " in slot " + newestSlot;
                }
            }
            return new Result(newest.transaction(), slots, warning, null);
        }
        if (slots[0].state() == SlotState.EMPTY && slots[1].state() == SlotState.EMPTY) {
            return new Result(null, slots, null, null);
        }
        if (slots[0].state() == SlotState.INVALID && slots[1].state() == SlotState.EMPTY) {
            return new Result(null, slots, "activity log slot 0 @" + position(regionOffset, 0) + " is unusable ("
                    + slots[0].problem() + ") and slot 1 was never written: taken as the torn write of transaction 1;"
                    + " the activity log is empty", null);
        }
        StringBuilder why = new StringBuilder("no valid transaction in any slot (");
        for (int s = 0; s < SLOTS; s++) {
            why.append(s == 0 ? "" : "; ").append("slot ").append(s).append(" @").append(position(regionOffset, s))
                    .append(": ").append(slots[s].problem());
        }
        return new Result(null, slots, null, why.append(')').toString());
    }

    private static long position(long regionOffset, int slot) {
        return regionOffset + ActivityLogLayout.slotOffset(slot);
    }
}
