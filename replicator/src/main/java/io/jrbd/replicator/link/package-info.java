/**
 * The connection between the two nodes of a resource: one TCP connection, opened by the node
 * whose name sorts first and accepted by the other, mutually authenticated with the shared
 * secret before anything else flows, kept alive with pings, and re-opened every
 * connect-interval while it is wanted.
 */
package io.jrbd.replicator.link;
