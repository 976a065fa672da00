/**
 * A simulated WAN link for tests and benchmarks of replication over distance, on kernels without netem.
 *
 * <p>{@link io.jrbd.nbd.wan.WanProxy} forwards TCP connections to a target and delays every byte by a
 * configurable one-way delay in each direction, optionally capped in bandwidth, and can cut and heal
 * the link. {@link io.jrbd.nbd.wan.WanProxyCommand} is the {@code jrbd wan-proxy} command around it.
 *
 * <pre>
 *   client ──► [ client leg ] ──► DelayLine(CLIENT_TO_TARGET) ──► [ target leg ] ──► target
 *   client ◄── [ client leg ] ◄── DelayLine(TARGET_TO_CLIENT) ◄── [ target leg ] ◄── target
 * </pre>
 *
 * Both legs of a connection live on one event loop, which owns the {@link io.jrbd.nbd.wan.Relay} and
 * its two {@link io.jrbd.nbd.wan.DelayLine}s: no locks on the byte path.
 */
package io.jrbd.nbd.wan;
