#!/usr/bin/env bash
# fio-vs-nbdkit.sh: benchmark `jrbd serve` against `nbdkit --threads 16 file` (the
# non-replicated baseline) with fio's nbd ioengine, in one run, on the same file system.
#
# Each server gets its own freshly created backing file of the same size, fully written
# with random data (dd) before the server starts, so neither side benchmarks holes. Both
# servers run side by side, bound to 127.0.0.1 on free ports; every row runs against
# nbdkit and then against jrbd (interleaved, to reduce drift), with a `sync` before each
# fio run so that one side's dirty pages are not written back during the other's run.
# After the rows the script records each server's peak resident memory (VmHWM) and CPU
# time (utime+stime), and writes a markdown section (date, machine, exact commands,
# tables) between the markers
#   <!-- fio-vs-nbdkit:begin -->  and  <!-- fio-vs-nbdkit:end -->
# of the output file (default docs/benchmarks.md), replacing only that section.
#
# Usage: bench/fio-vs-nbdkit.sh [--dir DIR] [--size SIZE] [--runtime SECONDS]
#                               [--ramp SECONDS] [--quick] [--output FILE] [--keep]
# Needs: fio (with the nbd ioengine), nbdkit, nbdinfo (libnbd-bin), python3, a built jrbd
# (mvn -B -q package -DskipTests).
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
REPO=$(cd "$SCRIPT_DIR/.." && pwd)
JRBD=${JRBD:-$REPO/bin/jrbd}
NBDKIT=${NBDKIT:-nbdkit}
NBDKIT_THREADS=16

usage() {
    cat <<EOF
Usage: $0 [options]
  --dir DIR          parent of the work directory (default: /var/tmp); a fresh
                     sub-directory is created there and removed at exit. Must not be tmpfs.
  --size SIZE        size of each backing file, e.g. 1G, 512M, bytes (default: 1G)
  --runtime SECONDS  measured time per row and server (default: 20)
  --ramp SECONDS     fio ramp time (warm-up, not measured) per row (default: 2)
  --quick            runtime 3 s, ramp 1 s, size 256M (CI smoke run)
  --output FILE      markdown file whose fio-vs-nbdkit section is (re)written
                     (default: $REPO/docs/benchmarks.md)
  --keep             keep the work directory (backing files, logs, fio JSON)
  -h, --help         this help
Environment: JRBD (path to bin/jrbd, default $REPO/bin/jrbd), JRBD_JAVA_OPTS.
EOF
}

die() { echo "fio-vs-nbdkit: $*" >&2; exit 1; }
log() { echo "fio-vs-nbdkit: $*" >&2; }

PARENT_DIR=/var/tmp
SIZE_ARG=1G
RUNTIME=20
RAMP=2
QUICK=0
OUTPUT=$REPO/docs/benchmarks.md
KEEP=0
SIZE_SET=0 RUNTIME_SET=0 RAMP_SET=0

while [ $# -gt 0 ]; do
    case "$1" in
        --dir) PARENT_DIR=${2:?--dir needs a value}; shift 2 ;;
        --dir=*) PARENT_DIR=${1#*=}; shift ;;
        --size) SIZE_ARG=${2:?--size needs a value}; SIZE_SET=1; shift 2 ;;
        --size=*) SIZE_ARG=${1#*=}; SIZE_SET=1; shift ;;
        --runtime) RUNTIME=${2:?--runtime needs a value}; RUNTIME_SET=1; shift 2 ;;
        --runtime=*) RUNTIME=${1#*=}; RUNTIME_SET=1; shift ;;
        --ramp) RAMP=${2:?--ramp needs a value}; RAMP_SET=1; shift 2 ;;
        --ramp=*) RAMP=${1#*=}; RAMP_SET=1; shift ;;
        --quick) QUICK=1; shift ;;
        --output) OUTPUT=${2:?--output needs a value}; shift 2 ;;
        --output=*) OUTPUT=${1#*=}; shift ;;
        --keep) KEEP=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $1" ;;
    esac
done
if [ "$QUICK" = 1 ]; then
    [ "$SIZE_SET" = 1 ] || SIZE_ARG=256M
    [ "$RUNTIME_SET" = 1 ] || RUNTIME=3
    [ "$RAMP_SET" = 1 ] || RAMP=1
