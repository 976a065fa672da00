package io.jrbd.nbd.cli;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;

/** Which node this is and where its configuration lives, when the command line does not say. */
final class NodeName {
    private NodeName() {
    }

    /** --node, else $JRBD_NODE, else the short host name (as DRBD matches `on HOST` sections). */
    static String resolve(String option) {
        if (option != null && !option.isEmpty()) {
            return option;
        }
        String env = System.getenv("JRBD_NODE");
        if (env != null && !env.isEmpty()) {
            return env;
        }
        try {
            String host = InetAddress.getLocalHost().getHostName();
            int dot = host.indexOf('.');
            return dot > 0 ? host.substring(0, dot) : host;
        } catch (UnknownHostException e) {
            throw new IllegalStateException("cannot tell which node this is: give --node NAME or set JRBD_NODE");
        }
    }

    /** -c DIR, else $JRBD_CONFIG, else /etc/jrbd. */
    static Path configDir(Path option) {
        if (option != null) {
            return option;
        }
        String env = System.getenv("JRBD_CONFIG");
        return env != null && !env.isEmpty() ? Path.of(env) : Path.of("/etc/jrbd");
    }
}
