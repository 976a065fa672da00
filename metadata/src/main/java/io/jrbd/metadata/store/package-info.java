/**
 * The backing store: the file or block device that holds a resource's data, and the one
 * class through which jrbd makes the native calls Java lacks (fallocate, lseek
 * SEEK_DATA/SEEK_HOLE, posix_fadvise).
 */
package io.jrbd.metadata.store;
