#!/usr/bin/env python3
"""False failures of the autograder, measured: `make grade-flakes RUNS=N
[PSET=N] [JOBS=J]`.

    python3 tools/grade_flakes.py [--gradings N] [--pset N] [--jobs J]
                                  [--out PATH]

Grades the tree it runs in (the solution tree: every test must earn full
marks) N times over, exactly as `make grade` does (tools/grade.py: each
concurrency test psets.RUNS times, stopped at its first failure), and
reports for every graded test how many gradings lost its points and why,
the reasons grouped (numbers in them replaced by N, so that "412 reads"
and "97 reads" count as one reason). On the solution tree every lost point
is a false failure: a test that a correct kernel does not always pass.

After each grading the tally so far is written to PATH (default
$GRACE_BUILD/grade-flakes.json): {"gradings", "started", "commit", "load",
"tests": {NAME: {"pset", "lost", "reasons": {REASON: count}, "examples":
{REASON: the first one as printed}, "logs": [PATH]}}}, so that an
interrupted measurement still says what it measured. The console log of
every lost test is kept in $GRACE_BUILD/grade-flakes/gradingK/. The report at the end
(or at Ctrl-C) prints the same, with the date, the commit and the load
average before and after, for staff/grading.md.

Exit status: 0 when no grading lost a point, 1 when some did, 2 when
grading could not run.
"""

from __future__ import annotations

import sys

sys.dont_write_bytecode = True

import argparse
import datetime
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import grade  # noqa: E402  (tools/ is on the path: this file is in it)

psets, qemu, runner = grade.psets, grade.qemu, grade.runner


def reason_class(reason: str) -> str:
    """A failure reason with its numbers and addresses made generic, so that
    failures for one cause group together."""
    text = re.sub(r"\b0x[0-9a-f]+", "ADDRESS", reason)
    return re.sub(r"\b\d+(\.\d+)?", "N", text)


def load() -> str:
    """The host's load averages and CPU count, for the record."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


def commit() -> str:
    """The commit being measured (with "+changes" when the tree differs)."""
    def git(*args):
        return subprocess.run(["git", "-C", str(grade.REPO), *args], capture_output=True,
                              text=True).stdout.strip()
    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return head + ("+changes" if git("status", "--porcelain", "--untracked-files=no") else "")


def tally_grading(tally: dict, results: dict, keep: Path) -> int:
    """Add one grading's results to `tally`, copying the log of each lost
    test into the folder `keep` (the next grading would delete or overwrite
    it); return the points it lost."""
    lost = 0
    for n, entry in results["psets"].items():
        for t in entry["tests"]:
            row = tally.setdefault(t["name"], {"pset": int(n), "lost": 0, "reasons": {},
                                               "examples": {}, "logs": []})
            if t["points"] < t["max"]:
                lost += t["max"] - t["points"]
                row["lost"] += 1
                why = reason_class(t["reason"])
                if t["evidence"]:
                    why += " | " + reason_class(t["evidence"][0])
                row["reasons"][why] = row["reasons"].get(why, 0) + 1
                row["examples"].setdefault(why, " | ".join([t["reason"], *t["evidence"][:1]]))
                if t["log"] and Path(t["log"]).is_file():
                    keep.mkdir(parents=True, exist_ok=True)
                    row["logs"].append(str(shutil.copy(t["log"], keep)))
    return lost


def print_tally(record: dict) -> None:
    """The report: every test, how many gradings lost its points, and why."""
    n = record["gradings"]
    print(f"== grade-flakes: {n} gradings of commit {record['commit']}, started "
          f"{record['started']} ({record['load']}), ended {record.get('ended', '-')} "
          f"({record.get('load_after', '-')}); {record['jobs']} QEMUs at once, "
          f"{psets.RUNS} runs of each concurrency test per grading")
    width = max((len(name) for name in record["tests"]), default=0)
    for name, row in record["tests"].items():
        print(f"  pset {row['pset']}  {name:<{width}}  lost its points in "
              f"{row['lost']}/{n} gradings")
        for why, count in sorted(row["reasons"].items(), key=lambda kv: -kv[1]):
            print(f"      {count}x {why}")
            print(f"         e.g. {row['examples'][why]}")
        for log in row["logs"]:
            print(f"      log: {log}")
    flaky = sum(1 for row in record["tests"].values() if row["lost"])
    print(f"== {flaky} tests lost points at least once in {n} gradings")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="grade_flakes.py",
                                     description="Measure the autograder's false failures.")
    parser.add_argument("--gradings", type=int, default=20, metavar="N",
                        help="how many times to grade (default 20)")
    parser.add_argument("--pset", type=int, action="append", metavar="N",
                        help="only pset N (repeatable; default all)")
    parser.add_argument("--jobs", "-j", type=int, default=2, metavar="J",
                        help="QEMUs at once (default 2)")
    parser.add_argument("--out", type=Path, default=qemu.BUILD_DIR / "grade-flakes.json",
                        metavar="PATH", help="the tally, rewritten after each grading")
    ns = parser.parse_args(argv)
    chosen = ns.pset or sorted(psets.PSETS)
    if ns.gradings < 1 or ns.jobs < 1 or any(n not in psets.PSETS for n in chosen):
        print(f"grade_flakes.py: need --gradings and --jobs >= 1 and psets among "
              f"{sorted(psets.PSETS)}", file=sys.stderr)
        return 2
    registry = runner.load_tests()
    for path in (qemu.DEFAULT_KERNEL, qemu.DEFAULT_SYMS):
        if not path.is_file():
            print(f"grade_flakes.py: {path} not found: run 'make' first", file=sys.stderr)
            return 2
    qemu.ensure_qemu()
    record = {"gradings": 0, "jobs": ns.jobs, "psets": chosen, "commit": commit(),
              "started": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
              "load": load(), "seconds": [], "tests": {}}
    ns.out.parent.mkdir(parents=True, exist_ok=True)
    try:
        for i in range(ns.gradings):
            start = time.monotonic()
            results = grade.grade(chosen, registry, psets.RUNS, ns.jobs)
            lost = tally_grading(record["tests"], results,
                                 ns.out.parent / "grade-flakes" / f"grading{i + 1}")
            record["gradings"] += 1
            record["seconds"].append(round(time.monotonic() - start))
            record["ended"] = datetime.datetime.now(datetime.timezone.utc).strftime(
                "%Y-%m-%d %H:%M UTC")
            record["load_after"] = load()
            ns.out.write_text(json.dumps(record, indent=2) + "\n")
            print(f"grading {i + 1}/{ns.gradings}: {results['score']}/{results['total']}"
                  f"{f' (lost {lost})' if lost else ''} in {record['seconds'][-1]} s; "
                  f"{record['load_after']}", flush=True)
    except KeyboardInterrupt:
        qemu.kill_all()
        print("\ngrade_flakes.py: interrupted; the gradings that finished:", file=sys.stderr)
    if not record["gradings"]:
        return 2
    print_tally(record)
    print(f"grade_flakes.py: tally written to {ns.out}")
    return 1 if any(row["lost"] for row in record["tests"].values()) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
