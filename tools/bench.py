#!/usr/bin/env python3
"""Grace benchmarks, host side: `make bench` and `make bench-linux`.

    python3 tools/bench.py [--build build/bench-kernel] [--ncpus 1,2]
        [--mode quick|full] [--seconds 1] [--opt poison=0 ...]
        [--linux] [--reuse] [--out build/bench]

Boots the (non-debug) kernel in --build once per CPU count with the program
`bench MODE SECONDS` (user/bench.cc) as process 1, collects every console
line `BENCH {json}` (each measuring process prints its own), and writes

    OUT/results.json       every BENCH object, plus "boot_ncpu"
    OUT/console-ncpuN.log  each boot's console
    OUT/scaling.svg        total reads/s against CPUs, one line per scheme,
                           short (len 8) and full (len 10000) reads

then prints tables: medians over the repetitions with the spread
[min..max], ratios (RCU vs NONE, RWLOCK, SPINLOCK; scaling 1->2 CPUs), the
cost of rcu_read_lock+unlock, grace-period latencies, and the targets
(docs/benchmarks.md) with MET / NOT MET.

--linux also boots Debian's Linux in the same QEMU machine for each CPU
count (tools/linux-peer/linux_peer.py), measures getpid/getppid there the
way user/bench.cc does (same SECONDS, same number of reps), and prints
Grace's rates beside Linux's.  --reuse takes Grace's numbers from
OUT/results.json when it covers the CPU counts, instead of booting again.

Exit status: 0 fine; 1 a boot failed or a measurement reported failure;
2 usage error or kernel not built.  Python 3 standard library only.
"""

from __future__ import annotations

import sys

sys.dont_write_bytecode = True

import argparse
import colorsys
import json
import re
import statistics
import zlib
from pathlib import Path

TOOLS_DIR = Path(__file__).resolve().parent
for _dir in (TOOLS_DIR, TOOLS_DIR / "linux-peer"):
    if str(_dir) not in sys.path:
        sys.path.insert(0, str(_dir))

import abi  # noqa: E402
import linux_peer  # noqa: E402
import qemu  # noqa: E402

REPO = TOOLS_DIR.parent
SCHEMES = abi.scheme_names()                                # lib/abi.hh's LS_SCHEMES
UNSAFE = {s.name for s in abi.schemes() if s.unsafe}       # drawn dashed
SHORT, FULL = 8, 10000
BENCH_RE = re.compile(r"BENCH (\{.*\})\s*$")


# --- running --------------------------------------------------------------

def estimate_seconds(mode: str, seconds: float) -> float:
    """Guest time one boot needs (all 9 schemes assumed present)."""
    reps = 5 if mode == "full" else 3
    groups = 9 * (4 if mode == "full" else 3) + 3
    return reps * (groups * (seconds + 0.3) + 8) + 10


def parse_bench_lines(text: str, boot_ncpu: int) -> list[dict]:
    out = []
    for line in text.splitlines():
        m = BENCH_RE.search(line)
        if not m:
            continue
        try:
            obj = json.loads(m.group(1))
        except json.JSONDecodeError:
            print(f"bench.py: unparsable line: {line!r}", file=sys.stderr)
            continue
        obj["boot_ncpu"] = boot_ncpu
        out.append(obj)
    # The kernel's latency lines carry no rep: number them in order.
    seen: dict[tuple, int] = {}
    for obj in out:
        if "rep" not in obj:
            key = (obj.get("name"), obj.get("load"), obj.get("ncpu"))
            obj["rep"] = seen.get(key, 0)
            seen[key] = obj["rep"] + 1
    return out


