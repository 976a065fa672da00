#!/usr/bin/env bash
# fio-vs-nbdkit.sh: benchmark jrbd against `nbdkit --threads 16 file` (the
# non-replicated baseline) with fio's nbd ioengine, in one run, on the same file system:
# `jrbd serve` (one node, no replication), and two-node pairs (`jrbd quickstart`: daemons
# alpha and bravo replicating over loopback) with protocol A and with protocol C.
#
# Each server gets its own freshly created backing file(s) of the same size, fully
# written before the rows, so no server benchmarks holes: nbdkit's and jrbd serve's files
# with random data (dd) before they start, a pair's device through NBD (fio, 1 MiB
# sequential writes over the whole device) after `jrbd quickstart` and before its rows,
# until both nodes' files are fully allocated. Everything is bound to 127.0.0.1 on free
# ports, and there is a `sync` before each fio run so that one server's dirty pages are
# not written back during another's run. The phases are:
#   1. nbdkit and jrbd serve side by side; every row runs on nbdkit and then on jrbd
#      serve (interleaved, to reduce drift); then both are stopped;
#   2. pair A started, pre-written, all rows, stopped;
#   3. pair C likewise.
# At the end of each phase the script records each server's (each daemon's) peak resident
# memory (VmHWM) and CPU time (utime+stime). A pair's CPU per row is the sum of both
# daemons'. It writes a markdown section (date, machine, exact commands, tables) between
# the markers
#   <!-- fio-vs-nbdkit:begin -->  and  <!-- fio-vs-nbdkit:end -->
# of the output file (default docs/benchmarks.md), replacing only that section.
#
# Usage: bench/fio-vs-nbdkit.sh [--dir DIR] [--size SIZE] [--runtime SECONDS]
#                               [--ramp SECONDS] [--quick] [--output FILE] [--keep]
# Needs: fio (with the nbd ioengine), nbdkit, nbdinfo (libnbd-bin), python3, setsid, a
# built jrbd (mvn -B -q package -DskipTests).
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
  --quick            runtime 1 s, no ramp, size 256M, and at most 1 s waiting for an
                     idle machine before each fio run (CI smoke run, about a minute)
  --output FILE      markdown file whose fio-vs-nbdkit section is (re)written
                     (default: $REPO/docs/benchmarks.md)
  --keep             keep the work directory (backing files, logs, fio JSON)
  -h, --help         this help
Environment: JRBD (path to bin/jrbd, default $REPO/bin/jrbd), JRBD_JAVA_OPTS.
EOF
}

die() { echo "fio-vs-nbdkit: $*" >&2; exit 1; }
log() { echo "fio-vs-nbdkit: [${SECONDS}s] $*" >&2; }

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
    [ "$RUNTIME_SET" = 1 ] || RUNTIME=1
    [ "$RAMP_SET" = 1 ] || RAMP=0
fi
# wait_quiet's limit, in 0.5 s samples: 60 s normally, 1 s for a smoke run.
QUIET_SAMPLES=120
[ "$QUICK" = 1 ] && QUIET_SAMPLES=2
# How long a pair's daemons get to stop on SIGTERM, in 0.1 s: 15 s normally, 5 s for a smoke run.
PAIR_STOP_TENTHS=150
[ "$QUICK" = 1 ] && PAIR_STOP_TENTHS=50
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

for cmd in fio "$NBDKIT" nbdinfo python3 dd sync stat timeout setsid; do
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
QS_PID=""      # a running `jrbd quickstart` (start-up of a pair)
PAIR_DIRS=()   # quickstart directories whose daemons may be up (DIR/alpha.pid, DIR/bravo.pid)

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

