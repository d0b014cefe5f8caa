#!/usr/bin/env python3
"""The autograder: `make grade [PSET=N] [GRADE_JSON=path]`.

    python3 tools/grade.py [--pset N] [--runs R] [--jobs J] [--json PATH]

Runs the tests of each problem set (the table in tools/psets.py) against the
kernel in $GRACE_BUILD (default build/) and prints a score per test, per pset
and in total. A concurrency test runs R times (default psets.RUNS) and earns
its points only if every run passes: one failure in R is a bug the student's
code has, not bad luck. A deterministic test runs once.

For a test that lost points the grader prints the first failing run's reason
and the console lines that say what went wrong (the lines a test's checks
found, kernel FAILED lines, panics, RCU and TODO warnings); the whole
console is kept in build/grade-logs/TEST.runK.log.

--json PATH (or the environment variable GRADE_JSON) also writes the results
for course infrastructure: {"score", "total", "psets": {N: {"title", "doc",
"score", "total", "tests": [{"name", "points", "max", "runs", "passed",
"verdicts", "concurrency", "reason", "evidence", "log"}]}}}.

Exit status: 0 when grading ran (whatever the score); 2 when it could not
(kernel not built, unknown pset, QEMU missing).
"""

from __future__ import annotations

import sys

sys.dont_write_bytecode = True

import argparse
import json
import os
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
for _dir in ("tools", "tests"):   # the tools and the test declarations
    if str(REPO / _dir) not in sys.path:
        sys.path.insert(0, str(REPO / _dir))

import psets  # noqa: E402
import qemu  # noqa: E402
import run as runner  # noqa: E402
import testlib  # noqa: E402

LOG_DIR = qemu.BUILD_DIR / "grade-logs"
# Console lines worth showing a student whose test failed: first what the
# test itself reported, then the kernel's warnings (TODO stubs, RCU).
FAILURE_RE = re.compile(
    r"FAILED|\bFAIL\b|PANIC|\bpanic\b|corrupt|POISON|not intact|"
    r"\b[1-9]\d* of \d+ readers saw inconsistent")
WARNING_RE = re.compile(r"TODO \(pset|WARNING|INFO: grace period")
EVIDENCE_LINES = 5


def run_once(spec: testlib.TestSpec, attempt: int) -> tuple[str, str, str]:
    """Boot one run of `spec`; return (verdict, reason, console)."""
    log_path = LOG_DIR / f"{spec.name}.run{attempt}.log"
    try:
        result = qemu.run(spec.ncpu, spec.prog, list(spec.args), list(spec.opts),
                          spec.timeout, log_path, quiet=True, input=spec.input)
    except (OSError, ValueError) as err:
        return testlib.FAIL, f"could not run QEMU: {err}", ""
    verdict, reason = testlib.evaluate(spec, result)
    if verdict == testlib.PASS:
        log_path.unlink(missing_ok=True)
    return verdict, reason, result.output


def evidence(console: str) -> list[str]:
    """The console lines that explain a failure (at most EVIDENCE_LINES):
    the test's failure lines first, then distinct kernel warnings."""
    lines = [l.strip() for l in console.replace("\r\n", "\n").split("\n")]
    failures = [l for l in lines if FAILURE_RE.search(l)]
    seen, warnings = set(), []
    for line in lines:
        text = re.sub(r"^\[cpu\d+\] ", "", line)
        if WARNING_RE.search(line) and not FAILURE_RE.search(line) and text not in seen:
            seen.add(text)
            warnings.append(line)
    return (failures[:EVIDENCE_LINES - 1] + warnings)[:EVIDENCE_LINES]


