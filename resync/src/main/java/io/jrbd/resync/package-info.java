/**
 * Bringing a peer up to date: journal catch-up, bitmap resync, checksum resync, online
 * verify and the resync rate controller. Empty until the replication issues land; the module
 * exists now so that the dependency direction protocol, metadata, resync, replicator,
 * nbd-server is fixed from the start.
 */
package io.jrbd.resync;
