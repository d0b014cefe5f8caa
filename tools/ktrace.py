#!/usr/bin/env python3
"""Grace's kernel traces on the host: read a dump, check it, draw it.

    python3 tools/ktrace.py run [--ncpu N] [--opt k=v ...] [--timeout S]
        [--out build/trace/NAME] -- PROG [ARGS...]      (make trace-NAME)
    python3 tools/ktrace.py convert DUMP [--json OUT.json] [--svg OUT.svg]
        [--from MS] [--to MS] [--title TEXT]
    python3 tools/ktrace.py check DUMP

A dump is what the kernel prints with the boot option trace=... (see
kernel/trace.hh and kernel/trace.cc for its format): at the first process's
exit, at a panic, or on request (sys_kprint("trace"), the shell's `trace`).
DUMP may be a whole console log: only the "trace: " lines are read, and
several dumps in one file are joined.

`run` boots PROG with tracing on (trace=rcu,sched,read unless an --opt says
trace=...) and the dump sent to the second serial port, then writes
OUT.txt (the dump), OUT.console.log, OUT.json and OUT.svg. The shell `sh`
runs interactively (type `exit` to end it and get the pictures).

OUT.json is the Chrome Trace Event Format: open it in https://ui.perfetto.dev
or chrome://tracing. One track per CPU (the running task, read sections,
idle stretches, quiescent states and callbacks), one for the grace periods,
synchronize_rcu calls as async slices, and flow arrows from each call_rcu to
its callback. OUT.svg is a timeline for any browser (tools/ktrace_svg.py).

`check` (and `run`, `convert`) test the order RCU promises, with every
timestamp as the kernel recorded it: a grace period's start precedes each
CPU's quiescent state for it and its end follows the last; a callback runs
after the grace period it needed ended; synchronize_rcu returns after its
grace period ended; a grace period that starts inside an RCU read section
ends after it. Events lost to a full buffer are not held against the trace.

Exit status: 0 fine; for `run`, the program's own (qemu.py's) status when
it did not exit 0; 1 the dump is unreadable; 3 the trace breaks an order
above; 2 usage error. Python standard library only.
"""

from __future__ import annotations

import sys

sys.dont_write_bytecode = True

import argparse
import json
import re
import subprocess
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

TOOLS_DIR = Path(__file__).resolve().parent
if str(TOOLS_DIR) not in sys.path:
    sys.path.insert(0, str(TOOLS_DIR))

import qemu  # noqa: E402

LINE_RE = re.compile(r"^trace: (.*?)\s*$", re.MULTILINE)
EVENT_RE = re.compile(r"^(\d+) (\d+) (\d+) (\w+)((?: \w+=\S+)*)$")
DEFAULT_CLASSES = "trace=rcu,sched,read"


class TraceError(Exception):
    """A dump that cannot be read at all."""


@dataclass
class Event:
    cpu: int
    seq: int
    ns: int
    kind: str
    args: dict


@dataclass
class Trace:
    """Every event of the dumps in a text, in time order, and what the
    dumps said about themselves."""
    events: list[Event] = field(default_factory=list)
    ncpu: int = 0
    reasons: list[str] = field(default_factory=list)
    lost: dict = field(default_factory=lambda: defaultdict(int))    # cpu -> events lost
    kept_from: dict = field(default_factory=dict)   # cpu -> ns of its first event after a loss
    notes: list[str] = field(default_factory=list)   # lines that were not understood
    from_boot: bool = False       # the first dump starts at every CPU's first event


def value(text: str):
    """A dump's argument: 0x... and digits as ints, anything else as text."""
    if re.fullmatch(r"0x[0-9a-f]+", text):
        return int(text, 16)
    return int(text) if text.isdigit() else text


def num(args: dict, key: str, default=None) -> int:
    """A numeric argument of an event; ValueError if missing or not a number."""
    v = args.get(key, default)
    if not isinstance(v, int):
        raise ValueError(f"argument {key}={v} is not a number")
    return v