fi
[[ "$RUNTIME" =~ ^[1-9][0-9]*$ ]] || die "--runtime must be a positive integer: $RUNTIME"
[[ "$RAMP" =~ ^[0-9]+$ ]] || die "--ramp must be a non-negative integer: $RAMP"

# Size with an optional binary suffix (K, M, G, T; "iB"/"B" accepted) to bytes.
parse_size() {
    local s=${1%[iI][bB]} ; s=${s%[bB]}
    [[ "$s" =~ ^([0-9]+)([kKmMgGtT]?)$ ]] || die "bad size: $1"
    local n=${BASH_REMATCH[1]} u=${BASH_REMATCH[2]}
    case "$u" in
        k|K) n=$((n << 10)) ;; m|M) n=$((n << 20)) ;;
        g|G) n=$((n << 30)) ;; t|T) n=$((n << 40)) ;;
    esac
    echo "$n"
}
SIZE_BYTES=$(parse_size "$SIZE_ARG")
[ $((SIZE_BYTES % (1 << 20))) -eq 0 ] && [ "$SIZE_BYTES" -ge $((16 << 20)) ] \
    || die "--size must be a whole number of MiB, at least 16M: $SIZE_ARG"
SIZE_MIB=$((SIZE_BYTES >> 20))

for cmd in fio "$NBDKIT" nbdinfo python3 dd sync; do
    command -v "$cmd" >/dev/null 2>&1 || die "$cmd not found"
done
[ -x "$JRBD" ] || die "$JRBD not found or not executable"
fio --enghelp=nbd >/dev/null 2>&1 || die "this fio has no nbd ioengine"

# ---------------------------------------------------------------------------------------
# Work directory (never on tmpfs: the point is to compare on a real file system).
[ -d "$PARENT_DIR" ] || die "--dir $PARENT_DIR is not a directory"
fstype_of() { df --output=fstype "$1" 2>/dev/null | tail -n 1 | tr -d ' '; }
PARENT_FSTYPE=$(fstype_of "$PARENT_DIR")
case "$PARENT_FSTYPE" in
    tmpfs|ramfs) die "$PARENT_DIR is on $PARENT_FSTYPE; pass --dir on a disk-backed file system" ;;
esac

WORK=""
NBDKIT_PID=""
JRBD_PID=""
FIO_PID=""

