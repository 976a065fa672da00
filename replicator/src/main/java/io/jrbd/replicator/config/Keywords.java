package io.jrbd.replicator.config;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/** Reads the fixed words of a setting ({@code disconnect}, {@code pull-ahead}) into enum constants. */
final class Keywords {
    private Keywords() {
    }

    /**
     * The constant of {@code values} spelt exactly {@code text}; anything else throws
     * {@link IllegalArgumentException} naming the text and every spelling allowed.
     */
    static <E extends Enum<E>> E parse(E[] values, Function<E, String> spelling, String text) {
        for (E e : values) {
            if (spelling.apply(e).equals(text)) {
                return e;
            }
        }
        throw new IllegalArgumentException("'" + text + "' is not " + choices(values, spelling));
    }

    /** "a, b or c". */
    static <E extends Enum<E>> String choices(E[] values, Function<E, String> spelling) {
        List<String> words = new ArrayList<>();
        for (E e : values) {
            words.add(spelling.apply(e));
        }
        if (words.size() == 1) {
            return words.get(0);
        }
        return String.join(", ", words.subList(0, words.size() - 1)) + " or " + words.get(words.size() - 1);
    }
}
