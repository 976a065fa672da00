package io.jrbd.replicator.config;

import java.nio.file.Path;

/**
 * A configuration that cannot be used, said in one line an administrator can act on:
 * {@code FILE: KEY: PROBLEM}, for example
 * {@code /etc/jrbd/r0.toml: net.ping-timeout: '5x' is not a duration (use ms, s or m)}.
 *
 * <p>The key is the dotted path of the offending setting ({@code nodes.alpha.replication}); it is empty
 * for problems of a whole file or folder. Records validate themselves when built and throw this without
 * a file; {@link ConfigLoader} adds the file with {@link #inFile(Path)}. Unchecked because record
 * constructors cannot declare checked exceptions.
 */
public final class ConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final transient Path file;
    private final String key;
    private final String problem;

    public ConfigException(Path file, String key, String problem, Throwable cause) {
        this(file, key, problem, message(file, key, problem), cause);
    }

    private ConfigException(Path file, String key, String problem, String message, Throwable cause) {
        super(message, cause);
        this.file = file;
        this.key = key == null ? "" : key;
        this.problem = problem;
    }

    /** A problem of a whole file or folder whose message already names it: {@code no resource files (*.toml) in DIR}. */
    public static ConfigException about(Path file, String message) {
        return new ConfigException(file, "", message, message, null);
    }

    public ConfigException(Path file, String key, String problem) {
        this(file, key, problem, null);
    }

    /** A problem found while building a record, before the file is known. */
    public ConfigException(String key, String problem) {
        this(null, key, problem, null);
    }

    /** The file the problem is in, or null when the configuration was not read from a file. */
    public Path file() {
        return file;
    }

    /** The dotted key ({@code net.timeout}), or "" for a problem of the whole file or folder. */
    public String key() {
        return key;
    }

    /** The problem alone, without file and key. */
    public String problem() {
        return problem;
    }

    /** This problem, placed in {@code file}; a problem that already names a file is returned as it is. */
    public ConfigException inFile(Path file) {
        return this.file != null ? this : new ConfigException(file, key, problem, getCause());
    }

    private static String message(Path file, String key, String problem) {
        StringBuilder sb = new StringBuilder();
        if (file != null) {
            sb.append(file).append(": ");
        }
        if (key != null && !key.isEmpty()) {
            sb.append(key).append(": ");
        }
        return sb.append(problem).toString();
    }
}
