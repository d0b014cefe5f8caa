#!/usr/bin/env python3
"""The autograder: `make grade [PSET=N] [GRADE_JSON=path] [GRADESCOPE=path]
[GRADE_TESTS=dir]`.

    python3 tools/grade.py [--pset N] [--runs R] [--jobs J] [--json PATH]
                           [--gradescope PATH] [--tests DIR]

Runs the tests of each problem set (the table in tools/psets.py) against the
kernel in $GRACE_BUILD (default build/) and prints a score per test, per pset
and in total. A concurrency test runs R times (default psets.RUNS) and earns
its points only if every run passes: one failure in R is a bug the student's
code has, not bad luck. A deterministic test runs once. A test's runs go one
after another (the tests side by side, J at a time), and the first failed
run ends them: the points are lost, and a kernel that hangs the test would
otherwise wait out its timeout R times (the report says how many runs were
not started). A run whose console shows a kernel warning the test does not
provoke (testlib.KERNEL_WARNINGS: `rcu: WARNING`) is stopped there, half a
second later, rather than at its timeout: the warning fails it whatever
follows, and a correct kernel never prints one, however loaded the host
(staff/grading.md).

For a test that lost points the grader prints the first failing run's reason
and the console lines that say what went wrong (the lines a test's checks
found, kernel FAILED lines, panics, RCU and TODO warnings; for a TIMEOUT the
console's last lines, where the kernel got stuck); the whole console is
kept in build/grade-logs/TEST.runK.log.

Each pset's written answers (psets/N-NAME-answers.md, the `written` points
of tools/psets.py) are listed as not graded automatically: the course staff
grade them by hand, and they are in no total printed here.

--json PATH (or the environment variable GRADE_JSON) also writes the results
for course infrastructure: {"score", "total", "written_total", "psets": {N:
{"title", "doc", "score", "total", "answers", "written": [{"label",
"points"}], "written_total", "tests": [{"name", "points", "max", "runs" (run),
"planned", "skipped" (not started after a failure), "passed", "verdicts",
"seconds" (of each run), "concurrency", "reason", "evidence", "log",
"stopped" (why runs were skipped, or "")}]}}}.
--gradescope PATH writes Gradescope's results.json: {"score", "output",
"tests": [{"name", "score", "max_score", "output"}]}, one entry per test.

Grading with the course's pristine tests: --student DIR, run from a staff
tree (the solution tree or the handout repository's checkout), copies the
student tree DIR into DIR/build/grade-tree, replaces every path of
psets.FROM_STAFF there (the tests, the test programs, the kernel's
self-tests, the grader, the Makefile) by this tree's, as the handout has
them (solution regions stubbed), builds it and grades it with this tree's
grader: tests a student edited to pass count for nothing, and neither the
student's Makefile nor their grade.py runs. --tests DIR (make grade
GRADE_TESTS=dir) is the same from the student's tree, for a student who
wants to grade as the staff will (their own Makefile starts it).

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
import shutil
import subprocess
import threading
import time
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
from psets import Graded  # noqa: E402

LOG_DIR = qemu.BUILD_DIR / "grade-logs"
# Console lines worth showing a student whose test failed: first what the
# test itself reported, then the kernel's warnings (TODO stubs, and the
# kernel warnings every test fails on: testlib.KERNEL_WARNINGS).
FAILURE_RE = re.compile(
    r"FAILED|\bFAIL\b|PANIC|\bpanic\b|corrupt|POISON|not intact|"
    r"\b[1-9]\d* of \d+ readers saw inconsistent")
WARNING_RE = re.compile("|".join([r"TODO \(pset", r"rcu: INFO: grace period"] +
                                 [p.pattern for p in testlib.KERNEL_WARNINGS.values()]))
EVIDENCE_LINES = 5
TAIL_LINES = 8            # of a run that timed out: where the console stopped
WATCH_SECONDS = 0.25      # how often a run's console is searched for kernel warnings
WARNING_GRACE = 0.5       # seconds a warning's detail lines get before QEMU is stopped


class WarningWatch:
    """Ends a run's QEMU as soon as its console shows a kernel warning that
    the test does not provoke (testlib.kernel_warning): that warning fails
    the run whatever follows, so waiting for the test's end or its timeout
    (a kernel whose grace periods stall usually hangs) would only cost
    time. It reads the log that qemu.run writes as the console arrives."""

    def __init__(self, spec: testlib.TestSpec, log_path: Path):
        self.spec, self.log_path = spec, log_path
        self.reason = ""          # set when the watch stopped the run
        self.done = threading.Event()

    def start(self, proc: subprocess.Popen) -> None:
        """qemu.run's on_start: watch `proc` until it ends or done is set."""
        threading.Thread(target=self._watch, args=(proc,), daemon=True).start()

    def _watch(self, proc: subprocess.Popen) -> None:
        offset, carry = 0, ""
        while not self.done.wait(WATCH_SECONDS) and proc.poll() is None:
            try:
                with open(self.log_path, "rb") as log:
                    log.seek(offset)
                    data = log.read()
            except OSError:
                continue
            offset += len(data)
            text = carry + data.decode("utf-8", errors="replace")
            carry = text[text.rfind("\n") + 1:]        # a line still arriving
            found = testlib.kernel_warning(self.spec, text[:len(text) - len(carry)])
            if found:
                self.reason = found
                time.sleep(WARNING_GRACE)
                proc.kill()
                return


