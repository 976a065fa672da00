package io.jrbd.systest;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * One run of resource-agents' {@code ocft}: {@code ocft make -d CONFIGS AGENT} compiles the
 * configuration into one bash script per case, {@code ocft test -v AGENT} runs them, and the
 * verbose output is parsed into cases and return-code checks.
 *
 * <p>ocft has no option for where its scripts go: it always writes them, its log and a
 * {@code fakebin} folder to {@code /var/lib/resource-agents/ocft/cases}. So both commands run in
 * a private mount namespace ({@code unshare --mount}) in which {@code /var/lib} is an overlay
 * whose writable layer is a folder of the test: nothing reaches the real {@code /var/lib}, and
 * the mount disappears with the namespace's last process. Where no overlay can be mounted, the
 * scripts are written to the real folder and everything this run created there is removed
 * afterwards, also when it fails.
 */
final class OcftRun {
    static final Path CASES_DIR = Path.of("/var/lib/resource-agents/ocft/cases");
    /** The exit code of the namespace script when the overlay cannot be mounted. */
    private static final int NO_OVERLAY = 97;
    private static final Pattern ANSI = Pattern.compile("\u001B\\[[0-9;]*m");
    private static final Pattern COMPILED = Pattern.compile("^\\s*- case (\\d+): (.*)$");
    private static final Pattern STARTING = Pattern.compile("^Starting '(.*)' case (\\d+) '(.*)':$");
    private static final Pattern RUNNING = Pattern.compile("Running agent:\\s+\\./\\S+ (\\S+)$");
    private static final Pattern CHECK = Pattern.compile(
            "Checking return value:\\s*(OK|FAILED)\\. The return value '([^']*)' (==|!=) '([^']*)'");
    private static final Pattern LOG_LINE = Pattern.compile("^(\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d): (.*)$");

    /** One {@code AgentRun ACTION EXPECTED} of a case: what the agent returned and what was expected (OCF names). */
    record Check(String action, String actual, String expected, boolean ok) {
    }

    /** One compiled case as ocft ran it. {@code problems} are its ERROR / FAILED / WARNING lines. */
    record Case(int number, String summary, List<Check> checks, List<String> problems, List<String> lines) {
        boolean passed() {
            return problems.isEmpty() && !checks.isEmpty() && checks.stream().allMatch(Check::ok);
        }

        boolean checked(String action, String expected) {
            return checks.stream().anyMatch(c -> c.ok() && c.action().equals(action) && c.expected().equals(expected));
        }
    }

    /**
     * What a run produced: {@code compiled} the case summaries {@code ocft make} announced (in
     * order), {@code scripts} how many case scripts it wrote, {@code cases} the cases {@code ocft
     * test} started, {@code testExit} its exit code, {@code log} ocft's own log with timestamps.
     */
    record Result(boolean isolated, String makeOutput, List<String> compiled, int scripts, int testExit, String testOutput,
            List<Case> cases, String log) {
        String describe() {
            return (isolated ? "(overlay on /var/lib)" : "(scripts in " + CASES_DIR + ")") + "\n--- ocft make:\n" + makeOutput
                    + "\n--- ocft test -v (exit " + testExit + "):\n" + testOutput;
        }

        /** Seconds from each case's start to the next one's (or to the log's end), from ocft's log. */
        List<String> timings() {
            List<String> out = new ArrayList<>();
            List<String[]> starts = new ArrayList<>();
            String last = null;
            for (String line : log.split("\n")) {
                Matcher m = LOG_LINE.matcher(line);
                if (!m.matches()) {
                    continue;
                }
                last = m.group(1);
                Matcher s = STARTING.matcher(m.group(2).strip());
                if (s.matches()) {
                    starts.add(new String[] {m.group(1), s.group(2) + " " + s.group(3)});
                }
            }
            for (int i = 0; i < starts.size(); i++) {
                String end = i + 1 < starts.size() ? starts.get(i + 1)[0] : last;
                out.add(String.format("%3d s  case %s", seconds(starts.get(i)[0], end), starts.get(i)[1]));
            }
            return out;
        }

        private static long seconds(String from, String to) {
            java.time.format.DateTimeFormatter f = java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");
            return java.time.Duration.between(java.time.LocalDateTime.parse(from, f), java.time.LocalDateTime.parse(to, f))
                    .toSeconds();
        }
    }

