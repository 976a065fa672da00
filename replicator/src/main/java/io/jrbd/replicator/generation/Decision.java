package io.jrbd.replicator.generation;

import java.util.Objects;

/**
 * The result of {@link GenerationRules#decide}: what to do, the rule of the table that decided,
 * what the table alone said before the post-processing (disk states, {@code --discard-my-data},
 * a Primary that would become target), and why, naming both nodes, for the log.
 *
 * @param outcome      what this node does
 * @param rule         the rule of the generation table that matched
 * @param tableOutcome the outcome of the rule alone; differs from {@code outcome} when the
 *                     post-processing changed it
 * @param why          one sentence for the administrator, naming nodes (not "me"/"peer")
 */
public record Decision(SyncDecision outcome, Rule rule, SyncDecision tableOutcome, String why) {

    public Decision {
        Objects.requireNonNull(outcome, "outcome");
        Objects.requireNonNull(rule, "rule");
        Objects.requireNonNull(tableOutcome, "tableOutcome");
        Objects.requireNonNull(why, "why");
    }

    /** The rule number DRBD 8.4 would log. */
    public int ruleNumber() {
        return rule.number();
    }

    /** Whether the post-processing changed what the table said. */
    public boolean overridden() {
        return outcome != tableOutcome;
    }

    /** The peer's decision about the same pair (outcome, rule and table outcome mirrored). */
    public Decision mirror() {
        return new Decision(outcome.mirror(), rule.mirror(), tableOutcome.mirror(), why);
    }

    /** {@code BITMAP_TARGET by rule 50 (bitmap-peer): why}. */
    @Override
    public String toString() {
        return outcome + " by " + rule + (overridden() ? " (table said " + tableOutcome + ")" : "") + ": " + why;
    }
}