def run_grace(ns, ncpus: list[int], out_dir: Path) -> tuple[list[dict], bool]:
    build = (REPO / ns.build) if not Path(ns.build).is_absolute() else Path(ns.build)
    kernel, syms = build / "kernel.bin", build / "kernel.sym"
    if not kernel.is_file():
        print(f"bench.py: {kernel} not found: run make bench", file=sys.stderr)
        raise SystemExit(2)
    results, ok = [], True
    timeout = estimate_seconds(ns.mode, ns.seconds) * 3 + 120
    for n in ncpus:
        log = out_dir / f"console-ncpu{n}.log"
        print(f"bench: booting NCPU={n}: bench {ns.mode} {ns.seconds:g} "
              f"(about {estimate_seconds(ns.mode, ns.seconds):.0f} s; console in {log})",
              flush=True)
        r = qemu.run(n, "bench", [ns.mode, f"{ns.seconds:g}"], ns.opt, timeout,
                     log_path=log, quiet=True, kernel=kernel, syms=syms)
        got = parse_bench_lines(r.output, n)
        print(f"bench: NCPU={n}: status {r.status} in {r.seconds:.0f} s, "
              f"{len(got)} results {r.note}", flush=True)
        if r.status != 0:
            ok = False
            tail = "\n".join(r.output.splitlines()[-15:])
            print(f"bench: NCPU={n} failed; console tail:\n{tail}", file=sys.stderr)
        results += got
    return results, ok


def run_linux(ncpus: list[int], seconds: float, reps: int) -> tuple[list[dict], bool]:
    """The Linux peer once per CPU count: its per-process rows, and whether
    every boot went well (False also when a tool could not be had)."""
    rows, ok = [], True
    for n in ncpus:
        print(f"bench: Linux peer on {n} CPU(s), {seconds:g} s per call, {reps} reps",
              flush=True)
        got, fine = linux_peer.measure(n, seconds, reps)
        rows += got
        ok = ok and bool(fine)
        if fine is None:
            break          # a tool is missing: the message said what to run
    return rows, ok


# --- aggregation ----------------------------------------------------------

class Stat:
    """Median and spread of the per-rep values."""

    def __init__(self, values):
        self.values = sorted(values)
        self.n = len(self.values)
        self.med = statistics.median(self.values) if self.values else None
        self.lo = self.values[0] if self.values else None
        self.hi = self.values[-1] if self.values else None

    def __bool__(self):
        return self.n > 0


def totals(results, name, **match) -> dict[int, float]:
    """rep -> sum of ops_per_sec over the processes of one group."""
    per_rep: dict[int, float] = {}
    for r in results:
        if r.get("name") != name or any(r.get(k) != v for k, v in match.items()):
            continue
        per_rep[r["rep"]] = per_rep.get(r["rep"], 0) + r["ops_per_sec"]
    return per_rep


def read_stat(results, scheme, ncpu, length, writer) -> Stat:
    return Stat(totals(results, "read", scheme=scheme, ncpu=ncpu, len=length,
                       writer=writer).values())


def fmt_rate(x) -> str:
    if x is None:
        return "-"
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if x >= div:
            return f"{x / div:.3g}{suffix}"
    return f"{x:.3g}"


def fmt_stat(s: Stat, fmt=fmt_rate) -> str:
    if not s:
        return "-"
    if s.n == 1:
        return fmt(s.med)
    return f"{fmt(s.med)} [{fmt(s.lo)}..{fmt(s.hi)}]"


def fmt_ns(x) -> str:
    if x is None:
        return "-"
    if x >= 1e6:
        return f"{x / 1e6:.3g} ms"
    if x >= 1e3:
        return f"{x / 1e3:.3g} us"
    return f"{x:.0f} ns"


def ratio(a, b):
    return a / b if a is not None and b else None


def fmt_ratio(x) -> str:
    return "-" if x is None else f"{x:.2f}x"


