package io.jrbd.replicator.resource;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Turns successive snapshots of the {@link StateEventObject}s of one events client into its lines:
 * first an {@code exists} line per object, then a {@code change} line per object whose attributes
 * differ from what this client was last told, carrying the identity and the attributes that changed.
 *
 * <p>Two exceptions to "only what changed":
 * <ul>
 *   <li>{@code done} (resync progress) is sent at most once per {@link #PROGRESS_INTERVAL_NANOS},
 *       unless another attribute of the same object changes with it; an attribute that is no longer
 *       there (the resync ended) is forgotten without a line, the {@code replication} change says it.</li>
 *   <li>An occurrence that may repeat without a visible difference (a second split brain, a second
 *       verify with the same result) names attributes to repeat even when unchanged: see {@link #REPEATED}.</li>
 * </ul>
 *
 * <p>Not thread-safe: one per client, used by the events thread only.
 */
public final class StateEventDiffer {
    public static final long PROGRESS_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);

    /** Occurrence (the name {@code Resource} gives it) -> object kind -> attributes to send even if unchanged. */
    static final Map<String, Map<String, List<String>>> REPEATED = Map.of(
            "split-brain", Map.of(StateEventObject.CONNECTION, List.of("connection", "refused")),
            "refused", Map.of(StateEventObject.CONNECTION, List.of("connection", "refused")),
            "verify-finished", Map.of(StateEventObject.PEER_DEVICE, List.of("verify", "verify-differing")));

    private static final class Known {
        final Map<String, String> attributes = new HashMap<>();
        long doneSentNanos;
    }

    private final Map<String, Known> known = new HashMap<>();

    /** {@code exists} lines for every object, which become what this client knows. */
    public List<String> exists(List<StateEventObject> objects, long nowNanos) {
        List<String> lines = new ArrayList<>(objects.size());
        for (StateEventObject o : objects) {
            Known k = new Known();
            k.attributes.putAll(o.attributes());
            k.doneSentNanos = nowNanos;
            known.put(o.key(), k);
            Map<String, String> fields = new LinkedHashMap<>(o.identity());
            fields.putAll(o.attributes());
            lines.add(StateEventFormat.line("exists", o.kind(), fields));
        }
        return lines;
    }

    /** The line that ends the {@code exists} lines, as drbdsetup marks it. */
    public static String existsEnd() {
        return "exists -";
    }

    /**
     * {@code change} lines for the objects that differ from what this client knows, which they update.
     *
     * @param occurred what happened since the last call (names as {@code Resource} gives them), for {@link #REPEATED}
     */
    public List<String> changes(List<StateEventObject> objects, Set<String> occurred, long nowNanos) {
        List<String> lines = new ArrayList<>();
        for (StateEventObject o : objects) {
            Known k = known.computeIfAbsent(o.key(), key -> new Known());
            Map<String, String> changed = new LinkedHashMap<>();
            String done = null;
            for (Map.Entry<String, String> a : o.attributes().entrySet()) {
                String before = k.attributes.get(a.getKey());
                if (a.getKey().equals(StateEventObject.DONE)) {
                    done = Objects.equals(before, a.getValue()) ? null : a.getValue();
                } else if (!a.getValue().equals(before) || repeated(occurred, o.kind(), a.getKey())) {
                    changed.put(a.getKey(), a.getValue());
                }
            }
            if (done != null && (!changed.isEmpty() || nowNanos - k.doneSentNanos >= PROGRESS_INTERVAL_NANOS)) {
                changed.put(StateEventObject.DONE, done);
                k.doneSentNanos = nowNanos;
            }
            k.attributes.keySet().retainAll(o.attributes().keySet());
            if (changed.isEmpty()) {
                continue;
            }
            k.attributes.putAll(changed);
            Map<String, String> fields = new LinkedHashMap<>(o.identity());
            fields.putAll(changed);
            lines.add(StateEventFormat.line("change", o.kind(), fields));
        }
        return lines;
    }

    private static boolean repeated(Set<String> occurred, String kind, String attribute) {
        for (String what : occurred) {
            Map<String, List<String>> byKind = REPEATED.get(what);
            if (byKind != null && byKind.getOrDefault(kind, List.of()).contains(attribute)) {
                return true;
            }
        }
        return false;
    }
}
