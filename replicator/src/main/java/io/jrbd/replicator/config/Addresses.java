package io.jrbd.replicator.config;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses and prints socket addresses as resource files write them: {@code 192.168.1.10:7789},
 * {@code [fd00::1]:7789}. Like DRBD, only IP addresses are accepted, never host names: loading a
 * configuration never waits on DNS, and what is bound is exactly what was written.
 */
public final class Addresses {
    private Addresses() {
    }

    private static final String OCTET = "(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
    private static final Pattern IPV4 = Pattern.compile(OCTET + "(?:\\." + OCTET + "){3}");
    private static final Pattern HOST_PORT = Pattern.compile("(\\[[0-9A-Fa-f:.]+\\]|[^\\[\\]:]+):(\\d{1,5})");

    /** {@code IP:PORT} or {@code [IPv6]:PORT}, port 1..65535; anything else throws {@link IllegalArgumentException} naming the text. */
    public static InetSocketAddress parse(String text) {
        Matcher m = HOST_PORT.matcher(text.trim());
        if (!m.matches()) {
            throw invalid(text);
        }
        String host = m.group(1);
        int port = Integer.parseInt(m.group(2));
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("'" + text + "': port " + port + " is not in 1..65535");
        }
        InetAddress address;
        try {
            if (host.startsWith("[")) {
                // A bracketed literal is parsed, never looked up.
                address = InetAddress.getByName(host);
                if (!(address instanceof Inet6Address)) {
                    throw invalid(text);
                }
            } else if (IPV4.matcher(host).matches()) {
                address = InetAddress.getByName(host);
            } else {
                throw invalid(text);
            }
        } catch (UnknownHostException e) {
            throw invalid(text);
        }
        return new InetSocketAddress(address, port);
    }

    /** 127.0.0.1:7789, [::1]:7789: the spelling {@link #parse} reads back. */
    public static String format(InetSocketAddress address) {
        InetAddress ip = address.getAddress();
        String host = ip == null ? address.getHostString() : ip.getHostAddress();
        if (host.indexOf(':') >= 0) {
            host = "[" + host + "]";
        }
        return host + ":" + address.getPort();
    }

    private static IllegalArgumentException invalid(String text) {
        return new IllegalArgumentException("'" + text + "' is not an address: use IP:PORT, e.g. 192.168.1.10:7789 or [fd00::1]:7789");
    }
}