def table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                               for i, (c, w) in enumerate(zip(r, widths)))
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def report(results: list[dict], linux: list[dict]) -> list[tuple[str, bool | None, str]]:
    """Print every table; return the targets as (text, met, detail)."""
    grace = [r for r in results if r.get("source") != "linux"]
    ncpus = sorted({r["ncpu"] for r in grace if r.get("name") == "read"})
    unavailable = sorted({r["scheme"] for r in grace if r.get("name") == "unavailable"},
                         key=lambda s: (SCHEMES.index(s) if s in SCHEMES else len(SCHEMES), s))
    schemes = [s for s in SCHEMES if any(r.get("scheme") == s and r.get("name") == "read"
                                         for r in grace)]
    cfg = next((r for r in grace if r.get("name") == "config"), {})
    print(f"\nGrace benchmarks: {cfg.get('mode', '?')} mode, {cfg.get('reps', '?')} reps of "
          f"{cfg.get('run_ms', '?')} ms, hz={cfg.get('hz', '?')}; medians [min..max] over reps")
    if unavailable:
        print(f"not available yet (sys_lsread -EINVAL), skipped: {', '.join(unavailable)}")

    for n in ncpus:
        rows = []
        for s in schemes:
            w = Stat(totals(grace, "write", scheme=s, ncpu=n, len=SHORT).values())
            rows.append([s] + [fmt_stat(read_stat(grace, s, n, l, wr))
                               for l, wr in ((SHORT, 0), (FULL, 0), (SHORT, 1), (FULL, 1))]
                        + [fmt_stat(w)])
        print(f"\nReads/s, total over {n} CPU(s) (one pinned reader per CPU; "
              f"+W: one writer on CPU {n - 1}, sharing it)")
        print(table(rows, ["scheme", "short", "full", "short+W", "full+W", "writes/s"]))

    rows = []
    for n in ncpus:
        for name in ("getpid", "getppid"):
            st = Stat(totals(grace, name, ncpu=n).values())
            per = Stat([v / n for v in st.values])
            rows.append([f"{name} NCPU={n}", fmt_stat(st), fmt_stat(per),
                         fmt_ns(1e9 / per.med) if per else "-"])
    print("\nSystem calls/s (one pinned process per CPU)")
    print(table(rows, ["call", "total", "per CPU", "ns/call"]))

    def med(s, n, l, w):
        st = read_stat(grace, s, n, l, w)
        return st.med if st else None

    def best(s, n, l, w):
        st = read_stat(grace, s, n, l, w)
        return st.hi if st else None

    rows = []
    for n in ncpus:
        for l, lname in ((SHORT, "short"), (FULL, "full")):
            for w in (0, 1):
                rcu, rbest = med("rcu", n, l, w), best("rcu", n, l, w)
                if rcu is None:
                    continue
                rows.append([f"NCPU={n} {lname}{'+W' if w else ''}"] + [
                    f"{fmt_ratio(ratio(rcu, med(o, n, l, w)))} ({fmt_ratio(ratio(rbest, best(o, n, l, w)))})"
                    for o in ("none", "rwlock", "spinlock")])
    print("\nRatios of median reads/s (in brackets: of the best rep, less sensitive to host noise)")
    print(table(rows, ["case", "RCU/NONE", "RCU/RWLOCK", "RCU/SPINLOCK"]))

    if 1 in ncpus and 2 in ncpus:
        rows = []
        for s in schemes:
            rows.append([s] + [fmt_ratio(ratio(med(s, 2, l, w), med(s, 1, l, w)))
                               for l, w in ((SHORT, 0), (FULL, 0), (SHORT, 1))])
        print("\nScaling 1 -> 2 CPUs (total reads/s at 2 / at 1; ideal 2.00x)")
        print(table(rows, ["scheme", "short", "full", "short+W"]))

    rows = []
    for n in ncpus:
        rcu, none = med("rcu", n, SHORT, 0), med("none", n, SHORT, 0)
        diff = (1e9 * n / rcu - 1e9 * n / none) if rcu and none else None
        lc = [r for r in grace if r.get("name") == "lock-cost" and r.get("ncpu") == n]
        k = lambda f: statistics.median(r[f] for r in lc) / 1000 if lc else None
        rows.append([f"NCPU={n}", fmt_ns(diff) if diff is None or diff >= 0 else f"{diff:.0f} ns",
                     f"{k('rcu_ps') - k('empty_ps'):.2f} ns" if lc else "-",
                     f"{k('spinlock_ps') - k('empty_ps'):.2f} ns" if lc else "-",
                     f"{k('rwlock_read_ps') - k('empty_ps'):.2f} ns" if lc else "-",
                     f"{k('trace_point_ps') - k('empty_ps'):.2f} ns"
                     if lc and all("trace_point_ps" in r for r in lc) else "-"])
    print("\nCost of rcu_read_lock+unlock: per-call time of LS_RCU minus LS_NONE short reads;"
          "\nand the kernel's own loop (ktest lock-cost, minus an empty loop), with a trace"
          "\npoint while tracing is off (kernel/trace.hh; sys_lsread has two)")
    print(table(rows, ["", "RCU-NONE", "kernel rcu", "spinlock", "rwlock read", "trace point"]))

    rows = []
    lat_names = ("sync-latency", "exp-latency", "sync-latency-busy", "exp-latency-busy")
    for n in ncpus:
        for name in lat_names:
            for load in ("idle", "user", "kreaders"):
                lr = [r for r in grace if r.get("name") == name and r.get("ncpu") == n
                      and r.get("load") == load]
                if not lr:
                    continue
                rows.append([f"NCPU={n} {name.replace('-busy', '')}", load,
                             fmt_ns(statistics.median(r["median_ns"] for r in lr)),
                             fmt_ns(statistics.median(r["p90_ns"] for r in lr)),
                             fmt_ns(max(r["max_ns"] for r in lr)),
                             str(sum(r["n"] for r in lr))])
    print("\nGrace-period latency (median over reps of each rep's median / p90; max of max)")
    print(table(rows, ["call", "other CPUs", "median", "p90", "max", "samples"]))

    rows = []
    for n in ncpus:
        st = {r["rep"]: r for r in grace if r.get("name") == "storm-summary" and r.get("ncpu") == n}
        if not st:
            continue
        wr = Stat(totals(grace, "storm", ncpu=n).values())
        peak, kept = [], []
        for rep, r in st.items():
            lows = [w["min_free_pages"] for w in grace if w.get("name") == "storm"
                    and w.get("ncpu") == n and w.get("rep") == rep]
            if lows:
                peak.append(r["free_pages_before"] - min(lows))
            kept.append(r["free_pages_before"] - r["free_pages_after_barrier"])
        rows.append([f"NCPU={n}", fmt_stat(wr), str(max(r["cb_high"] for r in st.values())),
                     str(max(peak)) if peak else "-", str(max(kept)),
                     str(max(r["heap_bytes_after_barrier"] - r["heap_bytes_before"]
                             for r in st.values()))])
    print("\nWrite storm: LS_RCU writers on every CPU; pages of 4 KiB (worst rep)")
    print(table(rows, ["", "writes/s", "cb high-water (since boot)", "peak pages used",
                       "pages kept after rcu_barrier", "heap bytes kept"]))

    # --- targets ----------------------------------------------------------
    targets: list[tuple[str, bool | None, str]] = []

    def target(text, n, w, other, limit):
        value = ratio(med("rcu", n, SHORT, w), med(other, n, SHORT, w))
        best_value = ratio(best("rcu", n, SHORT, w), best(other, n, SHORT, w))
        met = None if value is None else value >= limit
        targets.append((text, met, f"{fmt_ratio(value)} of medians "
                                   f"({fmt_ratio(best_value)} of best reps)"))

    for n in (1, 2):
        for w in (0, 1):
            target(f"LS_RCU short reads >= 0.95 x LS_NONE, NCPU={n}{' with writer' if w else ''}",
                   n, w, "none", 0.95)
    target("LS_RCU short reads, NCPU=2 with writer >= 1.5 x RWLOCK", 2, 1, "rwlock", 1.5)
    target("LS_RCU short reads, NCPU=2 with writer >= 2 x SPINLOCK", 2, 1, "spinlock", 2.0)
    hz = cfg.get("hz", 1000)
    for name, limit, text in (("sync-latency", 2e9 / hz, "synchronize_rcu median < 2 ticks"),
                              ("exp-latency", 1e5, "synchronize_rcu_expedited median < 100 us")):
        for n in ncpus:
            medians = []
            for nm in (name, name + "-busy"):
                for ld in ("idle", "user", "kreaders"):
                    v = [r["median_ns"] for r in grace if r.get("ncpu") == n
                         and r.get("name") == nm and r.get("load") == ld]
                    if v:
                        medians.append(statistics.median(v))
            worst = max(medians, default=None)
            targets.append((f"{text}, NCPU={n} (worst load)",
                            None if worst is None else worst < limit, fmt_ns(worst)))
    if linux:
        targets += linux_report(grace, linux, ncpus)
    print("\nTargets")
    for text, met, detail in targets:
        flag = "n/a" if met is None else "MET" if met else "NOT MET"
        print(f"  {flag:8} {text}: {detail}")
    return targets


