package io.jrbd.metadata.al;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ExtentLruTest {
    @Test
    void shouldAgreeWithALinkedHashMapUnderRandomAddsTouchesAndRemoves() {
        ExtentLru lru = new ExtentLru(ActivityLogLayout.MAX_EXTENTS);
        // Access order: iteration is least recently used first, as the activity log's.
        LinkedHashMap<Integer, Long> model = new LinkedHashMap<>(16, 0.75f, true);
        Random random = new Random(7);
        for (int step = 0; step < 300_000; step++) {
            // A small key space forces long probe runs and many deletions inside them.
            int e = random.nextInt(6000) * (random.nextBoolean() ? 1 : 8192);
            int node = lru.find(e);
            assertEquals(model.containsKey(e), node != ExtentLru.NIL, "membership of " + e + " at step " + step);
            if (node == ExtentLru.NIL) {
                if (lru.size() < lru.maxNodes()) {
                    lru.add(e, step);
                    model.put(e, (long) step);
                }
            } else if (random.nextInt(3) == 0) {
                lru.remove(node);
                model.remove(e);
            } else {
                lru.touch(node, step);
                model.put(e, (long) step);
            }
            if (step % 10_000 == 0) {
                assertEquals(List.copyOf(model.keySet()), order(lru), "order at step " + step);
            }
        }
        assertEquals(model.size(), lru.size());
        assertEquals(List.copyOf(model.keySet()), order(lru));
        for (Map.Entry<Integer, Long> entry : model.entrySet()) {
            assertEquals(entry.getValue(), lru.seq(lru.find(entry.getKey())));
        }
    }

    @Test
    void shouldRefuseToGrowPastItsNodesAndStartOverWhenCleared() {
        ExtentLru lru = new ExtentLru(3);
        lru.add(1, 1);
        lru.add(2, 2);
        lru.add(3, 3);
        assertThrows(IllegalStateException.class, () -> lru.add(4, 4));
        lru.clear();
        assertEquals(0, lru.size());
        assertEquals(ExtentLru.NIL, lru.find(1));
        lru.add(4, 4);
        assertEquals(List.of(4), order(lru));
    }

    private static List<Integer> order(ExtentLru lru) {
        List<Integer> order = new ArrayList<>();
        for (int n = lru.oldest(); n != ExtentLru.NIL; n = lru.newer(n)) {
            order.add(lru.extent(n));
        }
        return order;
    }
}
