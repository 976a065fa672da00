package io.jrbd.metadata.md;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * The superblock's fields, immutable; change one with a {@code with...} copy and store it with
 * {@link Metadata#writeSuperblock}. The write counter and the region offsets are not here: they
 * belong to the slot and the layout, and {@link Metadata} fills them in.
 *
 * @param deviceSize     the device's size in bytes
 * @param blockSize      bytes per bitmap bit, always {@link MetadataLayout#BLOCK_SIZE}
 * @param nodeName       this node's name, 1 to 64 bytes of UTF-8
 * @param resourceName   the resource's name, 1 to 64 bytes of UTF-8
 * @param diskState      the local disk's state
 * @param flags          {@link SuperblockFlag} bits
 * @param currentGen     the current generation identifier; 0 means "just created"
 * @param bitmapGen      the generation the bitmap counts changes from; 0 when none
 * @param historyGens    the previous generations, newest first ({@value MetadataLayout#HISTORY_COUNT})
 * @param appliedSeq     the highest replicated write sequence durably applied here
 * @param lastPrimarySeq spare for the engine: the last sequence this node issued as Primary
 */
public record Superblock(
        long deviceSize,
        int blockSize,
        String nodeName,
        String resourceName,
        DiskState diskState,
        int flags,
        long currentGen,
        long bitmapGen,
        long[] historyGens,
        long appliedSeq,
        long lastPrimarySeq) {

    public Superblock {
        MetadataLayout.checkDeviceSize(deviceSize);
        if (blockSize != MetadataLayout.BLOCK_SIZE) {
            throw new IllegalArgumentException("unsupported block size " + blockSize + " (only "
                    + MetadataLayout.BLOCK_SIZE + ")");
        }
        checkName("node name", nodeName);
        checkName("resource name", resourceName);
        Objects.requireNonNull(diskState, "diskState");
        Objects.requireNonNull(historyGens, "historyGens");
        if (historyGens.length != MetadataLayout.HISTORY_COUNT) {
            throw new IllegalArgumentException(historyGens.length + " history generations, expected "
                    + MetadataLayout.HISTORY_COUNT);
        }
        historyGens = historyGens.clone();
    }

    /** What {@link Metadata#create} writes: Inconsistent, generation 0, no flags. */
    public static Superblock initial(long deviceSize, String resourceName, String nodeName) {
        // A fresh bitmap is written whole (all clear), so it is valid.
        return new Superblock(deviceSize, MetadataLayout.BLOCK_SIZE, nodeName, resourceName, DiskState.INCONSISTENT,
                1 << SuperblockFlag.BITMAP_VALID.bit(), 0, 0, new long[MetadataLayout.HISTORY_COUNT], 0, 0);
    }

    /** Throws, naming the field and the value, unless {@code name} fits the superblock. */
    public static void checkName(String what, String name) {
        Objects.requireNonNull(name, what);
        int bytes = name.getBytes(StandardCharsets.UTF_8).length;
        if (bytes == 0 || bytes > MetadataLayout.MAX_NAME_BYTES) {
            throw new IllegalArgumentException(what + " '" + name + "' is " + bytes + " bytes of UTF-8, expected 1 to "
                    + MetadataLayout.MAX_NAME_BYTES);
        }
        for (int i = 0; i < name.length(); i++) {
            if (Character.isISOControl(name.charAt(i))) {
                throw new IllegalArgumentException(what + " '" + name + "' holds a control character at " + i);
            }
        }
    }

    /** A copy of the history: the record never hands out its own array. */
    @Override
    public long[] historyGens() {
        return historyGens.clone();
    }

    public long historyGen(int i) {
        return historyGens[i];
    }

    public boolean has(SuperblockFlag flag) {
        return flag.isSetIn(flags);
    }

    public Superblock with(SuperblockFlag flag) {
        return withFlag(flag, true);
    }

    public Superblock without(SuperblockFlag flag) {
        return withFlag(flag, false);
    }

    public Superblock withFlag(SuperblockFlag flag, boolean set) {
        return withFlags(flag.applyTo(flags, set));
    }

    public Superblock withFlags(int newFlags) {
        return new Superblock(deviceSize, blockSize, nodeName, resourceName, diskState, newFlags, currentGen, bitmapGen,
                historyGens, appliedSeq, lastPrimarySeq);
    }

    public Superblock withNodeName(String newNodeName) {
        return new Superblock(deviceSize, blockSize, newNodeName, resourceName, diskState, flags, currentGen, bitmapGen,
                historyGens, appliedSeq, lastPrimarySeq);
    }

    public Superblock withResourceName(String newResourceName) {
        return new Superblock(deviceSize, blockSize, nodeName, newResourceName, diskState, flags, currentGen, bitmapGen,
                historyGens, appliedSeq, lastPrimarySeq);
    }

    public Superblock withDiskState(DiskState newDiskState) {
        return new Superblock(deviceSize, blockSize, nodeName, resourceName, newDiskState, flags, currentGen, bitmapGen,
                historyGens, appliedSeq, lastPrimarySeq);
    }

    public Superblock withCurrentGen(long newCurrentGen) {
        return new Superblock(deviceSize, blockSize, nodeName, resourceName, diskState, flags, newCurrentGen, bitmapGen,
                historyGens, appliedSeq, lastPrimarySeq);
    }

    public Superblock withBitmapGen(long newBitmapGen) {
        return new Superblock(deviceSize, blockSize, nodeName, resourceName, diskState, flags, currentGen, newBitmapGen,
                historyGens, appliedSeq, lastPrimarySeq);
    }

    public Superblock withHistoryGens(long... newHistoryGens) {
        return new Superblock(deviceSize, blockSize, nodeName, resourceName, diskState, flags, currentGen, bitmapGen,
                newHistoryGens, appliedSeq, lastPrimarySeq);
    }

    /** All generation identifiers at once, as one change to them usually is. */
    public Superblock withGenerations(long newCurrentGen, long newBitmapGen, long... newHistoryGens) {
        return new Superblock(deviceSize, blockSize, nodeName, resourceName, diskState, flags, newCurrentGen,
                newBitmapGen, newHistoryGens, appliedSeq, lastPrimarySeq);
    }

    public Superblock withAppliedSeq(long newAppliedSeq) {
        return new Superblock(deviceSize, blockSize, nodeName, resourceName, diskState, flags, currentGen, bitmapGen,
                historyGens, newAppliedSeq, lastPrimarySeq);
    }

    public Superblock withLastPrimarySeq(long newLastPrimarySeq) {
        return new Superblock(deviceSize, blockSize, nodeName, resourceName, diskState, flags, currentGen, bitmapGen,
                historyGens, appliedSeq, newLastPrimarySeq);
    }

    /** Generation identifiers are printed as DRBD prints UUIDs: 16 upper-case hex digits. */
    public static String hex(long gen) {
        return String.format("%016X", gen);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Superblock other
                && deviceSize == other.deviceSize
                && blockSize == other.blockSize
                && nodeName.equals(other.nodeName)
                && resourceName.equals(other.resourceName)
                && diskState == other.diskState
                && flags == other.flags
                && currentGen == other.currentGen
                && bitmapGen == other.bitmapGen
                && Arrays.equals(historyGens, other.historyGens)
                && appliedSeq == other.appliedSeq
                && lastPrimarySeq == other.lastPrimarySeq;
    }

    @Override
    public int hashCode() {
        int h = Objects.hash(deviceSize, blockSize, nodeName, resourceName, diskState, flags, currentGen, bitmapGen,
                appliedSeq, lastPrimarySeq);
        return 31 * h + Arrays.hashCode(historyGens);
    }

    @Override
    public String toString() {
        StringBuilder history = new StringBuilder();
        for (long gen : historyGens) {
            history.append(history.length() == 0 ? "" : ",").append(hex(gen));
        }
        return "Superblock[resource=" + resourceName + ", node=" + nodeName + ", deviceSize=" + deviceSize
                + ", blockSize=" + blockSize + ", diskState=" + diskState + ", flags=" + SuperblockFlag.names(flags)
                + ", current=" + hex(currentGen) + ", bitmap=" + hex(bitmapGen) + ", history=[" + history
                + "], appliedSeq=" + appliedSeq + ", lastPrimarySeq=" + lastPrimarySeq + "]";
    }
}
