package io.jrbd.replicator.resource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The events thread against a status that the test changes: notes, subscribers, --now, slow clients, shutdown. */
class ResourceEventHubTest {
    private final Map<String, Map<String, Object>> states = new ConcurrentHashMap<>();
    private ResourceEventHub hub;

    @AfterEach
    void closeHub() {
        if (hub != null) {
            hub.close();
        }
    }

    private void set(String resource, String role) {
        Map<String, Object> m = StateEventDifferTest.status(role, "UpToDate", "Connected", "Secondary", "UpToDate", null);
        m.put("resource", resource);
        states.put(resource, m);
    }

    @Test
    void shouldSendTheExistsLinesThenTheChangeANoteAnnounces() throws Exception {
        set("r0", "Secondary");
        hub = ResourceEventHub.start(states::get, 64);
        ResourceEventHub.Subscription sub = hub.subscribe(List.of("r0"), false);
        List<String> lines = take(sub, 5);
        assertEquals("exists resource name:r0 up:yes role:Secondary suspended:no", lines.get(0));
        assertEquals("exists -", lines.get(4));
        set("r0", "Primary");
        hub.onEvent("r0", "role:Primary");
        ResourceEventHub.Event e = sub.poll(500, TimeUnit.MILLISECONDS); // well before the 1 s tick
        assertNotNull(e, "the note should bring the change at once");
        assertEquals("change resource name:r0 role:Primary", e.line());
        assertTrue(e.time().matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}[+-]\\d\\d:\\d\\d"), e.time());
    }

    @Test
    void shouldSeeAChangeNoNoteAnnouncedAtTheNextTick() throws Exception {
        set("r0", "Secondary");
        hub = ResourceEventHub.start(states::get, 64);
        ResourceEventHub.Subscription sub = hub.subscribe(List.of("r0"), false);
        take(sub, 5);
        set("r0", "Primary");
        ResourceEventHub.Event e = sub.poll(3, TimeUnit.SECONDS);
        assertNotNull(e);
        assertEquals("change resource name:r0 role:Primary", e.line());
    }

    @Test
    void shouldEndAfterTheExistsLinesWithNow() throws Exception {
        set("r0", "Secondary");
        set("r1", "Primary");
        hub = ResourceEventHub.start(states::get, 64);
        ResourceEventHub.Subscription sub = hub.subscribe(List.of("r0", "r1"), true);
        List<String> lines = take(sub, 9);
        assertEquals("exists resource name:r1 up:yes role:Primary suspended:no", lines.get(4));
        assertEquals("exists -", lines.get(8));
        ResourceEventHub.Event end = sub.poll(2, TimeUnit.SECONDS);
        assertEquals(ResourceEventHub.End.FINISHED, end.end());
        assertNull(end.line());
        assertEquals(0, hub.subscriberCount());
    }

    @Test
    void shouldDropAClientThatDoesNotReadWithAnErrorLineAsItsLast() throws Exception {
        set("r0", "Secondary");
        hub = ResourceEventHub.start(states::get, 8);
        ResourceEventHub.Subscription slow = hub.subscribe(List.of("r0"), false);
        ResourceEventHub.Subscription fast = hub.subscribe(List.of("r0"), false);
        take(fast, 5);
        for (int i = 0; i < 6; i++) {
            set("r0", i % 2 == 0 ? "Primary" : "Secondary");
            hub.onEvent("r0", "role");
            assertNotNull(fast.poll(2, TimeUnit.SECONDS), "the fast client gets change " + i);
        }
        List<ResourceEventHub.Event> got = new ArrayList<>();
        for (ResourceEventHub.Event e = slow.poll(1, TimeUnit.SECONDS); e != null; e = slow.poll(100, TimeUnit.MILLISECONDS)) {
            got.add(e);
        }
        assertEquals(9, got.size(), "8 lines, then the end: " + got);
        ResourceEventHub.Event last = got.get(8);
        assertEquals(ResourceEventHub.End.OVERFLOW, last.end());
        assertEquals("error reason:overflow", last.line());
        assertEquals(1, hub.subscriberCount(), "only the fast client is left");
    }

    @Test
    void shouldForgetAClosedSubscriptionAndEndTheRestAtShutdown() throws Exception {
        set("r0", "Secondary");
        hub = ResourceEventHub.start(states::get, 64);
        ResourceEventHub.Subscription gone = hub.subscribe(List.of("r0"), false);
        ResourceEventHub.Subscription stays = hub.subscribe(List.of("r0"), false);
        take(stays, 5);
        gone.close();
        assertEquals(1, hub.subscriberCount());
        hub.close();
        ResourceEventHub.Event e = stays.poll(2, TimeUnit.SECONDS);
        assertEquals(ResourceEventHub.End.SHUTDOWN, e.end());
        assertEquals("error reason:shutdown", e.line());
        assertEquals(ResourceEventHub.End.SHUTDOWN, hub.subscribe(List.of("r0"), false).poll(0, TimeUnit.SECONDS).end());
    }

    @Test
    void shouldNeverBlockTheResourceWhenNotesPileUp() {
        set("r0", "Secondary");
        hub = ResourceEventHub.start(r -> {
            try {
                Thread.sleep(50); // a slow look: notes arrive faster than they are taken
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return states.get(r);
        }, 64);
        hub.subscribe(List.of("r0"), false);
        long start = System.nanoTime();
        for (int i = 0; i < 3 * ResourceEventHub.NOTES; i++) {
            hub.onEvent("r0", "x");
        }
        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(2), "notes must not wait for the events thread");
    }

    @Test
    void shouldSkipAResourceWhoseStatusFailsAndGoOnWithTheOthers() throws Exception {
        set("r1", "Primary");
        hub = ResourceEventHub.start(r -> {
            if (r.equals("r0")) {
                throw new IllegalStateException("broken");
            }
            return states.get(r);
        }, 64);
        List<String> lines = take(hub.subscribe(List.of("r0", "r1"), true), 5);
        assertEquals("exists resource name:r1 up:yes role:Primary suspended:no", lines.get(0));
        assertEquals("exists -", lines.get(4));
    }

    private static List<String> take(ResourceEventHub.Subscription sub, int n) throws InterruptedException {
        List<String> lines = new ArrayList<>();
        while (lines.size() < n) {
            ResourceEventHub.Event e = sub.poll(3, TimeUnit.SECONDS);
            assertNotNull(e, "line " + lines.size() + " of " + n + " did not come; got " + lines);
            lines.add(e.line());
        }
        return lines;
    }
}
