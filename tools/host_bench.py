#!/usr/bin/env python3
"""Grace's schemes measured natively, beside liburcu and pthread_rwlock: `make host-bench`.

    python3 tools/host_bench.py [--binary build/host/bench/host_bench]
        [--seconds 0.3] [--reps 3] [--out build/bench] [--smoke]

Runs host/bench/host_bench once: every implementation (each Grace scheme of
LS_SCHEMES on the host port, liburcu's qsbr and memb flavors,
pthread_rwlock, an empty read), 8-byte and full reads, at 1 and 2 reader
threads, without and with a writer, the reps interleaved. Then writes

    OUT/host-results.json   every BENCH object, plus one "machine" object:
                            date, commit, CPU, cores, kernel, load average
                            before and after the run
    OUT/host-scaling.svg    total reads/s against reader threads (the same
                            picture as make bench's scaling.svg)

and prints tables (medians [min..max] over reps: the cost of one read, the
reads/s, the scaling from 1 to 2 threads, ratios) and the targets
(docs/benchmarks.md), each MET or NOT MET.

--smoke (make check): a few milliseconds per measurement, one rep; checks
that the JSON has its shape and that every implementation reported a rate
in every configuration, and never how fast anything was. Exit status 0
fine; 1 the run or the check failed; 2 usage error or no binary. Python 3
standard library only.
"""

from __future__ import annotations

import sys

sys.dont_write_bytecode = True

import argparse
import datetime
import json
import os
import platform
import subprocess
from pathlib import Path

TOOLS_DIR = Path(__file__).resolve().parent
if str(TOOLS_DIR) not in sys.path:
    sys.path.insert(0, str(TOOLS_DIR))

import bench  # noqa: E402  (the kernel benchmark's aggregation and picture)
from bench import SHORT, FULL, Stat, fmt_ratio, fmt_stat, ratio, table, totals  # noqa: E402

REPO = TOOLS_DIR.parent
UNSAFE = {"none", "busted"}          # dashed in the picture
# Read-side cost: nanoseconds per read at one thread without a writer.
KEYS = {"name": str, "scheme": str, "kind": str, "ncpu": int, "len": int, "writer": int,
        "rep": int, "cpu": int, "ops": int, "seconds": float, "ops_per_sec": float}


def run(binary: Path, seconds: float, reps: int) -> tuple[list[dict], list[str], bool]:
    """host_bench's BENCH objects, its implementations in order, and whether it ran well."""
    listing = subprocess.run([str(binary), "--list"], stdout=subprocess.PIPE, text=True)
    names = [line.split()[0] for line in listing.stdout.splitlines() if line.strip()]
    print(f"host-bench: {len(names)} implementations, {reps} rep(s) of {seconds:g} s per "
          f"measurement; running {binary.relative_to(REPO) if binary.is_relative_to(REPO) else binary}",
          flush=True)
    r = subprocess.run([str(binary), "--seconds", f"{seconds:g}", "--reps", str(reps)],
                       stdout=subprocess.PIPE, text=True)
    results = bench.parse_bench_lines(r.stdout, 0)
    for obj in results:
        obj.pop("boot_ncpu", None)
    if r.returncode != 0:
        print(f"host-bench: host_bench exited with status {r.returncode}", file=sys.stderr)
    return results, names, r.returncode == 0 and listing.returncode == 0


def machine(load_before) -> dict:
    """Where and when: what a result needs to be compared with another."""
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout.strip()
    return {"name": "machine", "source": "host",
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "commit": commit or "?", "cpu": cpu, "cores": len(os.sched_getaffinity(0)),
            "kernel": platform.release(), "load_before": [round(x, 2) for x in load_before],
            "load_after": [round(x, 2) for x in os.getloadavg()]}


def reads(results, impl, n, length, writer) -> Stat:
    return Stat(totals(results, "read", scheme=impl, ncpu=n, len=length, writer=writer).values())


def ns_per_read(results, impl, length) -> Stat:
    """Nanoseconds per read at one thread, no writer, per rep."""
    return Stat([1e9 / v for v in totals(results, "read", scheme=impl, ncpu=1, len=length,
                                         writer=0).values() if v > 0])


def fmt_ns(x) -> str:
    return "-" if x is None else f"{x:.3g} ns" if x < 100 else f"{x:.0f} ns"