def linux_report(grace, linux, ncpus) -> list[tuple[str, bool | None, str]]:
    """Grace vs Linux getpid/getppid; returns the Linux targets."""
    def lin(name, n):
        st = Stat(totals(linux, name, ncpu=n).values())
        return st.med if st else None

    def gr(name, n):
        st = Stat(totals(grace, name, ncpu=n).values())
        return st.med if st else None

    rows, targets = [], []
    for n in ncpus:
        for name in ("getpid", "getppid"):
            g, l = gr(name, n), lin(name, n)
            gp = g / n if g else None
            lp = l / n if l else None
            rows.append([f"{name} NCPU={n}", fmt_rate(gp), fmt_rate(lp), fmt_ratio(ratio(gp, lp))])
            targets.append((f"Grace {name} per CPU >= 1.5 x Linux, NCPU={n}",
                            None if ratio(gp, lp) is None else ratio(gp, lp) >= 1.5,
                            fmt_ratio(ratio(gp, lp))))
    print("\nGrace vs Linux (same QEMU setup; per-CPU calls/s, medians)")
    print(table(rows, ["call", "Grace", "Linux", "Grace/Linux"]))
    if 1 in ncpus and 2 in ncpus:
        gs = ratio(gr("getppid", 2), gr("getppid", 1))
        ls = ratio(lin("getppid", 2), lin("getppid", 1))
        rcu = Stat(totals(grace, "read", scheme="rcu", len=SHORT, writer=0, ncpu=2).values())
        rcu1 = Stat(totals(grace, "read", scheme="rcu", len=SHORT, writer=0, ncpu=1).values())
        rs = ratio(rcu.med if rcu else None, rcu1.med if rcu1 else None)
        print(f"getppid scaling 1 -> 2 CPUs: Grace {fmt_ratio(gs)}, Linux {fmt_ratio(ls)}; "
              f"Grace LS_RCU short reads {fmt_ratio(rs)}")
        targets.append(("RCU read scaling 1->2 (LS_RCU short) >= Linux getppid scaling",
                        None if rs is None or ls is None else rs >= ls,
                        f"{fmt_ratio(rs)} vs {fmt_ratio(ls)}"))
    return targets


