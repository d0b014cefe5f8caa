#!/usr/bin/env python3
"""Run the Grace test suite (in the spirit of MIT gradelib / Pintos `make check`).

    python3 tests/run.py [--list] [--stress] [--jobs J] [--verbose]
                         [--repeat N] [--max-timeout S] [NAME_OR_PATTERN ...]

Tests are declared in tests/tests_AREA.py (boot, proc, rcu, ls, schemes,
gdb, hostile, ...), one file per area, with testlib.test() (see testlib.py);
every tests_*.py is loaded. Names group by prefix (boot-, proc-, rcu-, ...),
so `make check TESTS=boot` picks a group.
Each test boots build/kernel.bin in QEMU via tools/qemu.py and judges the
console output and exit status.

Selection: a NAME_OR_PATTERN selects the tests whose name equals it, starts
with it, or matches it as a shell pattern (fnmatch: * ? [...]).  The
environment variable TESTS (space or comma separated) adds patterns, so
`make check TESTS=smp` works.  With no pattern every test is selected.
Stress tests are skipped unless --stress or STRESS=1 is given, or the test
is named exactly.

Output: one line per test ("PASS  name  (3.2s)", "FAIL  name  (3.2s) :
reason", "PANIC name ...", "TIMEOUT name ...", "SKIP  name  (0.0s) : why");
for a failed test the console log is kept in build/test-logs/NAME.log and
its last 25 lines are shown.  The last line is "N passed, N failed" (and
", N skipped" when a test could not run: a tool it needs is missing).

Exit status: 0 all passed (or skipped); 1 a test failed or no test matched; 2 the kernel
is not built (or QEMU cannot be installed); 130 interrupted.
--jobs J runs J QEMUs at once, the tests that took longest last time
(build/test-times.json) first; --verbose also shows each test's console;
--max-timeout S caps every test's timeout (tools/mutate.py: a mutant that
hangs a test is killed sooner).
--repeat N (make check REPEAT=N) runs the selection N times back to back
and ends with each test that failed at least once, its failure count and
its reasons: the way to find a flaky test.
"""

from __future__ import annotations

import sys

sys.dont_write_bytecode = True  # keep tests/ free of __pycache__

import argparse
import dataclasses
import fnmatch
import importlib
import json
import os
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

TESTS_DIR = Path(__file__).resolve().parent
for _dir in (TESTS_DIR, TESTS_DIR.parent / "tools"):   # testlib; qemu
    if str(_dir) not in sys.path:
        sys.path.insert(0, str(_dir))

import qemu  # noqa: E402
import testlib  # noqa: E402

REPO = TESTS_DIR.parent
LOG_DIR = qemu.BUILD_DIR / "test-logs"
# How long each test took when it last ran: with --jobs, the longest start
# first, so that no long test is left running alone at the end.
TIMES_FILE = qemu.BUILD_DIR / "test-times.json"
TAIL_LINES = 25

_print_lock = threading.Lock()


@dataclass
class Outcome:
    """What happened to one test."""
    spec: testlib.TestSpec
    verdict: str
    reason: str
    seconds: float
    output: str


def load_tests() -> dict[str, testlib.TestSpec]:
    """Import every tests/tests_AREA.py (each declares its tests with
    testlib.test) and return the registry they filled."""
    for path in sorted(TESTS_DIR.glob("tests_*.py")):
        importlib.import_module(path.stem)
    return testlib.REGISTRY


def matches(name: str, pattern: str) -> bool:
    """Whether `pattern` selects test `name` (equal, prefix or fnmatch)."""
    return (name == pattern or name.startswith(pattern)
            or fnmatch.fnmatchcase(name, pattern))


def select(tests: dict[str, testlib.TestSpec], patterns: list[str],
           stress: bool) -> list[testlib.TestSpec]:
    """The tests chosen by `patterns` (all if empty), in declaration order.

    Stress tests need `stress`, unless a pattern names them exactly."""
    chosen = []
    for spec in tests.values():
        if patterns and not any(matches(spec.name, p) for p in patterns):
            continue
        if spec.stress and not stress and spec.name not in patterns:
            continue
        chosen.append(spec)
    return chosen


def env_flag(name: str) -> bool:
    """True if environment variable `name` is set to something but 0/no."""
    return os.environ.get(name, "").strip().lower() not in ("", "0", "no", "false")