    private OcftRun() {
    }

    /** The summaries of the {@code CASE "..."} lines of an ocft configuration, in order. */
    static List<String> declaredCases(Path config) throws IOException {
        List<String> out = new ArrayList<>();
        Pattern p = Pattern.compile("^\\s*CASE\\s+\"([^\"]*)\"\\s*$");
        for (String line : Files.readAllLines(config, StandardCharsets.UTF_8)) {
            Matcher m = p.matcher(line);
            if (m.matches()) {
                out.add(m.group(1));
            }
        }
        return out;
    }

    /**
     * Compiles {@code configDir/agent} and runs its cases, as root, with exactly the environment
     * {@code env} (plus nothing of the JVM's). {@code work} is an empty folder of the test.
     */
    static Result makeAndTest(Path configDir, String agent, Map<String, String> env, Path work, long timeoutSeconds)
            throws IOException {
        if (!"root".equals(System.getProperty("user.name"))) {
            fail("ocft needs root: its case scripts refuse to run for anyone else");
        }
        Command.requireTool("ocft");
        Command.requireTool("unshare");
        Path upper = Files.createDirectories(work.resolve("upper"));
        Path overlayWork = Files.createDirectories(work.resolve("overlay-work"));
        String script = """
                mount -t overlay ocft-overlay -o "lowerdir=/var/lib,upperdir=$1,workdir=$2" /var/lib \\
                    || { echo "ocft-run: no overlay on /var/lib"; exit %d; }
                echo "== ocft make"
                ocft make -d "$3" "$4" || { echo "== ocft make failed: $?"; exit 96; }
                echo "== ocft test"
                ocft test -v "$4"
                """.formatted(NO_OVERLAY);
        List<String> argv = withEnv(env);
        argv.addAll(List.of("unshare", "--mount", "--propagation", "private", "bash", "-c", script, "ocft-run",
                upper.toString(), overlayWork.toString(), configDir.toString(), agent));
        Command.Result r = Command.of(argv).timeout(timeoutSeconds).run();
        if (r.exitCode() == NO_OVERLAY && r.output().contains("ocft-run: no overlay")) {
            System.out.println("ocft: cannot mount an overlay on /var/lib (" + r.output().strip()
                    + "); using " + CASES_DIR + " and removing what this run puts there");
            return inSystemFolder(configDir, agent, env, timeoutSeconds);
        }
        Path cases = upper.resolve("resource-agents/ocft/cases");
        return result(true, r, cases, agent);
    }

    /** The fallback: ocft's own folder, cleaned of everything this run created, whatever happens. */
    private static Result inSystemFolder(Path configDir, String agent, Map<String, String> env, long timeoutSeconds)
            throws IOException {
        Path created = CASES_DIR;
        while (created.getParent() != null && !Files.exists(created.getParent())) {
            created = created.getParent();
        }
        if (Files.exists(created)) {
            created = null; // the cases folder is someone else's: remove only this agent's files
        }
        Path logsDir = CASES_DIR.resolve("logs");
        boolean hadLogs = Files.isDirectory(logsDir);
        boolean hadLog = Files.exists(logsDir.resolve(agent + ".log"));
        try {
            String script = """
                    ocft clean "$2"
                    echo "== ocft make"
                    ocft make -d "$1" "$2" || { echo "== ocft make failed: $?"; exit 96; }
                    echo "== ocft test"
                    ocft test -v "$2"
                    """;
            List<String> argv = withEnv(env);
            argv.addAll(List.of("bash", "-c", script, "ocft-run", configDir.toString(), agent));
            Command.Result r = Command.of(argv).timeout(timeoutSeconds).run();
            return result(false, r, CASES_DIR, agent);
        } finally {
            if (created != null) {
                deleteTree(created);
            } else if (Files.isDirectory(CASES_DIR)) {
                try (Stream<Path> s = Files.list(CASES_DIR)) {
                    for (Path p : s.toList()) {
                        String name = p.getFileName().toString();
                        if (name.endsWith("_" + agent + ".sh") || name.endsWith("_" + agent + ".retest")) {
                            Files.deleteIfExists(p);
                        }
                    }
                }
                if (!hadLogs) {
                    deleteTree(logsDir);
                } else if (!hadLog) {
                    Files.deleteIfExists(logsDir.resolve(agent + ".log"));
                }
            }
        }
    }

