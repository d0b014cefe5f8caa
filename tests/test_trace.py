#!/usr/bin/env python3
"""Host unit tests for tools/ktrace.py and tools/ktrace_svg.py (run by make check).

A small dump written by hand, in the kernel's format, tells a known story on
2 CPUs: a reader on cpu1 holds grace period 1; cpu0 queues a call_rcu (it
needs GP 1) and calls synchronize_rcu (it needs GP 2). The order check must
accept it, and must reject each broken variant of it: a quiescent state
before its grace period starts, a callback or a synchronize_rcu that
finishes before its grace period ends, a grace period that ends while a
read section it must wait for still runs, a CPU's quiescent state missing.
chrome_problems() (also used by tests/tests_trace.py) checks the keys each
Chrome trace event needs.
"""

import sys

sys.dont_write_bytecode = True

import json
import unittest
import xml.etree.ElementTree as ET
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
import ktrace  # noqa: E402
import ktrace_svg  # noqa: E402

STORY = """\
noise from the console
trace: begin reason=exit ncpu=2 capacity=64 classes=rcu,sched,read
trace: cpu=0 events=10 lost=0 first=0 next=10
trace: 0 0 1000 sched_switch in=3 name=writer out=0
trace: 0 1 2000 call_rcu cb=0xff00 gp=1
trace: 0 2 2100 gp_request gp=1
trace: 0 3 2200 gp_start gp=1 wait=0x3
trace: 0 4 2300 sync_begin gp=2 exp=0 task=3
trace: 0 5 2400 qs gp=1 from=sync
trace: 0 6 9000 qs gp=2 from=schedule
trace: 0 7 9100 gp_end gp=2
trace: 0 8 9200 cb_invoke cb=0xff00 gp=1
trace: 0 9 9300 sync_end gp=2 exp=0 task=3
trace: cpu=1 events=6 lost=0 first=0 next=6
trace: 1 0 1500 read_begin what=reader inside=1 task=2
trace: 1 1 8000 read_end what=reader inside=1 task=2
trace: 1 2 8100 qs gp=1 from=schedule
trace: 1 3 8200 gp_end gp=1
trace: 1 4 8300 gp_start gp=2 wait=0x3
trace: 1 5 8400 qs gp=2 from=schedule
trace: end
"""

# Required keys of each Chrome Trace Event Format phase this tool writes.
REQUIRED = {
    "M": {"name", "ph", "pid", "tid", "args"},
    "X": {"name", "cat", "ph", "ts", "dur", "pid", "tid"},
    "i": {"name", "cat", "ph", "ts", "pid", "tid", "s"},
    "s": {"name", "cat", "ph", "ts", "pid", "tid", "id"},
    "f": {"name", "cat", "ph", "ts", "pid", "tid", "id", "bp"},
    "b": {"name", "cat", "ph", "ts", "pid", "id"},
    "e": {"name", "cat", "ph", "ts", "pid", "id"},
}


def chrome_problems(doc) -> list[str]:
    """What is wrong with a Chrome trace (a parsed JSON document)."""
    if not isinstance(doc, dict) or not isinstance(doc.get("traceEvents"), list):
        return ["not an object with a traceEvents list"]
    problems = []
    for e in doc["traceEvents"]:
        need = REQUIRED.get(e.get("ph"))
        if need is None:
            problems.append(f"unknown phase in {e}")
        elif missing := need - set(e):
            problems.append(f"{e.get('ph')} event {e.get('name')!r} lacks {sorted(missing)}")
        elif "ts" in e and not isinstance(e["ts"], (int, float)):
            problems.append(f"{e['name']!r}: ts is not a number")
    # Slices on one track must nest (chrome://tracing and Perfetto drop or
    # misdraw the others); ts and dur are rounded to the nanosecond.
    tracks = {}
    for e in doc["traceEvents"]:
        if e.get("ph") == "X":
            tracks.setdefault((e["pid"], e["tid"]), []).append((e["ts"], -e["dur"], e["name"]))
    for track, slices in tracks.items():
        open_ends = []
        for ts, minus_dur, name in sorted(slices):
            while open_ends and open_ends[-1][0] <= ts + 0.002:
                open_ends.pop()
            if open_ends and ts - minus_dur > open_ends[-1][0] + 0.002:
                problems.append(f"track {track}: {name!r} at {ts} overlaps {open_ends[-1][1]!r}")
            open_ends.append((ts - minus_dur, name))
    flows = {}
    for e in doc["traceEvents"]:
        if e.get("ph") in ("s", "f"):
            flows.setdefault(e["id"], []).append(e["ph"])
    problems += [f"flow {i} is {phases}, not one s and one f"
                 for i, phases in flows.items() if sorted(phases) != ["f", "s"]]
    return problems


def check(text):
    return ktrace.check_order(ktrace.build(ktrace.parse(text)))


def moved(text, line_start, ns):
    """`text` with the event line starting `line_start` at time ns."""
    lines = text.splitlines()
    [i] = [k for k, l in enumerate(lines) if l.startswith(line_start)]
    words = lines[i].split()
    words[3] = str(ns)
    lines[i] = " ".join(words)
    return "\n".join(lines) + "\n"