def parse(text: str) -> Trace:
    """Read every dump in `text`. Raises TraceError when there is none."""
    trace = Trace()
    in_dump = False
    lost_pending: dict[int, int] = {}
    first_dump_starts: list[bool] = []
    for m in LINE_RE.finditer(text):
        line = m.group(1)
        try:
            fields = dict(kv.split("=", 1) for kv in line.split() if "=" in kv)
            if line.startswith("begin "):
                trace.reasons.append(fields.get("reason", "?"))
                trace.ncpu = max(trace.ncpu, int(fields.get("ncpu", 0)))
                in_dump = True
            elif line == "end":
                in_dump = False
            elif line.startswith("cpu=") and in_dump:
                cpu, lost = int(fields["cpu"]), int(fields.get("lost", 0))
                trace.lost[cpu] += lost
                if lost:
                    lost_pending[cpu] = lost
                if len(trace.reasons) == 1:
                    first_dump_starts.append(int(fields.get("first", 1)) == 0)
            elif (e := EVENT_RE.match(line)) and in_dump:
                args = {k: value(v) for k, v in (kv.split("=", 1) for kv in e.group(5).split())}
                event = Event(int(e.group(1)), int(e.group(2)), int(e.group(3)), e.group(4), args)
                if lost_pending.pop(event.cpu, 0):
                    trace.kept_from[event.cpu] = event.ns
                trace.events.append(event)
            else:
                trace.notes.append(f"not understood: {line}")
        except (KeyError, ValueError):
            trace.notes.append(f"not understood: {line}")
    if not trace.reasons:
        raise TraceError("no trace dump found (boot with OPTS=trace=rcu,sched,read; the kernel "
                         "dumps when the first process exits, at a panic, or on `trace`)")
    if in_dump:
        trace.notes.append("the last dump has no end: it was cut off")
    trace.events.sort(key=lambda e: (e.ns, e.cpu, e.seq))
    trace.from_boot = bool(first_dump_starts) and all(first_dump_starts)
    trace.ncpu = max([trace.ncpu] + [e.cpu + 1 for e in trace.events])
    return trace


# --- the timeline: what the events add up to --------------------------------

@dataclass
class Span:
    cpu: int
    start: int
    end: int
    label: str = ""
    pid: int = -1
    inside: bool = False          # read sections: recorded inside rcu_read_lock


@dataclass
class GracePeriod:
    number: int
    start: int | None = None
    end: int | None = None
    start_cpu: int = -1
    end_cpu: int = -1
    waits_for: int = 0            # CPU mask
    requested: int | None = None
    qs: dict = field(default_factory=dict)   # cpu -> (ns, from)


@dataclass
class Callback:
    cb: int
    gp: int                       # the grace period it needed
    call_cpu: int = -1
    call_ns: int | None = None
    run_cpu: int = -1
    run_ns: int | None = None


@dataclass
class Sync:
    pid: int
    gp: int
    expedited: bool
    cpu: int
    start: int
    end: int | None = None
    end_cpu: int = -1


@dataclass
class Timeline:
    ncpu: int
    t0: int
    t1: int
    gps: dict = field(default_factory=dict)          # number -> GracePeriod
    tasks: list[Span] = field(default_factory=list)
    idle: list[Span] = field(default_factory=list)
    reads: list[Span] = field(default_factory=list)
    callbacks: list[Callback] = field(default_factory=list)
    syncs: list[Sync] = field(default_factory=list)
    instants: list[Event] = field(default_factory=list)   # everything else worth a mark
    names: dict = field(default_factory=dict)        # pid -> task name
    kept_from: dict = field(default_factory=dict)    # cpu -> first ns after lost events
    from_boot: bool = False                          # every event since tracing began
    notes: list[str] = field(default_factory=list)   # events left out, and why


