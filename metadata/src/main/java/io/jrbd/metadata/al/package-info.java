/**
 * The activity log: which 4 MiB extents of the device are hot (may hold writes in flight), kept
 * as a two-slot ring of checksummed snapshot transactions in the metadata's activity log region.
 * {@link io.jrbd.metadata.al.ActivityLogLayout} draws the format,
 * {@link io.jrbd.metadata.al.ActivityLogRecovery} decides what a region read at attach holds, and
 * {@link io.jrbd.metadata.al.ActivityLog} is what the write pipeline calls before it issues a write.
 */
package io.jrbd.metadata.al;