def report(results: list[dict], impls: list[str], info: dict) -> list[tuple[str, bool | None, str]]:
    """Print the tables; return the targets as (text, met, detail)."""
    cfg = next((r for r in results if r.get("name") == "config"), {})
    ncpus = sorted({r["ncpu"] for r in results if r.get("name") == "read"})
    print(f"\nGrace host benchmark: {cfg.get('reps', '?')} reps of {cfg.get('run_ms', '?')} ms, "
          f"medians [min..max] over reps; {info['cpu']}, {info['cores']} cores, Linux {info['kernel']}, "
          f"load average {info['load_before'][0]} before, {info['load_after'][0]} after; "
          f"commit {info['commit']}, {info['date']}")

    rows = [[im, fmt_stat(ns_per_read(results, im, SHORT), fmt_ns),
             fmt_stat(ns_per_read(results, im, FULL), fmt_ns)] for im in impls]
    print("\nRead-side cost: ns per read, one reader thread, no writer")
    print(table(rows, ["implementation", "8 bytes", "10000 bytes"]))

    for length, lname in ((SHORT, "8-byte"), (FULL, "10000-byte")):
        rows = []
        for im in impls:
            row = [im]
            for n in ncpus:
                row += [fmt_stat(reads(results, im, n, length, 0)),
                        fmt_stat(reads(results, im, n, length, 1))]
            w = Stat(totals(results, "write", scheme=im, ncpu=ncpus[-1], len=length).values())
            rows.append(row + [fmt_stat(w)])
        header = ["implementation"] + [h for n in ncpus for h in (f"{n} thr", f"{n} thr +W")]
        print(f"\nTotal {lname} reads/s (+W: one writer on the last host CPU; writes/s at "
              f"{ncpus[-1]} threads)")
        print(table(rows, header + ["writes/s"]))

    def med(im, n, length, w):
        st = reads(results, im, n, length, w)
        return st.med if st else None

    if 1 in ncpus and 2 in ncpus:
        rows = [[im] + [fmt_ratio(ratio(med(im, 2, length, w), med(im, 1, length, w)))
                        for length in (SHORT, FULL) for w in (0, 1)] for im in impls]
        print("\nScaling 1 -> 2 threads (total reads/s at 2 / at 1; ideal 2.00x)")
        print(table(rows, ["implementation", "8 B", "8 B +W", "10000 B", "10000 B +W"]))

    rows = []
    for n in ncpus:
        for w in (0, 1):
            rcu = med("rcu", n, SHORT, w)
            rows.append([f"{n} thr{' +W' if w else ''}"] + [fmt_ratio(ratio(rcu, med(o, n, SHORT, w)))
                                                          for o in ("none", "liburcu-qsbr",
                                                                    "liburcu-memb", "pthread-rwlock")])
    print("\nLS_RCU's 8-byte reads/s over the others' (medians)")
    print(table(rows, ["case", "/none", "/liburcu-qsbr", "/liburcu-memb", "/pthread-rwlock"]))

    # The targets, judged on medians; in brackets the same ratio of the best
    # reps (least ns, most reads/s), which noise can only make worse.
    def best(im, n, length, w):
        st = reads(results, im, n, length, w)
        return st.hi if st else None

    targets = []
    rcu_ns, none_ns = ns_per_read(results, "rcu", SHORT), ns_per_read(results, "none", SHORT)
    qsbr_ns = ns_per_read(results, "liburcu-qsbr", SHORT)
    for other, other_ns, limit, text in (
            ("none", none_ns, 1.1, "within 1.1x of the unprotected read (LS_NONE)"),
            ("liburcu-qsbr", qsbr_ns, 1.0, "no slower than liburcu-qsbr's")):
        r = ratio(rcu_ns.med, other_ns.med) if rcu_ns and other_ns else None
        rb = ratio(rcu_ns.lo, other_ns.lo) if rcu_ns and other_ns else None
        targets.append((f"LS_RCU 8-byte read {text}, ns per read", None if r is None else r <= limit,
                        f"{fmt_ns(rcu_ns.med)} vs {fmt_ns(other_ns.med)}: {fmt_ratio(r)} "
                        f"(best reps {fmt_ratio(rb)})"))
    n = ncpus[-1]
    r = ratio(med("rcu", n, SHORT, 1), med("pthread-rwlock", n, SHORT, 1))
    rb = ratio(best("rcu", n, SHORT, 1), best("pthread-rwlock", n, SHORT, 1))
    targets.append((f"LS_RCU 8-byte reads/s at {n} threads with a writer >= 10x pthread_rwlock's",
                    None if r is None else r >= 10, f"{fmt_ratio(r)} (best reps {fmt_ratio(rb)})"))
    r = ratio(med("rcu", 2, SHORT, 0), med("rcu", 1, SHORT, 0))
    rb = ratio(best("rcu", 2, SHORT, 0), best("rcu", 1, SHORT, 0))
    targets.append(("LS_RCU 8-byte read scaling 1 -> 2 threads >= 1.9x", None if r is None else r >= 1.9,
                    f"{fmt_ratio(r)} (best reps {fmt_ratio(rb)})"))
    print("\nTargets")
    for text, met, detail in targets:
        print(f"  {'n/a' if met is None else 'MET' if met else 'NOT MET':8} {text}: {detail}")
    return targets