def build(trace: Trace) -> Timeline:
    """Pair the events up into spans, grace periods, callbacks and calls."""
    events = trace.events
    t0 = events[0].ns if events else 0
    t1 = events[-1].ns if events else 0
    tl = Timeline(trace.ncpu, t0, t1, kept_from=dict(trace.kept_from),
                  from_boot=trace.from_boot and not any(trace.lost.values()))
    first_ns = {}
    for e in events:
        first_ns.setdefault(e.cpu, e.ns)
        if e.kind == "sched_switch" and e.args.get("in"):
            tl.names[e.args.get("in")] = str(e.args.get("name", "?"))

    def name(cpu, pid):
        """A task's name: every idle task is pid 0, idle<cpu>."""
        return f"idle{cpu}" if pid == 0 else tl.names.get(pid, f"pid {pid}")

    running: dict[int, tuple] = {}        # cpu -> (pid, since)
    idle_since: dict[int, int] = {}
    reading: dict[int, Span] = {}
    pending_cb: dict[int, list[Callback]] = defaultdict(list)
    open_sync: dict[int, Sync] = {}

    def gp(n):
        return tl.gps.setdefault(n, GracePeriod(n))

    def close_read(cpu, ns):
        span = reading.pop(cpu, None)
        if span:
            span.end = ns
            tl.reads.append(span)

    def handle(e, a):
        if e.kind == "sched_switch":
            pid, since = running.get(e.cpu, (num(a, "out", -1), first_ns[e.cpu]))
            tl.tasks.append(Span(e.cpu, since, e.ns, name(e.cpu, pid), pid))
            close_read(e.cpu, e.ns)       # a section does not outlive its task here
            running[e.cpu] = (num(a, "in", -1), e.ns)
        elif e.kind == "idle_enter":
            idle_since[e.cpu] = e.ns
        elif e.kind == "idle_exit":
            tl.idle.append(Span(e.cpu, idle_since.pop(e.cpu, first_ns[e.cpu]), e.ns, "idle"))
        elif e.kind == "read_begin":
            close_read(e.cpu, e.ns)
            reading[e.cpu] = Span(e.cpu, e.ns, e.ns, str(a.get("what", "read")),
                                  num(a, "task", -1), bool(num(a, "inside", 0)))
        elif e.kind == "read_end":
            close_read(e.cpu, e.ns)        # (its begin may be lost, or on another CPU)
        elif e.kind == "gp_request":
            g = gp(num(a, "gp"))
            g.requested = e.ns if g.requested is None else g.requested
        elif e.kind == "gp_start":
            g = gp(num(a, "gp"))
            g.start, g.start_cpu, g.waits_for = e.ns, e.cpu, num(a, "wait", 0)
        elif e.kind == "gp_end":
            g = gp(num(a, "gp"))
            g.end, g.end_cpu = e.ns, e.cpu
        elif e.kind == "qs":
            gp(num(a, "gp")).qs[e.cpu] = (e.ns, str(a.get("from", "other")))
        elif e.kind == "call_rcu":
            cb = Callback(num(a, "cb"), num(a, "gp", 0), e.cpu, e.ns)
            pending_cb[cb.cb].append(cb)
            tl.callbacks.append(cb)
        elif e.kind == "cb_invoke":
            queue = pending_cb.get(num(a, "cb"))
            cb = queue.pop(0) if queue else None
            if cb is None:                 # its call_rcu was lost or came before the trace
                cb = Callback(num(a, "cb"), num(a, "gp", 0))
                tl.callbacks.append(cb)
            cb.gp = max(cb.gp, num(a, "gp", 0))
            cb.run_cpu, cb.run_ns = e.cpu, e.ns
        elif e.kind == "sync_begin":
            s = Sync(num(a, "task", -1), num(a, "gp", 0), bool(num(a, "exp", 0)), e.cpu, e.ns)
            open_sync[s.pid] = s
            tl.syncs.append(s)
        elif e.kind == "sync_end":
            s = open_sync.pop(num(a, "task", -1), None)
            if s:
                s.end, s.end_cpu = e.ns, e.cpu
        else:
            tl.instants.append(e)

    for e in events:
        try:
            handle(e, e.args)
        except ValueError as err:          # a damaged line: its event is left out
            tl.notes.append(f"cpu{e.cpu} event {e.seq} ({e.kind}): {err}")
    for cpu, (pid, since) in running.items():
        tl.tasks.append(Span(cpu, since, t1, name(cpu, pid), pid))
    for cpu, since in idle_since.items():
        tl.idle.append(Span(cpu, since, t1, "idle"))
    for cpu in list(reading):
        close_read(cpu, t1)
    return tl


