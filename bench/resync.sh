#!/usr/bin/env bash
# resync.sh: how fast a jrbd pair resynchronizes, compared with the disk's own copy speed,
# and what a resync costs the application, in one run on one file system:
#   1. baseline: `dd bs=1M oflag=direct` of a file of random data to a new file on the same
#      file system (after a `sync`), and, for reference, the same copy buffered with a
#      closing fdatasync;
#   2. full resync: a two-node pair (daemons alpha and bravo on 127.0.0.1, protocol C,
#      journal off so every reconnect is a bitmap resync) whose rate controller never
#      throttles (c-max-rate = c-min-rate = resync-rate = 4G); both nodes disconnect, the
#      whole device is written with random data on alpha (the Primary) through NBD, both
#      reconnect, and the time from the connect until bravo is UpToDate is measured;
#   3. 1% dirty: the same pair, 1% of the device written as scattered 64 KiB random writes
#      while disconnected, then reconnected and timed the same way;
#   4. application latency: the pair restarted with DRBD-like controller settings
#      (c-max-rate 100M, c-min-rate 4M), fio 4k random writes at iodepth 1 on alpha while
#      idle (after an unreported warm-up run), then again while a resync of the whole
#      device runs.
# The connects are sent and the status is polled (every 100 ms) over the daemons' control
# sockets, with the same JSON requests jrbdadm sends, so that no JVM start-up is timed.
# It writes a markdown section (date, machine, settings, results, goal checks) between the
# markers
#   <!-- resync:begin -->  and  <!-- resync:end -->
# of the output file (default docs/benchmarks.md), replacing only that section.
#
# Usage: bench/resync.sh [--dir DIR] [--size SIZE] [--runtime SECONDS] [--quick]
#                        [--output FILE] [--keep]
# Needs: fio (with the nbd ioengine), nbdinfo (libnbd-bin), python3, dd, cmp, a built jrbd
# (mvn -B -q package -DskipTests).
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
REPO=$(cd "$SCRIPT_DIR/.." && pwd)
JRBD=${JRBD:-$REPO/bin/jrbd}
JRBDADM=${JRBDADM:-$(dirname "$JRBD")/jrbdadm}

usage() {
    cat <<EOF
Usage: $0 [options]
  --dir DIR          parent of the work directory (default: /var/tmp); a fresh
                     sub-directory is created there and removed at exit. Must not be tmpfs.
  --size SIZE        device size and size of the dd baseline file, e.g. 1G, 512M
                     (default: 1G)
  --runtime SECONDS  length of each fio latency run (default: 10)
  --quick            size 128M, runtime 3 s, at most 1 s waiting for an idle machine
                     (CI smoke run, under a minute; its numbers are not results)
  --output FILE      markdown file whose resync section is (re)written
                     (default: $REPO/docs/benchmarks.md)
  --keep             keep the work directory (configurations, logs, samples, fio JSON)
  -h, --help         this help
Environment: JRBD (path to bin/jrbd, default $REPO/bin/jrbd), JRBDADM (default: next to
JRBD), JRBD_JAVA_OPTS (passed to the daemons).
EOF
}

die() { echo "resync: $*" >&2; exit 1; }
log() { echo "resync: [${SECONDS}s] $*" >&2; }

PARENT_DIR=/var/tmp
SIZE_ARG=1G
RUNTIME=10
QUICK=0
OUTPUT=$REPO/docs/benchmarks.md
KEEP=0
SIZE_SET=0 RUNTIME_SET=0

while [ $# -gt 0 ]; do
    case "$1" in
        --dir) PARENT_DIR=${2:?--dir needs a value}; shift 2 ;;
        --dir=*) PARENT_DIR=${1#*=}; shift ;;
        --size) SIZE_ARG=${2:?--size needs a value}; SIZE_SET=1; shift 2 ;;
        --size=*) SIZE_ARG=${1#*=}; SIZE_SET=1; shift ;;
        --runtime) RUNTIME=${2:?--runtime needs a value}; RUNTIME_SET=1; shift 2 ;;
        --runtime=*) RUNTIME=${1#*=}; RUNTIME_SET=1; shift ;;
        --quick) QUICK=1; shift ;;
        --output) OUTPUT=${2:?--output needs a value}; shift 2 ;;
        --output=*) OUTPUT=${1#*=}; shift ;;
        --keep) KEEP=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $1" ;;
    esac
done
if [ "$QUICK" = 1 ]; then
    [ "$SIZE_SET" = 1 ] || SIZE_ARG=128M
    [ "$RUNTIME_SET" = 1 ] || RUNTIME=3
fi
# wait_quiet's limit, in 0.5 s samples: 60 s normally, 1 s for a smoke run.
QUIET_SAMPLES=120
[ "$QUICK" = 1 ] && QUIET_SAMPLES=2
[[ "$RUNTIME" =~ ^[1-9][0-9]*$ ]] || die "--runtime must be a positive integer: $RUNTIME"

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
# 1% of the device, in whole 64 KiB writes.
DIRTY_BLOCK=65536
DIRTY_BYTES=$(( SIZE_BYTES / 100 / DIRTY_BLOCK * DIRTY_BLOCK ))

for cmd in fio nbdinfo python3 dd cmp sync stat timeout df; do
    command -v "$cmd" >/dev/null 2>&1 || die "$cmd not found"
done
[ -x "$JRBD" ] || die "$JRBD not found or not executable"
[ -x "$JRBDADM" ] || die "$JRBDADM not found or not executable"
fio --enghelp=nbd >/dev/null 2>&1 || die "this fio has no nbd ioengine"

# ---------------------------------------------------------------------------------------
# Work directory (never on tmpfs: the baseline is the disk's speed).
[ -d "$PARENT_DIR" ] || die "--dir $PARENT_DIR is not a directory"
fstype_of() { df --output=fstype "$1" 2>/dev/null | tail -n 1 | tr -d ' '; }
PARENT_FSTYPE=$(fstype_of "$PARENT_DIR")
case "$PARENT_FSTYPE" in
    tmpfs|ramfs) die "$PARENT_DIR is on $PARENT_FSTYPE; pass --dir on a disk-backed file system" ;;