    private static List<String> withEnv(Map<String, String> env) {
        List<String> argv = new ArrayList<>(List.of("env", "-i"));
        env.forEach((k, v) -> argv.add(k + "=" + v));
        return argv;
    }

    private static Result result(boolean isolated, Command.Result r, Path casesDir, String agent) throws IOException {
        String text = ANSI.matcher(r.output()).replaceAll("");
        int split = text.indexOf("== ocft test\n");
        String make = split < 0 ? text : text.substring(0, split);
        String test = split < 0 ? "" : text.substring(split + "== ocft test\n".length());
        List<String> compiled = new ArrayList<>();
        for (String line : make.split("\n")) {
            Matcher m = COMPILED.matcher(line);
            if (m.matches()) {
                compiled.add(m.group(2));
            }
        }
        int scripts = 0;
        String log = "";
        if (Files.isDirectory(casesDir)) {
            try (Stream<Path> s = Files.list(casesDir)) {
                scripts = (int) s.filter(p -> p.getFileName().toString().matches("\\d+_" + Pattern.quote(agent) + "\\.sh")).count();
            }
            Path logFile = casesDir.resolve("logs").resolve(agent + ".log");
            if (Files.exists(logFile)) {
                log = Files.readString(logFile, StandardCharsets.UTF_8);
            }
        }
        return new Result(isolated, make, compiled, scripts, split < 0 ? -1 : r.exitCode(), test, parse(test), log);
    }

    /** The cases of {@code ocft test -v} output (colours removed). */
    static List<Case> parse(String output) {
        List<Case> cases = new ArrayList<>();
        List<Check> checks = null;
        List<String> problems = null;
        List<String> lines = null;
        String action = "?";
        for (String raw : output.split("\n")) {
            String line = raw.strip();
            Matcher start = STARTING.matcher(line);
            if (start.matches()) {
                checks = new ArrayList<>();
                problems = new ArrayList<>();
                lines = new ArrayList<>();
                action = "?";
                cases.add(new Case(Integer.parseInt(start.group(2)), start.group(3), checks, problems, lines));
                continue;
            }
            if (lines == null) {
                if (line.contains("ERROR") || line.contains("WARNING")) {
                    // before any case: ocft itself failed (not root, caselib missing...)
                    cases.add(new Case(-1, "(before the first case)", List.of(), List.of(line), List.of(line)));
                }
                continue;
            }
            lines.add(line);
            Matcher run = RUNNING.matcher(line);
            if (run.find()) {
                action = run.group(1);
            }
            Matcher check = CHECK.matcher(line);
            if (check.find()) {
                checks.add(new Check(action, check.group(2), check.group(4), check.group(1).equals("OK")));
            }
            if (line.contains("ERROR") || line.contains("FAILED") || line.startsWith("WARNING")) {
                problems.add(line);
            }
        }
        return cases;
    }

    /** A file's text, or "" if it does not exist. */
    static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "(cannot read " + file + ": " + e.getMessage() + ")";
        }
    }

    static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
