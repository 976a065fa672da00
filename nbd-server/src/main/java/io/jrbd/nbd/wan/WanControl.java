package io.jrbd.nbd.wan;

import java.time.Duration;
import java.util.Locale;

/**
 * The line commands that drive a running {@code jrbd wan-proxy} from its standard input:
 *
 * <pre>
 *   cut          reset every connection, reset new ones until heal
 *   heal         accept connections again
 *   delay 5ms    one-way delay for bytes read from now on (us, ms, s)
 *   status       counters
 * </pre>
 *
 * Blank lines and lines starting with # are ignored. Each command returns the line to log.
 */
final class WanControl {
    static final String HELP = "commands: cut | heal | delay DURATION (e.g. delay 5ms) | status";

    private final WanProxy proxy;

    WanControl(WanProxy proxy) {
        this.proxy = proxy;
    }

    /**
     * Runs one command line.
     *
     * @return what to report, or null for a blank or comment line
     * @throws IllegalArgumentException for an unknown command or a bad argument, with the line in the message
     */
    String apply(String line) {
        String text = line.strip();
        if (text.isEmpty() || text.startsWith("#")) {
            return null;
        }
        String[] words = text.split("\\s+");
        String command = words[0].toLowerCase(Locale.ROOT);
        switch (command) {
            case "cut" -> {
                expectArguments(words, 0, text);
                int n = proxy.cut();
                return "cut: reset " + n + " connection(s); new connections are reset until 'heal'";
            }
            case "heal" -> {
                expectArguments(words, 0, text);
                proxy.heal();
                return "heal: accepting connections";
            }
            case "delay" -> {
                expectArguments(words, 1, text);
                Duration delay = Durations.parse(words[1]);
                proxy.setDelay(delay);
                return "delay: one-way delay " + Durations.format(delay) + " for bytes read from now on";
            }
            case "status" -> {
                expectArguments(words, 0, text);
                return status(proxy);
            }
            default -> throw new IllegalArgumentException("unknown command '" + text + "'; " + HELP);
        }
    }

    static String status(WanProxy proxy) {
        return "status: " + (proxy.isCut() ? "cut" : "up") + ", one-way delay " + Durations.format(proxy.delay())
                + ", rate " + Rates.format(proxy.bytesPerSecond())
                + ", connections " + proxy.activeConnections() + " open, " + proxy.connectionsAccepted() + " accepted, "
                + proxy.connectionsRefused() + " refused, bytes client->target "
                + proxy.bytesForwarded(Direction.CLIENT_TO_TARGET) + ", target->client "
                + proxy.bytesForwarded(Direction.TARGET_TO_CLIENT);
    }

    private static void expectArguments(String[] words, int n, String text) {
        if (words.length - 1 != n) {
            throw new IllegalArgumentException("'" + text + "': " + words[0] + " takes " + (n == 0 ? "no argument" : n + " argument") + "; " + HELP);
        }
    }
}