esac

WORK=""
FIO_PID=""
CTL_PID=""           # a running ctl.py resync watcher
declare -A DAEMON_PID=()  # node -> pid of its `jrbd daemon` (bin/jrbd execs java: the JVM)

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

stop_daemons() {  # both at once: SIGTERM, up to 15 s, then SIGKILL (by stop_pid)
    local node
    for node in "${!DAEMON_PID[@]}"; do kill -TERM "${DAEMON_PID[$node]}" 2>/dev/null || true; done
    for node in "${!DAEMON_PID[@]}"; do stop_pid "${DAEMON_PID[$node]}" "jrbd daemon $node"; done
    DAEMON_PID=()
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_pid "$FIO_PID" fio
    stop_pid "$CTL_PID" "status poller"
    stop_daemons
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

WORK=$(mktemp -d "$PARENT_DIR/resync.XXXXXX")
WORK_FSTYPE=$(fstype_of "$WORK")
log "work directory $WORK ($WORK_FSTYPE), ${SIZE_MIB} MiB device, ${RUNTIME} s per fio run"
T_START=$(date +%s)
RESULTS=$WORK/results.env   # KEY=VALUE lines read by the report
: >"$RESULTS"
result() { printf '%s=%s\n' "$1" "$2" >>"$RESULTS"; }
now() { date +%s.%N; }
elapsed() { python3 -c "print(f'{$2 - $1:.3f}')"; }

CLK_TCK=$(getconf CLK_TCK)
NPROC=$(nproc)
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
# Before the idle fio run and each timed resync, wait (up to 60 s, 1 s with --quick) until
# the CPUs have been nearly idle (< 25% of one core busy) for half a second.
wait_quiet() {
    local i b0 t0 b1 t1
    QUIET_COUNT=$((QUIET_COUNT + 1))
    for ((i = 0; i < QUIET_SAMPLES; i++)); do
        read -r b0 t0 < <(host_cpu); sleep 0.5; read -r b1 t1 < <(host_cpu)
        [ $(( (b1 - b0) * 100 * NPROC )) -lt $(( 25 * (t1 - t0 > 0 ? t1 - t0 : 1) )) ] && return 0
    done
    log "machine still busy after $((QUIET_SAMPLES / 2)) s; running anyway"
    BUSY_COUNT=$((BUSY_COUNT + 1))
}
BUSY_COUNT=0 QUIET_COUNT=0
allocated_bytes() { stat -c '%b %B' "$1" | awk '{ printf "%.0f\n", $1 * $2 }'; }

# ---------------------------------------------------------------------------------------
# 1. Baseline: the file system's own copy speed, same size, random data.
DD_SRC=$WORK/dd-src.img
DD_DST=$WORK/dd-dst.img
log "baseline: writing ${SIZE_MIB} MiB of random data"
dd if=/dev/urandom of="$DD_SRC" bs=1M count="$SIZE_MIB" conv=fsync status=none
DD_DIRECT_CMD=(dd if="$DD_SRC" of="$DD_DST" bs=1M oflag=direct conv=fsync status=none)
sync
wait_quiet
log "baseline: ${DD_DIRECT_CMD[*]}"
t0=$(now); "${DD_DIRECT_CMD[@]}"; t1=$(now)
result dd_direct_s "$(elapsed "$t0" "$t1")"
rm -f -- "$DD_DST"
DD_BUFFERED_CMD=(dd if="$DD_SRC" of="$DD_DST" bs=1M conv=fdatasync status=none)
sync
wait_quiet
log "baseline: ${DD_BUFFERED_CMD[*]}"
t0=$(now); "${DD_BUFFERED_CMD[@]}"; t1=$(now)
result dd_buffered_s "$(elapsed "$t0" "$t1")"
rm -f -- "$DD_SRC" "$DD_DST"
sync

# ---------------------------------------------------------------------------------------
# The control-socket client: status, connect, and the timed resync watcher.
CTL=$WORK/ctl.py
cat >"$CTL" <<'PY'
"""jrbd's control socket (one JSON object per line, as jrbdadm speaks it) for resync.sh.

  ctl.py status SOCK                      r0's status object, as `jrbdadm status --json r0` prints it
  ctl.py resync ALPHA BRAVO SAMPLES STARTED TIMEOUT
      connect r0 on bravo, then on alpha (t = 0 just before alpha's connect); poll both every
      100 ms, one TSV line per poll in SAMPLES; create STARTED when alpha reports a resync;
      exit 0 once alpha is Connected with bravo UpToDate and nothing out of sync, and bravo
      says UpToDate; prints the seconds from t = 0 to that poll.
"""
import json, socket, sys, time

class Ctl:
    def __init__(self, path):
        self.path, self.sock, self.buf = path, None, b""

    def call(self, command, resource="r0", args=None):
        if self.sock is None:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.connect(self.path)
            self.buf = b""
        req = {"command": command, "resource": resource, "args": args or {}}
        self.sock.sendall((json.dumps(req) + "\n").encode())
        while True:
            while b"\n" not in self.buf:
                chunk = self.sock.recv(65536)
                if not chunk:
                    self.sock.close(); self.sock = None
                    raise ConnectionError(f"{self.path} closed the connection during '{command}'")
                self.buf += chunk
            line, self.buf = self.buf.split(b"\n", 1)
            if not line.strip():
                continue
            reply = json.loads(line)
            if "event" in reply and len(reply) == 1:
                continue
            if not reply.get("ok"):
                raise RuntimeError(f"'{command}' on {self.path}: {reply.get('error')}")
            return reply.get("result")

    def status(self):
        return self.call("status")[0]

def main():
    mode = sys.argv[1]
    if mode == "status":
        print(json.dumps(Ctl(sys.argv[2]).status()))
        return
    assert mode == "resync", mode
    alpha, bravo = Ctl(sys.argv[2]), Ctl(sys.argv[3])
    samples_path, started_path, timeout = sys.argv[4], sys.argv[5], float(sys.argv[6])
    bravo.call("connect")
    t0 = time.time()
    alpha.call("connect")
    started = False
    with open(samples_path, "w") as out:
        out.write(f"# t0\t{t0:.6f}\n")
        while True:
            t = time.time()
            a, b = alpha.status(), bravo.status()
            r = a.get("resync") or {}
            conn = a.get("connection", "")
            peer = (a.get("peer") or {}).get("disk", "")
            oos = a.get("outOfSyncBytes", -1)
            out.write("\t".join(str(x) for x in (f"{t:.6f}", f"{t - t0:.3f}", conn, peer, oos,
                      r.get("doneBytes", ""), r.get("totalBytes", ""), r.get("bytesPerSecond", ""),
                      b.get("connection", ""), b.get("disk", ""))) + "\n")
            out.flush()
            if not started and (r or conn.startswith("Sync") or conn.startswith("PausedSync")):
                started = True
                open(started_path, "w").write(f"{t:.6f}\n")
            if conn == "Connected" and peer == "UpToDate" and oos == 0 and b.get("disk") == "UpToDate":
                print(f"{t - t0:.3f}")
                return
            if t - t0 > timeout:
                sys.exit(f"no UpToDate peer {timeout:.0f} s after the connect; last: alpha {a} bravo {b}")
            time.sleep(max(0.0, 0.1 - (time.time() - t)))

main()
PY

# ---------------------------------------------------------------------------------------
# The pair: two daemons on this machine, configuration in $WORK/NODE/r0.toml.
PAIR=$WORK/pair
DISK_FAST=$'c-max-rate = "4G"\nc-min-rate = "4G"\nresync-rate = "4G"'
DISK_DRBD=$'c-max-rate = "100M"\nc-min-rate = "4M"\nresync-rate = "250K"\nc-plan-ahead = "2s"\nc-fill-target = "0"'
declare -A PORT_REPL=() PORT_NBD=()

free_ports() {  # four distinct ports free on 127.0.0.1 just now
    python3 - <<'PY'
import socket
held = []
for _ in range(4):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); held.append(s)
print(*[s.getsockname()[1] for s in held])
for s in held: s.close()
PY
}