def check_order(tl: Timeline) -> list[str]:
    """What in the timeline breaks an order RCU promises (see the module
    docstring); [] for a trace of a correct kernel."""
    problems = []

    def seen(cpu, ns):
        """Whether the trace holds all of CPU cpu's events from time ns on."""
        return ns >= tl.kept_from.get(cpu, 0)

    def seen_all(ns):
        return all(seen(cpu, ns) for cpu in range(tl.ncpu))

    def known(n):
        """Whether GP n's start and end would be in the trace had they happened."""
        g = tl.gps.get(n)
        return tl.from_boot or (g is not None and g.start is not None and seen_all(g.start))

    def ms(ns):
        return f"{(ns - tl.t0) / 1e6:.6f} ms"

    for n, g in sorted(tl.gps.items()):
        if g.start is None and g.qs and known(n):
            problems.append(f"quiescent states for GP {n}, which never started")
        if g.start is not None and g.end is not None and g.end < g.start:
            problems.append(f"GP {n} ends ({ms(g.end)}) before it starts ({ms(g.start)})")
        for cpu, (ns, where) in sorted(g.qs.items()):
            if g.start is not None and ns < g.start:
                problems.append(f"cpu{cpu}'s quiescent state for GP {n} ({where}, {ms(ns)}) comes "
                                f"before GP {n} starts ({ms(g.start)})")
            if g.end is not None and ns > g.end:
                problems.append(f"cpu{cpu}'s quiescent state for GP {n} ({where}, {ms(ns)}) comes "
                                f"after GP {n} ended ({ms(g.end)})")
        if g.start is not None and g.end is not None:
            for cpu in range(tl.ncpu):
                if g.waits_for >> cpu & 1 and cpu not in g.qs and seen(cpu, g.start):
                    problems.append(f"GP {n} ended ({ms(g.end)}) without cpu{cpu}'s quiescent "
                                    "state, which it waited for")
        following = tl.gps.get(n + 1)
        if g.start is not None and following and following.start is not None \
                and (following.start < g.end if g.end is not None else known(n)):
            problems.append(f"GP {n + 1} starts ({ms(following.start)}) before GP {n} ended")

    def ended_before(n, ns, what):
        end = tl.gps[n].end if n in tl.gps else None
        if end is not None and ns < end:
            problems.append(f"{what} at {ms(ns)}, before GP {n} ended ({ms(end)})")
        elif end is None and n > 0 and known(n):
            problems.append(f"{what} at {ms(ns)}, but GP {n} never ended")

    for cb in tl.callbacks:
        if cb.run_ns is not None:
            ended_before(cb.gp, cb.run_ns, f"callback {cb.cb:#x} (needs GP {cb.gp}) ran on "
                         f"cpu{cb.run_cpu}")
    for s in tl.syncs:
        if s.end is not None:
            what = "synchronize_rcu_expedited" if s.expedited else "synchronize_rcu"
            ended_before(s.gp, s.end, f"{what} by pid {s.pid} (needs GP {s.gp}) returned")
    for r in tl.reads:
        if not r.inside:
            continue
        for n, g in sorted(tl.gps.items()):
            if g.start is None or not r.start <= g.start < r.end:
                continue
            if g.end is not None and g.end < r.end:
                problems.append(f"GP {n} started ({ms(g.start)}) inside a read section on "
                                f"cpu{r.cpu} but ended ({ms(g.end)}) before it did ({ms(r.end)})")
            qs = g.qs.get(r.cpu)
            if qs and qs[0] < r.end:
                problems.append(f"cpu{r.cpu} reported a quiescent state for GP {n} "
                                f"({ms(qs[0])}) inside a read section (until {ms(r.end)})")
    return problems


# --- Chrome Trace Event Format ----------------------------------------------

