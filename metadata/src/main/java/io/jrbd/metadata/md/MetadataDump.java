package io.jrbd.metadata.md;

import io.jrbd.metadata.al.ActivityLog;
import io.jrbd.metadata.al.ActivityLogLayout;
import io.jrbd.metadata.al.Transaction;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What {@code dump-md} shows: every superblock field by name, the activity log's transaction and
 * hot extents, and the bitmap's set ranges.
 */
final class MetadataDump {
    /** Set ranges listed; the rest are counted. */
    static final int MAX_RANGES = 20;

    private MetadataDump() {
    }

    /** Runs of set blocks as byte ranges: the first {@link #MAX_RANGES}, and how many in all. */
    record Ranges(List<long[]> first, long total) {
    }

    static Ranges ranges(Bitmap bitmap) {
        List<long[]> first = new ArrayList<>();
        long total = 0;
        long block = bitmap.nextSetBlock(0);
        while (block >= 0) {
            long end = bitmap.nextClearBlock(block);
            if (end < 0) {
                end = bitmap.blocks();
            }
            if (first.size() < MAX_RANGES) {
                long offset = block * MetadataLayout.BLOCK_SIZE;
                long length = Math.min(end * MetadataLayout.BLOCK_SIZE, bitmap.deviceSize()) - offset;
                first.add(new long[] {offset, length});
            }
            total++;
            block = end < bitmap.blocks() ? bitmap.nextSetBlock(end) : -1;
        }
        return new Ranges(first, total);
    }

    /** Runs of consecutive hot extents, ascending: {first extent, last extent}. */
    static List<int[]> extentRuns(int[] sortedExtents) {
        List<int[]> runs = new ArrayList<>();
        for (int i = 0; i < sortedExtents.length; ) {
            int j = i;
            while (j + 1 < sortedExtents.length && sortedExtents[j + 1] == sortedExtents[j] + 1) {
                j++;
            }
            runs.add(new int[] {sortedExtents[i], sortedExtents[j]});
            i = j + 1;
        }
        return runs;
    }

    /** The bytes of extents {@code [first, last]}, cut at the end of the device: {offset, length}. */
    static long[] extentBytes(int first, int last, long deviceSize) {
        long offset = (long) first << ActivityLogLayout.EXTENT_SHIFT;
        long end = Math.min((long) (last + 1) << ActivityLogLayout.EXTENT_SHIFT, deviceSize);
        return new long[] {offset, end - offset};
    }

    private static void activityLogText(StringBuilder out, Metadata md) {
        ActivityLog al = md.activityLog();
        Transaction t = al.lastTransaction();
        int[] hot = al.hotExtents();
        line(out, "activity log", (t == null ? "no transaction (empty)"
                : "transaction " + Long.toUnsignedString(t.number()) + " in slot " + t.slot() + ", " + hot.length
                        + " extents hot (al-extents " + t.alExtents() + " when written)")
                + ", region @" + md.layout().alOffset());
        for (int s = 0; s < ActivityLogLayout.SLOTS; s++) {
            line(out, "al slot " + s, al.slot(s).describe());
        }
        List<int[]> runs = extentRuns(hot);
        line(out, "hot extents", runs.size() + (runs.size() > MAX_RANGES
                ? " ranges (first " + MAX_RANGES + " shown as extents, then offset+length)"
                : " ranges (extents, then offset+length)"));
        for (int[] run : runs.subList(0, Math.min(MAX_RANGES, runs.size()))) {
            long[] bytes = extentBytes(run[0], run[1], md.layout().deviceSize());
            String extents = run[0] == run[1] ? String.valueOf(run[0]) : run[0] + "-" + run[1];
            out.append(String.format(Locale.ROOT, "    %-15s %d+%d", extents, bytes[0], bytes[1])).append('\n');
        }
    }

    private static Map<String, Object> activityLogJson(Metadata md) {
        ActivityLog al = md.activityLog();
        Transaction t = al.lastTransaction();
        int[] hot = al.hotExtents();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("offset", md.layout().alOffset());
        m.put("size", ActivityLogLayout.REGION_SIZE);
        m.put("extentSize", ActivityLogLayout.EXTENT_SIZE);
        m.put("transaction", t == null ? 0L : t.number());
        if (t != null) {
            m.put("slot", t.slot());
            m.put("alExtents", t.alExtents());
        }
        m.put("hotExtents", hot.length);
        Map<String, Object> slots = new LinkedHashMap<>();
        for (int s = 0; s < ActivityLogLayout.SLOTS; s++) {
            slots.put(String.valueOf(s), al.slot(s).describe());
        }
        m.put("slots", slots);
        List<Map<String, Object>> ranges = new ArrayList<>();
        for (int[] run : extentRuns(hot)) {
            long[] bytes = extentBytes(run[0], run[1], md.layout().deviceSize());
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("firstExtent", run[0]);
            r.put("lastExtent", run[1]);
            r.put("offset", bytes[0]);
            r.put("length", bytes[1]);
            ranges.add(r);
        }
        m.put("ranges", ranges);
        return m;
    }