write_config() {  # write_config DISK_TABLE: both nodes' r0.toml
    local disk=$1 node other
    for node in alpha bravo; do
        mkdir -p "$PAIR/$node"
        {
            printf '[resource]\nname = "r0"\nsize = "%s"\nprotocol = "C"\n\n' "$SIZE_BYTES"
            printf '[net]\nshared-secret = "resync-bench-0123456789"\njournal-size = "0"\n\n'
            printf '[disk]\n%s\n\n' "$disk"
            for other in alpha bravo; do
                printf '[nodes.%s]\nreplication = "127.0.0.1:%s"\nnbd = "127.0.0.1:%s"\n' \
                    "$other" "${PORT_REPL[$other]}" "${PORT_NBD[$other]}"
                printf 'disk = "%s"\nmeta-disk = "%s"\ncontrol-socket = "%s"\n\n' \
                    "$PAIR/r0-$other.img" "$PAIR/r0-$other.md" "$PAIR/$other.sock"
            done
        } >"$PAIR/$node/r0.toml"
    done
}

adm() {  # adm NODE ARGS...: jrbdadm for NODE, output to the pair's admin log
    local node=$1; shift
    echo "\$ jrbdadm --node $node $*" >>"$PAIR/adm.log"
    timeout 300 "$JRBDADM" -c "$PAIR/$node" --node "$node" "$@" >>"$PAIR/adm.log" 2>&1
}

start_daemon() {  # start_daemon NODE: start it, wait for its control socket
    local node=$1 logf=$PAIR/$1.log i start=0
    [ -f "$logf" ] && start=$(stat -c %s "$logf")
    "$JRBD" daemon -c "$PAIR/$node" --node "$node" >>"$logf" 2>&1 </dev/null &
    DAEMON_PID[$node]=$!
    for ((i = 0; i < 600; i++)); do
        kill -0 "${DAEMON_PID[$node]}" 2>/dev/null || { tail -n 20 "$logf" >&2; return 1; }
        if tail -c +"$((start + 1))" "$logf" | grep -q "running as node $node" \
            && python3 "$CTL" status "$PAIR/$node.sock" >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.1
    done
    tail -n 20 "$logf" >&2
    die "jrbd daemon $node did not answer on its control socket within 60 s"
}

status_field() {  # status_field NODE PYTHON-EXPRESSION-OF-s
    python3 "$CTL" status "$PAIR/$1.sock" | python3 -c "import json, sys; s = json.load(sys.stdin); print($2)"
}

wait_status() {  # wait_status NODE PYTHON-CONDITION-OF-s SECONDS WHAT
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        [ "$(status_field "$1" "bool($2)" 2>/dev/null)" = True ] && return 0
        sleep 0.1
    done
    python3 "$CTL" status "$PAIR/$1.sock" >&2 || true
    die "timed out after $3 s waiting for $4 on $1"
}

