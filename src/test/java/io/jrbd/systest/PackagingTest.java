package io.jrbd.systest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** packaging/install.sh lays out a working installation, and the systemd unit passes systemd's checks. */
@Tag("cluster") // shell agent, Pacemaker and packaging: run once, on the default JDK (run-tests)
class PackagingTest {
    @TempDir
    Path dir;

    @Test
    void install_sh_lays_out_launchers_unit_example_agent_completion_and_docs_that_work() throws Exception {
        Path dest = dir.resolve("root");
        Command.of(Jrbd.home().resolve("packaging/install.sh").toString(), "--destdir", dest.toString(), "--no-build")
                .timeout(120).ok();
        for (String f : List.of("usr/lib/jrbd/bin/jrbd", "usr/lib/jrbd/bin/jrbdadm", "usr/lib/jrbd/bin/jrbd-java",
                "usr/lib/jrbd/nbd-server/target/jrbd-nbd-server.jar", "etc/systemd/system/jrbd.service",
                "etc/jrbd/r0.toml.example", "usr/share/bash-completion/completions/jrbdadm", "usr/share/doc/jrbd/operations.md")) {
            assertTrue(Files.exists(dest.resolve(f)), f + " is missing");
        }
        assertEquals(Path.of("/usr/lib/jrbd/bin/jrbdadm"), Files.readSymbolicLink(dest.resolve("usr/sbin/jrbdadm")));
        String version = Command.of(dest.resolve("usr/lib/jrbd/bin/jrbdadm").toString(), "--version").ok();
        assertTrue(version.startsWith("jrbd "), version);
        String completion = Files.readString(dest.resolve("usr/share/bash-completion/completions/jrbdadm"));
        assertTrue(completion.contains("invalidate-remote") && completion.contains("--discard-my-data"), "completion lacks commands");
        assertEquals(0, Command.of("bash", "-n", dest.resolve("usr/share/bash-completion/completions/jrbdadm").toString())
                .run().exitCode(), "the completion script is not valid bash");

        // systemd checks the unit's syntax and that its programs exist: point them into the tree.
        Path unit = dir.resolve("jrbd.service");
        Files.writeString(unit, Files.readString(dest.resolve("etc/systemd/system/jrbd.service"))
                .replace("/usr/lib/jrbd", dest.resolve("usr/lib/jrbd").toString()));
        Command.requireTool("systemd-analyze");
        Command.Result verify = Command.of("systemd-analyze", "verify", unit.toString()).run();
        assertEquals(0, verify.exitCode(), verify.output());
        assertTrue(verify.output().isBlank(), "systemd-analyze warned:\n" + verify.output());
    }
}
