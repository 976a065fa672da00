package io.jrbd.nbd;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/** The exports a server offers; the first one added is the default (the empty name). */
public final class Exports {
    private final Map<String, Export> byName = new LinkedHashMap<>();

    public Exports add(Export export) {
        if (byName.putIfAbsent(export.name(), export) != null) {
            throw new IllegalArgumentException("export '" + export.name() + "' is defined twice");
        }
        return this;
    }

    /** The export a client means by {@code name}: the empty name selects the default export. */
    public Optional<Export> resolve(String name) {
        if (name.isEmpty()) {
            return byName.values().stream().findFirst();
        }
        return Optional.ofNullable(byName.get(name));
    }

    public Collection<Export> all() {
        return byName.values();
    }
}
