package io.jrbd.replicator.config;

import static io.jrbd.replicator.config.ConfigFiles.VALID;
import static io.jrbd.replicator.config.ConfigFiles.edit;
import static io.jrbd.replicator.config.ConfigFiles.withDisk;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrbd.replicator.config.DiskOptions.Fencing;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The {@code [disk]} table: activity log size, fencing and the resync rate controller. */
class DiskKeysTest {
    @TempDir
    Path dir;

    private ResourceConfig load(String text) {
        return ConfigLoader.load(ConfigFiles.write(dir, "r0.toml", text));
    }

    @Test
    void shouldUseDrbdDefaultsWithoutADiskTable() {
        ResourceConfig r = load(VALID);
        assertEquals(DiskOptions.DEFAULTS, r.disk());
        assertEquals(1237, r.disk().alExtents());
        assertEquals(Fencing.DONT_CARE, r.disk().fencing());
        ResyncOptions s = r.resync();
        assertEquals(ResyncOptions.DEFAULTS, s);
        assertEquals(250L << 10, s.resyncRate());
        assertEquals(Duration.ofSeconds(2), s.planAhead());
        assertFalse(s.fixedRate());
        assertEquals(0, s.fillTarget());
        assertEquals(Duration.ofSeconds(1), s.delayTarget());
        assertEquals(100L << 20, s.maxRate());
        assertEquals(250L << 10, s.minRate());
    }

    @Test
    void shouldUseTheDefaultsOfAnEmptyDiskTable() {
        ResourceConfig r = load(withDisk(""));
        assertEquals(DiskOptions.DEFAULTS, r.disk());
        assertEquals(ResyncOptions.DEFAULTS, r.resync());
    }

