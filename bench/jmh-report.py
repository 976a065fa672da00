#!/usr/bin/env python3
"""Turns the JMH JSON of bench/jmh.sh into the jmh-replication section of docs/benchmarks.md.

Usage: jmh-report.py WORK_DIR OUTPUT   (OUTPUT "-" prints the section)
WORK_DIR holds baseline.json, replicated.json, gc.json and gc-direct.json; the run's settings
come from JMH_* environment variables set by jmh.sh. Only the text between the markers
<!-- jmh-replication:begin --> and <!-- jmh-replication:end --> is replaced (the markers are
appended at the end of the file if missing).
"""
import json
import os
import platform
import re
import sys

BEGIN = "<!-- jmh-replication:begin -->"
END = "<!-- jmh-replication:end -->"
LAT = "io.jrbd.bench.WriteLatencyBenchmark.write4k"
THR = "io.jrbd.bench.WriteThroughputBenchmark.write4k"
PROTOCOL_ORDER = ["standalone", "A", "B", "C"]


def load(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        text = f.read().strip()
    return json.loads(text) if text else []


def rtt_key(v):
    return float(v)


def fmt_int(v):
    return "—" if v is None else f"{v:,.0f}"


def fmt_us(v):
    if v is None:
        return "—"
    return f"{v:,.0f}" if v >= 1000 else f"{v:,.1f}"


def fmt_ms(rtt):
    f = float(rtt)
    return f"{f:g}"


def machine():
    cpus = os.cpu_count()
    model = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("MemTotal"):
                    mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB memory"
                    break
    except OSError:
        pass
    return cpus, f"{cpus} CPUs ({model})" + (f", {mem}" if mem else "") + f", Linux {platform.release()}"


def main():
    work, output = sys.argv[1], sys.argv[2]
    env = os.environ
    results = load(os.path.join(work, "baseline.json")) + load(os.path.join(work, "replicated.json"))
    gc = load(os.path.join(work, "gc.json"))
    gc_direct = load(os.path.join(work, "gc-direct.json"))

    protocols = ["standalone"] + env.get("JMH_PROTOCOLS", "A,B,C").split(",")
    rtts = env.get("JMH_RTTS", "0").split(",")
    iodepths = [int(x) for x in env.get("JMH_IODEPTHS", "1").split(",")]

    lat = {}  # (protocol, rtt) -> (p50, p99, samples)
    thr = {}  # (protocol, rtt, iodepth) -> (ops/s, cpu ns per s)
    for r in results:
        p = r["params"]
        key = (p["protocol"], fmt_ms(p["rttMs"]))
        pm = r["primaryMetric"]
        if r["benchmark"] == LAT:
            pct = pm.get("scorePercentiles", {})
            lat[key] = (pct.get("50.0"), pct.get("99.0"), None)
        elif r["benchmark"] == THR:
            cpu = r.get("secondaryMetrics", {}).get("cpuNanos", {}).get("score")
            thr[key + (int(p["iodepth"]),)] = (pm["score"], cpu)

    rows = []
    for proto in protocols:
        for rtt in (["0"] if proto == "standalone" else rtts):
            rows.append((proto, fmt_ms(rtt)))

    cpus, machine_line = machine()
    out = []
    w = out.append
    mode = env.get("JMH_MODE", "?")
    minutes = int(env.get("JMH_RUN_SECONDS", "0")) / 60
    w(f"Run: {env.get('JMH_RUN_DATE', '?')}, `bench/jmh.sh --{mode}` ({minutes:.0f} min)")
    w("")
    w(f"- Machine: {machine_line}")
    w(f"- {env.get('JMH_JAVA_VERSION', '?')}; jrbd {env.get('JMH_GIT_REV', '?')}; JMH 1.37")
    w(f"- JMH options: `{env.get('JMH_ITER', '').strip()}`; forked JVM: the root pom's `jrbd.addOpens`, "
      "`-Dchronicle.analytics.disable=true -Xms1g -Xmx1g`")
    w("- Both nodes (alpha Primary, bravo Secondary; 8 I/O threads and 2 event loops each, as the daemon's defaults), "
      "the WanProxy between them (one-way delay RTT/2 each way) and the load generator run in one JVM; "
      "256 MiB backing files, pre-filled so writes overwrite allocated blocks, in the page cache; "
      "random 4 KiB-aligned writes, no FUA, no flush; `[net]` options are DRBD's defaults. "
      "Standalone is `StandaloneDevice` on one backing file: no peer, no journal, no proxy.")
    w("")
    w("Latency is JMH SampleTime of one write at iodepth 1 (submit to completion callback), in µs. Throughput is "
      "completed writes per second with `iodepth` writes kept in flight. CPU is the benchmark JVM's CPU time "
      "(both nodes, proxy, load generator; not the kernel's work on their behalf) during the throughput runs.")
    w("")

    # ---- main table
    head = ["Protocol", "RTT ms", "p50 µs (qd1)", "p99 µs (qd1)"] + [f"ops/s qd{d}" for d in iodepths]
    w("| " + " | ".join(head) + " |")
    w("|---|---:|" + "---:|" * (len(head) - 2))
    for proto, rtt in rows:
        p50, p99, _ = lat.get((proto, rtt), (None, None, None))
        cells = [proto, rtt, fmt_us(p50), fmt_us(p99)]
        for d in iodepths:
            cells.append(fmt_int(thr.get((proto, rtt, d), (None, None))[0]))
        w("| " + " | ".join(cells) + " |")
    w("")

    # ---- CPU table
    w("CPU per write (µs of CPU time, all threads of the JVM) and cores kept busy, from the throughput runs:")
    w("")
    head = ["Protocol", "RTT ms"] + [f"qd{d}" for d in iodepths]
    w("| " + " | ".join(head) + " |")
    w("|---|---:|" + "---:|" * len(iodepths))
    max_cores = 0.0
    for proto, rtt in rows:
        cells = [proto, rtt]
        for d in iodepths:
            ops, cpu = thr.get((proto, rtt, d), (None, None))
            if ops and cpu:
                cores = cpu / 1e9
                max_cores = max(max_cores, cores)
                cells.append(f"{cpu / ops / 1000:.1f} µs · {cores:.2f} cores")
            else:
                cells.append("—")
        w("| " + " | ".join(cells) + " |")
    w("")

    # ---- goal checks
    w("Goal checks (issue 3), computed from the numbers above:")
    w("")
    w("| Goal | Configuration | Measured | Limit | Result |")
    w("|---|---|---:|---:|---|")
    base_p50 = lat.get(("standalone", "0"), (None,))[0]

    def verdict(ok):
        return "met" if ok else "**missed**"

    for rtt in rtts:
        rtt = fmt_ms(rtt)
        c = lat.get(("C", rtt), (None,))[0]
        if c is not None and base_p50 is not None:
            limit = float(rtt) * 1000 + base_p50 + 100
            w(f"| C p50 ≤ RTT + standalone p50 + 0.1 ms | C, RTT {rtt} ms, qd1 | {fmt_us(c)} µs | {fmt_us(limit)} µs "
              f"| {verdict(c <= limit)} |")
    for rtt in rtts:
        rtt = fmt_ms(rtt)
        a = lat.get(("A", rtt), (None,))[0]
        if a is not None and base_p50 is not None:
            limit = 1.1 * base_p50
            w(f"| A p50 ≤ 1.1 × standalone p50 | A, RTT {rtt} ms, qd1 | {fmt_us(a)} µs | {fmt_us(limit)} µs "
              f"| {verdict(a <= limit)} |")
    for d in iodepths:
        c = thr.get(("C", "0", d), (None,))[0]
        s = thr.get(("standalone", "0", d), (None,))[0]
        if c is not None and s is not None:
            w(f"| C throughput at RTT 0 ≥ 0.8 × standalone | C vs standalone, qd{d} | {fmt_int(c)} ops/s "
              f"({c / s:.2f}×) | {fmt_int(0.8 * s)} ops/s | {verdict(c >= 0.8 * s)} |")
    bdp_rows = []
    if "20" in [fmt_ms(r) for r in rtts] and 128 in iodepths:
        for proto in protocols[1:]:
            t20 = thr.get((proto, "20", 128), (None,))[0]
            t0 = thr.get((proto, "0", 128), (None,))[0]
            if t20 is not None and t0 is not None:
                w(f"| RTT 20 ms, qd128 ≥ 0.5 × RTT 0 | {proto}, qd128 | {fmt_int(t20)} ops/s ({t20 / t0:.2f}×) "
                  f"| {fmt_int(0.5 * t0)} ops/s | {verdict(t20 >= 0.5 * t0)} |")
    else:
        w("| RTT 20 ms, qd128 ≥ 0.5 × RTT 0 | not measured in this mode (needs --full) | | | |")
    w("")

    # ---- Little's law: does the engine keep every write the client allows in flight?
    long_rtts = [fmt_ms(r) for r in rtts if float(r) >= 1]
    proto_bc = [p for p in protocols if p in ("B", "C")]
    if long_rtts and proto_bc:
        w("A write under protocol B or C cannot complete sooner than one round trip, so with `iodepth` writes in "
          "flight throughput is at most iodepth / (RTT + the write's own time) (Little's law). Measured throughput "
          "as a share of that bound (the write's own time taken as the standalone p50); near 100% means the engine "
          "keeps every write the client allows in flight and the client's iodepth, not an engine limit, is what "
          "caps it:")
        w("")
        head = ["Protocol", "RTT ms"] + [f"qd{d}: bound ops/s → measured" for d in iodepths]
        w("| " + " | ".join(head) + " |")
        w("|---|---:|" + "---:|" * len(iodepths))
        own = (base_p50 or 0) / 1e6
        for proto in proto_bc:
            for rtt in long_rtts:
                cells = [proto, rtt]
                for d in iodepths:
                    ops = thr.get((proto, rtt, d), (None,))[0]
                    bound = d / (float(rtt) / 1000 + own)
                    cells.append("—" if ops is None else f"{fmt_int(bound)} → {ops / bound * 100:.0f}%")
                w("| " + " | ".join(cells) + " |")
        w("")

    # ---- allocation
    w("Allocation per write (`-prof gc`, WriteThroughputBenchmark, RTT 0, iodepth 16). `gc.alloc.rate.norm` counts "
      "every thread of the JVM, so for the replicated rows it is both nodes' allocation per write (and the "
      "proxy's, on the proxied row), divided by the writes completed:")
    w("")
    w("| Configuration | ops/s | bytes allocated per write | GC count | GC time ms |")
    w("|---|---:|---:|---:|---:|")
    for label, data, proto in (("standalone", gc, "standalone"), ("protocol C via the WanProxy", gc, "C"),
                               ("protocol C, direct link (no proxy)", gc_direct, "C")):
        for r in data:
            if r["params"]["protocol"] != proto:
                continue
            sm = r.get("secondaryMetrics", {})
            norm = sm.get("gc.alloc.rate.norm", {}).get("score")
            count = sm.get("gc.count", {}).get("score")
            gtime = sm.get("gc.time", {}).get("score")
            w(f"| {label} | {fmt_int(r['primaryMetric']['score'])} | "
              f"{'—' if norm is None else f'{norm:,.0f}'} | "
              f"{'0' if count is None else f'{count:g}'} | {'0' if gtime is None else f'{gtime:g}'} |")
    w("")

    # ---- what limits it (computed)
    w("What limits these numbers:")
    w("")
    bound = ("At low RTTs the replicated rows are CPU-bound: every write is handled by both nodes and relayed twice "
             "by the proxy, on the same cores, so they measure CPU per write more than the protocol. "
             if cpus and max_cores >= 0.75 * cpus else "")
    w(f"- **CPU.** The machine has {cpus} CPUs, and they are shared by alpha, bravo, the WanProxy, the load generator "
      f"and the kernel's loopback TCP; the JVM alone kept up to {max_cores:.2f} cores busy (the kernel's work for "
      f"it comes on top). {bound}On separate machines each node would have its own cores.")
    w("- **The link is loopback through a userspace proxy**: no NIC, no bandwidth limit, and the proxy's delays are "
      "late by tens of µs (more under load; see `WanProxy`), so low-RTT rows include the proxy's own latency.")
    w("- **The disk is the page cache.** No write asks for durability (no FUA, no flush), so the local write is a "
      "`pwrite` into the page cache; the Secondary still fdatasyncs every 100 ms (or 64 MiB) to release the "
      "Primary's journal, which costs disk time and CPU during the run.")
    w("- **Protocols B and C at long RTTs are bounded by iodepth / RTT** (table above): the client's iodepth, "
      "not bandwidth, caps throughput. Protocol A completes before the peer answers, so it is bounded by the "
      "send buffer and journal instead.")
    notes = env.get("JMH_NOTES")
    if notes:
        w("")
        with open(notes, encoding="utf-8") as f:
            w(f.read().rstrip("\n"))

    section = "\n".join(out) + "\n"
    if output == "-":
        sys.stdout.write(section)
        return
    text = ""
    if os.path.exists(output):
        with open(output, encoding="utf-8") as f:
            text = f.read()
    block = BEGIN + "\n" + section + END
    if BEGIN in text and END in text and text.index(BEGIN) < text.index(END):
        start = text.index(BEGIN)
        end = text.index(END) + len(END)
        text = text[:start] + block + text[end:]
    else:
        if text and not text.endswith("\n"):
            text += "\n"
        text += ("\n" if text else "") + block + "\n"
    tmp = output + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, output)
    print(f"jmh-report: wrote the jmh-replication section of {output}", file=sys.stderr)


if __name__ == "__main__":
    main()
