package io.jrbd.nbd;

/** {@code host:port} or {@code [v6]:port}, as given to {@code --listen}, {@code --target} and {@code --metrics}. */
public record HostPort(String host, int port) {
    /** Parses {@code text}; errors name {@code option} and the text, and say what is wrong. */
    public static HostPort parse(String text, String option) {
        String t = text.trim();
        int colon = t.lastIndexOf(':');
        if (colon <= 0 || colon == t.length() - 1) {
            throw new IllegalArgumentException(option + " '" + text + "' is not HOST:PORT");
        }
        String host = t.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        } else if (host.contains(":")) {
            throw new IllegalArgumentException(option + " '" + text + "': write an IPv6 address as [ADDRESS]:PORT");
        }
        int port;
        try {
            port = Integer.parseInt(t.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " '" + text + "': '" + t.substring(colon + 1) + "' is not a port");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException(option + " '" + text + "': port " + port + " is not in 0..65535");
        }
        return new HostPort(host, port);
    }

    @Override
    public String toString() {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
}