# start_pair: fresh metadata, both daemons up, alpha Primary (--force), initial sync done.
# bravo comes up first: alpha (whose name sorts first) opens the connection, and retries only
# every connect-interval (10 s) if bravo is not listening yet.
# Retries on other ports if a daemon cannot start (a port taken meanwhile).
start_pair() {
    local attempt ok=0
    for attempt in 1 2 3; do
        rm -rf -- "$PAIR"; mkdir -p "$PAIR"
        read -r 'PORT_REPL[alpha]' 'PORT_NBD[alpha]' 'PORT_REPL[bravo]' 'PORT_NBD[bravo]' < <(free_ports)
        write_config "$DISK_FAST"
        adm alpha create-md r0 && adm bravo create-md r0 || die "create-md failed; see $PAIR/adm.log"
        if start_daemon alpha && start_daemon bravo && adm bravo up r0 && adm alpha up r0 \
            && adm alpha wait-connect --timeout 30 r0; then
            ok=1; break
        fi
        log "pair did not start (attempt $attempt); see logs in $PAIR"
        stop_daemons
        [ "$KEEP" = 1 ] && mv "$PAIR" "$PAIR.failed-$attempt"
    done
    [ "$ok" = 1 ] || die "could not start the pair"
    adm alpha primary --force r0 || die "primary --force failed; see $PAIR/adm.log"
    adm alpha wait-sync --timeout 300 r0 || die "initial sync did not finish; see $PAIR/adm.log"
    wait_status bravo 's["disk"] == "UpToDate"' 60 "UpToDate after the initial sync"
    URI=nbd://127.0.0.1:${PORT_NBD[alpha]}/r0
    nbdinfo --size "$URI" | grep -qx "$SIZE_BYTES" || die "alpha's export $URI does not have $SIZE_BYTES bytes"
    log "pair up: alpha pid ${DAEMON_PID[alpha]} (Primary, $URI), bravo pid ${DAEMON_PID[bravo]}"
}

run_fio() {  # run_fio FIO-COMMAND...: in the background (so a signal reaches the trap at once)
    "$@" &
    FIO_PID=$!
    wait "$FIO_PID" || die "fio failed: $*"
    FIO_PID=""
}

disconnect_both() {
    adm alpha disconnect r0 && adm bravo disconnect r0 || die "disconnect failed; see $PAIR/adm.log"
    wait_status alpha 's["degraded"]' 30 "StandAlone"
}

# begin_resync NAME: reconnect (in the background), recording samples in $WORK/NAME.samples;
# sets CTL_PID. The caller waits with finish_resync NAME.
begin_resync() {
    local name=$1
    rm -f -- "$WORK/$name.started"
    LOG_MARK=$(stat -c %s "$PAIR/alpha.log")
    BRAVO_LOG_MARK=$(stat -c %s "$PAIR/bravo.log")
    python3 "$CTL" resync "$PAIR/alpha.sock" "$PAIR/bravo.sock" "$WORK/$name.samples" \
        "$WORK/$name.started" 900 >"$WORK/$name.seconds" 2>"$WORK/$name.err" &
    CTL_PID=$!
}
finish_resync() {  # finish_resync NAME: wait for the watcher, then record what the logs say about it
    local name=$1 line alpha_log bravo_log
    wait "$CTL_PID" || { cat "$WORK/$name.err" >&2; die "resync $name did not finish"; }
    CTL_PID=""
    result "${name}_s" "$(cat "$WORK/$name.seconds")"
    alpha_log=$WORK/$name.alpha.log bravo_log=$WORK/$name.bravo.log
    tail -c +"$((LOG_MARK + 1))" "$PAIR/alpha.log" >"$alpha_log"
    tail -c +"$((BRAVO_LOG_MARK + 1))" "$PAIR/bravo.log" >"$bravo_log"
    # The first start line: the whole dirty set, and (ms timestamp) when alpha began sending.
    line=$(grep 'resync to the peer: [0-9]* bytes out of sync' "$alpha_log" | head -n 1 || true)
    result "${name}_logged_bytes" "$(grep -o 'peer: [0-9]*' <<<"$line" | grep -o '[0-9][0-9]*' || echo -1)"
    result "${name}_log_start" "${line%% *}"
    result "${name}_passes" "$(grep -c 'resync to the peer: [0-9]* bytes out of sync' "$alpha_log" || true)"
    line=$(grep -o 'resync queued to the peer in full: .*' "$alpha_log" | tail -n 1 || true)
    result "${name}_queued" "\"$line\""
    # When bravo declared itself UpToDate (finer than the 100 ms polls).
    line=$(grep 'resync from alpha finished: disk UpToDate' "$bravo_log" | tail -n 1 || true)
    result "${name}_log_end" "${line%% *}"
    # Connections lost while the resync ran, and the first reason bravo gives.
    result "${name}_losses" "$(grep -c 'connection to alpha lost' "$bravo_log" || true)"
    line=$(grep -o 'connection to alpha lost (session [0-9]*): .*' "$bravo_log" | head -n 1 || true)
    result "${name}_loss_reason" "\"${line#*): }\""
}

# ---------------------------------------------------------------------------------------
# 2. Full resync of a device full of random data.
start_pair
disconnect_both
fill_cmd() {  # fill_cmd OUTFILE -> WRITE_CMD: the whole device, 1 MiB sequential writes of random data
    WRITE_CMD=(fio --name=fill --ioengine=nbd --uri="$URI" --rw=write --bs=1m --iodepth=4 --numjobs=1
        --size="$SIZE_BYTES" --refill_buffers --end_fsync=1 --output="$1")
}
fill_cmd "$WORK/fill.txt"
log "full: writing ${SIZE_MIB} MiB of random data on alpha while disconnected"
run_fio "${WRITE_CMD[@]}"
oos=$(status_field alpha 's["outOfSyncBytes"]')
[ "$oos" = "$SIZE_BYTES" ] || die "after writing the whole device alpha has $oos bytes out of sync, expected $SIZE_BYTES"
result full_oos "$oos"
sync
wait_quiet
log "full: reconnecting, timing until bravo is UpToDate"
read -r h0busy h0total < <(host_cpu)
c0a=$(cpu_ticks "${DAEMON_PID[alpha]}"); c0b=$(cpu_ticks "${DAEMON_PID[bravo]}")
begin_resync full
finish_resync full
c1a=$(cpu_ticks "${DAEMON_PID[alpha]}"); c1b=$(cpu_ticks "${DAEMON_PID[bravo]}")
read -r h1busy h1total < <(host_cpu)
result full_cpu_alpha_s "$(python3 -c "print(($c1a - $c0a) / $CLK_TCK)")"
result full_cpu_bravo_s "$(python3 -c "print(($c1b - $c0b) / $CLK_TCK)")"
result full_host_cpu_pct "$(python3 -c "print(100.0 * $NPROC * ($h1busy - $h0busy) / max(1, $h1total - $h0total))")"
result full_bravo_allocated "$(allocated_bytes "$PAIR/r0-bravo.img")"
log "full: $(grep '^full_s=' "$RESULTS" | cut -d= -f2) s"

