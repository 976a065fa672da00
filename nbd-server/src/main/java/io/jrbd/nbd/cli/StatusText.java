package io.jrbd.nbd.cli;

import com.fasterxml.jackson.databind.JsonNode;

/** `jrbdadm status` in the layout of `drbdadm status`. */
final class StatusText {
    private StatusText() {
    }

    static String render(JsonNode list) {
        StringBuilder out = new StringBuilder();
        for (JsonNode r : list) {
            out.append(r.path("resource").asText()).append(" role:").append(r.path("role").asText());
            if (!r.path("up").asBoolean()) {
                out.append(" (down)\n  disk:Diskless\n");
                continue;
            }
            out.append('\n');
            out.append("  disk:").append(r.path("disk").asText());
            if (r.has("nbd")) {
                out.append(" nbd:").append(r.path("nbd").asText()).append(" clients:").append(r.path("nbdClients").asInt());
            }
            long oos = r.path("outOfSyncBytes").asLong();
            if (oos > 0) {
                out.append(" out-of-sync:").append(oos / 1024).append("k");
            }
            out.append('\n');
            JsonNode peer = r.path("peer");
            String connection = r.path("connection").asText();
            out.append("  ").append(peer.path("node").asText());
            boolean connected = CONNECTED.contains(connection);
            if (!connected) {
                out.append(" connection:").append(connection);
                if (r.has("refused")) {
                    out.append(" (").append(r.path("refused").asText()).append(')');
                } else if (peer.has("lastError")) {
                    out.append(" (").append(peer.path("lastError").asText()).append(')');
                }
                out.append('\n');
                continue;
            }
            out.append(" role:").append(peer.path("role").asText()).append('\n');
            out.append("    replication:").append(connection.equals("Connected") ? "Established" : connection)
                    .append(" peer-disk:").append(peer.path("disk").asText());
            JsonNode resync = r.has("verify") ? r.path("verify") : r.path("resync");
            if (resync.has("percent")) {
                out.append(" done:").append(String.format("%.2f", resync.path("percent").asDouble()));
                out.append('\n').append("        ").append(bar(resync.path("percent").asDouble()));
                long rate = resync.path("bytesPerSecond").asLong();
                if (rate > 0) {
                    out.append(" speed: ").append(rate >> 10).append(" KiB/s, finish: ")
                            .append(resync.path("secondsLeft").asLong()).append(" s");
                }
            }
            out.append('\n');
        }
        return out.toString().stripTrailing();
    }

    /** Connection states in which the peer is there (drbdadm's replication states). */
    private static final java.util.Set<String> CONNECTED = java.util.Set.of("Connected", "SyncSource", "SyncTarget",
            "PausedSyncS", "VerifyS", "Ahead", "Behind");

    static String bar(double percent) {
        int filled = (int) Math.round(Math.max(0, Math.min(100, percent)) / 5);
        return "[" + "=".repeat(filled) + ">" + ".".repeat(20 - filled) + "] " + String.format("%.1f%%", percent);
    }
}