    static Stream<Arguments> validValues() {
        Function<ResourceConfig, Object> rate = r -> r.resync().resyncRate();
        Function<ResourceConfig, Object> planAhead = r -> r.resync().planAhead();
        return Stream.of(
            Arguments.of("al-extents = 6433", (Function<ResourceConfig, Object>) r -> r.disk().alExtents(), 6433),
            Arguments.of("al-extents = 7", (Function<ResourceConfig, Object>) r -> r.disk().alExtents(), 7),
            Arguments.of("resync-rate = \"10M\"", rate, 10L << 20),
            Arguments.of("resync-rate = \"10M/s\"", rate, 10L << 20),
            Arguments.of("resync-rate = \"1K\"", rate, 1L << 10),
            Arguments.of("resync-rate = 4096", rate, 4096L),
            Arguments.of("resync-rate = \"4G\"", rate, 4L << 30),
            Arguments.of("c-plan-ahead = \"5s\"", planAhead, Duration.ofSeconds(5)),
            Arguments.of("c-plan-ahead = \"30s\"", planAhead, Duration.ofSeconds(30)),
            Arguments.of("c-plan-ahead = \"0\"", planAhead, Duration.ZERO),
            Arguments.of("c-plan-ahead = 0", planAhead, Duration.ZERO),
            Arguments.of("c-fill-target = \"1M\"", (Function<ResourceConfig, Object>) r -> r.resync().fillTarget(), 1L << 20),
            Arguments.of("c-delay-target = \"500ms\"", (Function<ResourceConfig, Object>) r -> r.resync().delayTarget(),
                    Duration.ofMillis(500)),
            Arguments.of("c-max-rate = \"1G\"", (Function<ResourceConfig, Object>) r -> r.resync().maxRate(), 1L << 30),
            Arguments.of("c-min-rate = 0", (Function<ResourceConfig, Object>) r -> r.resync().minRate(), 0L),
            Arguments.of("c-min-rate = \"10M\"", (Function<ResourceConfig, Object>) r -> r.resync().minRate(), 10L << 20),
            Arguments.of("fencing = \"dont-care\"", (Function<ResourceConfig, Object>) r -> r.disk().fencing(), Fencing.DONT_CARE),
            Arguments.of("fencing = \"resource-only\"", (Function<ResourceConfig, Object>) r -> r.disk().fencing(),
                    Fencing.RESOURCE_ONLY),
            Arguments.of("fencing = \"resource-and-stonith\"", (Function<ResourceConfig, Object>) r -> r.disk().fencing(),
                    Fencing.RESOURCE_AND_STONITH));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("validValues")
    void shouldReadAValidValue(String line, Function<ResourceConfig, Object> getter, Object expected) {
        assertEquals(expected, getter.apply(load(withDisk(line))));
    }

    @Test
    void shouldRunAtAFixedRateWhenPlanAheadIsZero() {
        ResyncOptions s = load(withDisk("c-plan-ahead = \"0\"\nresync-rate = \"40M\"")).resync();
        assertTrue(s.fixedRate());
        assertEquals(40L << 20, s.resyncRate());
    }

    @Test
    void shouldAllowMinRateEqualToMaxRate() {
        ResyncOptions s = load(withDisk("c-max-rate = \"1M\"\nc-min-rate = \"1M\"")).resync();
        assertEquals(s.maxRate(), s.minRate());
    }

    static Stream<Arguments> badValues() {
        String rateHelp = "is not a rate: use bytes per second or a number with K, M, G or T, optionally followed by /s";
        return Stream.of(
            Arguments.of(withDisk("al-extents = 6"), "disk.al-extents: '6' is out of range 7..65534"),
            Arguments.of(withDisk("al-extents = 65535"), "disk.al-extents: '65535' is out of range 7..65534"),
            Arguments.of(withDisk("al-extents = 1.5"), "disk.al-extents: expected an integer, found a number (1.5)"),
            Arguments.of(withDisk("al-extents = \"1237\""), "disk.al-extents: expected an integer, found a string ('1237')"),
            Arguments.of(withDisk("resync-rate = \"500\""), "disk.resync-rate: 500 bytes/s is out of range 1 KiB/s..4 GiB/s"),
            Arguments.of(withDisk("resync-rate = \"5G\""), "disk.resync-rate: 5 GiB/s is out of range 1 KiB/s..4 GiB/s"),
            Arguments.of(withDisk("resync-rate = \"fast\""), "disk.resync-rate: 'fast' " + rateHelp),
            Arguments.of(withDisk("resync-rate = \"10M/h\""), "disk.resync-rate: '10M/h' " + rateHelp),
            Arguments.of(withDisk("resync-rate = true"), "disk.resync-rate: 'true' " + rateHelp),
            Arguments.of(withDisk("c-plan-ahead = \"50ms\""),
                    "disk.c-plan-ahead: '50ms' is out of range 100ms..30s (or 0 for a fixed rate at resync-rate)"),
            Arguments.of(withDisk("c-plan-ahead = \"31s\""),
                    "disk.c-plan-ahead: '31s' is out of range 100ms..30s (or 0 for a fixed rate at resync-rate)"),
            Arguments.of(withDisk("c-plan-ahead = 20"), "disk.c-plan-ahead: '20' is not a duration (use ms, s or m)"),
            Arguments.of(withDisk("c-fill-target = \"600M\""),
                    "disk.c-fill-target: 600 MiB is out of range 0..512 MiB (0 = steer by c-delay-target)"),
            Arguments.of(withDisk("c-fill-target = \"-1\""),
                    "disk.c-fill-target: '-1' is not a size: use bytes or a number with K, M, G or T"),
            Arguments.of(withDisk("c-delay-target = \"50ms\""), "disk.c-delay-target: '50ms' is out of range 100ms..10s"),
            Arguments.of(withDisk("c-delay-target = \"0\""), "disk.c-delay-target: '0ms' is out of range 100ms..10s"),
            Arguments.of(withDisk("c-delay-target = \"11s\""), "disk.c-delay-target: '11s' is out of range 100ms..10s"),
            Arguments.of(withDisk("c-max-rate = \"100K\""), "disk.c-max-rate: 100 KiB/s is out of range 250 KiB/s..4 GiB/s"),
            Arguments.of(withDisk("c-max-rate = \"5G\""), "disk.c-max-rate: 5 GiB/s is out of range 250 KiB/s..4 GiB/s"),
            Arguments.of(withDisk("c-max-rate = \"1 M\""), "disk.c-max-rate: '1 M' " + rateHelp),
            Arguments.of(withDisk("c-min-rate = \"5G\""), "disk.c-min-rate: 5 GiB/s is out of range 0..4 GiB/s (0 = never throttle)"),
            Arguments.of(withDisk("c-max-rate = \"1M\"\nc-min-rate = \"2M\""),
                    "disk.c-min-rate: 2 MiB/s is more than disk.c-max-rate (1 MiB/s)"),
            Arguments.of(withDisk("c-min-rate = \"200M\""), "disk.c-min-rate: 200 MiB/s is more than disk.c-max-rate (100 MiB/s)"),
            Arguments.of(withDisk("fencing = \"stonith\""),
                    "disk.fencing: 'stonith' is not dont-care, resource-only or resource-and-stonith"),
            Arguments.of(withDisk("fencing = 1"), "disk.fencing: expected a string, found a number (1)"),
            Arguments.of(edit(withDisk("fencing = \"resource-and-stonith\""), "protocol = \"C\"", "protocol = \"A\""),
                    "disk.fencing: 'resource-and-stonith' needs resource.protocol B or C, found A"
                    + " (as in DRBD: under A the peer may lack acknowledged writes)"),
            Arguments.of(withDisk("c-max-rat = \"1G\""), "disk.c-max-rat: unknown key (did you mean c-max-rate?)"),
            Arguments.of(withDisk("rate = \"1G\""), "disk.rate: unknown key (known keys: al-extents, resync-rate, c-plan-ahead, "
                    + "c-fill-target, c-delay-target, c-max-rate, c-min-rate, fencing)"),
            Arguments.of("disk = 1\n" + VALID, "disk: expected a table, found a number (1)"),
            Arguments.of(VALID + "\n[disc]\n", "disc: unknown key (did you mean disk?)"));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("badValues")
    void shouldRejectABadValueNamingFileKeyAndValue(String text, String expected) {
        Path file = ConfigFiles.write(dir, "r0.toml", text);
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(file));
        assertEquals(file + ": " + expected, e.getMessage());
        assertEquals(file, e.file());
    }

    @Test
    void shouldShowRatesInToString() {
        assertEquals("ResyncOptions[resyncRate=250 KiB/s, planAhead=2s, fillTarget=0 bytes, delayTarget=1s, "
                + "maxRate=100 MiB/s, minRate=250 KiB/s]", ResyncOptions.DEFAULTS.toString());
    }
}