def run_once(spec: testlib.TestSpec, attempt: int) -> tuple[str, str, str, float]:
    """Boot one run of `spec`; return (verdict, reason, console, seconds)."""
    log_path = LOG_DIR / f"{spec.name}.run{attempt}.log"
    watch = WarningWatch(spec, log_path)
    try:
        result = qemu.run(spec.ncpu, spec.prog, list(spec.args), list(spec.opts),
                          spec.timeout, log_path, quiet=True, input=spec.input,
                          on_start=watch.start)
    except (OSError, ValueError) as err:
        return testlib.FAIL, f"could not run QEMU: {err}", "", 0.0
    finally:
        watch.done.set()
    verdict, reason = testlib.evaluate(spec, result)     # the one judge, stopped or not
    if watch.reason and verdict != testlib.PASS:
        reason += " (QEMU stopped there: the warning fails the test whatever follows)"
    if verdict == testlib.PASS:
        log_path.unlink(missing_ok=True)
    return verdict, reason, result.output, result.seconds


def evidence(console: str, verdict: str = testlib.FAIL) -> list[str]:
    """The console lines that explain a failure: for a TIMEOUT the last
    TAIL_LINES lines (where the kernel got stuck), otherwise at most
    EVIDENCE_LINES: the test's failure lines first, then distinct kernel
    warnings."""
    lines = [l.strip() for l in console.replace("\r\n", "\n").split("\n")]
    if verdict == testlib.TIMEOUT:
        return [l for l in lines if l][-TAIL_LINES:] or ["(no console output)"]
    failures = [l for l in lines if FAILURE_RE.search(l)]
    seen, warnings = set(), []
    for line in lines:
        text = re.sub(r"^\[cpu\d+\] ", "", line)
        if WARNING_RE.search(line) and not FAILURE_RE.search(line) and text not in seen:
            seen.add(text)
            warnings.append(line)
    return (failures[:EVIDENCE_LINES - 1] + warnings)[:EVIDENCE_LINES]


class Schedule:
    """The runs to do, handed to `jobs` workers: each test's runs one after
    another (never two of one test at once), the tests side by side. After
    a run of a test fails its remaining runs are dropped: the points are
    lost already, and a kernel that hangs a test would otherwise wait out
    its timeout once per run."""

    def __init__(self, items: list[tuple[int, Graded, testlib.TestSpec, int]]):
        self.queue = list(items)       # (pset, graded, spec, planned runs), in order
        self.next_run = {(n, g.test): 1 for n, g, _, _ in items}
        self.busy: set[tuple[int, str]] = set()
        self.failed: set[tuple[int, str]] = set()
        self.cond = threading.Condition()

    def take(self):
        """The next (pset, graded, spec, attempt) to run, or None when all
        are done or dropped. Waits while only busy tests have runs left."""
        with self.cond:
            while True:
                pending = [it for it in self.queue if (it[0], it[1].test) not in self.failed
                           and self.next_run[(it[0], it[1].test)] <= it[3]]
                if not pending:
                    return None
                for n, g, spec, _ in pending:
                    if (n, g.test) not in self.busy:
                        self.busy.add((n, g.test))
                        attempt = self.next_run[(n, g.test)]
                        self.next_run[(n, g.test)] += 1
                        return n, g, spec, attempt
                self.cond.wait()

    def finish(self, n: int, test: str, passed: bool) -> None:
        """A run of `test` ended; a failure drops its remaining runs."""
        with self.cond:
            self.busy.discard((n, test))
            if not passed:
                self.failed.add((n, test))
            self.cond.notify_all()


