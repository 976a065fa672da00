package io.jrbd.replicator.config;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** The example resource file, in parts that tests recombine and edit. */
final class ConfigFiles {
    private ConfigFiles() {
    }

    static final String RESOURCE = """
            [resource]
            name = "r0"
            size = "1G"            # K/M/G/T powers of 1024; positive multiple of 512
            protocol = "C"         # A, B or C
            """;

    static final String NET = """

            [net]
            shared-secret = "change-me"   # required, 8..64 bytes
            ping-interval = "10s"         # durations: ms, s, m suffixes
            ping-timeout = "500ms"
            timeout = "6s"
            connect-interval = "10s"
            ko-count = 7
            send-buffer = "8M"
            journal-size = "64M"           # 0 = off
            """;

    static final String ALPHA = """

            [nodes.alpha]
            replication = "127.0.0.1:7789"
            nbd = "127.0.0.1:10809"
            disk = "/var/lib/jrbd/r0-alpha.img"
            meta-disk = "/var/lib/jrbd/r0-alpha.md"
            control-socket = "/run/jrbd/alpha.sock"
            """;

    static final String BRAVO = """

            [nodes.bravo]
            replication = "127.0.0.1:7790"
            nbd = "127.0.0.1:10810"
            disk = "/var/lib/jrbd/r0-bravo.img"
            meta-disk = "/var/lib/jrbd/r0-bravo.md"
            control-socket = "/run/jrbd/bravo.sock"
            """;

    static final String VALID = RESOURCE + NET + ALPHA + BRAVO;

    /** VALID with the first occurrence of each {@code from} replaced by the following {@code to}. */
    static String edit(String text, String... fromTo) {
        String s = text;
        for (int i = 0; i < fromTo.length; i += 2) {
            int at = s.indexOf(fromTo[i]);
            if (at < 0) {
                throw new IllegalArgumentException("'" + fromTo[i] + "' is not in the text");
            }
            s = s.substring(0, at) + fromTo[i + 1] + s.substring(at + fromTo[i].length());
        }
        return s;
    }

    /** VALID with {@code lines} added at the end of its {@code [net]} table. */
    static String withNet(String lines) {
        return edit(VALID, "journal-size = \"64M\"           # 0 = off\n", "journal-size = \"64M\"\n" + lines + "\n");
    }

    /** VALID with a {@code [disk]} table of {@code lines}. */
    static String withDisk(String lines) {
        return VALID + "\n[disk]\n" + lines + "\n";
    }

    /** VALID with a {@code [handlers]} table of {@code lines}. */
    static String withHandlers(String lines) {
        return VALID + "\n[handlers]\n" + lines + "\n";
    }

    /** A resource file named NAME.toml in dir for resource NAME, on the given replication ports. */
    static String resource(String name, int alphaPort, int bravoPort) {
        return edit(VALID, "name = \"r0\"", "name = \"" + name + "\"",
                "127.0.0.1:7789", "127.0.0.1:" + alphaPort, "127.0.0.1:7790", "127.0.0.1:" + bravoPort);
    }

    static Path write(Path dir, String fileName, String text) {
        try {
            Path p = dir.resolve(fileName);
            Files.writeString(p, text, StandardCharsets.UTF_8);
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
