/**
 * Resource configuration: one TOML file per resource in a node's configuration folder, read by
 * {@link io.jrbd.replicator.config.ConfigLoader} into immutable, validated records, and the small
 * parsers (sizes, durations, addresses) they share with the command line.
 */
package io.jrbd.replicator.config;