# ---------------------------------------------------------------------------------------
# 3. 1% dirty: scattered 64 KiB random writes (each block once), then a bitmap resync.
disconnect_both
DIRTY_CMD=(fio --name=dirty --ioengine=nbd --uri="$URI" --rw=randwrite --bs=64k --iodepth=4 --numjobs=1
    --size="$SIZE_BYTES" --io_size="$DIRTY_BYTES" --randrepeat=0 --refill_buffers --end_fsync=1
    --output="$WORK/dirty.txt")
log "1%: writing $DIRTY_BYTES bytes in 64 KiB random writes on alpha while disconnected"
run_fio "${DIRTY_CMD[@]}"
result dirty_oos "$(status_field alpha 's["outOfSyncBytes"]')"
sync
wait_quiet
log "1%: reconnecting, timing until bravo is UpToDate"
begin_resync dirty
finish_resync dirty
log "1%: $(grep '^dirty_s=' "$RESULTS" | cut -d= -f2) s"
adm alpha wait-sync --timeout 60 r0 || die "wait-sync after the 1% resync failed"
if cmp -s "$PAIR/r0-alpha.img" "$PAIR/r0-bravo.img"; then result stores_identical yes; else result stores_identical NO; fi

# ---------------------------------------------------------------------------------------
# 4. Application latency while idle and during a resync, DRBD-like controller settings:
#    restart both daemons with the new [disk] table (same data, same ports).
log "latency: restarting the pair with c-max-rate 100M, c-min-rate 4M"
stop_daemons
write_config "$DISK_DRBD"
start_daemon alpha || die "alpha did not restart"
start_daemon bravo || die "bravo did not restart"
adm bravo up r0 && adm alpha up r0 || die "up failed after the restart; see $PAIR/adm.log"
adm alpha wait-connect --timeout 60 r0 || die "the pair did not reconnect after the restart"
adm alpha primary r0 || die "primary failed after the restart; see $PAIR/adm.log"
adm alpha wait-sync --timeout 60 r0 || die "the pair is not in sync after the restart"
nbdinfo --size "$URI" >/dev/null || die "alpha's export $URI does not answer after the restart"

fio_lat() {  # fio_lat NAME [RUNTIME]: 4k random writes at iodepth 1 on alpha; records the CPU used meanwhile
    local h0busy h0total h1busy h1total c0 c1 t0 t1
    LAT_CMD=(fio --name="$1" --ioengine=nbd --uri="$URI" --rw=randwrite --bs=4k --iodepth=1 --numjobs=1
        --time_based --runtime="${2:-$RUNTIME}" --norandommap --randrepeat=0 --lat_percentiles=1
        --output-format=json --output="$WORK/$1.json")
    read -r h0busy h0total < <(host_cpu)
    c0=$(( $(cpu_ticks "${DAEMON_PID[alpha]}") + $(cpu_ticks "${DAEMON_PID[bravo]}") )); t0=$(now)
    run_fio "${LAT_CMD[@]}"
    t1=$(now); c1=$(( $(cpu_ticks "${DAEMON_PID[alpha]}") + $(cpu_ticks "${DAEMON_PID[bravo]}") ))
    read -r h1busy h1total < <(host_cpu)
    result "${1//-/_}_daemons_cpu_pct" "$(python3 -c "print(100.0 * ($c1 - $c0) / $CLK_TCK / ($t1 - $t0))")"
    result "${1//-/_}_host_cpu_pct" "$(python3 -c "print(100.0 * $NPROC * ($h1busy - $h0busy) / max(1, $h1total - $h0total))")"
}
# The daemons were just restarted: a warm-up run (not reported) lets the JIT compile the write
# path first, so that the idle run does not measure a cold JVM against a warm one.
WARMUP=5
[ "$QUICK" = 1 ] && WARMUP=1
log "latency: fio ${WARMUP} s warm-up"
fio_lat lat-warmup "$WARMUP"
sync
wait_quiet
log "latency: fio ${RUNTIME} s idle"
fio_lat lat-idle

disconnect_both
log "latency: writing the whole device on alpha while disconnected (the resync's dirty set)"
fill_cmd "$WORK/fill-lat.txt"
run_fio "${WRITE_CMD[@]}"
result lat_oos "$(status_field alpha 's["outOfSyncBytes"]')"
sync
wait_quiet
begin_resync lat
for ((i = 0; i < 300; i++)); do
    [ -f "$WORK/lat.started" ] && break
    kill -0 "$CTL_PID" 2>/dev/null || { cat "$WORK/lat.err" >&2; die "the resync watcher exited before a resync started"; }
    sleep 0.05
done
[ -f "$WORK/lat.started" ] || die "no resync started within 15 s of the connect"
log "latency: fio ${RUNTIME} s during the resync"
FIO_T0=$(now)
fio_lat lat-resync
FIO_T1=$(now)
result fio_t0 "$FIO_T0"
result fio_t1 "$FIO_T1"
finish_resync lat
log "latency: resync finished $(grep '^lat_s=' "$RESULTS" | cut -d= -f2) s after the connect"
log "all measurements done in $(( $(date +%s) - T_START )) s"
result busy_count "$BUSY_COUNT"
result quiet_count "$QUIET_COUNT"
stop_daemons