def check_shape(results: list[dict], impls: list[str]) -> list[str]:
    """What is wrong with a run's results (the smoke test): missing keys or
    types, and any implementation without a positive rate in a configuration."""
    problems = []
    cfg = [r for r in results if r.get("name") == "config"]
    if len(cfg) != 1:
        problems.append(f"{len(cfg)} config objects, expected 1")
    rows = [r for r in results if r.get("name") in ("read", "write")]
    for r in rows:
        for key, typ in KEYS.items():
            if not isinstance(r.get(key), (int, float) if typ is float else typ):
                problems.append(f"{r.get('name')} {r.get('scheme')}: key {key!r} missing or not {typ.__name__}")
                break
    ncpus = sorted({r["ncpu"] for r in rows if isinstance(r.get("ncpu"), int)})
    if not ncpus:
        problems.append("no read results at all")
    for im in impls:
        writes = any(r["scheme"] == im and r["name"] == "write" for r in rows)
        for n in ncpus:
            for length in (SHORT, FULL):
                for w in ((0, 1) if writes or im != "empty" else (0,)):
                    got = [r for r in rows if r["scheme"] == im and r["ncpu"] == n and r["len"] == length
                           and r["writer"] == w]
                    readers = [r for r in got if r["name"] == "read"]
                    if len(readers) != n or any(r["ops_per_sec"] <= 0 for r in readers):
                        problems.append(f"{im}: {n} thread(s), len {length}, writer {w}: "
                                        f"{len(readers)} reader rates, not {n} positive ones")
                    if w and not any(r["name"] == "write" and r["ops_per_sec"] > 0 for r in got):
                        problems.append(f"{im}: {n} thread(s), len {length}: no writer rate")
    return problems


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--binary", default="build/host/bench/host_bench")
    ap.add_argument("--seconds", type=float, default=0.3)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--out", default="build/bench")
    ap.add_argument("--smoke", action="store_true", help="a tiny run that checks the results' shape")
    ns = ap.parse_args(argv)
    if ns.smoke:
        ns.seconds, ns.reps = 0.005, 1
    binary = REPO / ns.binary
    if not binary.is_file():
        print(f"host-bench: {binary} not found: run make host-bench", file=sys.stderr)
        return 2
    if not 0 < ns.seconds <= 60 or ns.reps < 1:
        ap.error("bad --seconds or --reps")
    load_before = os.getloadavg()
    results, impls, ok = run(binary, ns.seconds, ns.reps)
    info = machine(load_before)
    out_dir = REPO / ns.out
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "host-results.json"
    path.write_text(json.dumps(results + [info], indent=1) + "\n")
    if ns.smoke:
        problems = check_shape(results, impls)
        for p in problems:
            print(f"host-bench smoke: {p}", file=sys.stderr)
        print(f"host-bench smoke: {len(impls)} implementations, "
              f"{sum(r.get('name') == 'read' for r in results)} reader rates: "
              f"{'FAIL' if problems or not ok else 'ok'}")
        return 1 if problems or not ok else 0
    if not ok or not any(r.get("name") == "read" for r in results):
        return 1
    svg = out_dir / "host-scaling.svg"
    bench.write_svg(results, svg, schemes=impls, unsafe=UNSAFE,
                    title="Grace on the host: total reads/s against reader threads", xlabel="threads")
    report(results, impls, info)
    print(f"\nhost-bench: wrote {path.relative_to(REPO)}, {svg.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
