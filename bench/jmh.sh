#!/usr/bin/env bash
# jmh.sh: the JMH write benchmarks of the replication engine, in one run, and their table.
#
# Runs io.jrbd.bench.WriteLatencyBenchmark (4 KiB write latency at iodepth 1, p50/p99) and
# io.jrbd.bench.WriteThroughputBenchmark (4 KiB write throughput at several iodepths) for the
# standalone device (no peer: the baseline) and for protocols A, B and C with a simulated
# round-trip time (RTT) to the peer, then WriteThroughputBenchmark once more under `-prof gc`
# for the bytes allocated per write. Both nodes run inside the benchmark's JVM; the link
# between them goes through a WanProxy that delays each direction by RTT/2 (see
# bench/src/main/java/io/jrbd/bench/ReplicationHarness.java).
#
# The results (JMH JSON) become a markdown section, written between the markers
#   <!-- jmh-replication:begin -->  and  <!-- jmh-replication:end -->
# of the output file (default docs/benchmarks.md); the markers are appended if missing, and
# nothing else in the file changes.
#
#   --quick  (CI smoke run, ~3 min): standalone, A, C; RTT 0 and 5 ms; iodepth 1 and 16;
#            1 fork, 2 x 1 s warm-up, 3 x 1 s measurement per configuration.
#   --full   (the table, ~17 min on 2 cores): standalone, A, B, C; RTT 0, 0.2, 1, 5, 20, 50 ms;
#            iodepth 1, 16, 128; 1 fork, 2 x 1 s warm-up, 3 x 2 s measurement.
#
# Usage: bench/jmh.sh [--quick|--full] [--output FILE] [--dir DIR] [--keep] [--no-build]
#                     [--notes FILE] [--report-only WORKDIR]
# Needs: a JDK 17+, python3, Maven (only to build target/jrbd-benchmarks.jar when it is missing
# or older than the sources).
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
REPO=$(cd "$SCRIPT_DIR/.." && pwd)
JAR=$REPO/bench/target/jrbd-benchmarks.jar

usage() {
    cat <<EOF
Usage: $0 [options]
  --quick         short CI run (default): standalone/A/C, RTT 0 and 5 ms, iodepth 1 and 16
  --full          the whole table: standalone/A/B/C, RTT 0..50 ms, iodepth 1, 16, 128
  --output FILE   markdown file whose jmh-replication section is (re)written
                  (default: $REPO/docs/benchmarks.md); --output - prints the section only
  --dir DIR       parent of the work directory holding the nodes' files (default: /var/tmp;
                  must not be tmpfs)
  --keep          keep the work directory (JMH JSON and logs)
  --no-build      use the existing jar even if sources are newer
  --notes FILE    markdown appended at the end of the section (observations on this run)
  --report-only WORKDIR
                  run nothing: rewrite the section from the results kept (--keep) in WORKDIR
  -h, --help      this help
Environment: JAVA (default: java on PATH), MVN (default: mvn), JMH_EXTRA (more JMH options).
EOF
}

die() { echo "jmh.sh: $*" >&2; exit 1; }
log() { echo "jmh.sh: $*" >&2; }

