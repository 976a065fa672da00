package io.jrbd.systest;

import java.nio.file.Path;

/** Where the checkout under test is, and how to run its launchers. */
final class Jrbd {
    private Jrbd() {
    }

    static Path home() {
        String home = System.getProperty("jrbd.home");
        if (home == null) {
            throw new IllegalStateException("system property jrbd.home is not set (the surefire configuration sets it)");
        }
        return Path.of(home).toAbsolutePath().normalize();
    }

    static String launcher(String name) {
        return home().resolve("bin").resolve(name).toString();
    }
}