def grade(chosen: list[int], registry: dict, runs: int, jobs: int) -> dict:
    """Run every graded test of the chosen psets; return the results."""
    planned = {(n, g.test): runs if g.concurrency else 1
               for n in chosen for g in psets.PSETS[n].tests}
    # Longest first, so that the slowest tests do not start last.
    items = sorted(((n, g, registry[g.test], planned[(n, g.test)])
                    for n in chosen for g in psets.PSETS[n].tests),
                   key=lambda it: -it[2].timeout * it[3])
    schedule = Schedule(items)
    outcomes: dict[tuple[int, str], list] = {}
    lock = threading.Lock()

    def worker():
        while (item := schedule.take()) is not None:
            n, g, spec, attempt = item
            verdict = None
            try:
                verdict, reason, console, seconds = run_once(spec, attempt)
                with lock:
                    outcomes.setdefault((n, g.test), []).append(
                        (attempt, verdict, reason, console, seconds))
            finally:        # even if the run raised: no worker may wait for it forever
                schedule.finish(n, g.test, verdict == testlib.PASS)

    LOG_DIR.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        try:
            for future in [pool.submit(worker) for _ in range(jobs)]:
                future.result()
        except BaseException:
            with schedule.cond:               # the workers take nothing more
                schedule.queue.clear()
                schedule.cond.notify_all()
            qemu.kill_all()
            raise

    results = {"score": 0, "total": 0, "written_total": 0, "psets": {}}
    for n in chosen:
        pset = psets.PSETS[n]
        entry = {"title": pset.title, "doc": pset.doc, "score": 0, "total": pset.total,
                 "answers": pset.answers, "written_total": pset.written_total,
                 "written": [{"label": w.label, "points": w.points} for w in pset.written],
                 "tests": []}
        for g in pset.tests:
            got = sorted(outcomes[(n, g.test)])
            verdicts = [v for _, v, _, _, _ in got]
            passed = verdicts.count(testlib.PASS)
            failed = [o for o in got if o[1] != testlib.PASS]
            points = g.points if not failed else 0
            skipped = planned[(n, g.test)] - len(got)
            assert skipped >= 0 and (not skipped or failed), (g.test, skipped)
            test_entry = {"name": g.test, "points": points, "max": g.points,
                          "runs": len(got), "planned": planned[(n, g.test)], "passed": passed,
                          "skipped": skipped, "verdicts": verdicts,
                          "seconds": [round(o[4], 1) for o in got],
                          "concurrency": g.concurrency, "reason": "", "evidence": [],
                          "log": "", "stopped": ""}
            if failed:
                attempt, verdict, reason, console, _ = failed[0]
                test_entry["reason"] = f"{verdict}: {reason}" if reason else verdict
                if verdict == testlib.TIMEOUT:
                    test_entry["reason"] += "; the console's last lines:"
                test_entry["evidence"] = evidence(console, verdict)
                test_entry["log"] = str(LOG_DIR / f"{g.test}.run{attempt}.log")
                if skipped:
                    test_entry["stopped"] = (f"stopped after run {attempt} failed: "
                                             f"{skipped} of {planned[(n, g.test)]} runs not "
                                             f"started (the points were lost)")
            entry["tests"].append(test_entry)
            entry["score"] += points
        results["psets"][str(n)] = entry
        results["score"] += entry["score"]
        results["total"] += entry["total"]
        results["written_total"] += entry["written_total"]
    return results


def runs_summary(t: dict) -> str:
    """"2/3 runs passed", and why runs are missing when some were dropped."""
    text = f"{t['passed']}/{t.get('planned', t['runs'])} runs passed"
    return text + (f"; {t['stopped']}" if t.get("stopped") else "")


def print_report(results: dict) -> None:
    """The human-readable score sheet."""
    for n, entry in results["psets"].items():
        print(f"== pset {n}: {entry['title']} ({entry['doc']})")
        width = max(len(t["name"]) for t in entry["tests"])
        for t in entry["tests"]:
            runs = runs_summary(t)
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
        if entry["written"]:
            items = ", ".join(f"{w['label']} {w['points']}" for w in entry["written"])
            print(f"  written answers ({entry['answers']}: {items}): {entry['written_total']} "
                  "points, not graded automatically")
        print(f"  pset {n}: {entry['score']}/{entry['total']}")
    written = results["written_total"]
    print(f"total: {results['score']}/{results['total']}"
          + (f" (and {written} points of written answers, not graded automatically)"
             if written else ""))


def gradescope(results: dict) -> dict:
    """Gradescope's results.json for `results`: one test per graded test,
    the written answers named in the top-level output."""
    tests = []
    for n, entry in results["psets"].items():
        for t in entry["tests"]:
            lines = [runs_summary(t)]
            if t["reason"]:
                lines += [t["reason"]] + [f"| {l}" for l in t["evidence"]] + [f"log: {t['log']}"]
            tests.append({"name": f"pset {n}: {t['name']}", "score": t["points"],
                          "max_score": t["max"], "output": "\n".join(lines)})
    written = [f"pset {n}: {e['answers']} ({e['written_total']} points)"
               for n, e in results["psets"].items() if e["written"]]
    output = ("Written answers, graded by hand (not in this score): " + "; ".join(written)
              if written else "")
    return {"score": results["score"], "output": output, "tests": tests}


# --- grading with the course's pristine tests (--tests DIR) --------------