    static String text(Metadata md) {
        Superblock sb = md.superblock();
        Bitmap bitmap = md.bitmap();
        StringBuilder out = new StringBuilder();
        out.append("# jrbd metadata ").append(md.file()).append('\n');
        MetadataLayout layout = md.layout();
        line(out, "format version", MetadataLayout.FORMAT_VERSION + (layout.internal()
                ? " (internal: metadata @" + layout.base() + ", after " + layout.deviceSize() + " bytes of data)"
                : " (external)"));
        line(out, "superblock", "slot " + md.activeSlot() + ", write counter " + md.writeCounter());
        for (char slot : new char[] {'A', 'B'}) {
            String problem = md.slotProblem(slot);
            line(out, "slot " + slot, problem == null ? "valid, write counter " + md.slotCounter(slot)
                    : "unusable: " + problem);
        }
        line(out, "resource", sb.resourceName());
        line(out, "node", sb.nodeName());
        line(out, "device size", sb.deviceSize() + " bytes (" + human(sb.deviceSize()) + ")");
        line(out, "block size", sb.blockSize() + " bytes");
        line(out, "disk state", sb.diskState().drbdName());
        List<String> flags = SuperblockFlag.names(sb.flags());
        line(out, "flags", String.format("0x%08X", sb.flags()) + (flags.isEmpty() ? " (none)" : " " + String.join(",", flags)));
        line(out, "current gen", Superblock.hex(sb.currentGen()));
        line(out, "bitmap gen", Superblock.hex(sb.bitmapGen()));
        StringBuilder history = new StringBuilder();
        for (long gen : sb.historyGens()) {
            history.append(history.length() == 0 ? "" : " ").append(Superblock.hex(gen));
        }
        line(out, "history gens", history.toString());
        line(out, "applied seq", Long.toUnsignedString(sb.appliedSeq()));
        line(out, "last primary seq", Long.toUnsignedString(sb.lastPrimarySeq()));
        line(out, "layout", md.layout().toString());
        activityLogText(out, md);
        line(out, "bitmap", bitmap.blocks() + " blocks, " + bitmap.cardinality() + " set ("
                + bitmap.dirtyBytes() + " bytes out of sync)");
        Ranges ranges = ranges(bitmap);
        line(out, "set ranges", ranges.total() + (ranges.total() > ranges.first().size()
                ? " (first " + ranges.first().size() + " shown as offset+length)" : " (offset+length)"));
        for (long[] range : ranges.first()) {
            out.append("    ").append(range[0]).append('+').append(range[1]).append('\n');
        }
        return out.toString();
    }

    static Map<String, Object> json(Metadata md) {
        Superblock sb = md.superblock();
        Bitmap bitmap = md.bitmap();
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("file", md.file().toString());
        root.put("formatVersion", MetadataLayout.FORMAT_VERSION);
        root.put("placement", MetadataLayout.placementName(md.layout().placement()));
        root.put("metadataOffset", md.layout().base());
        root.put("activeSlot", String.valueOf(md.activeSlot()));
        root.put("writeCounter", md.writeCounter());
        Map<String, Object> slots = new LinkedHashMap<>();
        for (char slot : new char[] {'A', 'B'}) {
            Map<String, Object> s = new LinkedHashMap<>();
            String problem = md.slotProblem(slot);
            s.put("valid", problem == null);
            if (problem == null) {
                s.put("writeCounter", md.slotCounter(slot));
            } else {
                s.put("problem", problem);
            }
            slots.put(String.valueOf(slot), s);
        }
        root.put("slots", slots);
        root.put("resource", sb.resourceName());
        root.put("node", sb.nodeName());
        root.put("deviceSize", sb.deviceSize());
        root.put("blockSize", sb.blockSize());
        root.put("diskState", sb.diskState().drbdName());
        root.put("flagsValue", sb.flags());
        root.put("flags", SuperblockFlag.names(sb.flags()));
        Map<String, Object> gens = new LinkedHashMap<>();
        gens.put("current", Superblock.hex(sb.currentGen()));
        gens.put("bitmap", Superblock.hex(sb.bitmapGen()));
        List<String> history = new ArrayList<>();
        for (long gen : sb.historyGens()) {
            history.add(Superblock.hex(gen));
        }
        gens.put("history", history);
        root.put("generations", gens);
        root.put("appliedSeq", sb.appliedSeq());
        root.put("lastPrimarySeq", sb.lastPrimarySeq());
        MetadataLayout layout = md.layout();
        Map<String, Object> regions = new LinkedHashMap<>();
        regions.put("slotA", layout.superblockOffset(0));
        regions.put("slotB", layout.superblockOffset(1));
        regions.put("activityLogOffset", layout.alOffset());
        regions.put("activityLogSize", MetadataLayout.AL_SIZE);
        regions.put("bitmapCrcTableOffset", layout.crcTableOffset());
        regions.put("bitmapCrcTableSize", layout.crcTableSize());
        regions.put("bitmapOffset", layout.bitmapOffset());
        regions.put("bitmapPages", layout.bitmapPages());
        regions.put("fileSize", layout.fileSize());
        root.put("layout", regions);
        root.put("activityLog", activityLogJson(md));
        Map<String, Object> bm = new LinkedHashMap<>();
        bm.put("blocks", bitmap.blocks());
        bm.put("setBlocks", bitmap.cardinality());
        bm.put("outOfSyncBytes", bitmap.dirtyBytes());
        Ranges ranges = ranges(bitmap);
        bm.put("rangeCount", ranges.total());
        List<Map<String, Object>> list = new ArrayList<>();
        for (long[] range : ranges.first()) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("offset", range[0]);
            r.put("length", range[1]);
            list.add(r);
        }
        bm.put("ranges", list);
        root.put("bitmap", bm);
        return root;
    }

    private static void line(StringBuilder out, String name, String value) {
        out.append(String.format(Locale.ROOT, "%-17s %s", name + ":", value)).append('\n');
    }

    private static String human(long bytes) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return u == 0 ? bytes + " B" : String.format(Locale.ROOT, "%.2f %s", v, units[u]);
    }
}