# pair_pid DIR NODE: the pid in DIR/NODE.pid if that process is alive and is NODE's
# quickstart daemon of DIR (its command line names DIR/NODE), else nothing.
pair_pid() {
    local dir=$1 node=$2 pid
    [ -f "$dir/$node.pid" ] || return 0
    pid=$(tr -dc '0-9' <"$dir/$node.pid")
    [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 0
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null \
        | grep -qF -- "$(basename "$(dirname "$dir")")/$(basename "$dir")/$node " || return 0
    echo "$pid"
}

# stop_pair DIR: stop both quickstart daemons of DIR by their pid files, then let
# `jrbd quickstart --stop` remove the pid files (and stop anything left).
stop_pair() {
    local dir=$1 node pid i alive
    local -a pids=()
    for node in alpha bravo; do
        pid=$(pair_pid "$dir" "$node")
        [ -z "$pid" ] || { pids+=("$pid"); kill -TERM "$pid" 2>/dev/null || true; }
    done
    for ((i = 0; i < PAIR_STOP_TENTHS; i++)); do  # both at once: SIGTERM, a grace period, SIGKILL
        alive=0
        for pid in ${pids[@]+"${pids[@]}"}; do if kill -0 "$pid" 2>/dev/null; then alive=1; fi; done
        [ "$alive" = 0 ] && break
        sleep 0.1
    done
    for pid in ${pids[@]+"${pids[@]}"}; do
        if kill -0 "$pid" 2>/dev/null; then
            log "jrbd daemon (pid $pid) of $dir did not stop within $((PAIR_STOP_TENTHS / 10)) s of SIGTERM; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done
    if [ -f "$dir/alpha.pid" ] || [ -f "$dir/bravo.pid" ]; then
        timeout 90 "$JRBD" quickstart --dir "$dir" --stop >>"$dir.quickstart.log" 2>&1 \
            || log "jrbd quickstart --dir $dir --stop failed; see $dir.quickstart.log"
    fi
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_pid "$FIO_PID" fio
    stop_pid "$QS_PID" "jrbd quickstart"
    local d
    for d in ${PAIR_DIRS[@]+"${PAIR_DIRS[@]}"}; do stop_pair "$d"; done
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
T_START=$(date +%s)

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

# free_port_pairs: "P Q" where P, P+1, Q, Q+1 are four distinct ports free on 127.0.0.1
# just now (a pair's NBD ports and replication ports); the caller retries if one is taken
# by the time the daemons bind.
free_port_pairs() {
    python3 - <<'PY'
import socket
held, found = [], []
for _ in range(200):
    a = socket.socket(); a.bind(("127.0.0.1", 0)); p = a.getsockname()[1]
    b = socket.socket()
    try:
        if p >= 65535: raise OSError
        b.bind(("127.0.0.1", p + 1))
    except OSError:
        a.close(); b.close(); continue
    held += [a, b]; found.append(p)
    if len(found) == 2: break
for s in held: s.close()
if len(found) < 2: raise SystemExit("no two pairs of consecutive free ports")
print(*found)
PY
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
# Other people's builds may share the machine: before each fio run, wait (up to 60 s, 1 s
# with --quick) until the CPUs have been nearly idle (< 25% of one core busy) for half a second.
wait_quiet() {
    local i b0 t0 b1 t1
    for ((i = 0; i < QUIET_SAMPLES; i++)); do
        read -r b0 t0 < <(host_cpu); sleep 0.5; read -r b1 t1 < <(host_cpu)
        [ $(( (b1 - b0) * 100 * NPROC )) -lt $(( 25 * (t1 - t0 > 0 ? t1 - t0 : 1) )) ] && return 0
    done
    log "machine still busy after $((QUIET_SAMPLES / 2)) s; running anyway (see the 'rest' CPU column)"
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

# Servers by id: NBD URI, and the pids whose CPU time is charged to it (a pair: both daemons).
declare -A SRV_URI SRV_PIDS
SRV_URI[nbdkit]=$NBDKIT_URI SRV_PIDS[nbdkit]=$NBDKIT_PID
SRV_URI[jrbd]=$JRBD_URI     SRV_PIDS[jrbd]=$JRBD_PID

cpu_ticks_sum() {  # cpu_ticks_sum PID...: utime+stime of all of them
    local t=0 p
    for p in "$@"; do t=$((t + $(cpu_ticks "$p"))); done
    echo "$t"
}

RESULTS=$WORK/results.tsv
: >"$RESULTS"
# run_rows SERVER...: every row on each SERVER in turn (a row's servers back to back).
run_rows() {
    local row name rw bs qd srv uri pid out h0busy h0total h1busy h1total c0 c1 t0 t1
    local -a pids
    for row in "${ROWS[@]}"; do
        IFS='|' read -r name rw bs qd <<<"$row"
        for srv in "$@"; do
            uri=${SRV_URI[$srv]}
            read -r -a pids <<<"${SRV_PIDS[$srv]}"
            out=$WORK/$name-$srv.json
            fio_cmd "$uri" "$name" "$rw" "$bs" "$qd" "$out"
            sync
            wait_quiet
            for pid in "${pids[@]}"; do
                kill -0 "$pid" 2>/dev/null || die "$srv (pid $pid) died before row $name"
            done
            log "$name on $srv"
            read -r h0busy h0total < <(host_cpu)
            c0=$(cpu_ticks_sum "${pids[@]}"); t0=$(date +%s.%N)
            # fio runs in the background so that a signal reaches the EXIT trap at once.
            "${FIO_CMD[@]}" &
            FIO_PID=$!
            wait "$FIO_PID" || die "fio failed on $srv, row $name"
            FIO_PID=""
            t1=$(date +%s.%N); c1=$(cpu_ticks_sum "${pids[@]}")
            read -r h1busy h1total < <(host_cpu)
            printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$srv" "$rw" "$bs" "$qd" \
                "$((c1 - c0))" "$(python3 -c "print($t1 - $t0)")" \
                "$(python3 -c "print(100.0 * $NPROC * ($h1busy - $h0busy) / max(1, $h1total - $h0total))")" "$out" >>"$RESULTS"
        done
    done
}

# Peak memory and CPU time of a process at the end of its server's phase.
RESOURCES=$WORK/resources.tsv
: >"$RESOURCES"
record_resources() {  # record_resources LABEL PID
    kill -0 "$2" 2>/dev/null || die "$1 (pid $2) died during the rows"
    printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$(vm_field "$2" VmHWM)" "$(vm_field "$2" VmRSS)" \
        "$(cpu_ticks "$2")" "$(awk '/^Threads:/ { print $2 }' "/proc/$2/status")" >>"$RESOURCES"
}

# Phase 1: nbdkit and jrbd serve, interleaved row by row; then both are stopped.
run_rows nbdkit jrbd
record_resources nbdkit "$NBDKIT_PID"
record_resources jrbd "$JRBD_PID"
stop_pid "$JRBD_PID" jrbd; JRBD_PID=""
stop_pid "$NBDKIT_PID" nbdkit; NBDKIT_PID=""

# allocated_bytes FILE: bytes the file system has allocated to FILE (holes excluded).
allocated_bytes() { stat -c '%b %B' "$1" | awk '{ printf "%.0f\n", $1 * $2 }'; }

# start_pair PROTOCOL: `jrbd quickstart` in $WORK/pair-PROTOCOL on free ports (retrying on
# other ports if it fails), then pre-write the whole device through alpha's NBD export and
# wait until both nodes' backing files are fully allocated (protocol A returns before bravo
# has written). Sets SRV_URI[pairPROTOCOL], SRV_PIDS[pairPROTOCOL] (alpha's pid first).
start_pair() {
    local proto=$1 dir=$WORK/pair-$1 attempt nbd_port repl_port rc uri alpha bravo i
    local qlog=$dir.quickstart.log
    PAIR_DIRS+=("$dir")
    for attempt in 1 2 3; do
        read -r nbd_port repl_port < <(free_port_pairs) || die "no free ports for pair $proto"
        QS_CMD=("$JRBD" quickstart --dir "$dir" --size "${SIZE_MIB}M" --protocol "$proto"
            --port "$nbd_port" --replication-port "$repl_port")
        log "starting pair $proto: ${QS_CMD[*]}"
        "${QS_CMD[@]}" >"$qlog" 2>&1 &
        QS_PID=$!
        rc=0; wait "$QS_PID" || rc=$?
        QS_PID=""
        alpha=$(pair_pid "$dir" alpha); bravo=$(pair_pid "$dir" bravo)
        [ "$rc" = 0 ] && [ -n "$alpha" ] && [ -n "$bravo" ] && break
        log "pair $proto did not start on ports $nbd_port/$repl_port (attempt $attempt, exit $rc):"
        tail -n 5 "$qlog" "$dir"/alpha.log "$dir"/bravo.log 2>/dev/null | sed 's/^/    /' >&2 || true
        stop_pair "$dir"
        mv "$dir" "$dir.failed-$attempt" 2>/dev/null || true
        mv "$qlog" "$dir.failed-$attempt.quickstart.log" 2>/dev/null || true
        alpha="" bravo=""
    done
    [ -n "$alpha" ] && [ -n "$bravo" ] || die "could not start pair $proto (logs in $WORK)"
    uri=nbd://127.0.0.1:$nbd_port/r0
    wait_nbdinfo "$uri" "$alpha" "pair $proto (alpha)" "$dir/alpha.log"
    log "pair $proto: alpha pid $alpha at $uri, bravo pid $bravo"
    SRV_URI[pair$proto]=$uri SRV_PIDS[pair$proto]="$alpha $bravo"

    PREWRITE_CMD=(fio --name=prewrite --ioengine=nbd --uri="$uri" --rw=write --bs=1m --iodepth=4
        --numjobs=1 --size="$SIZE_BYTES" --output-format=json --output="$dir.prewrite.json")
    log "pair $proto: pre-writing ${SIZE_MIB} MiB through NBD"
    "${PREWRITE_CMD[@]}" &
    FIO_PID=$!
    wait "$FIO_PID" || die "fio pre-write failed on pair $proto"
    FIO_PID=""
    for ((i = 0; i < 1200; i++)); do
        [ "$(allocated_bytes "$dir/r0-alpha.img")" -ge "$SIZE_BYTES" ] \
            && [ "$(allocated_bytes "$dir/r0-bravo.img")" -ge "$SIZE_BYTES" ] && break
        kill -0 "$alpha" 2>/dev/null && kill -0 "$bravo" 2>/dev/null || die "pair $proto: a daemon died during the pre-write"
        sleep 0.1
    done
    [ "$i" -lt 1200 ] || log "pair $proto: backing files not fully allocated 120 s after the pre-write" \
        "($(allocated_bytes "$dir/r0-alpha.img") and $(allocated_bytes "$dir/r0-bravo.img") of $SIZE_BYTES bytes); running anyway"
}

# Phases 2 and 3: one pair at a time.
for proto in A C; do
    start_pair "$proto"
    run_rows "pair$proto"
    read -r alpha bravo <<<"${SRV_PIDS[pair$proto]}"
    record_resources "pair$proto:alpha" "$alpha"
    record_resources "pair$proto:bravo" "$bravo"
    stop_pair "$WORK/pair-$proto"
done
log "all rows done in $(( $(date +%s) - T_START )) s"

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
BENCH_QS_CMD=$(redact "$JRBD quickstart --dir $WORK/pair-\$P --size ${SIZE_MIB}M --protocol \$P --port \$PORT --replication-port \$REPLPORT")
BENCH_QS_STOP_CMD=$(redact "$JRBD quickstart --dir $WORK/pair-\$P --stop")
BENCH_PREWRITE_CMD=$(redact "${PREWRITE_CMD[*]}" | sed -e 's|nbd://127\.0\.0\.1:[0-9]*/|nbd://127.0.0.1:$PORT/|' -e 's|pair-[AC]\.|pair-$P.|')
fio_cmd 'nbd://127.0.0.1:$PORT/$EXPORT' '$ROW' '$RW' '$BS' '$QD' '$WORK/$ROW-$SERVER.json'
BENCH_FIO_CMD="${FIO_CMD[*]}"
BENCH_RUNTIME=$RUNTIME BENCH_RAMP=$RAMP BENCH_SIZE_MIB=$SIZE_MIB BENCH_CLK_TCK=$CLK_TCK BENCH_QUICK=$QUICK
export BENCH_QS_CMD BENCH_QS_STOP_CMD BENCH_PREWRITE_CMD

SECTION=$WORK/section.md
python3 - "$RESULTS" "$RESOURCES" "$SECTION" <<'PY'
import json, os, sys

results_path, resources_path, section_path = sys.argv[1:4]
E = os.environ
tck = float(E["BENCH_CLK_TCK"])
LABEL = {"nbdkit": "nbdkit", "jrbd": "jrbd serve", "pairA": "jrbd 2 nodes, A", "pairC": "jrbd 2 nodes, C"}
ORDER = list(LABEL)

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
def servers(per): return [s for s in ORDER if s in per]

out = []
out.append(f"Run: {E['BENCH_DATE']}" + (" (`--quick` smoke run: too short to quote)" if E["BENCH_QUICK"] == "1" else ""))
out.append("")
out.append(f"- Machine: {E['BENCH_NPROC']} CPUs ({E['BENCH_CPU']}), {E['BENCH_MEM']} memory, {E['BENCH_KERNEL']}")
out.append(f"- Work directory file system: {E['BENCH_FSTYPE']}; backing files {E['BENCH_SIZE_MIB']} MiB each: nbdkit's and "
           "jrbd serve's fully written with random data (dd) before the servers start, a two-node pair's device fully "
           "written through NBD (fio, 1 MiB sequential) after it starts, until both nodes' files are fully allocated")
out.append(f"- {E['BENCH_JAVA']}; jrbd {E['BENCH_JRBD_REV']}" + (f"; JRBD_JAVA_OPTS=`{E['BENCH_JAVA_OPTS']}`" if E["BENCH_JAVA_OPTS"] else ""))
out.append(f"- {E['BENCH_FIO']}; {E['BENCH_NBDKIT']}")
out.append(f"- {E['BENCH_RUNTIME']} s measured per row and server after {E['BENCH_RAMP']} s ramp, with `sync` before every fio run. "
           "Phase 1: nbdkit and jrbd serve up side by side, each row on nbdkit then on jrbd serve; both stopped. "
           "Phase 2: the protocol A pair (daemons alpha and bravo on 127.0.0.1, fio on alpha) started, all rows, stopped. "
           "Phase 3: the protocol C pair likewise")
out.append("")
out.append("Commands (`$WORK` is the work directory, `$PORT` the server's (alpha's) NBD port, `$REPLPORT` alpha's replication "
           "port (bravo uses the next ports), `$P` the protocol, `$EXPORT` empty for nbdkit and jrbd serve, `r0` for a pair):")
out.append("")
out.append("```sh")
out.append(E["BENCH_NBDKIT_CMD"])
out.append(E["BENCH_JRBD_CMD"])
out.append(E["BENCH_QS_CMD"])
out.append(E["BENCH_PREWRITE_CMD"])
out.append(E["BENCH_FIO_CMD"])
out.append(E["BENCH_QS_STOP_CMD"])
out.append("```")
out.append("")
out.append("Latencies are fio's total per-request latencies (`lat`: submission to completion, `--lat_percentiles=1`) "
           "in µs; with the nbd engine `clat` alone is misleading because fio's submission (slat) already includes "
           "sending the request, and sometimes reading the reply. Server CPU is the server process's utime+stime "
           "during the fio run divided by its wall time (100% = one core; for a pair, alpha's and bravo's together); "
           "fio CPU is fio's own usr+sys; "
           f"host CPU is all CPUs' busy time from /proc/stat over the same interval (at most {100 * int(E['BENCH_NPROC'])}%), "
           "and rest = host - server - fio (kernel work not charged to either process, and any other process on the machine; "
           "before each run the script waits for the machine to be idle). With protocol A, bravo may still be writing "
           "after fio ends; that work is charged to the row only as far as it falls within the run.")
out.append("")
out.append("| Row | rw | bs | iodepth | Server | IOPS | MiB/s | p50 µs | p99 µs | server CPU | fio CPU | host CPU | rest |")
out.append("|---|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for name, rw, bs, qd, per in rows:
    for srv in servers(per):
        m = per[srv]
        out.append(f"| {name} | {rw} | {bs} | {qd} | {LABEL[srv]} | {f0(m['iops'])} | {f1(m['mibs'])} | "
                   f"{f1(m['p50'])} | {f1(m['p99'])} | {m['srv_cpu']:.0f}% | {m['fio_cpu']:.0f}% | {m['host_cpu']:.0f}% | {m['rest_cpu']:.0f}% |")
out.append("")
out.append("Ratios of each jrbd variant to nbdkit and, for the two-node rows, to jrbd serve (the MiB/s ratio equals the "
           "IOPS ratio: same block size). Goal for jrbd serve: IOPS and MiB/s at least 0.90 of nbdkit's on every row, "
           "p50 at iodepth 1 at most 1.20; the two-node rows have no numeric goal:")
out.append("")
out.append("| Row | jrbd | IOPS / nbdkit | p50 / nbdkit | p99 / nbdkit | IOPS / serve | p50 / serve | p99 / serve | goal |")
out.append("|---|---|---:|---:|---:|---:|---:|---:|---|")
for name, rw, bs, qd, per in rows:
    base, serve = per.get("nbdkit"), per.get("jrbd")
    for srv in servers(per):
        if srv == "nbdkit":
            continue
        a = per[srv]
        cells = [f"{ratio(a[k], base[k]):.2f}" if base else "–" for k in ("iops", "p50", "p99")]
        if srv == "jrbd":
            cells += ["", "", ""]
            ri, rb, r50 = ratio(a["iops"], base["iops"]), ratio(a["mibs"], base["mibs"]), ratio(a["p50"], base["p50"])
            goal = "met" if ri >= 0.9 and rb >= 0.9 and (qd != "1" or r50 <= 1.2) else "**missed**"
        else:
            cells += [f"{ratio(a[k], serve[k]):.2f}" if serve else "–" for k in ("iops", "p50", "p99")]
            goal = ""
        out.append(f"| {name} | {LABEL[srv].replace('jrbd ', '')} | " + " | ".join(cells) + f" | {goal} |")
out.append("")
out.append("Server resources at the end of each server's phase (after its rows, before it is stopped); a pair's CPU time "
           "includes its start-up, initial sync and pre-write:")
out.append("")
out.append("| Server | peak RSS (VmHWM) | RSS at end | CPU time (utime+stime) | threads at end |")
out.append("|---|---:|---:|---:|---:|")
for line in open(resources_path):
    srv, hwm, rss, ticks, threads = line.rstrip("\n").split("\t")
    srv, _, node = srv.partition(":")
    label = LABEL[srv] + (f": {node} ({'Primary' if node == 'alpha' else 'Secondary'})" if node else "")
    out.append(f"| {label} | {int(hwm) / 1024:.0f} MiB | {int(rss) / 1024:.0f} MiB | {int(ticks) / tck:.1f} s | {threads} |")
errs = [(n, s) for n, _, _, _, per in rows for s, m in per.items() if m["errors"]]
if errs:
    out.append("")
    out.append("fio reported errors on: " + ", ".join(f"{n}/{LABEL[s]}" for n, s in errs))
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