class OrderTest(unittest.TestCase):
    def test_the_story_is_in_order(self):
        tl = ktrace.build(ktrace.parse(STORY))
        self.assertEqual(ktrace.check_order(tl), [])
        self.assertEqual(sorted(tl.gps), [1, 2])
        self.assertEqual(tl.gps[1].qs[1], (8100, "schedule"))
        [cb] = tl.callbacks
        self.assertEqual((cb.call_ns, cb.run_ns, cb.gp), (2000, 9200, 1))
        [sync] = tl.syncs
        self.assertEqual((sync.start, sync.end, sync.gp), (2300, 9300, 2))
        [read] = tl.reads
        self.assertEqual((read.cpu, read.start, read.end, read.inside), (1, 1500, 8000, True))

    def test_quiescent_state_before_its_grace_period(self):
        problems = check(moved(STORY, "trace: 1 2 ", 2150))
        self.assertTrue(any("cpu1's quiescent state for GP 1" in p and "before GP 1 starts" in p
                            for p in problems), problems)

    def test_quiescent_state_inside_the_read_section(self):
        problems = check(moved(STORY, "trace: 1 2 ", 7000))
        self.assertTrue(any("inside a read section" in p for p in problems), problems)

    def test_callback_before_its_grace_period_ended(self):
        problems = check(moved(STORY, "trace: 0 8 ", 8150))
        self.assertTrue(any("callback 0xff00" in p and "before GP 1 ended" in p
                            for p in problems), problems)

    def test_synchronize_rcu_returns_too_early(self):
        problems = check(moved(STORY, "trace: 0 9 ", 9050))
        self.assertTrue(any("synchronize_rcu by pid 3" in p for p in problems), problems)

    def test_grace_period_ends_inside_a_read_section(self):
        text = moved(moved(STORY, "trace: 0 3 ", 1600), "trace: 1 3 ", 7500)
        problems = check(moved(text, "trace: 1 2 ", 7400))
        self.assertTrue(any("ended" in p and "before it did" in p for p in problems), problems)

    def test_missing_quiescent_state(self):
        text = STORY.replace("trace: 1 2 8100 qs gp=1 from=schedule\n", "")
        problems = check(text)
        self.assertTrue(any("without cpu1's quiescent state" in p for p in problems), problems)

    def test_lost_events_are_not_held_against_the_trace(self):
        # cpu1 lost its oldest events: its missing quiescent state for GP 1
        # (recorded before its first kept event) is not a problem.
        text = STORY.replace("trace: cpu=1 events=6 lost=0 first=0", "trace: cpu=1 events=3 lost=3 first=3")
        for line in ("trace: 1 0 ", "trace: 1 1 ", "trace: 1 2 "):
            text = "\n".join(l for l in text.splitlines() if not l.startswith(line)) + "\n"
        self.assertEqual(check(text), [])

    def test_busted_callback_never_waited(self):
        # call_rcu with grace periods skipped: the callback runs at once and
        # GP 1 never starts.
        text = """trace: begin reason=exit ncpu=1 capacity=64 classes=rcu
trace: cpu=0 events=2 lost=0 first=0 next=2
trace: 0 0 100 call_rcu cb=0xab gp=1
trace: 0 1 110 cb_invoke cb=0xab gp=0
trace: end
"""
        problems = check(text)
        self.assertTrue(any("never ended" in p for p in problems), problems)


class ParseTest(unittest.TestCase):
    def test_no_dump_is_an_error(self):
        with self.assertRaises(ktrace.TraceError):
            ktrace.parse("just a console\n")

    def test_damaged_lines_become_notes(self):
        text = STORY.replace("trace: 0 5 2400 qs gp=1 from=sync", "trace: 0 5 2400 qs gp=x")
        text += "trace: 7 garbage\n"
        tr = ktrace.parse(text)
        tl = ktrace.build(tr)
        self.assertTrue(tl.notes or tr.notes)
        ktrace.chrome_json(tl, tr)
        ktrace_svg.render(tl)

    def test_two_dumps_are_joined(self):
        second = ("trace: begin reason=exit ncpu=2 capacity=64 classes=rcu\n"
                  "trace: cpu=0 events=1 lost=0 first=10 next=11\n"
                  "trace: 0 10 9900 mark value=1 what=x\ntrace: end\n")
        tr = ktrace.parse(STORY.replace("reason=exit", "reason=request") + second)
        self.assertEqual(tr.reasons, ["request", "exit"])
        self.assertEqual(tr.events[-1].kind, "mark")


class PicturesTest(unittest.TestCase):
    def test_chrome_json(self):
        tr = ktrace.parse(STORY)
        doc = json.loads(json.dumps(ktrace.chrome_json(ktrace.build(tr), tr)))
        self.assertEqual(chrome_problems(doc), [])
        names = {e["name"] for e in doc["traceEvents"]}
        self.assertTrue({"GP 1", "GP 2", "QS for GP 1", "call_rcu (needs GP 1)"} <= names, names)

    def test_svg_has_one_lane_per_cpu(self):
        svg = ktrace_svg.render(ktrace.build(ktrace.parse(STORY)))
        root = ET.fromstring(svg)
        lanes = [e for e in root.iter() if e.get("class") == "lane"]
        self.assertEqual(len(lanes), 2)


if __name__ == "__main__":
    unittest.main(verbosity=0)
