package io.jrbd.replicator.config;

import java.util.function.Function;

/**
 * What to do when a connect finds a split brain (both nodes wrote while apart), from the
 * {@code after-sb-0pri}, {@code after-sb-1pri} and {@code after-sb-2pri} keys of {@code [net]}.
 * The choice depends on how many nodes are Primary at that moment, as in DRBD; every default is
 * {@code disconnect}: both nodes go StandAlone and nothing is overwritten.
 *
 * <p>DRBD's {@code violently-as0p} is not offered: it resyncs over a Primary's data under a
 * mounted file system.
 *
 * @param noPrimary     {@code after-sb-0pri}: neither node is Primary
 * @param discardNode   the node named by {@code discard-node-NAME}; null for every other choice
 * @param onePrimary    {@code after-sb-1pri}: one node is Primary
 * @param twoPrimaries  {@code after-sb-2pri}: both nodes are Primary
 */
public record SplitBrainPolicy(NoPrimary noPrimary, String discardNode, OnePrimary onePrimary, TwoPrimaries twoPrimaries) {
    public static final String KEY_0PRI = "net.after-sb-0pri";
    public static final String KEY_1PRI = "net.after-sb-1pri";
    public static final String KEY_2PRI = "net.after-sb-2pri";

    /** The prefix of {@code discard-node-NAME}. */
    public static final String DISCARD_NODE_PREFIX = "discard-node-";

    /** DRBD's defaults: disconnect in every case. */
    public static final SplitBrainPolicy DEFAULT =
            new SplitBrainPolicy(NoPrimary.DISCONNECT, null, OnePrimary.DISCONNECT, TwoPrimaries.DISCONNECT);

    /** {@code after-sb-0pri}. */
    public enum NoPrimary {
        /** Both go StandAlone; an administrator chooses the victim. */
        DISCONNECT("disconnect"),
        /** The node that wrote nothing since the split is resynced; if both wrote, disconnect. */
        DISCARD_ZERO_CHANGES("discard-zero-changes"),
        /** The node with fewer blocks out of sync is resynced. */
        DISCARD_LEAST_CHANGES("discard-least-changes"),
        /** The node that became Primary last is resynced; undecided falls through to least changes. */
        DISCARD_YOUNGER_PRIMARY("discard-younger-primary"),
        /** The node that became Primary first is resynced; undecided falls through to least changes. */
        DISCARD_OLDER_PRIMARY("discard-older-primary"),
        /** The named node ({@link SplitBrainPolicy#discardNode()}) is always resynced. */
        DISCARD_NODE(DISCARD_NODE_PREFIX + "NAME");

        private final String spelling;

        NoPrimary(String spelling) {
            this.spelling = spelling;
        }

        /** The word in the resource file. */
        public String spelling() {
            return spelling;
        }
    }

    /** {@code after-sb-1pri}. */
    public enum OnePrimary {
        DISCONNECT("disconnect"),
        /** Apply the {@code after-sb-0pri} verdict only if it discards the Secondary; else disconnect. */
        CONSENSUS("consensus"),
        /** The Secondary is resynced from the Primary. */
        DISCARD_SECONDARY("discard-secondary"),
        /**
         * Apply the {@code after-sb-0pri} verdict; if it discards the Primary, the Primary tries to
         * become Secondary and, if it cannot, runs the {@code pri-lost-after-sb} handler.
         */
        CALL_PRI_LOST_AFTER_SB("call-pri-lost-after-sb");

        private final String spelling;

        OnePrimary(String spelling) {
            this.spelling = spelling;
        }

        public String spelling() {
            return spelling;
        }
    }

    /** {@code after-sb-2pri}. */
    public enum TwoPrimaries {
        DISCONNECT("disconnect"),
        /** Apply the {@code after-sb-0pri} verdict; the losing Primary runs the {@code pri-lost-after-sb} handler. */
        CALL_PRI_LOST_AFTER_SB("call-pri-lost-after-sb");

        private final String spelling;

        TwoPrimaries(String spelling) {
            this.spelling = spelling;
        }

        public String spelling() {
            return spelling;
        }
    }

    public SplitBrainPolicy {
        if (noPrimary == null) {
            throw new ConfigException(KEY_0PRI, "missing");
        }
        if (onePrimary == null) {
            throw new ConfigException(KEY_1PRI, "missing");
        }
        if (twoPrimaries == null) {
            throw new ConfigException(KEY_2PRI, "missing");
        }
        if ((noPrimary == NoPrimary.DISCARD_NODE) != (discardNode != null)) {
            throw new ConfigException(KEY_0PRI, noPrimary == NoPrimary.DISCARD_NODE ? "discard-node-NAME needs a node name"
                    : "'" + noPrimary.spelling() + "' names no node, but a node '" + discardNode + "' was given");
        }
        if (discardNode != null && !NodeConfig.NAME.matcher(discardNode).matches()) {
            throw new ConfigException(KEY_0PRI, "'" + DISCARD_NODE_PREFIX + discardNode + "' does not end in a node name"
                    + " (up to 63 letters, digits, '-', '_' or '.', starting with a letter or digit)");
        }
    }

    /**
     * The policy the three keys spell; a null text is that key's default ({@code disconnect}).
     * Whether a {@code discard-node-NAME} names a node of the resource is checked by {@link ResourceConfig}.
     */
    public static SplitBrainPolicy parse(String afterSb0Pri, String afterSb1Pri, String afterSb2Pri) {
        NoPrimary noPrimary = NoPrimary.DISCONNECT;
        String node = null;
        if (afterSb0Pri != null) {
            if (afterSb0Pri.startsWith(DISCARD_NODE_PREFIX)) {
                noPrimary = NoPrimary.DISCARD_NODE;
                node = afterSb0Pri.substring(DISCARD_NODE_PREFIX.length());
            } else {
                noPrimary = parse(KEY_0PRI, NoPrimary.values(), NoPrimary::spelling, afterSb0Pri);
            }
        }
        OnePrimary onePrimary = afterSb1Pri == null ? OnePrimary.DISCONNECT
                : parse(KEY_1PRI, OnePrimary.values(), OnePrimary::spelling, afterSb1Pri);
        TwoPrimaries twoPrimaries = afterSb2Pri == null ? TwoPrimaries.DISCONNECT
                : parse(KEY_2PRI, TwoPrimaries.values(), TwoPrimaries::spelling, afterSb2Pri);
        return new SplitBrainPolicy(noPrimary, node, onePrimary, twoPrimaries);
    }

    /** The {@code after-sb-0pri} value as written: {@code discard-node-alpha} for a named node. */
    public String noPrimarySpelling() {
        return discardNode != null ? DISCARD_NODE_PREFIX + discardNode : noPrimary.spelling();
    }

    private static <E extends Enum<E>> E parse(String key, E[] values, Function<E, String> spelling, String text) {
        try {
            return Keywords.parse(values, spelling, text);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(key, e.getMessage());
        }
    }
}
