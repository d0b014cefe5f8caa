"""Kernel tracing: kernel/trace.hh, tools/ktrace.py, make trace-NAME, grace-trace.

trace-gp-2         `ktest trace-gp 30`, traced as `make trace-ktest` does it
                   (trace=rcu,sched,read, the dump through COM2 into a file):
                   a reader on cpu1 stays 30 ms in a read section while cpu0
                   queues a call_rcu and calls synchronize_rcu. The JSON
                   parses and every event has the keys its phase needs. In the
                   JSON's own timestamps: each grace period that started during
                   the read section started before cpu1's quiescent state for
                   it, which came after the section ended and before the grace
                   period ended; the grace period synchronize_rcu needed started
                   before cpu1's quiescent state for it, which came before it
                   ended, which came before synchronize_rcu returned; every
                   call_rcu's flow ends at its callback, which ran after the
                   grace period it needed ended. tools/ktrace.py's order check
                   finds nothing; the SVG parses as XML, one lane per CPU.
trace-gp-busted-2  the same scene with grace periods skipped (ktest
                   busted:trace-gp, the dump on the console): the order check
                   must name the callback and the synchronize_rcu that did not
                   wait.
trace-flood-2      `ktest trace-flood 1000` with 64-event buffers: 1000 marks on
                   one CPU with interrupts off. The dump keeps exactly the 64
                   newest events of that CPU, with consecutive sequence
                   numbers ending where the kernel says the marks ended, and
                   says it lost exactly the events before them.
trace-live-2       `ktest trace-live 1000000`: 1000000 marks on cpu1 while cpu0
                   dumps on request again and again (64-event buffers), so a
                   dump copies a buffer that its CPU overwrites meanwhile. In
                   every dump each CPU's events follow on from the previous
                   dump (first - lost = the previous next), and every mark
                   printed is the one recorded under its sequence number: no
                   slot overwritten during the copy is printed.
trace-gdb-2        GDB stops the kernel just before it dumps the trace of
                   `ktest trace-gp 5`; `grace-trace 8` must print, for each
                   CPU, exactly the dump's last 8 event lines.
trace-shell-2      the shell's `trace`, then `exit`: two dumps; the second
                   starts where the first ended on every CPU.
trace-panic-2      a panic with tracing on dumps the trace after the panic message.
trace-off-2        without the boot option: nothing is recorded, nothing is
                   dumped at exit, and `trace` says tracing is off (once: the
                   exit says nothing).

How they were shown to fail (scratch changes, not committed): gp_start
recorded after qs_pending is set in start_gp_locked (so the caller's
quiescent state is recorded before the grace period it belongs to):
trace-gp-2 FAILs ("order check: cpu1's quiescent state for GP 2 ... comes
before GP 2 starts"); trace_dump printing lost=0 always: trace-flood-2
FAILs; a dump on request counting as lost only what was overwritten before
its copy began (not during it): trace-live-2 FAILed 4 runs of 4 (it needs
the two CPUs to run at once, which a busy host does not always grant; a
copy overtaken by its writer, which would print a torn event, was never
seen: the copy is faster than the writer); grace-trace printing hex
arguments without 0x: trace-gdb-2 FAILs; trace_dump saying "trace: off" at
every exit and panic, not only on request: trace-off-2 FAILs; the chrome_json flows dropped:
trace-gp-2 FAILs. The order check itself is shown to catch broken variants
of a trace in tests/test_trace.py.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import ktrace
from test_trace import chrome_problems
from testlib import FAIL, PASS, SKIP, test

EVENT_LINE = re.compile(r"^trace: (\d+) (\d+) (\d+) (\w+)(.*)$", re.MULTILINE)


def gp_scene_problems(doc, ncpu: int) -> str | None:
    """The orders trace-gp-2 checks in the Chrome trace (see the module comment)."""
    events = doc["traceEvents"]
    gps = {int(e["name"][3:]): (e["ts"], e["ts"] + e["dur"]) for e in events
           if e["ph"] == "X" and re.fullmatch(r"GP \d+", e["name"])}
    qs = {(e["tid"], int(e["name"].rsplit(" ", 1)[1])): e["ts"] for e in events
          if e["ph"] == "i" and e["name"].startswith("QS for GP ")}
    reads = [e for e in events if e["ph"] == "X" and e["name"] == "read section: reader"]
    if len(reads) != 1 or reads[0]["tid"] != 1:
        return f"expected one read section of the reader on cpu1, found {reads}"
    read_end = reads[0]["ts"] + reads[0]["dur"]
    held = [n for n, (start, end) in gps.items() if start < read_end < end]
    if not held:
        return f"no grace period was running when the reader left (GPs {gps})"
    for n in held:
        start, end = gps[n]
        q = qs.get((1, n))
        if q is None or not read_end < q < end or not start < q:
            return (f"GP {n} ({start}..{end} us) held by the reader (until {read_end} us): "
                    f"cpu1's quiescent state at {q} us is out of order")
    syncs = [e for e in events if e["ph"] in "be" and e["name"].startswith("synchronize_rcu (")]
    begin = [e for e in syncs if e["ph"] == "b" and e["tid"] == 0]
    if not begin:
        return "no synchronize_rcu on cpu0 in the trace"
    needed = int(re.search(r"needs GP (\d+)", begin[0]["name"]).group(1))
    returned = [e["ts"] for e in syncs if e["ph"] == "e" and e["id"] == begin[0]["id"]][0]
    if needed not in gps:
        return f"GP {needed}, which synchronize_rcu needed, is not in the trace"
    start, end = gps[needed]
    q = qs.get((1, needed))
    if q is None or not start < q < end < returned:
        return (f"GP {needed}: start {start}, cpu1's QS {q}, end {end}, synchronize_rcu "
                f"returned {returned} (us): not in that order")
    starts = {e["id"]: e for e in events if e["ph"] == "s"}
    ends = {e["id"]: e for e in events if e["ph"] == "f"}
    calls = {e["ts"]: e for e in events if e["ph"] == "i" and e["name"].startswith("call_rcu")}
    runs = {e["ts"]: e for e in events if e["ph"] == "i" and e["name"].startswith("callback")}
    if not starts or set(starts) != set(ends):
        return f"call_rcu flows do not pair up: starts {sorted(starts)}, ends {sorted(ends)}"
    for i, s in starts.items():
        call, run = calls.get(s["ts"]), runs.get(ends[i]["ts"])
        if not call or not run or call["tid"] != s["tid"] or run["tid"] != ends[i]["tid"]:
            return f"flow {i} does not run from a call_rcu to a callback"
        gp = int(re.search(r"needs GP (\d+)", call["name"]).group(1))
        if gp not in gps or not gps[gp][1] < run["ts"]:
            return f"flow {i}: the callback ran at {run['ts']} us, before GP {gp} ended"
    if not any(s["tid"] == 0 for s in starts.values()):
        return "no flow from cpu0's call_rcu"
    return None


def trace_gp_driver(spec, log_path: Path):
    """trace-gp-2: see the module comment."""
    stem = log_path.with_suffix("")
    result, dump = ktrace.run_traced(spec.ncpu, spec.prog, spec.args, spec.opts,
                                        spec.timeout, stem)
    output = result.output + "\n--- trace dump (COM2) ---\n" + dump
    log_path.write_text(output)
    if result.status != 0:
        return FAIL, f"ktest trace-gp: exit status {result.status}", output
    json_path, svg_path = Path(f"{stem}.json"), Path(f"{stem}.svg")
    try:
        _, tl, problems = ktrace.convert(dump, json_path, svg_path, quiet=True)
        doc = json.loads(json_path.read_text())
        svg = ET.fromstring(svg_path.read_text())
    except (ktrace.TraceError, ValueError, ET.ParseError) as err:
        return FAIL, f"the trace cannot be read: {err}", output
    if problems:
        return FAIL, f"order check: {problems[0]}", output
    if bad := chrome_problems(doc):
        return FAIL, f"JSON: {bad[0]}", output
    if error := gp_scene_problems(doc, spec.ncpu):
        return FAIL, error, output
    lanes = [e for e in svg.iter() if e.get("class") == "lane"]
    if len(lanes) != spec.ncpu:
        return FAIL, f"the SVG has {len(lanes)} lanes for {spec.ncpu} CPUs", output
    for suffix in (".txt", ".json", ".svg", ".console.log"):
        Path(f"{stem}{suffix}").unlink(missing_ok=True)
    return PASS, "", output


test("trace-gp-2", prog="ktest", args=["trace-gp", "30"], ncpu=2, timeout=60,
     driver=trace_gp_driver)


def busted_is_caught(console: str) -> str | None:
    problems = ktrace.check_order(ktrace.build(ktrace.parse(console)))
    if not any("callback" in p for p in problems) or \
            not any(p.startswith("synchronize_rcu") for p in problems):
        return f"the order check missed the callback or synchronize_rcu: {problems}"
    return None


test("trace-gp-busted-2", prog="ktest", args=["busted:trace-gp", "30"], ncpu=2, timeout=60,
     opts=["trace=rcu,sched,read"], status=1, check=busted_is_caught,
     expect=[r"with grace periods skipped the test failed, as it must", r"^trace: end$"])


def flood_accounting(console: str) -> str | None:
    m = re.search(r"trace-flood: (\d+) marks on cpu(\d+), sequence numbers (\d+)\.\.(\d+), "
                  r"buffer (\d+): ok", console)
    if not m:
        return "trace-flood did not report its marks"
    n, cpu, first_mark, last_mark, capacity = map(int, m.groups())
    h = re.search(rf"^trace: cpu={cpu} events=(\d+) lost=(\d+) first=(\d+) next=(\d+)$",
                  console, re.MULTILINE)
    if not h or capacity != 64:
        return f"no dump header for cpu{cpu}, or a buffer of {capacity}, not 64"
    kept, lost, first, following = map(int, h.groups())
    if kept != capacity or first + kept != following or lost != first:
        return (f"cpu{cpu}: events={kept} lost={lost} first={first} next={following}: a full "
                f"buffer of {capacity} keeps {capacity} events and loses all the older ones")
    seqs = [int(e[1]) for e in EVENT_LINE.findall(console) if int(e[0]) == cpu]
    if seqs != list(range(first, following)):
        return f"cpu{cpu}'s event lines are not sequence numbers {first}..{following - 1}"
    marks = [(int(e[1]), e[4]) for e in EVENT_LINE.findall(console)
             if int(e[0]) == cpu and e[3] == "mark"]
    expect = [(s, f" value={s - first_mark} what=flood") for s in range(first, last_mark + 1)]
    if marks != expect or last_mark - first_mark + 1 != n:
        return (f"cpu{cpu} kept marks {marks[:2]}...{marks[-2:]}; expected the newest ones, "
                f"{expect[:1]}...{expect[-1:]}")
    return None


test("trace-flood-2", prog="ktest", args=["trace-flood", "1000"], ncpu=2, timeout=60,
     opts=["trace=all", "trace_buf=64"], check=flood_accounting,
     expect=[r"ktest trace-flood: passed"])


def live_dumps_consistent(console: str) -> str | None:
    m = re.search(r"trace-live: (\d+) marks on cpu(\d+) from sequence number (\d+), (\d+) dumps",
                  console)
    if not m:
        return "trace-live did not report its marks"
    n, cpu, offset, dumps = map(int, m.groups())
    dumped, printed = 0, 0
    for dump in re.findall(r"^trace: begin .*?^trace: end$", console, re.MULTILINE | re.DOTALL):
        h = re.search(rf"^trace: cpu={cpu} events=(\d+) lost=(\d+) first=(\d+) next=(\d+)$",
                      dump, re.MULTILINE)
        if not h:
            return f"a dump without cpu{cpu}"
        events, lost, first, following = map(int, h.groups())
        if first - lost != dumped or following - first != events or events > 64:
            return (f"cpu{cpu}: events={events} lost={lost} first={first} next={following} "
                    f"does not follow on from the previous dump's next={dumped}")
        lines = [e for e in EVENT_LINE.findall(dump) if int(e[0]) == cpu]
        if [int(e[1]) for e in lines] != list(range(first, following)):
            return f"cpu{cpu}'s lines are not sequence numbers {first}..{following - 1}"
        for e in lines:
            if e[3] == "mark" and e[4] != f" value={int(e[1]) - offset} what=live":
                return f"cpu{cpu} event {e[1]} is{e[4]}: a slot overwritten while it was copied"
        dumped, printed = following, printed + events
    if dumped < offset + n or dumps < 1 or printed == 0:
        return f"the dumps end at {dumped}, before the last mark ({offset + n - 1})"
    return None


test("trace-live-2", prog="ktest", args=["trace-live", "1000000"], ncpu=2, timeout=90,
     opts=["trace=rcu", "trace_buf=64"], check=live_dumps_consistent,
     expect=[r"ktest trace-live: passed"])


GDB_COMMANDS = """\
break trace_dump_stopped
continue
echo @@trace\\n
grace-trace 8
echo @@end\\n
delete
detach
"""


def trace_gdb_driver(spec, log_path: Path):
    """trace-gdb-2: see the module comment."""
    import tests_gdb
    if why := tests_gdb.ensure_gdb():
        return SKIP, why, ""
    session = tests_gdb.Session(spec, log_path, GDB_COMMANDS)
    if problem := session.start():
        return FAIL, problem, session.console()
    problem = session.finish(gdb_timeout=spec.timeout - 10, qemu_grace=20)
    console, parts = session.console(), tests_gdb.sections(session.gdb_output)
    output = console + "\n--- gdb ---\n" + session.gdb_output
    if "end" not in parts or "trace" not in parts:
        return FAIL, problem or "gdb did not stop at trace_dump_stopped", output
    if "Traceback" in session.gdb_output or "Python Exception" in session.gdb_output:
        return FAIL, "grace-trace raised a Python exception", output
    if session.result.status != 0:
        return FAIL, f"ktest trace-gp did not finish (status {session.result.status})", output
    dump = re.search(r"^trace: begin .*?^trace: end$", console, re.MULTILINE | re.DOTALL)
    if not dump:
        return FAIL, "no trace dump on the console", output
    for cpu in range(spec.ncpu):
        theirs = [m.group(0) for m in EVENT_LINE.finditer(dump.group(0)) if m.group(1) == str(cpu)]
        mine = [m.group(0) for m in EVENT_LINE.finditer(parts["trace"]) if m.group(1) == str(cpu)]
        if not mine or mine != theirs[-8:]:
            return (FAIL, f"cpu{cpu}: grace-trace printed {mine[-2:]}..., the dump ends with "
                    f"{theirs[-2:]}", output)
    return PASS, "", output


test("trace-gdb-2", prog="ktest", args=["trace-gp", "5"], ncpu=2, timeout=60,
     opts=["trace=rcu,sched,read"], driver=trace_gdb_driver)


def dumps_follow_on(console: str) -> str | None:
    headers = re.findall(r"^trace: (begin reason=\w+|cpu=(\d+) events=\d+ lost=(\d+) "
                         r"first=(\d+) next=(\d+))", console, re.MULTILINE)
    reasons = [h[0] for h in headers if h[0].startswith("begin")]
    if reasons != ["begin reason=request", "begin reason=exit"]:
        return f"expected a dump on request, then one at exit; got {reasons}"
    cut = [h[0] for h in headers].index("begin reason=exit")
    first = {h[1]: h for h in headers[:cut] if h[1]}
    second = {h[1]: h for h in headers[cut:] if h[1]}
    for cpu, h in second.items():
        if cpu not in first or h[3] != first[cpu][4] or h[2] != "0" or first[cpu][2] != "0":
            return f"cpu{cpu}: the second dump does not start where the first ended: {h}"
    return None


test("trace-shell-2", prog=None, ncpu=2, timeout=60, opts=["trace=rcu,sched"],
     input="trace\rexit\r", check=dumps_follow_on,
     expect=[r"^trace: begin reason=request", r"^trace: begin reason=exit"])


def dump_after_panic(console: str) -> str | None:
    panic = console.find("PANIC:")
    dump = console.find("trace: begin reason=panic")
    if panic < 0 or dump < panic or "trace: end" not in console[dump:]:
        return "no whole trace dump after the panic message"
    return None


test("trace-panic-2", prog="ktest", args=["panic"], ncpu=2, timeout=60, status="panic",
     opts=["trace=all"], check=dump_after_panic)

def off_once(console: str) -> str | None:
    n = len(re.findall(r"^trace: off", console, re.MULTILINE))
    return None if n == 1 else f"'trace: off' printed {n} times: once, for `trace`, is right"


test("trace-off-2", prog=None, ncpu=2, timeout=60, input="trace\rktest trace-gp 5\rexit\r",
     expect=[r"ktest trace-gp: passed"], check=off_once,
     reject=[r"^trace: begin", r"PANIC", r"trace: recording"])