# --- the SVG --------------------------------------------------------------

COLORS = {"rcu": "#d62728", "spinlock": "#1f77b4", "rwlock": "#2ca02c", "hazptr": "#9467bd",
          "refcount": "#8c564b", "diffref": "#e377c2", "lopsided": "#17becf",
          "none": "#7f7f7f", "busted": "#bcbd22"}


def color(scheme: str) -> str:
    """The scheme's line colour: its own in COLORS, or one derived from
    its name (the same on every run) for a scheme COLORS does not know."""
    if scheme in COLORS:
        return COLORS[scheme]
    hue = zlib.crc32(scheme.encode()) % 360
    r, g, b = colorsys.hls_to_rgb(hue / 360, 0.40, 0.75)
    return f"#{int(r * 255):02x}{int(g * 255):02x}{int(b * 255):02x}"


def nice_max(v: float) -> float:
    """A round axis maximum >= v."""
    if v <= 0:
        return 1.0
    mag = 10 ** (len(str(int(v))) - 1)
    for m in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if m * mag >= v:
            return m * mag
    return 10 * mag


def write_svg(results: list[dict], path: Path, schemes: list[str] | None = None,
              unsafe: set[str] | None = None,
              title: str = "Grace: total sys_lsread calls/s against CPUs",
              xlabel: str = "CPUs") -> None:
    """The scaling picture: `schemes` (default: LS_SCHEMES's, in order) as
    lines, `unsafe` ones dashed; the x axis counts `xlabel` (NCPU, or
    threads for tools/host_bench.py)."""
    grace = [r for r in results if r.get("source") != "linux"]
    ncpus = sorted({r["ncpu"] for r in grace if r.get("name") == "read"})
    unsafe = UNSAFE if unsafe is None else unsafe
    schemes = [s for s in (SCHEMES if schemes is None else schemes)
               if any(r.get("scheme") == s and r.get("name") == "read" for r in grace)]
    pw, ph, left, top, gap = 380, 300, 80, 50, 90
    width, height = left + 2 * pw + gap + 150, top + ph + 70
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="15">'
           f'{title} (medians; bars: min..max)</text>']
    for panel, (length, panel_title) in enumerate(((SHORT, "short reads (len 8)"),
                                                   (FULL, "full reads (len 10000)"))):
        x0 = left + panel * (pw + gap)
        series = {s: [(n, read_stat(grace, s, n, length, 0)) for n in ncpus] for s in schemes}
        ymax = nice_max(max((st.hi for pts in series.values() for _, st in pts if st),
                            default=1))
        xs = lambda n: x0 + (ncpus.index(n) + 0.5) * pw / max(len(ncpus), 1)
        ys = lambda v: top + ph - v / ymax * ph
        out.append(f'<text x="{x0 + pw / 2}" y="{top - 10}" text-anchor="middle" '
                   f'font-size="13">{panel_title}</text>')
        out.append(f'<rect x="{x0}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="black"/>')
        for i in range(6):
            v = ymax * i / 5
            y = ys(v)
            out.append(f'<line x1="{x0}" y1="{y:.1f}" x2="{x0 + pw}" y2="{y:.1f}" stroke="#ddd"/>')
            out.append(f'<text x="{x0 - 5}" y="{y + 4:.1f}" text-anchor="end">{fmt_rate(v)}</text>')
        for n in ncpus:
            out.append(f'<text x="{xs(n):.1f}" y="{top + ph + 18}" text-anchor="middle">{n}</text>')
        out.append(f'<text x="{x0 + pw / 2}" y="{top + ph + 40}" text-anchor="middle">{xlabel}</text>')
        out.append(f'<text transform="translate({x0 - 60},{top + ph / 2}) rotate(-90)" '
                   f'text-anchor="middle">reads/s (all CPUs)</text>')
        for s, pts in series.items():
            pts = [(n, st) for n, st in pts if st]
            line_color = color(s)
            if len(pts) > 1:
                d = " ".join(f"{xs(n):.1f},{ys(st.med):.1f}" for n, st in pts)
                dash = ' stroke-dasharray="5,3"' if s in unsafe else ""
                out.append(f'<polyline points="{d}" fill="none" stroke="{line_color}" '
                           f'stroke-width="2"{dash}/>')
            for n, st in pts:
                out.append(f'<line x1="{xs(n):.1f}" y1="{ys(st.lo):.1f}" x2="{xs(n):.1f}" '
                           f'y2="{ys(st.hi):.1f}" stroke="{line_color}"/>')
                out.append(f'<circle cx="{xs(n):.1f}" cy="{ys(st.med):.1f}" r="3" fill="{line_color}">'
                           f'<title>{s} NCPU={n}: {fmt_rate(st.med)}</title></circle>')
    lx = left + 2 * pw + gap + 20
    out.append(f'<text x="{lx}" y="{top + 5}" font-size="13">scheme</text>')
    for i, s in enumerate(schemes):
        y = top + 25 + i * 20
        dash = ' stroke-dasharray="5,3"' if s in unsafe else ""
        out.append(f'<line x1="{lx}" y1="{y}" x2="{lx + 25}" y2="{y}" stroke="{color(s)}" '
                   f'stroke-width="2"{dash}/>')
        out.append(f'<text x="{lx + 32}" y="{y + 4}">{s}</text>')
    out.append(f'<text x="{lx}" y="{top + 35 + len(schemes) * 20}" font-size="10">'
               'dashed: unsafe</text>')
    out.append("</svg>")
    path.write_text("\n".join(out) + "\n")


