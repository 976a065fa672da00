package io.jrbd.replicator.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jrbd.replicator.config.Protocol;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * DESIGN.md section 3, rules 1 and 2, as a table: for each protocol, op type and FUA flag, the
 * one peer condition a write waits for. Each row is then checked against every combination of
 * "peer required" and waiver, with every progress field in turn just below its threshold (one
 * short) and the rest at it, and with the fields the row does not need left at -1.
 *
 * <p>The ring position (10) and the sequence number (7) differ on purpose, so comparing a
 * sequence number against a ring position (or the other way round) shows up as a failure.
 */
final class CompletionRuleTest {
    private static final long RING = 10;
    private static final long SEQ = 7;

    private enum Field {
        LOCAL_WRITTEN, LOCAL_SYNCED, HANDED, PEER_RECEIVED, PEER_WRITTEN, PEER_SYNCED
    }

    private enum Waiver {
        NONE(-1), JUST_BELOW(RING - 1), AT(RING);

        final long waivedUpTo;

        Waiver(long waivedUpTo) {
            this.waivedUpTo = waivedUpTo;
        }
    }

    @ParameterizedTest(name = "protocol {0}, {1}, fua {2}: waits for {3}")
    @CsvSource({
        // protocol, op, FUA, the peer condition (DESIGN.md 3.1 / 3.2)
        "A, WRITE,  false, HANDED",
        "A, WRITE,  true,  HANDED",
        "A, TRIM,   false, HANDED",
        "A, TRIM,   true,  HANDED",
        "A, ZEROES, false, HANDED",
        "A, ZEROES, true,  HANDED",
        "A, FLUSH,  false, HANDED",
        "A, FLUSH,  true,  HANDED",
        "B, WRITE,  false, PEER_RECEIVED",
        "B, WRITE,  true,  PEER_RECEIVED",
        "B, TRIM,   false, PEER_RECEIVED",
        "B, TRIM,   true,  PEER_RECEIVED",
        "B, ZEROES, false, PEER_RECEIVED",
        "B, ZEROES, true,  PEER_RECEIVED",
        "B, FLUSH,  false, PEER_SYNCED",
        "B, FLUSH,  true,  PEER_SYNCED",
        "C, WRITE,  false, PEER_WRITTEN",
        "C, WRITE,  true,  PEER_SYNCED",
        "C, TRIM,   false, PEER_WRITTEN",
        "C, TRIM,   true,  PEER_SYNCED",
        "C, ZEROES, false, PEER_WRITTEN",
        "C, ZEROES, true,  PEER_SYNCED",
        "C, FLUSH,  false, PEER_SYNCED",
        "C, FLUSH,  true,  PEER_SYNCED",
    })
    void shouldCompleteExactlyWhenEveryRequiredConditionHolds(Protocol protocol, String op, boolean fua, Field peerField) {
        int type = switch (op) {
            case "WRITE" -> OpType.WRITE;
            case "TRIM" -> OpType.TRIM;
            case "ZEROES" -> OpType.ZEROES;
            case "FLUSH" -> OpType.FLUSH;
            default -> throw new IllegalArgumentException(op);
        };
        int flags = fua ? OpType.FUA : 0;
        boolean durableLocally = fua || type == OpType.FLUSH;
        List<String> failures = new ArrayList<>();
        int checked = 0;
        for (boolean peerRequired : new boolean[] {false, true}) {
            for (Waiver waiver : Waiver.values()) {
                boolean peerNeeded = peerRequired && waiver != Waiver.AT;
                List<Field> required = new ArrayList<>(List.of(Field.LOCAL_WRITTEN));
                if (durableLocally) {
                    required.add(Field.LOCAL_SYNCED);
                }
                if (peerNeeded) {
                    required.add(peerField);
                }
                String row = "peerRequired " + peerRequired + ", waiver " + waiver;

                // Everything at its threshold: complete.
                checked += expect(failures, row + ", all at threshold", true,
                        protocol, type, flags, peerRequired, progress(waiver, List.of(Field.values()), null));
                // Only the required fields at their threshold, the rest never reached: complete.
                checked += expect(failures, row + ", only " + required + " at threshold", true,
                        protocol, type, flags, peerRequired, progress(waiver, required, null));
                // Each field one short in turn: incomplete exactly when the row needs it.
                for (Field f : Field.values()) {
                    checked += expect(failures, row + ", " + f + " one short", !required.contains(f),
                            protocol, type, flags, peerRequired, progress(waiver, List.of(Field.values()), f));
                }
            }
        }
        assertEquals(List.of(), failures, "rows failing (" + checked + " checked)");
    }

    /** Fields in {@code atThreshold} are at it (except {@code short1}, one below); the rest are -1. */
    private static CompletionRule.Progress progress(Waiver waiver, List<Field> atThreshold, Field short1) {
        long[] v = new long[Field.values().length];
        for (Field f : Field.values()) {
            boolean ring = f == Field.LOCAL_WRITTEN || f == Field.LOCAL_SYNCED || f == Field.HANDED;
            long threshold = ring ? RING : SEQ;
            v[f.ordinal()] = !atThreshold.contains(f) ? -1 : f == short1 ? threshold - 1 : threshold;
        }
        return new CompletionRule.Progress(v[0], v[1], v[2], waiver.waivedUpTo, v[3], v[4], v[5]);
    }

    private static int expect(List<String> failures, String row, boolean expected, Protocol protocol, int type, int flags,
            boolean peerRequired, CompletionRule.Progress p) {
        boolean actual = CompletionRule.isComplete(protocol, type, flags, peerRequired, RING, SEQ, p);
        if (actual != expected) {
            failures.add(row + ": expected " + (expected ? "complete" : "incomplete") + " with " + p);
        }
        return 1;
    }
}
