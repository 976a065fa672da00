/**
 * What the NBD front end talks to: a {@link io.jrbd.replicator.device.BlockDevice} with
 * asynchronous, callback-completed operations. {@link io.jrbd.replicator.device.StandaloneDevice}
 * serves a local store with no peer; the replicated device implements the same contract.
 */
package io.jrbd.replicator.device;