# --- main -----------------------------------------------------------------

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build/bench-kernel")
    ap.add_argument("--ncpus", default="1,2")
    ap.add_argument("--mode", choices=("quick", "full"), default="quick")
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--opt", action="append", default=None, metavar="KEY=VALUE",
                    help="kernel option (default: poison=0)")
    ap.add_argument("--out", default="build/bench")
    ap.add_argument("--linux", action="store_true", help="also run the Linux peer")
    ap.add_argument("--reuse", action="store_true",
                    help="use OUT/results.json for Grace when it covers --ncpus")
    ns = ap.parse_args(argv)
    if ns.opt is None:
        ns.opt = ["poison=0"]
    try:
        ncpus = sorted({int(x) for x in ns.ncpus.split(",") if x})
    except ValueError:
        ap.error("--ncpus wants a list like 1,2,4")
    if not ncpus or not 0 < ns.seconds <= 60:
        ap.error("bad --ncpus or --seconds")
    out_dir = REPO / ns.out
    out_dir.mkdir(parents=True, exist_ok=True)
    results_path = out_dir / "results.json"

    ok = True
    results = None
    if ns.reuse and results_path.is_file():
        old = [r for r in json.loads(results_path.read_text()) if r.get("source") != "linux"]
        have = {r.get("ncpu") for r in old if r.get("name") == "read"}
        if set(ncpus) <= have:
            print(f"bench: reusing Grace results from {results_path}")
            results = old
    if results is None:
        try:
            results, ok = run_grace(ns, ncpus, out_dir)
        except KeyboardInterrupt:
            qemu.kill_all()
            print("\nbench.py: interrupted", file=sys.stderr)
            return 130
    linux = []
    if ns.linux:
        linux, linux_ok = run_linux(ncpus, ns.seconds, 5 if ns.mode == "full" else 3)
        ok = ok and linux_ok
    all_results = results + linux
    results_path.write_text(json.dumps(all_results, indent=1) + "\n")
    if not any(r.get("name") == "read" for r in results):
        print("bench: no read results", file=sys.stderr)
        return 1
    write_svg(results, out_dir / "scaling.svg")
    report(results, linux)
    print(f"\nbench: wrote {results_path.relative_to(REPO)}, "
          f"{(out_dir / 'scaling.svg').relative_to(REPO)}")
    bad = [r for r in results if r.get("errors")]
    if bad:
        print(f"bench: {len(bad)} measurement(s) reported errors", file=sys.stderr)
    return 0 if ok and not bad else 1


if __name__ == "__main__":
    sys.exit(main())