def run_driver(spec: testlib.TestSpec, log_path: Path) -> Outcome:
    """Run a test that drives itself (spec.driver), e.g. GDB against QEMU."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    try:
        verdict, reason, output = spec.driver(spec, log_path)
    except Exception as err:  # a buggy driver must not kill the runner
        verdict, reason, output = testlib.FAIL, f"driver raised {type(err).__name__}: {err}", ""
    seconds = time.monotonic() - start
    if verdict in (testlib.PASS, testlib.SKIP):
        log_path.unlink(missing_ok=True)
    else:
        with open(log_path, "a", encoding="utf-8") as log:
            log.write(f"\nrun.py: {verdict} {spec.name}: {reason}\n"
                      f"run.py: rerun with: {testlib.rerun_command(spec)}\n")
    return Outcome(spec, verdict, reason, seconds, output)


def run_test(spec: testlib.TestSpec, stream: bool, max_timeout: float = 0) -> Outcome:
    """Boot QEMU for `spec`, judge the result and keep or drop its log.
    max_timeout > 0 caps the test's timeout."""
    log_path = LOG_DIR / f"{spec.name}.log"
    if max_timeout > 0 and spec.timeout > max_timeout:
        spec = dataclasses.replace(spec, timeout=max_timeout)
    if spec.driver is not None:
        return run_driver(spec, log_path)
    try:
        result = qemu.run(spec.ncpu, spec.prog, list(spec.args),
                          list(spec.opts), spec.timeout, log_path,
                          quiet=not stream, input=spec.input)
    except (OSError, ValueError) as err:
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        log_path.write_text(f"run.py: could not run QEMU: {err}\n")
        return Outcome(spec, testlib.FAIL, f"could not run QEMU: {err}", 0.0, "")
    verdict, reason = testlib.evaluate(spec, result)
    if verdict == testlib.PASS:
        log_path.unlink(missing_ok=True)
    else:
        with open(log_path, "a", encoding="utf-8") as log:
            log.write(f"\nrun.py: {verdict} {spec.name}: {reason}\n"
                      f"run.py: rerun with: {testlib.rerun_command(spec)}\n")
    return Outcome(spec, verdict, reason, result.seconds, result.output)


def report(outcome: Outcome, show_output: bool) -> None:
    """Print the verdict line (and, unless PASS, log path and tail)."""
    spec = outcome.spec
    line = f"{outcome.verdict:<5} {spec.name}  ({outcome.seconds:.1f}s)"
    if outcome.reason:
        line += f" : {outcome.reason}"
    lines = [line]
    if show_output:
        lines += ["    | " + l for l in outcome.output.splitlines()]
    if outcome.verdict not in (testlib.PASS, testlib.SKIP):
        log_path = LOG_DIR / f"{spec.name}.log"
        try:
            shown = log_path.relative_to(Path.cwd())
        except ValueError:
            shown = log_path
        lines.append(f"    log: {shown}")
        lines.append(f"    rerun: {testlib.rerun_command(spec)}")
        if not show_output:
            tail = outcome.output.splitlines()[-TAIL_LINES:]
            lines += ["    " + l for l in tail] or ["    (no console output)"]
    with _print_lock:
        print("\n".join(lines), flush=True)


