package io.jrbd.replicator.device;

/** Why an operation failed, in the terms a block-device client understands. */
public enum IoError {
    /** Writing to a read-only device. */
    EPERM,
    /** The store failed; the data of the range is in doubt. */
    EIO,
    /** A request that does not fit the device. */
    EINVAL,
    /** The store is full. */
    ENOSPC,
    /** Fast zeroing was asked for and the store can only zero slowly. */
    ENOTSUP,
    /** The device is shutting down. */
    ESHUTDOWN
}
