/**
 * Bringing a peer up to date: journal catch-up, bitmap resync, checksum resync, online
 * verify and the resync rate controller.
 *
 * <p>The pure parts live here, without threads, sockets or clocks of their own (time comes in
 * as nanoseconds from an injected clock): {@link io.jrbd.resync.ResyncRateController} and its
 * settings {@link io.jrbd.resync.ResyncRates} decide how much resync may be issued;
 * {@link io.jrbd.resync.BlockDigests} digests blocks for checksum resync and verify;
 * {@link io.jrbd.resync.ByteRanges} gathers the ranges found out of sync. (Progress, rate and
 * time left for status are computed where the status is built, {@code ResourceStatus}.)
 */
package io.jrbd.resync;