def load_times() -> dict[str, float]:
    """Each test's last run time in seconds (empty when never recorded or
    unreadable: the order then is the declaration order)."""
    try:
        times = json.loads(TIMES_FILE.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(times, dict):
        return {}
    return {k: float(v) for k, v in times.items() if isinstance(v, (int, float))}


def save_times(outcomes: list[Outcome]) -> None:
    """Record the run times of the tests that just ran (beside older ones)."""
    times = load_times()
    times.update({o.spec.name: round(o.seconds, 1) for o in outcomes})
    try:
        TIMES_FILE.parent.mkdir(parents=True, exist_ok=True)
        TIMES_FILE.write_text(json.dumps(times, indent=0, sort_keys=True) + "\n")
    except OSError:
        pass   # only an ordering hint


def run_all(chosen: list[testlib.TestSpec], jobs: int, verbose: bool,
            max_timeout: float = 0) -> list[Outcome]:
    """Run the chosen tests, `jobs` at a time, reporting each as it ends."""
    if jobs <= 1:
        outcomes = []
        for spec in chosen:
            if verbose:
                print(f"--- {spec.name}: {testlib.rerun_command(spec)}", flush=True)
            outcome = run_test(spec, stream=verbose, max_timeout=max_timeout)
            report(outcome, show_output=False)
            outcomes.append(outcome)
        save_times(outcomes)
        return outcomes
    done: dict[str, Outcome] = {}
    times = load_times()
    # Longest first (a test never timed counts as long, and among those the
    # longer timeout first: the fuzz runs); ties keep their order.
    order = sorted(chosen, key=lambda spec: (-times.get(spec.name, float("inf")), -spec.timeout))
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(run_test, spec, False, max_timeout) for spec in order]
        try:
            for future in as_completed(futures):
                outcome = future.result()
                report(outcome, show_output=verbose)
                done[outcome.spec.name] = outcome
        except BaseException:
            for future in futures:
                future.cancel()
            qemu.kill_all()
            raise
    outcomes = [done[spec.name] for spec in chosen]
    save_times(outcomes)
    return outcomes


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="run.py", description="Run the Grace kernel tests in QEMU.")
    parser.add_argument("patterns", nargs="*", metavar="NAME_OR_PATTERN")
    parser.add_argument("--list", action="store_true",
                        help="print the selected test names and exit")
    parser.add_argument("--stress", action="store_true",
                        help="include stress tests (also STRESS=1)")
    parser.add_argument("--jobs", "-j", type=int, default=1, metavar="J",
                        help="run J tests at once (default 1)")
    parser.add_argument("--verbose", "-v", action="store_true",
                        help="show each test's console output")
    parser.add_argument("--repeat", type=int, default=1, metavar="N",
                        help="run the selection N times; report failure counts per test")
    parser.add_argument("--max-timeout", type=float, default=0, metavar="S",
                        help="cap every test's timeout at S seconds (make mutate)")
    ns = parser.parse_args(argv)
    if ns.jobs < 1:
        parser.error("--jobs must be at least 1")
    if ns.repeat < 1:
        parser.error("--repeat must be at least 1")
    return ns


def report_repeats(rounds: list[list[Outcome]]) -> int:
    """After --repeat N: every test that failed at least once, with its
    count and reasons; returns how many tests failed at least once."""
    failures: dict[str, list[str]] = {}
    for outcomes in rounds:
        for o in outcomes:
            if o.verdict not in (testlib.PASS, testlib.SKIP):
                failures.setdefault(o.spec.name, []).append(f"{o.verdict} {o.reason}".strip())
    n = len(rounds)
    print(f"== {n} runs of {len(rounds[0])} tests: "
          f"{len(failures)} tests failed at least once")
    for name, reasons in sorted(failures.items(), key=lambda kv: -len(kv[1])):
        print(f"  {len(reasons)}/{n}  {name}")
        for reason in reasons:
            print(f"         {reason}")
    return len(failures)


def main(argv: list[str] | None = None) -> int:
    ns = parse_args(sys.argv[1:] if argv is None else argv)
    patterns = ns.patterns + re.split(r"[\s,]+", os.environ.get("TESTS", "").strip())
    patterns = [p for p in patterns if p]
    stress = ns.stress or env_flag("STRESS")
    try:
        tests = load_tests()
    except (ValueError, TypeError, SyntaxError, ImportError) as err:
        print(f"run.py: error in a tests/tests_*.py: {err}", file=sys.stderr)
        return 2
    chosen = select(tests, patterns, stress)
    if not chosen:
        what = " ".join(patterns) if patterns else "(all)"
        hint = "" if stress else " (stress tests need --stress)"
        print(f"run.py: no test matches {what}{hint}")
        return 1
    if ns.list:
        print("\n".join(spec.name for spec in chosen))
        return 0
    for path in (qemu.DEFAULT_KERNEL, qemu.DEFAULT_SYMS):
        if not path.is_file():
            print(f"run.py: {path.relative_to(REPO)} not found: run 'make' first")
            return 2
    qemu.ensure_qemu()
    rounds = []
    try:
        for i in range(ns.repeat):
            if ns.repeat > 1:
                print(f"== run {i + 1} of {ns.repeat}", flush=True)
            rounds.append(run_all(chosen, ns.jobs, ns.verbose, ns.max_timeout))
    except KeyboardInterrupt:
        qemu.kill_all()
        print("\nrun.py: interrupted", file=sys.stderr)
        if len(rounds) > 1:
            report_repeats(rounds)
        return 130
    if ns.repeat > 1:
        return 1 if report_repeats(rounds) else 0
    outcomes = rounds[0]
    failed = [o.spec.name for o in outcomes if o.verdict not in (testlib.PASS, testlib.SKIP)]
    skipped = [o.spec.name for o in outcomes if o.verdict == testlib.SKIP]
    if failed:
        print(f"failed: {' '.join(failed)}")
    passed = len(outcomes) - len(failed) - len(skipped)
    print(f"{passed} passed, {len(failed)} failed" + (f", {len(skipped)} skipped" if skipped else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