stop_pid() {  # stop_pid PID NAME: SIGTERM, wait up to 15 s, then SIGKILL
    local pid=$1 name=$2 i
    [ -n "$pid" ] || return 0
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 150; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "$name (pid $pid) did not stop on SIGTERM; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_pid "$FIO_PID" fio
    stop_pid "$JRBD_PID" jrbd
    stop_pid "$NBDKIT_PID" nbdkit
    if [ -n "$WORK" ] && [ -d "$WORK" ]; then
        if [ "$KEEP" = 1 ]; then
            log "kept work directory $WORK"
        else
            rm -rf -- "$WORK"
        fi
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

WORK=$(mktemp -d "$PARENT_DIR/fio-vs-nbdkit.XXXXXX")
WORK_FSTYPE=$(fstype_of "$WORK")
log "work directory $WORK ($WORK_FSTYPE), ${SIZE_MIB} MiB per backing file, ${RUNTIME} s per row (+${RAMP} s ramp)"

# ---------------------------------------------------------------------------------------
# Backing files: freshly created and fully written with random data (no holes, and no
# zero pages a server could special-case), then flushed to disk.
NBDKIT_FILE=$WORK/nbdkit.img
JRBD_FILE=$WORK/jrbd.img
for f in "$NBDKIT_FILE" "$JRBD_FILE"; do
    dd if=/dev/urandom of="$f" bs=1M count="$SIZE_MIB" conv=fsync status=none
done
sync

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

wait_nbdinfo() {  # wait_nbdinfo URI PID NAME LOGFILE
    local uri=$1 pid=$2 name=$3 logf=$4 i
    for ((i = 0; i < 300; i++)); do
        kill -0 "$pid" 2>/dev/null || { cat "$logf" >&2; die "$name exited during start-up"; }
        if nbdinfo --size "$uri" >/dev/null 2>&1; then
            local got
            got=$(nbdinfo --size "$uri")
            [ "$got" = "$SIZE_BYTES" ] || die "$name reports size $got, expected $SIZE_BYTES"
            return 0
        fi
        sleep 0.1
    done
    cat "$logf" >&2
    die "$name did not answer nbdinfo at $uri within 30 s"
}

# nbdkit: pick a free port, retry if another process grabs it first.
NBDKIT_LOG=$WORK/nbdkit.log
NBDKIT_PORT=""
for attempt in 1 2 3; do
    port=$(free_port)
    NBDKIT_CMD=("$NBDKIT" --exit-with-parent -f -i 127.0.0.1 -p "$port" --threads "$NBDKIT_THREADS" file "file=$NBDKIT_FILE")
    "${NBDKIT_CMD[@]}" >"$NBDKIT_LOG" 2>&1 &
    NBDKIT_PID=$!
    sleep 0.3
    if kill -0 "$NBDKIT_PID" 2>/dev/null; then NBDKIT_PORT=$port; break; fi
    wait "$NBDKIT_PID" 2>/dev/null || true
    NBDKIT_PID=""
    log "nbdkit failed to start on port $port (attempt $attempt): $(tail -n 1 "$NBDKIT_LOG")"
done
[ -n "$NBDKIT_PORT" ] || die "could not start nbdkit"
NBDKIT_URI=nbd://127.0.0.1:$NBDKIT_PORT/
wait_nbdinfo "$NBDKIT_URI" "$NBDKIT_PID" nbdkit "$NBDKIT_LOG"
log "nbdkit pid $NBDKIT_PID at $NBDKIT_URI"

# jrbd: port 0, the chosen port is parsed from its log. bin/jrbd execs java, so $! is the JVM.
JRBD_LOG=$WORK/jrbd.log
JRBD_CMD=("$JRBD" serve --file "$JRBD_FILE" --size "$SIZE_BYTES" --port 0 --bind 127.0.0.1)
"${JRBD_CMD[@]}" >"$JRBD_LOG" 2>&1 &
JRBD_PID=$!
JRBD_PORT=""
for ((i = 0; i < 600; i++)); do
    kill -0 "$JRBD_PID" 2>/dev/null || { cat "$JRBD_LOG" >&2; die "jrbd exited during start-up"; }
    JRBD_PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$JRBD_LOG" | head -n 1)
    [ -n "$JRBD_PORT" ] && break
    sleep 0.1
done
[ -n "$JRBD_PORT" ] || { cat "$JRBD_LOG" >&2; die "jrbd did not log its port within 60 s"; }
JRBD_URI=nbd://127.0.0.1:$JRBD_PORT/
wait_nbdinfo "$JRBD_URI" "$JRBD_PID" jrbd "$JRBD_LOG"
log "jrbd pid $JRBD_PID at $JRBD_URI"

CLK_TCK=$(getconf CLK_TCK)
cpu_ticks() {  # utime+stime of PID in clock ticks (fields 14 and 15 of /proc/PID/stat)
    local stat rest
    stat=$(cat "/proc/$1/stat")
    rest=${stat##*) }          # drop "pid (comm) ", comm may contain spaces
    # shellcheck disable=SC2086
    set -- $rest               # now $1 is field 3 (state), so utime is $12, stime is $13
    echo $(( ${12} + ${13} ))
}
host_cpu() {  # "busy total" jiffies over all CPUs (busy = total - idle - iowait)
    awk '$1 == "cpu" { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t; exit }' /proc/stat
}
# Other people's builds may share the machine: before each fio run, wait (up to 60 s) until
# the CPUs have been nearly idle (< 25% of one core busy) for half a second.
wait_quiet() {
    local i b0 t0 b1 t1
    for ((i = 0; i < 120; i++)); do
        read -r b0 t0 < <(host_cpu); sleep 0.5; read -r b1 t1 < <(host_cpu)
        [ $(( (b1 - b0) * 100 * NPROC )) -lt $(( 25 * (t1 - t0 > 0 ? t1 - t0 : 1) )) ] && return 0
    done
    log "machine still busy after 60 s; running anyway (see the 'rest' CPU column)"
}
NPROC=$(nproc)
vm_field() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }  # in kB

# ---------------------------------------------------------------------------------------
# Rows: name | rw | block size | iodepth
ROWS=(
    "4k-randwrite-qd1|randwrite|4k|1"
    "4k-randwrite-qd32|randwrite|4k|32"
    "4k-randread-qd1|randread|4k|1"
    "4k-randread-qd32|randread|4k|32"
    "1m-seqwrite-qd4|write|1m|4"
)

fio_cmd() {  # fio_cmd URI NAME RW BS QD OUTFILE -> sets FIO_CMD
    FIO_CMD=(fio --name="$2" --ioengine=nbd --uri="$1" --rw="$3" --bs="$4" --iodepth="$5"
        --numjobs=1 --time_based --runtime="$RUNTIME" --ramp_time="$RAMP"
        --norandommap --randrepeat=0 --lat_percentiles=1 --output-format=json --output="$6")
}

RESULTS=$WORK/results.tsv
: >"$RESULTS"
for row in "${ROWS[@]}"; do
    IFS='|' read -r name rw bs qd <<<"$row"
    for srv in nbdkit jrbd; do
        if [ "$srv" = nbdkit ]; then uri=$NBDKIT_URI pid=$NBDKIT_PID; else uri=$JRBD_URI pid=$JRBD_PID; fi
        out=$WORK/$name-$srv.json
        fio_cmd "$uri" "$name" "$rw" "$bs" "$qd" "$out"
        sync
        wait_quiet
        kill -0 "$pid" 2>/dev/null || die "$srv (pid $pid) died before row $name"
        log "$name on $srv"
        read -r h0busy h0total < <(host_cpu)
        c0=$(cpu_ticks "$pid"); t0=$(date +%s.%N)
        # fio runs in the background so that a signal reaches the EXIT trap at once.
        "${FIO_CMD[@]}" &
        FIO_PID=$!
        wait "$FIO_PID" || die "fio failed on $srv, row $name"
        FIO_PID=""
        t1=$(date +%s.%N); c1=$(cpu_ticks "$pid")
        read -r h1busy h1total < <(host_cpu)
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$srv" "$rw" "$bs" "$qd" \
            "$((c1 - c0))" "$(python3 -c "print($t1 - $t0)")" \
            "$(python3 -c "print(100.0 * $NPROC * ($h1busy - $h0busy) / max(1, $h1total - $h0total))")" "$out" >>"$RESULTS"
    done
done

# Peak memory and CPU time, after all rows (the servers stay up, idle, in between).
RESOURCES=$WORK/resources.tsv
: >"$RESOURCES"
for srv in nbdkit jrbd; do
    if [ "$srv" = nbdkit ]; then pid=$NBDKIT_PID; else pid=$JRBD_PID; fi
    kill -0 "$pid" 2>/dev/null || die "$srv (pid $pid) died during the rows"
    printf '%s\t%s\t%s\t%s\t%s\n' "$srv" "$(vm_field "$pid" VmHWM)" "$(vm_field "$pid" VmRSS)" \
        "$(cpu_ticks "$pid")" "$(awk '/^Threads:/ { print $2 }' "/proc/$pid/status")" >>"$RESOURCES"
done

# ---------------------------------------------------------------------------------------
# Machine and versions.
JAVA_BIN=java
if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then JAVA_BIN=$JAVA_HOME/bin/java; fi
JRBD_HOME=$(cd "$(dirname "$(readlink -f "$JRBD")")/.." && pwd)
export BENCH_DATE BENCH_NPROC BENCH_MEM BENCH_KERNEL BENCH_CPU BENCH_FSTYPE BENCH_JAVA \
    BENCH_FIO BENCH_NBDKIT BENCH_JRBD_REV BENCH_NBDKIT_CMD BENCH_JRBD_CMD BENCH_FIO_CMD \
    BENCH_RUNTIME BENCH_RAMP BENCH_SIZE_MIB BENCH_CLK_TCK BENCH_QUICK BENCH_JAVA_OPTS
BENCH_DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
BENCH_NPROC=$(nproc)
BENCH_MEM=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
BENCH_KERNEL=$(uname -sr)
BENCH_CPU=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
BENCH_FSTYPE=$WORK_FSTYPE
BENCH_JAVA=$("$JAVA_BIN" -version 2>&1 | head -n 1)
BENCH_FIO=$(fio --version)
BENCH_NBDKIT=$("$NBDKIT" --version | head -n 1)
BENCH_JRBD_REV=$(git -C "$JRBD_HOME" describe --always --dirty 2>/dev/null || echo unknown)
BENCH_JAVA_OPTS=${JRBD_JAVA_OPTS:-}
# Commands as run, with the work directory and ports replaced by placeholders.
redact() { local s="$*"; s=${s//"$WORK"/\$WORK}; s=${s//"$JRBD_HOME"\//}; echo "$s"; }
BENCH_NBDKIT_CMD=$(redact "${NBDKIT_CMD[*]}"); BENCH_NBDKIT_CMD=${BENCH_NBDKIT_CMD/-p $NBDKIT_PORT/-p \$PORT}
BENCH_JRBD_CMD=$(redact "${JRBD_CMD[*]}")
fio_cmd 'nbd://127.0.0.1:$PORT/' '$ROW' '$RW' '$BS' '$QD' '$WORK/$ROW-$SERVER.json'
BENCH_FIO_CMD="${FIO_CMD[*]}"
BENCH_RUNTIME=$RUNTIME BENCH_RAMP=$RAMP BENCH_SIZE_MIB=$SIZE_MIB BENCH_CLK_TCK=$CLK_TCK BENCH_QUICK=$QUICK

SECTION=$WORK/section.md
python3 - "$RESULTS" "$RESOURCES" "$SECTION" <<'PY'
import json, os, sys

results_path, resources_path, section_path = sys.argv[1:4]
E = os.environ
tck = float(E["BENCH_CLK_TCK"])

rows = []   # (name, rw, bs, qd, {srv: metrics})
by_name = {}
for line in open(results_path):
    name, srv, rw, bs, qd, dticks, wall, host, path = line.rstrip("\n").split("\t")
    with open(path) as f:
        doc = json.load(f)
    job = doc["jobs"][0]
    side = job["read"] if rw.endswith("read") else job["write"]
    pct = side["lat_ns"].get("percentile", {})
    m = {
        "iops": side["iops"],
        "mibs": side["bw_bytes"] / 1048576.0,
        "p50": pct.get("50.000000", float("nan")) / 1000.0,
        "p99": pct.get("99.000000", float("nan")) / 1000.0,
        "srv_cpu": 100.0 * int(dticks) / tck / float(wall),
        "fio_cpu": job["usr_cpu"] + job["sys_cpu"],
        "host_cpu": float(host),
        "rest_cpu": max(0.0, float(host) - 100.0 * int(dticks) / tck / float(wall) - (job["usr_cpu"] + job["sys_cpu"])),
        "errors": job.get("error", 0),
    }
    if name not in by_name:
        by_name[name] = {}
        rows.append((name, rw, bs, qd, by_name[name]))
    by_name[name][srv] = m

def f0(x): return f"{x:,.0f}"
def f1(x): return f"{x:,.1f}"
def ratio(a, b): return a / b if b else float("nan")

out = []
out.append(f"Run: {E['BENCH_DATE']}" + (" (`--quick` smoke run: too short to quote)" if E["BENCH_QUICK"] == "1" else ""))
out.append("")
out.append(f"- Machine: {E['BENCH_NPROC']} CPUs ({E['BENCH_CPU']}), {E['BENCH_MEM']} memory, {E['BENCH_KERNEL']}")
out.append(f"- Work directory file system: {E['BENCH_FSTYPE']}; backing files {E['BENCH_SIZE_MIB']} MiB each, "
           "fully written with random data (dd) before the servers start")
out.append(f"- {E['BENCH_JAVA']}; jrbd {E['BENCH_JRBD_REV']}" + (f"; JRBD_JAVA_OPTS=`{E['BENCH_JAVA_OPTS']}`" if E["BENCH_JAVA_OPTS"] else ""))
out.append(f"- {E['BENCH_FIO']}; {E['BENCH_NBDKIT']}")
out.append(f"- {E['BENCH_RUNTIME']} s measured per row and server after {E['BENCH_RAMP']} s ramp; "
           "each row runs on nbdkit then on jrbd, with `sync` before every fio run")
out.append("")
out.append("Commands (`$WORK` is the work directory, `$PORT` the server's port):")
out.append("")
out.append("```sh")
out.append(E["BENCH_NBDKIT_CMD"])
out.append(E["BENCH_JRBD_CMD"])
out.append(E["BENCH_FIO_CMD"])
out.append("```")
out.append("")
out.append("Latencies are fio's total per-request latencies (`lat`: submission to completion, `--lat_percentiles=1`) "
           "in µs; with the nbd engine `clat` alone is misleading because fio's submission (slat) already includes "
           "sending the request, and sometimes reading the reply. Server CPU is the server process's utime+stime "
           "during the fio run divided by its wall time (100% = one core); fio CPU is fio's own usr+sys; "
           f"host CPU is all CPUs' busy time from /proc/stat over the same interval (at most {100 * int(E['BENCH_NPROC'])}%), "
           "and rest = host - server - fio (kernel work not charged to either process, and any other process on the machine; "
           "before each run the script waits for the machine to be idle).")
out.append("")
out.append("| Row | rw | bs | iodepth | Server | IOPS | MiB/s | p50 µs | p99 µs | server CPU | fio CPU | host CPU | rest |")
out.append("|---|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for name, rw, bs, qd, per in rows:
    for srv in ("nbdkit", "jrbd"):
        m = per[srv]
        out.append(f"| {name} | {rw} | {bs} | {qd} | {srv} | {f0(m['iops'])} | {f1(m['mibs'])} | "
                   f"{f1(m['p50'])} | {f1(m['p99'])} | {m['srv_cpu']:.0f}% | {m['fio_cpu']:.0f}% | {m['host_cpu']:.0f}% | {m['rest_cpu']:.0f}% |")
out.append("")
out.append("Ratios jrbd/nbdkit (goal: IOPS and MiB/s at least 0.90 on every row; p50 at iodepth 1 at most 1.20):")
out.append("")
out.append("| Row | IOPS ratio | MiB/s ratio | p50 ratio | p99 ratio | goal |")
out.append("|---|---:|---:|---:|---:|---|")
for name, rw, bs, qd, per in rows:
    a, b = per["jrbd"], per["nbdkit"]
    ri, rb, r50, r99 = ratio(a["iops"], b["iops"]), ratio(a["mibs"], b["mibs"]), ratio(a["p50"], b["p50"]), ratio(a["p99"], b["p99"])
    ok = ri >= 0.9 and rb >= 0.9 and (qd != "1" or r50 <= 1.2)
    out.append(f"| {name} | {ri:.2f} | {rb:.2f} | {r50:.2f} | {r99:.2f} | {'met' if ok else '**missed**'} |")
out.append("")
out.append("Server resources after all rows (both servers stay up for the whole run):")
out.append("")
out.append("| Server | peak RSS (VmHWM) | RSS at end | CPU time (utime+stime) | threads at end |")
out.append("|---|---:|---:|---:|---:|")
for line in open(resources_path):
    srv, hwm, rss, ticks, threads = line.rstrip("\n").split("\t")
    out.append(f"| {srv} | {int(hwm) / 1024:.0f} MiB | {int(rss) / 1024:.0f} MiB | {int(ticks) / tck:.1f} s | {threads} |")
errs = [(n, s) for n, _, _, _, per in rows for s, m in per.items() if m["errors"]]
if errs:
    out.append("")
    out.append("fio reported errors on: " + ", ".join(f"{n}/{s}" for n, s in errs))
with open(section_path, "w") as f:
    f.write("\n".join(out) + "\n")
PY

# Replace (or add) the marked section in the output file.
mkdir -p "$(dirname "$OUTPUT")"
python3 - "$OUTPUT" "$SECTION" <<'PY'
import os, sys
path, section_path = sys.argv[1:3]
BEGIN, END = "<!-- fio-vs-nbdkit:begin -->", "<!-- fio-vs-nbdkit:end -->"
section = open(section_path).read()
block = BEGIN + "\n" + section + END
if os.path.exists(path):
    text = open(path).read()
    b, e = text.find(BEGIN), text.find(END)
    if b >= 0 and e > b:
        text = text[:b] + block + text[e + len(END):]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
else:
    text = "# Benchmarks\n\n" + block + "\n"
tmp = path + ".tmp"
with open(tmp, "w") as f:
    f.write(text)
os.replace(tmp, path)
PY

cat "$SECTION"
log "wrote the fio-vs-nbdkit section of $OUTPUT"
