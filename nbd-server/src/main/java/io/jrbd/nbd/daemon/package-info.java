/**
 * The node daemon: one process per node serving every configured resource, driven through
 * its control socket by {@code jrbdadm}.
 */
package io.jrbd.nbd.daemon;
