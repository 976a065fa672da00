package io.jrbd.replicator.resource;

import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What last happened to a resource (status' {@code lastEvent}) and who hears of each change: the
 * events stream ({@code jrbdadm events}) listens here. Telling never blocks, and a failing
 * listener never stops the change that it was told of.
 */
final class ResourceEvents {
    // The resource's logger: operators and tests read these lines under the name "Resource".
    private static final Logger LOG = LoggerFactory.getLogger(Resource.class);

    private final String resource;
    private final List<ResourceEventListener> listeners = new CopyOnWriteArrayList<>();
    private volatile String last = "";

    ResourceEvents(String resource) {
        this.resource = resource;
    }

    /** Records {@code what} and tells every listener; call it after every change that status shows. */
    void happened(String what) {
        last = what;
        for (ResourceEventListener l : listeners) {
            try {
                l.onEvent(resource, what);
            } catch (RuntimeException e) {
                LOG.error("{}: an events listener failed on '{}'", resource, what, e);
            }
        }
    }

    String last() {
        return last;
    }

    void add(ResourceEventListener listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
    }

    void remove(ResourceEventListener listener) {
        listeners.remove(listener);
    }
}