# ---------------------------------------------------------------------------------------
# Report.
JAVA_BIN=java
if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then JAVA_BIN=$JAVA_HOME/bin/java; fi
JRBD_HOME=$(cd "$(dirname "$(readlink -f "$JRBD")")/.." && pwd)
redact() { local s="$*"; s=${s//"$WORK"/\$WORK}; s=${s//"$JRBD_HOME"\//}; s=${s//"$URI"/nbd://127.0.0.1:\$PORT/r0}; echo "$s"; }
export BENCH_DATE BENCH_NPROC BENCH_MEM BENCH_KERNEL BENCH_CPU BENCH_FSTYPE BENCH_JAVA BENCH_FIO \
    BENCH_JRBD_REV BENCH_JAVA_OPTS BENCH_QUICK BENCH_SIZE BENCH_DIRTY BENCH_RUNTIME BENCH_DISK_FAST \
    BENCH_DISK_DRBD BENCH_WARMUP BENCH_DD_DIRECT BENCH_DD_BUFFERED BENCH_WRITE BENCH_DIRTY_CMD BENCH_LAT BENCH_DURATION
BENCH_DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
BENCH_NPROC=$NPROC
BENCH_MEM=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
BENCH_KERNEL=$(uname -sr)
BENCH_CPU=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
BENCH_FSTYPE=$WORK_FSTYPE
BENCH_JAVA=$("$JAVA_BIN" -version 2>&1 | head -n 1)
BENCH_FIO=$(fio --version)
BENCH_JRBD_REV=$(git -C "$JRBD_HOME" describe --always --dirty 2>/dev/null || echo unknown)
BENCH_JAVA_OPTS=${JRBD_JAVA_OPTS:-}
BENCH_QUICK=$QUICK BENCH_SIZE=$SIZE_BYTES BENCH_DIRTY=$DIRTY_BYTES BENCH_RUNTIME=$RUNTIME
BENCH_DISK_FAST=$DISK_FAST BENCH_DISK_DRBD=$DISK_DRBD BENCH_WARMUP=$WARMUP
BENCH_DD_DIRECT=$(redact "${DD_DIRECT_CMD[*]}")
BENCH_DD_BUFFERED=$(redact "${DD_BUFFERED_CMD[*]}")
fill_cmd "$WORK/fill.txt"
BENCH_WRITE=$(redact "${WRITE_CMD[*]}")
BENCH_DIRTY_CMD=$(redact "${DIRTY_CMD[*]}")
BENCH_LAT=$(redact "${LAT_CMD[*]}" | sed 's/lat-resync/$NAME/g')
BENCH_DURATION=$(( $(date +%s) - T_START ))

SECTION=$WORK/section.md
python3 - "$RESULTS" "$WORK" "$SECTION" <<'PY'
import datetime, json, os, sys

results_path, work, section_path = sys.argv[1:4]
E = os.environ
R = {}
for line in open(results_path):
    k, _, v = line.rstrip("\n").partition("=")
    R[k] = v.strip('"')
size, dirty, runtime = int(E["BENCH_SIZE"]), int(E["BENCH_DIRTY"]), int(E["BENCH_RUNTIME"])
MB = 1e6

def samples(name):
    rows = []
    for line in open(os.path.join(work, name + ".samples")):
        if line.startswith("#"):
            continue
        f = line.rstrip("\n").split("\t")
        rows.append({"t": float(f[0]), "rel": float(f[1]), "conn": f[2], "peer": f[3], "oos": int(f[4]),
                     "done": int(f[5]) if f[5] else None, "total": int(f[6]) if f[6] else None,
                     "bps": int(f[7]) if f[7] else None, "bconn": f[8], "bdisk": f[9]})
    return rows

def t0_of(name):
    with open(os.path.join(work, name + ".samples")) as f:
        return float(f.readline().split("\t")[1])

def log_seconds(name, key):
    """Seconds from the connect (t = 0) to a log line's timestamp, or None."""
    stamp = R.get(f"{name}_{key}", "")
    if not stamp:
        return None
    return datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp() - t0_of(name)

def resync_view(name):
    """When the resync was first and last seen running, its peak instantaneous rate and status rate."""
    s = samples(name)
    run = [x for x in s if x["done"] is not None]
    v = {"first": run[0]["rel"] if run else None, "last": run[-1]["rel"] if run else None,
         "status_bps": run[-1]["bps"] if run else None, "peak": None}
    for a, b in zip(run, run[1:]):
        if b["t"] > a["t"] and b["done"] >= a["done"]:
            r = (b["done"] - a["done"]) / (b["t"] - a["t"])
            v["peak"] = r if v["peak"] is None else max(v["peak"], r)
    return s, v

def fio_lat(name):
    doc = json.load(open(os.path.join(work, name + ".json")))
    job = doc["jobs"][0]
    w = job["write"]
    pct = w["lat_ns"].get("percentile", {})
    return {"iops": w["iops"], "p50": pct.get("50.000000", float("nan")) / 1000.0,
            "p99": pct.get("99.000000", float("nan")) / 1000.0, "errors": job.get("error", 0)}

def mbs(b, s): return b / MB / s if s > 0 else float("nan")
def f1(x): return "–" if x is None else f"{x:,.1f}"
def f2(x): return "–" if x is None else f"{x:,.2f}"
def goal(ok): return "met" if ok else "**missed**"

dd_direct, dd_buf = float(R["dd_direct_s"]), float(R["dd_buffered_s"])
base = mbs(size, dd_direct)
full_s, dirty_s = float(R["full_s"]), float(R["dirty_s"])
full_rate = mbs(size, full_s)
full_ratio = full_rate / base
full_log, dirty_log = int(R["full_logged_bytes"]), int(R["dirty_logged_bytes"])
_, fv = resync_view("full")
_, dv = resync_view("dirty")
ls, lv = resync_view("lat")
idle, during = fio_lat("lat-idle"), fio_lat("lat-resync")
r50, r99 = during["p50"] / idle["p50"], during["p99"] / idle["p99"]
t0, t1 = float(R["fio_t0"]), float(R["fio_t1"])
in_fio = [x for x in ls if t0 <= x["t"] <= t1 and x["done"] is not None]
after_fio = [x for x in ls if x["t"] > t1]
covered = bool(after_fio) and after_fio[0]["done"] is not None and after_fio[0]["conn"] != "Connected"
fio_resync_bytes = in_fio[-1]["done"] - in_fio[0]["done"] if len(in_fio) >= 2 else 0
fio_resync_rate = mbs(fio_resync_bytes, in_fio[-1]["t"] - in_fio[0]["t"]) if len(in_fio) >= 2 else float("nan")
lat_s = float(R["lat_s"])
cpu_a, cpu_b = float(R["full_cpu_alpha_s"]), float(R["full_cpu_bravo_s"])

def mib(b): return f"{b / 1048576:,.1f} MiB"
out = []
out.append(f"Run: {E['BENCH_DATE']}, {E['BENCH_DURATION']} s"
           + (" (`--quick` smoke run: too small and too short to quote)" if E["BENCH_QUICK"] == "1" else ""))
out.append("")
out.append(f"- Machine: {E['BENCH_NPROC']} CPUs ({E['BENCH_CPU']}), {E['BENCH_MEM']} memory, {E['BENCH_KERNEL']}")
out.append(f"- Work directory file system: {E['BENCH_FSTYPE']} (baseline files, both nodes' backing and metadata files)")
out.append(f"- {E['BENCH_JAVA']}; jrbd {E['BENCH_JRBD_REV']}; {E['BENCH_FIO']}"
           + (f"; JRBD_JAVA_OPTS=`{E['BENCH_JAVA_OPTS']}`" if E["BENCH_JAVA_OPTS"] else ""))
out.append(f"- Before each of the {R['quiet_count']} measurements (both dd copies, both timed resyncs, the idle fio run, "
           "and the resync under fio) the script waited for a nearly idle machine (< 25% of one core busy "
           f"for 0.5 s, at most {'1' if E['BENCH_QUICK'] == '1' else '60'} s): "
           + ("it was idle every time" if R["busy_count"] == "0" else
              f"**the machine was still busy {R['busy_count']} time(s)** (other work running; those numbers are noisier)"))
out.append(f"- Device {mib(size)}; 1% dirty = {dirty:,} bytes ({dirty // 65536} random 64 KiB writes, each block once); "
           f"fio latency runs of {runtime} s")
out.append("- Pair: daemons alpha (Primary) and bravo on 127.0.0.1, protocol C, `journal-size = \"0\"` (no catch-up from "
           "the journal: every reconnect is a bitmap resync), other `[net]` keys at their defaults")
out.append("- Resync timing: `connect r0` sent to bravo, then to alpha over their control sockets (the request jrbdadm "
           "sends); t = 0 just before alpha's; both statuses polled every 100 ms until alpha is `Connected` with "
           "`peer.disk` UpToDate and `outOfSyncBytes` 0 and bravo says `UpToDate` (so the time includes the handshake "
           "and bitmap exchange, and is up to 0.1 s late)")
out.append("")
out.append("`[disk]` for the full and 1% resyncs (the controller never throttles):")
out.append("")
out.append("```toml")
out.append(E["BENCH_DISK_FAST"])
out.append("```")
out.append("")
out.append("`[disk]` for the latency runs (DRBD-like: DRBD's default `resync-rate` as the first plan, the dynamic "
           "controller, at most 100 MB/s and held to 4 MiB/s while the application writes); the daemons are "
           "restarted with it, same data:")
out.append("")
out.append("```toml")
out.append(E["BENCH_DISK_DRBD"])
out.append("```")
out.append("")
out.append("Commands (`$WORK` is the work directory, `$PORT` alpha's NBD port, `$NAME` `lat-idle` or `lat-resync`; "
           f"the warm-up is the same job named `lat-warmup` with `--runtime={E['BENCH_WARMUP']}`):")
out.append("")
out.append("```sh")
out.append("sync; " + E["BENCH_DD_DIRECT"])
out.append("sync; " + E["BENCH_DD_BUFFERED"])
out.append(E["BENCH_WRITE"] + "   # full dirty set, on alpha, both disconnected")
out.append(E["BENCH_DIRTY_CMD"] + "   # 1% dirty set")
out.append(E["BENCH_LAT"])
out.append("```")
out.append("")
def by_logs(name, b):
    a, z = log_seconds(name, "log_start"), log_seconds(name, "log_end")
    if a is None or z is None:
        return "–"
    return f"{a:.3f} → {z:.3f} s ({mbs(b, z - a):,.0f} MB/s)"
def cuts(name):
    n = int(R.get(f"{name}_losses") or 0)
    return "none" if n == 0 else f"**{n}**: {R.get(name + '_loss_reason', '')}"
out.append("| Measurement | bytes | seconds | MB/s | vs dd direct | goal | alpha starts → bravo UpToDate, by the logs "
           "| connection lost during the resync |")
out.append("|---|---:|---:|---:|---:|---|---|---|")
out.append(f"| dd copy, `oflag=direct` (baseline) | {size:,} | {dd_direct:.2f} | {base:,.0f} | 1.00 | | | |")
out.append(f"| dd copy, buffered + fdatasync (reference) | {size:,} | {dd_buf:.2f} | {mbs(size, dd_buf):,.0f} | "
           f"{mbs(size, dd_buf) / base:.2f} | | | |")
out.append(f"| full resync, random data, controller unthrottled | {full_log:,} | {full_s:.2f} | {full_rate:,.0f} | "
           f"{full_ratio:.2f} | >= 0.80x: {goal(full_ratio >= 0.8)} | {by_logs('full', full_log)} | {cuts('full')} |")
out.append(f"| 1% dirty resync, controller unthrottled | {dirty_log:,} | {dirty_s:.2f} | {mbs(dirty_log, dirty_s):,.0f} | "
           f"{mbs(dirty_log, dirty_s) / base:.2f} | | {by_logs('dirty', dirty_log)} | {cuts('dirty')} |")
out.append("")
out.append("bytes: what alpha's log reports at the start (`bitmap resync to the peer: N bytes out of sync`). seconds: "
           "from the connect to the poll that saw bravo UpToDate; MB/s = 10^6 bytes/s over that time. The \"by the logs\" "
           "column takes the millisecond timestamps of alpha's `bitmap resync to the peer` and bravo's `resync from alpha "
           "finished: disk UpToDate` log lines, counted from the connect, and the rate between them; a lost connection "
           "is counted from bravo's log (`connection to alpha lost`), with its first reason. "
           + (f"The full resync was cut {R['full_losses']} time(s) and ran in {R['full_passes']} passes: each lost "
              "connection ends the pass, alpha reconnects after `connect-interval` (10 s by default) and the resync "
              "resumes from the bitmap (the first pass's bytes that bravo had not yet acknowledged as durable are sent "
              "again). " if int(R.get("full_losses") or 0) else "")
           + f"During the full resync alpha used {cpu_a:.1f} s and bravo {cpu_b:.1f} s of CPU "
           f"({100 * (cpu_a + cpu_b) / full_s:.0f}% of one core together; the whole machine {float(R['full_host_cpu_pct']):.0f}% "
           f"of {100 * int(E['BENCH_NPROC'])}%); "
           f"the resync appeared in the status {f2(fv['first'])} s after the connect, the rate at which alpha sent it (`resync.doneBytes`) between two polls peaked at "
           f"{f1(fv['peak'] / MB if fv['peak'] else None)} MB/s, and the status's last `bytesPerSecond` was "
           f"{f1(fv['status_bps'] / MB if fv['status_bps'] else None)} MB/s. "
           + (f"The 1% resync appeared in the status {f2(dv['first'])} s after the connect. " if dv["first"] is not None
              else "The 1% resync was over before a poll saw it running. ")
           + f"Alpha's log at the end of each: full: `{R['full_queued']}`; 1%: `{R['dirty_queued']}`. "
           f"Both nodes' backing files byte-identical after the 1% resync: {R['stores_identical']}.")
out.append("")
def cpu(name): return f"{float(R[name + '_daemons_cpu_pct']):.0f}% | {float(R[name + '_host_cpu_pct']):.0f}%"
out.append("| fio 4k randwrite, iodepth 1, on alpha | IOPS | p50 µs | p99 µs | daemons' CPU | host CPU |")
out.append("|---|---:|---:|---:|---:|---:|")
out.append(f"| idle (connected, in sync) | {idle['iops']:,.0f} | {idle['p50']:,.1f} | {idle['p99']:,.1f} | {cpu('lat_idle')} |")
out.append(f"| during a resync of {mib(int(R['lat_oos']))} | {during['iops']:,.0f} | {during['p50']:,.1f} | {during['p99']:,.1f} "
           f"| {cpu('lat_resync')} |")
out.append(f"| ratio (goal: within 2x of idle) | {during['iops'] / idle['iops']:.2f} | {r50:.2f}: {goal(r50 <= 2)} | "
           f"{r99:.2f}: {goal(r99 <= 2)} | | |")
out.append("")
out.append("Latencies are fio's total per-request latencies (`lat`, submission to completion): with the nbd engine "
           "the submission already includes sending the request. Both runs follow an unreported "
           f"{E['BENCH_WARMUP']} s warm-up run after the daemons' restart. Daemons' CPU: alpha's and bravo's utime+stime "
           "over the run's wall time (100% = one core); host CPU: all CPUs' busy time from /proc/stat "
           f"(at most {100 * int(E['BENCH_NPROC'])}%, includes fio and anything else running on the machine). "
           f"During the fio run the resync moved {mib(fio_resync_bytes)} ({fio_resync_rate:,.1f} MB/s between the polls "
           f"inside the run); it was {'still running when fio ended' if covered else '**not** running for the whole fio run'}"
           + (f", its connection was lost {R['lat_losses']} time(s) ({R['lat_loss_reason']})," if int(R.get("lat_losses") or 0) else "")
           + f" and finished {lat_s:.1f} s after the connect (fio started {t0 - float(ls[0]['t']) + float(ls[0]['rel']):.1f} s after it).")
errs = [n for n, m in (("idle", idle), ("during resync", during)) if m["errors"]]
if errs:
    out.append("")
    out.append("fio reported errors on: " + ", ".join(errs))
out.append("")
out.append("Goal checks: full resync >= 0.8x the dd baseline: "
           f"{goal(full_ratio >= 0.8)} ({full_ratio:.2f}x); p50 and p99 write latency during a resync within 2x of idle: "
           f"{goal(r50 <= 2 and r99 <= 2)} ({r50:.2f}x, {r99:.2f}x).")
with open(section_path, "w") as f:
    f.write("\n".join(out) + "\n")
PY

# Replace (or add) the marked section in the output file.
mkdir -p "$(dirname "$OUTPUT")"
python3 - "$OUTPUT" "$SECTION" <<'PY'
import os, sys
path, section_path = sys.argv[1:3]
BEGIN, END = "<!-- resync:begin -->", "<!-- resync:end -->"
HEADING = "## Resync speed, and application latency during a resync"
section = open(section_path).read()
block = BEGIN + "\n" + section + END
if os.path.exists(path):
    text = open(path).read()
    b, e = text.find(BEGIN), text.find(END)
    if b >= 0 and e > b:
        text = text[:b] + block + text[e + len(END):]
    else:
        text = text.rstrip("\n") + "\n\n" + HEADING + "\n\n" + block + "\n"
else:
    text = "# Benchmarks\n\n" + HEADING + "\n\n" + block + "\n"
tmp = path + ".tmp"
with open(tmp, "w") as f:
    f.write(text)
os.replace(tmp, path)
PY

cat "$SECTION"
log "wrote the resync section of $OUTPUT"