def grade(chosen: list[int], registry: dict, runs: int, jobs: int) -> dict:
    """Run every graded test of the chosen psets; return the results."""
    work = []          # (pset, graded, spec, attempt)
    for n in chosen:
        for g in psets.PSETS[n].tests:
            for attempt in range(1, (runs if g.concurrency else 1) + 1):
                work.append((n, g, registry[g.test], attempt))
    outcomes: dict[tuple[int, str], list] = {}
    lock = threading.Lock()

    def one(item):
        n, g, spec, attempt = item
        verdict, reason, console = run_once(spec, attempt)
        with lock:
            outcomes.setdefault((n, g.test), []).append((attempt, verdict, reason, console))

    LOG_DIR.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        try:
            list(pool.map(one, work))
        except BaseException:
            qemu.kill_all()
            raise

    results = {"score": 0, "total": 0, "psets": {}}
    for n in chosen:
        pset = psets.PSETS[n]
        entry = {"title": pset.title, "doc": pset.doc, "score": 0, "total": pset.total,
                 "tests": []}
        for g in pset.tests:
            got = sorted(outcomes[(n, g.test)])
            verdicts = [v for _, v, _, _ in got]
            passed = verdicts.count(testlib.PASS)
            failed = [(a, v, r, c) for a, v, r, c in got if v != testlib.PASS]
            points = g.points if not failed else 0
            test_entry = {"name": g.test, "points": points, "max": g.points,
                          "runs": len(got), "passed": passed, "verdicts": verdicts,
                          "concurrency": g.concurrency, "reason": "", "evidence": [],
                          "log": ""}
            if failed:
                attempt, verdict, reason, console = failed[0]
                test_entry["reason"] = f"{verdict}: {reason}" if reason else verdict
                test_entry["evidence"] = evidence(console)
                test_entry["log"] = str(LOG_DIR / f"{g.test}.run{attempt}.log")
            entry["tests"].append(test_entry)
            entry["score"] += points
        results["psets"][str(n)] = entry
        results["score"] += entry["score"]
        results["total"] += entry["total"]
    return results


def print_report(results: dict) -> None:
    """The human-readable score sheet."""
    for n, entry in results["psets"].items():
        print(f"== pset {n}: {entry['title']} ({entry['doc']})")
        width = max(len(t["name"]) for t in entry["tests"])
        for t in entry["tests"]:
            runs = f"{t['passed']}/{t['runs']} runs passed"
            print(f"  {t['name']:<{width}}  {t['points']:>3}/{t['max']:<3}  {runs}")
            if t["reason"]:
                print(f"      {t['reason']}")
                for line in t["evidence"]:
                    print(f"      | {line}")
                try:
                    log = Path(t["log"]).relative_to(Path.cwd())
                except ValueError:
                    log = t["log"]
                print(f"      log: {log}")
        print(f"  pset {n}: {entry['score']}/{entry['total']}")
    print(f"total: {results['score']}/{results['total']}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="grade.py", description="Grade Grace's problem sets.")
    parser.add_argument("--pset", type=int, action="append", metavar="N",
                        help="grade only pset N (repeatable; default all)")
    parser.add_argument("--runs", type=int, default=psets.RUNS, metavar="R",
                        help=f"runs of each concurrency test (default {psets.RUNS})")
    parser.add_argument("--jobs", "-j", type=int, default=2, metavar="J",
                        help="QEMUs at once (default 2)")
    parser.add_argument("--json", metavar="PATH", default=os.environ.get("GRADE_JSON") or None,
                        help="also write the results as JSON (or GRADE_JSON=PATH)")
    ns = parser.parse_args(argv)
    chosen = ns.pset or sorted(psets.PSETS)
    unknown = [n for n in chosen if n not in psets.PSETS]
    if unknown:
        print(f"grade.py: no pset {unknown[0]}; psets are {sorted(psets.PSETS)}", file=sys.stderr)
        return 2
    if ns.runs < 1 or ns.jobs < 1:
        print("grade.py: --runs and --jobs must be at least 1", file=sys.stderr)
        return 2
    registry = runner.load_tests()
    missing = [g.test for n in chosen for g in psets.PSETS[n].tests if g.test not in registry]
    if missing:
        print(f"grade.py: tools/psets.py names tests that do not exist: {' '.join(missing)}",
              file=sys.stderr)
        return 2
    for path in (qemu.DEFAULT_KERNEL, qemu.DEFAULT_SYMS):
        if not path.is_file():
            print(f"grade.py: {path} not found: run 'make' first", file=sys.stderr)
            return 2
    qemu.ensure_qemu()
    try:
        results = grade(chosen, registry, ns.runs, ns.jobs)
    except KeyboardInterrupt:
        print("\ngrade.py: interrupted", file=sys.stderr)
        return 130
    print_report(results)
    if ns.json:
        Path(ns.json).parent.mkdir(parents=True, exist_ok=True)
        Path(ns.json).write_text(json.dumps(results, indent=2) + "\n")
        print(f"grade.py: results written to {ns.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