MODE=quick
OUTPUT=$REPO/docs/benchmarks.md
PARENT_DIR=/var/tmp
KEEP=0
BUILD=1
NOTES=
REPORT_ONLY=
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) MODE=quick; shift ;;
        --full) MODE=full; shift ;;
        --output) OUTPUT=${2:?--output needs a value}; shift 2 ;;
        --output=*) OUTPUT=${1#*=}; shift ;;
        --dir) PARENT_DIR=${2:?--dir needs a value}; shift 2 ;;
        --dir=*) PARENT_DIR=${1#*=}; shift ;;
        --keep) KEEP=1; shift ;;
        --no-build) BUILD=0; shift ;;
        --notes) NOTES=${2:?--notes needs a value}; shift 2 ;;
        --notes=*) NOTES=${1#*=}; shift ;;
        --report-only) REPORT_ONLY=${2:?--report-only needs a value}; shift 2 ;;
        --report-only=*) REPORT_ONLY=${1#*=}; shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown option: $1" ;;
    esac
done
[ -z "$NOTES" ] || [ -f "$NOTES" ] || die "--notes $NOTES: no such file"

JAVA=${JAVA:-java}
MVN=${MVN:-mvn}
command -v "$JAVA" >/dev/null || die "no java on PATH (set JAVA)"
command -v python3 >/dev/null || die "python3 is needed for the report"

if [ -n "$REPORT_ONLY" ]; then
    [ -f "$REPORT_ONLY/run.env" ] || die "$REPORT_ONLY/run.env is missing: not a work directory kept by --keep"
    # shellcheck disable=SC1091
    . "$REPORT_ONLY/run.env"
    export JMH_MODE JMH_RUN_DATE JMH_RUN_SECONDS JMH_GIT_REV JMH_ITER JMH_PROTOCOLS JMH_RTTS JMH_IODEPTHS \
        JMH_JVM_APPEND JMH_JAVA_VERSION
    export JMH_NOTES=$NOTES
    python3 "$SCRIPT_DIR/jmh-report.py" "$REPORT_ONLY" "$OUTPUT"
    exit 0
fi

# ---------------------------------------------------------------- build

jar_is_stale() {
    [ -f "$JAR" ] || return 0
    local newer
    newer=$(find "$REPO"/pom.xml "$REPO"/{protocol,metadata,resync,replicator,nbd-server,bench}/pom.xml \
        "$REPO"/{protocol,metadata,resync,replicator,nbd-server,bench}/src/main \
        -newer "$JAR" -type f -print -quit 2>/dev/null || true)
    [ -n "$newer" ]
}

if jar_is_stale; then
    if [ "$BUILD" = 0 ]; then
        [ -f "$JAR" ] || die "$JAR is missing and --no-build was given"
        log "warning: $JAR is older than the sources (--no-build)"
    else
        log "building $JAR (mvn -pl bench -am package -DskipTests)"
        # Offline first (the usual case on CI and here); online if a dependency is missing.
        (cd "$REPO" && { "$MVN" -B -q -o -pl bench -am package -DskipTests \
            || "$MVN" -B -q -pl bench -am package -DskipTests; }) >&2 || die "build failed"
    fi
fi

# ---------------------------------------------------------------- the runs

# The forked JVMs get exactly the flags every jrbd JVM gets (root pom, property jrbd.addOpens).
ADD_OPENS=$(python3 - "$REPO/pom.xml" <<'EOF'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
m = re.search(r"<jrbd\.addOpens>(.*?)</jrbd\.addOpens>", text, re.S)
if not m:
    sys.exit("no <jrbd.addOpens> property in " + sys.argv[1])
print(" ".join(m.group(1).split()))
EOF
) || die "cannot read jrbd.addOpens from $REPO/pom.xml"

mkdir -p "$PARENT_DIR"
WORK=$(mktemp -d "$PARENT_DIR/jrbd-jmh.XXXXXX")
cleanup() {
    if [ "$KEEP" = 1 ]; then
        log "kept $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
JVM_APPEND="$ADD_OPENS -Dchronicle.analytics.disable=true -Xms1g -Xmx1g -Djrbd.bench.dir=$WORK"

if [ "$MODE" = full ]; then
    PROTOCOLS=A,B,C RTTS=0,0.2,1,5,20,50 IODEPTHS=1,16,128
    ITER=(-f 1 -wi 2 -w 1s -i 3 -r 2s)
else
    PROTOCOLS=A,C RTTS=0,5 IODEPTHS=1,16
    ITER=(-f 1 -wi 2 -w 1s -i 3 -r 1s)
fi
# shellcheck disable=SC2206  # JMH_EXTRA is a list of options on purpose
EXTRA=(${JMH_EXTRA:-})
BENCHMARKS='io\.jrbd\.bench\.Write(Latency|Throughput)Benchmark\.write4k'

# run_jmh NAME EXTRA_JVM_FLAGS JMH_ARGS...: one JMH invocation, JSON to $WORK/NAME.json.
run_jmh() {
    local name=$1 jvm_extra=$2
    shift 2
    local start=$SECONDS
    log "$name: java -jar jrbd-benchmarks.jar $* ${ITER[*]} ${EXTRA[*]}"
    if ! "$JAVA" -jar "$JAR" "$@" "${ITER[@]}" "${EXTRA[@]}" -rf json -rff "$WORK/$name.json" \
            -jvmArgsAppend "$JVM_APPEND $jvm_extra" >"$WORK/$name.log" 2>&1; then
        tail -40 "$WORK/$name.log" >&2
        die "$name: JMH failed (log above; --keep keeps $WORK/$name.log)"
    fi
    if grep -q "<failure>" "$WORK/$name.log"; then
        log "$name: some benchmarks failed (their cells stay empty):"
        grep -B2 -A8 "<failure>" "$WORK/$name.log" | grep -v "^\s*at " | head -60 >&2
    fi
    log "$name: done in $((SECONDS - start)) s"
}

RUN_START=$SECONDS
RUN_DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
# The standalone device has no peer: one RTT is enough for it.
run_jmh baseline "" "$BENCHMARKS" -p protocol=standalone -p rttMs=0 -p iodepth="$IODEPTHS"
run_jmh replicated "" "$BENCHMARKS" -p protocol="$PROTOCOLS" -p rttMs="$RTTS" -p iodepth="$IODEPTHS"
# Allocation per write: the standalone device, protocol C through the proxy (the table's
# configuration), and protocol C on a direct link (the engine alone, without the proxy's relaying).
run_jmh gc "" 'io\.jrbd\.bench\.WriteThroughputBenchmark\.write4k' -prof gc \
    -p protocol=standalone,C -p rttMs=0 -p iodepth=16
run_jmh gc-direct "-Djrbd.bench.directLink=true" 'io\.jrbd\.bench\.WriteThroughputBenchmark\.write4k' -prof gc \
    -p protocol=C -p rttMs=0 -p iodepth=16
RUN_SECONDS=$((SECONDS - RUN_START))

# ---------------------------------------------------------------- the report

GIT_REV=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git -C "$REPO" status --porcelain -- protocol metadata resync replicator nbd-server 2>/dev/null)" ]; then
    GIT_REV="$GIT_REV (with uncommitted changes)"
fi
export JMH_MODE=$MODE JMH_RUN_DATE=$RUN_DATE JMH_RUN_SECONDS=$RUN_SECONDS JMH_GIT_REV=$GIT_REV \
    JMH_ITER="${ITER[*]} ${EXTRA[*]}" JMH_PROTOCOLS=$PROTOCOLS JMH_RTTS=$RTTS JMH_IODEPTHS=$IODEPTHS \
    JMH_JVM_APPEND="$JVM_APPEND" JMH_NOTES=$NOTES \
    JMH_JAVA_VERSION="$("$JAVA" -version 2>&1 | head -1)"
# What --report-only needs to rewrite the section later from the kept results.
for v in JMH_MODE JMH_RUN_DATE JMH_RUN_SECONDS JMH_GIT_REV JMH_ITER JMH_PROTOCOLS JMH_RTTS JMH_IODEPTHS \
        JMH_JVM_APPEND JMH_JAVA_VERSION; do
    printf '%s=%q\n' "$v" "${!v}"
done >"$WORK/run.env"
python3 "$SCRIPT_DIR/jmh-report.py" "$WORK" "$OUTPUT"
log "finished in $((SECONDS - RUN_START)) s (benchmarks $RUN_SECONDS s)"
