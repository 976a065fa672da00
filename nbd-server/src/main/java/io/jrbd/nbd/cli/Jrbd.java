package io.jrbd.nbd.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code jrbd} command: the node program. */
@Command(name = "jrbd", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = "A replicated block device in userspace, served over NBD.",
        subcommands = {ServeCommand.class, DaemonCommand.class, QuickstartCommand.class,
                io.jrbd.nbd.wan.WanProxyCommand.class, CommandLine.HelpCommand.class})
public final class Jrbd implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    static CommandLine commandLine() {
        return new CommandLine(new Jrbd())
                .setExecutionExceptionHandler((e, cmd, parsed) -> {
                    cmd.getErr().println("jrbd: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
                    return 1;
                });
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required (see jrbd --help)");
    }
}
