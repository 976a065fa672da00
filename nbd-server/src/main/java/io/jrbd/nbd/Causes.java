package io.jrbd.nbd;

/** Messages for people: the innermost cause of a failure says what actually went wrong. */
public final class Causes {
    private Causes() {
    }

    public static String rootMessage(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
    }
}
