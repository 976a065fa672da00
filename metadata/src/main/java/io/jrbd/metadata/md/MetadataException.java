package io.jrbd.metadata.md;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Metadata that cannot be used: missing, corrupt, from another device, or failing to write.
 * The message names the file, the structure ({@code superblock}, {@code bitmap page 3}, or
 * none when it is the whole file) and the problem.
 */
public final class MetadataException extends IOException {
    private final Path file;
    private final String structure;
    private final String problem;

    public MetadataException(Path file, String structure, String problem, Throwable cause) {
        super(file + ": " + (structure == null ? "" : structure + ": ") + problem, cause);
        this.file = file;
        this.structure = structure;
        this.problem = problem;
    }

    public MetadataException(Path file, String structure, String problem) {
        this(file, structure, problem, null);
    }

    public Path file() {
        return file;
    }

    /** The structure at fault, or null when it is the file as a whole. */
    public String structure() {
        return structure;
    }

    public String problem() {
        return problem;
    }
}
