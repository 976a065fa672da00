/**
 * A resource's metadata on one node: the superblock (two alternating, checksummed copies),
 * the activity log's region (see {@link io.jrbd.metadata.al}) and the out-of-sync bitmap with its page checksums.
 * {@link io.jrbd.metadata.md.MetadataLayout} draws the format; {@link io.jrbd.metadata.md.Metadata}
 * creates, opens, writes and dumps it.
 */
package io.jrbd.metadata.md;