def chrome_json(tl: Timeline, trace: Trace) -> dict:
    """The timeline as a Chrome/Perfetto trace (a dict for json.dump)."""
    gp_track = tl.ncpu
    out = [{"ph": "M", "pid": 0, "tid": 0, "name": "process_name", "args": {"name": "Grace kernel"}}]
    for cpu in range(tl.ncpu):
        out.append({"ph": "M", "pid": 0, "tid": cpu, "name": "thread_name",
                    "args": {"name": f"cpu{cpu}"}})
        out.append({"ph": "M", "pid": 0, "tid": cpu, "name": "thread_sort_index",
                    "args": {"sort_index": cpu + 1}})
    out.append({"ph": "M", "pid": 0, "tid": gp_track, "name": "thread_name",
                "args": {"name": "grace periods"}})
    out.append({"ph": "M", "pid": 0, "tid": gp_track, "name": "thread_sort_index",
                "args": {"sort_index": 0}})

    def us(ns):
        return round(ns / 1000, 3)

    def complete(name, cat, tid, start, end, args=None):
        out.append({"name": name, "cat": cat, "ph": "X", "pid": 0, "tid": tid, "ts": us(start),
                    "dur": us(max(end - start, 0)), "args": args or {}})

    def instant(name, cat, tid, ns, args=None):
        out.append({"name": name, "cat": cat, "ph": "i", "s": "t", "pid": 0, "tid": tid,
                    "ts": us(ns), "args": args or {}})

    for t in tl.tasks:
        complete(t.label if t.pid <= 0 else f"{t.label} (pid {t.pid})", "sched", t.cpu,
                 t.start, t.end, {"pid": t.pid})
    for s in tl.idle:
        complete("idle (extended quiescent state)", "sched", s.cpu, s.start, s.end)
    for r in tl.reads:
        complete(f"read section: {r.label}", "read", r.cpu, r.start, r.end,
                 {"pid": r.pid, "inside rcu_read_lock": r.inside})
    for n, g in sorted(tl.gps.items()):
        if g.start is None:
            continue
        waits = [f"cpu{c}" for c in range(tl.ncpu) if g.waits_for >> c & 1]
        complete(f"GP {n}", "rcu", gp_track, g.start, g.end if g.end is not None else tl.t1,
                 {"waits for": " ".join(waits) or "nobody (all idle)",
                  "started on": f"cpu{g.start_cpu}", "ended on": f"cpu{g.end_cpu}"})
        for cpu, (ns, where) in sorted(g.qs.items()):
            instant(f"QS for GP {n}", "rcu", cpu, ns, {"from": where})
    for i, cb in enumerate(tl.callbacks):
        flow = {"cat": "rcu", "name": "call_rcu -> callback", "id": i + 1, "pid": 0}
        if cb.call_ns is not None:
            instant(f"call_rcu (needs GP {cb.gp})", "rcu", cb.call_cpu, cb.call_ns,
                    {"cb": f"{cb.cb:#x}"})
        if cb.run_ns is not None:
            instant(f"callback (GP {cb.gp})", "rcu", cb.run_cpu, cb.run_ns, {"cb": f"{cb.cb:#x}"})
        if cb.call_ns is not None and cb.run_ns is not None:
            out.append(dict(flow, ph="s", tid=cb.call_cpu, ts=us(cb.call_ns)))
            out.append(dict(flow, ph="f", bp="e", tid=cb.run_cpu, ts=us(cb.run_ns)))
    for i, s in enumerate(tl.syncs):
        name = ("synchronize_rcu_expedited" if s.expedited else "synchronize_rcu") + \
            f" (pid {s.pid}, needs GP {s.gp})"
        common = {"name": name, "cat": "rcu", "id": f"sync{i}", "pid": 0, "tid": s.cpu}
        out.append(dict(common, ph="b", ts=us(s.start)))
        out.append(dict(common, ph="e", ts=us(s.end if s.end is not None else tl.t1)))
    for e in tl.instants:
        tid = gp_track if e.kind in ("gp_request", "stall") else e.cpu
        instant(e.kind, "rcu" if e.kind != "mark" else "mark", tid, e.ns,
                {k: (f"{v:#x}" if isinstance(v, int) and k in ("cpus", "wait") else v)
                 for k, v in e.args.items()} | {"cpu": e.cpu})
    return {"traceEvents": out, "displayTimeUnit": "ns",
            "otherData": {"source": "Grace kernel trace (tools/ktrace.py)",
                          "dumps": ", ".join(trace.reasons),
                          "events lost": {f"cpu{c}": n for c, n in sorted(trace.lost.items())}}}


# --- the commands ----------------------------------------------------------

def convert(text: str, json_path=None, svg_path=None, window=(None, None), quiet=False,
            title=""):
    """Parse, check and write the pictures; returns (trace, timeline, problems)."""
    import ktrace_svg
    trace = parse(text)
    tl = build(trace)
    problems = check_order(tl)
    if json_path:
        Path(json_path).parent.mkdir(parents=True, exist_ok=True)
        Path(json_path).write_text(json.dumps(chrome_json(tl, trace), indent=None) + "\n")
    if svg_path:
        Path(svg_path).parent.mkdir(parents=True, exist_ok=True)
        Path(svg_path).write_text(ktrace_svg.render(tl, window, title))
    if not quiet:
        lost = sum(trace.lost.values())
        started = sum(1 for g in tl.gps.values() if g.start is not None)
        print(f"trace: {len(trace.events)} events on {trace.ncpu} CPUs "
              f"({(tl.t1 - tl.t0) / 1e6:.1f} ms), {started} grace periods, "
              f"{len(tl.callbacks)} callbacks, {lost} events lost")
        for note in (trace.notes + tl.notes)[:5]:
            print(f"trace: note: {note}")
        for p in problems:
            print(f"trace: ORDER: {p}")
        for path in (json_path, svg_path):
            if path:
                print(f"trace: wrote {path}")
    return trace, tl, problems


