/**
 * The node daemon's control socket: a root-only Unix domain socket carrying one JSON object per line
 * ({@link io.jrbd.nbd.control.ControlProtocol}). {@link io.jrbd.nbd.control.ControlServer} runs in the
 * daemon and hands each request to a {@link io.jrbd.nbd.control.ControlHandler};
 * {@link io.jrbd.nbd.control.ControlClient} is what {@code jrbdadm} calls.
 */
package io.jrbd.nbd.control;
