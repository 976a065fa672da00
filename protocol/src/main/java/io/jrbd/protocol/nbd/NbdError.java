package io.jrbd.protocol.nbd;

/**
 * Error values of replies. They equal Linux errno numbers, but they are protocol values: the
 * server maps its own failures onto them and never forwards a platform number.
 */
public final class NbdError {
    public static final int OK = 0;
    public static final int EPERM = 1;
    public static final int EIO = 5;
    public static final int ENOMEM = 12;
    public static final int EINVAL = 22;
    public static final int ENOSPC = 28;
    public static final int EOVERFLOW = 75;
    public static final int ENOTSUP = 95;
    public static final int ESHUTDOWN = 108;

    private NbdError() {
    }

    public static String name(int error) {
        return switch (error) {
            case OK -> "OK";
            case EPERM -> "EPERM";
            case EIO -> "EIO";
            case ENOMEM -> "ENOMEM";
            case EINVAL -> "EINVAL";
            case ENOSPC -> "ENOSPC";
            case EOVERFLOW -> "EOVERFLOW";
            case ENOTSUP -> "ENOTSUP";
            case ESHUTDOWN -> "ESHUTDOWN";
            default -> "error " + error;
        };
    }
}