def run_traced(ncpu: int, prog: str, args, opts, timeout: float, out, quiet: bool = True):
    """Boot PROG with tracing on, the dump going to OUT.txt through COM2 and
    the console to OUT.console.log; returns (qemu.Result, dump text)."""
    opts = list(opts)
    if not any(o.startswith("trace=") for o in opts):
        opts.append(DEFAULT_CLASSES)
    opts.append("trace_port=2")
    dump = Path(f"{out}.txt")
    dump.parent.mkdir(parents=True, exist_ok=True)
    dump.unlink(missing_ok=True)
    result = qemu.run(ncpu, prog, list(args), opts, timeout, log_path=f"{out}.console.log",
                      quiet=quiet, serial2=dump)
    return result, dump.read_text(errors="replace") if dump.exists() else ""


def run_shell(ncpu: int, args, opts, out) -> tuple[int, str]:
    """The shell with tracing on, on this terminal; (status, dump text)."""
    opts = list(opts) + ([] if any(o.startswith("trace=") for o in opts) else [DEFAULT_CLASSES])
    dump = Path(f"{out}.txt")
    dump.parent.mkdir(parents=True, exist_ok=True)
    dump.unlink(missing_ok=True)
    cmd = qemu.build_command(ncpu, "sh", list(args), opts + ["trace_port=2"], interactive=True,
                             serial2=dump)
    qemu.ensure_qemu()
    print("trace: the shell runs with tracing on; `exit` ends it and draws the trace")
    status = subprocess.call(cmd)
    return (0 if status in (0, 1) else status), (dump.read_text(errors="replace")
                                                 if dump.exists() else "")


def cmd_run(ns) -> int:
    out = Path(ns.out or qemu.BUILD_DIR / "trace" / ns.prog)
    if ns.prog == "sh":
        status, text = run_shell(ns.ncpu, ns.args, ns.opt, out)
    else:
        result, text = run_traced(ns.ncpu, ns.prog, ns.args, ns.opt, ns.timeout, out, quiet=False)
        status = result.status
        if result.note:
            print(result.note, file=sys.stderr)
    try:
        title = f"Grace: {' '.join([ns.prog, *ns.args])} on {ns.ncpu} CPUs"
        _, _, problems = convert(text, f"{out}.json", f"{out}.svg", title=title)
    except TraceError as err:
        print(f"ktrace.py: {out}.txt: {err}", file=sys.stderr)
        return status or 1
    return status or (3 if problems else 0)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    cut = argv.index("--") if "--" in argv else len(argv)
    ap = argparse.ArgumentParser(prog="ktrace.py", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="boot PROG with tracing on and draw its trace")
    run.add_argument("--ncpu", type=int, default=2)
    run.add_argument("--opt", action="append", default=[], metavar="KEY=VALUE")
    run.add_argument("--timeout", type=float, default=600)
    run.add_argument("--out", help="output stem (default build/trace/PROG)")
    conv = sub.add_parser("convert", help="draw a dump")
    conv.add_argument("dump")
    conv.add_argument("--json")
    conv.add_argument("--svg")
    conv.add_argument("--from", dest="start", type=float, metavar="MS",
                      help="SVG: start this many ms after the first event")
    conv.add_argument("--to", dest="end", type=float, metavar="MS")
    conv.add_argument("--title", default="", help="SVG: the heading")
    check = sub.add_parser("check", help="check a dump's order")
    check.add_argument("dump")
    ns = ap.parse_args(argv[:cut])
    try:
        if ns.command == "run":
            rest = argv[cut + 1:]
            if not rest:
                ap.error("run: name the program after --")
            ns.prog, ns.args = rest[0], rest[1:]
            return cmd_run(ns)
        text = Path(ns.dump).read_text(errors="replace")
        if ns.command == "convert":
            _, _, problems = convert(text, ns.json, ns.svg, (ns.start, ns.end), title=ns.title)
        else:
            _, _, problems = convert(text, quiet=False)
        return 3 if problems else 0
    except (OSError, ValueError, TraceError) as err:
        print(f"ktrace.py: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        qemu.kill_all()
        return 130


if __name__ == "__main__":
    sys.exit(main())