# Variables of the calling make that must not leak into another tree's build.
CLEAN_ENV = {k: v for k, v in os.environ.items()
             if k not in ("GRACE_BUILD", "BUILD", "MAKEFLAGS", "MAKELEVEL", "MFLAGS",
                          "TESTS", "STRESS", "GRADE_JSON", "MAKEOVERRIDES")}
NOT_COPIED = shutil.ignore_patterns(".git", "build", "build-*", "compile_commands.json",
                                    "__pycache__")


def copy_as_handed_out(staff: Path, rel: str, out: Path) -> None:
    """Copy `rel` (a file or a directory) from the tree `staff` into `out`
    as a student's handout has it: solution regions stubbed (nothing to do
    when `staff` is a handout). The copies get new times, so that no object
    built from the student's version of them is reused."""
    import handout   # noqa: E402  (only this mode needs it)
    src = staff / rel
    files = [src] if src.is_file() else sorted(
        p for p in src.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    for f in files:
        name = f.relative_to(staff)
        dest = out / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        text = handout.read_text(f)
        if text is None:
            shutil.copyfile(f, dest)
        else:
            dest.write_text(handout.strip(name, text, min(psets.PSETS), "student"))
        shutil.copymode(f, dest)


def pristine_tree(student: Path, staff: Path, out: Path) -> None:
    """`out` = the tree `student` with every psets.FROM_STAFF path replaced
    by `staff`'s, as handed out."""
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(student, out, ignore=NOT_COPIED, symlinks=True)
    for rel in psets.FROM_STAFF:
        target = out / rel
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif target.exists() or target.is_symlink():
            target.unlink()
        if (staff / rel).exists():
            copy_as_handed_out(staff, rel.rstrip("/"), out)


def grade_pristine(student: Path, staff: Path, argv: list[str], jobs: int) -> int:
    """Grade the code of the tree `student` with the tests of the tree
    `staff`, in student/build/grade-tree (or $GRACE_BUILD's, from the
    student's own tree)."""
    for tree, what in ((staff, "staff"), (student, "student")):
        if not (tree / "tools" / "grade.py").is_file() or not (tree / "kernel").is_dir():
            print(f"grade.py: {tree} is not a Grace tree (the {what}'s)", file=sys.stderr)
            return 2
    out = (qemu.BUILD_DIR if student == REPO else student / "build") / "grade-tree"
    print(f"grade.py: the code of {student}, the tests of {staff}: {out}", flush=True)
    import markers   # noqa: E402
    try:
        pristine_tree(student, staff, out)
    except (OSError, UnicodeDecodeError, markers.MarkerError) as err:
        print(f"grade.py: cannot assemble the grading tree: {err}", file=sys.stderr)
        return 2
    built = subprocess.run(["make", "-C", str(out), f"-j{max(jobs, 2)}", "-s", "all"],
                           env=CLEAN_ENV, capture_output=True, text=True)
    if built.returncode != 0:
        print(f"grade.py: the student's code does not build with the staff's tests:\n"
              f"{built.stdout[-3000:]}{built.stderr[-3000:]}", file=sys.stderr)
        return 2
    return subprocess.run([sys.executable, str(out / "tools" / "grade.py")] + argv,
                          cwd=out, env=CLEAN_ENV).returncode


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
    parser.add_argument("--gradescope", metavar="PATH",
                        help="also write Gradescope's results.json")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--tests", metavar="DIR", type=Path,
                       help="grade this tree's code with the tests of the staff tree DIR")
    where.add_argument("--student", metavar="DIR", type=Path,
                       help="grade the code of the student tree DIR with this tree's tests")
    ns = parser.parse_args(argv)
    chosen = ns.pset or sorted(psets.PSETS)
    unknown = [n for n in chosen if n not in psets.PSETS]
    if unknown:
        print(f"grade.py: no pset {unknown[0]}; psets are {sorted(psets.PSETS)}", file=sys.stderr)
        return 2
    if ns.runs < 1 or ns.jobs < 1:
        print("grade.py: --runs and --jobs must be at least 1", file=sys.stderr)
        return 2
    if ns.tests or ns.student:
        rest = [f"--pset={n}" for n in ns.pset or []] + [f"--runs={ns.runs}", f"--jobs={ns.jobs}"]
        rest += [f"--json={Path(ns.json).resolve()}"] if ns.json else []
        rest += [f"--gradescope={Path(ns.gradescope).resolve()}"] if ns.gradescope else []
        if ns.tests:
            return grade_pristine(REPO, ns.tests.resolve(), rest, ns.jobs)
        return grade_pristine(ns.student.resolve(), REPO, rest, ns.jobs)
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
    for path, data in ((ns.json, results), (ns.gradescope, ns.gradescope and gradescope(results))):
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text(json.dumps(data, indent=2) + "\n")
            print(f"grade.py: results written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
