/**
 * The write journal: a bounded, memory-mapped ring of write records on the primary. It is the
 * replication send buffer and the source of journal catch-up after a short disconnect. It is
 * not on the durability path (the bitmap and the activity log are): it is never fsynced, and
 * after a crash its valid prefix is used and the rest discarded.
 *
 * <p>{@link io.jrbd.metadata.journal.JournalLayout} describes the file;
 * {@link io.jrbd.metadata.journal.Journal} appends, releases and recovers;
 * {@link io.jrbd.metadata.journal.Reader} reads records in order while the writer appends.
 */
package io.jrbd.metadata.journal;
