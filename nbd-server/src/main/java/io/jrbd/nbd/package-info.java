/**
 * The NBD front end: accepts connections, haggles options, and maps transmission requests
 * onto a {@link io.jrbd.replicator.device.BlockDevice}.
 */
package io.jrbd.nbd;
