#!/usr/bin/env python3
"""`make check-psets`: the problem sets (tools/psets.py) build and grade:

  - the solution tree scores full marks on every pset;
  - for each pset N, the handout that ships the staff's solutions of the
    earlier psets (`make handout PSET=N EARLIER=staff`) builds, passes
    `make check TESTS=boot-smp-2` (the host checks a student's `make check
    TESTS=...` runs first, then a boot on 2 CPUs with a program on each),
    keeps full marks on the earlier psets, and scores zero on pset N, with a
    reason and console evidence for every lost test. (A handout that keeps
    the student's own code has the stubs of every pset: its code is the
    pset-1 handout's.)
  - for a debugging pset (tools/bugs.py), the handout of EVERY seed builds,
    boots, shows its bug's symptom under the registry's program (a stall
    report, a leak), and scores zero on the pset; the solution tree, where
    no bug is planted, scored full marks above. (Earlier psets are not
    graded there: a planted bug may break their tests too.)

    python3 tests/check_handouts.py [--skip-full] [--pset N ...] [--jobs J]

Each run here is a single run per test (`grade.py --runs 1`); `make grade`
runs concurrency tests psets.RUNS times. --skip-full leaves out the grading
of the solution tree (when a `make check` just ran the same tests);
--pset N checks only the handouts of pset N.
Handouts go to $GRACE_BUILD/handouts/pset-N.
Exit status 0 when everything holds, 1 otherwise.
"""

from __future__ import annotations

import sys

sys.dont_write_bytecode = True

import argparse
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
for _dir in ("tools", "tests"):   # the tools and the test declarations
    if str(REPO / _dir) not in sys.path:
        sys.path.insert(0, str(REPO / _dir))

import handout  # noqa: E402
import psets  # noqa: E402
import qemu  # noqa: E402

# Variables of the calling make that must not leak into a handout's build.
CLEAN_ENV = {k: v for k, v in os.environ.items()
             if k not in ("GRACE_BUILD", "BUILD", "MAKEFLAGS", "MAKELEVEL", "MFLAGS",
                          "TESTS", "STRESS", "GRADE_JSON", "MAKEOVERRIDES")}


def grade(tree: Path, upto: int, jobs: int, json_path: Path, only: bool = False) -> dict | str:
    """Grade the psets up to `upto` (`only`: pset `upto` alone) in `tree`
    once per test; results or an error."""
    cmd = [sys.executable, str(tree / "tools" / "grade.py"), "--runs", "1", "--jobs", str(jobs),
           "--json", str(json_path)]
    for n in sorted(k for k in psets.PSETS if k == upto or (k < upto and not only)):
        cmd += ["--pset", str(n)]
    proc = subprocess.run(cmd, cwd=tree, env=CLEAN_ENV, capture_output=True, text=True)
    if proc.returncode != 0 or not json_path.is_file():
        return f"grade.py exited {proc.returncode}:\n{proc.stdout}{proc.stderr}"
    return json.loads(json_path.read_text())


def seed_build(tree: Path) -> None:
    """Start the handout's build from the solution's objects (timestamps
    kept): make then recompiles only the stubbed files and what includes
    them, exactly as a from-scratch build would compile them."""
    src = qemu.BUILD_DIR
    dest = tree / "build"
    for name in ("k", "u", "bin"):
        if (src / name).is_dir():
            shutil.copytree(src / name, dest / name, symlinks=True, dirs_exist_ok=True)
    # The dependency files name their targets under the solution's build
    # directory; in the handout they must name build/, or make would not
    # know which objects include a stubbed header and keep the solution's.
    prefix = os.path.relpath(src, REPO) + "/"
    if prefix != "build/":
        for dep in dest.rglob("*.d"):
            text = dep.read_text()
            dep.write_text(text.replace(prefix, "build/"))
            shutil.copystat(src / dep.relative_to(dest), dep)
    for name in ("flags.k", "programs.list", "initfs.S", "initfs.o"):
        if (src / name).is_file():
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src / name, dest / name)


def judge(results: dict, full: set[int], zero: set[int]) -> list[str]:
    """What is wrong with `results`: psets in `full` need every point,
    psets in `zero` none, and each lost test needs a reason and evidence."""
    problems = []
    for key, entry in results["psets"].items():
        n = int(key)
        for t in entry["tests"]:
            if n in full and t["points"] != t["max"]:
                problems.append(f"pset {n}: {t['name']} lost its points: {t['reason']}")
            if n in zero:
                if t["points"] != 0:
                    problems.append(f"pset {n}: {t['name']} passes on the stub (a test that "
                                    "passes without the student's code grades nothing)")
                elif not t["reason"] or not t["evidence"]:
                    problems.append(f"pset {n}: {t['name']} fails without a clear message "
                                    f"(reason {t['reason']!r}, no console evidence)")
    return problems


def summary(results: dict) -> str:
    return ", ".join(f"pset {n} {e['score']}/{e['total']}" for n, e in results["psets"].items())


def run(tree: Path, prog: str, args: tuple[str, ...], ncpu: int) -> subprocess.CompletedProcess:
    """Boot the handout `tree` with program `prog` as process 1."""
    return subprocess.run([sys.executable, str(tree / "tools" / "qemu.py"), "--ncpu", str(ncpu),
                           "--timeout", "60", "--", prog, *args],
                          cwd=tree, env=CLEAN_ENV, capture_output=True, text=True)


def check_handout(n: int, seed: int | None, out_root: Path, jobs: int) -> list[str]:
    """Build, boot and grade the handout of pset `n` (with the bug of
    `seed`, for a debugging pset) that ships the staff's earlier psets;
    what is wrong with it."""
    start = time.time()
    label = f"handout {n}" + (f" seed {seed}" if seed is not None else "")
    tree = out_root / (f"pset-{n}" + (f"-seed{seed}" if seed is not None else ""))
    made = subprocess.run([sys.executable, str(REPO / "tools/handout.py"), str(n), str(tree),
                           "--earlier", "staff", *(["--seed", str(seed)] if seed is not None
                                                   else [])], capture_output=True, text=True)
    if made.returncode != 0:
        return [f"{label}: handout.py failed:\n{made.stdout}{made.stderr}"]
    seed_build(tree)
    built = subprocess.run(["make", "-C", str(tree), f"-j{max(jobs, 2)}", "-s", "all"],
                           env=CLEAN_ENV, capture_output=True, text=True)
    if built.returncode != 0:
        return [f"{label}: does not build:\n{built.stdout[-3000:]}{built.stderr[-3000:]}"]
    # What psets/README.md tells a student to run: `make check TESTS=...`
    # goes through check-host and the other host checks before the test;
    # the test boots the handout on 2 CPUs and runs a program on each.
    one = subprocess.run(["make", "-C", str(tree), "-s", "check", "TESTS=boot-smp-2"],
                         env=CLEAN_ENV, capture_output=True, text=True)
    if one.returncode != 0:
        return [f"{label}: does not boot, or fails a host check "
                f"(make check TESTS=boot-smp-2):\n{one.stdout[-3000:]}{one.stderr[-3000:]}"]
    shown = ""
    if seed is not None:
        bug = handout.debugging(n)[seed]
        shown = run(tree, bug.prog, bug.args, bug.ncpu).stdout.replace("\r\n", "\n")
        if not bug.symptom.search(shown):
            return [f"{label}: `{bug.prog}` on {bug.ncpu} CPUs does not show bug {bug.name}'s "
                    f"symptom /{bug.symptom.pattern}/:\n{shown[-2000:]}"]
        shown = f", {bug.name} shown by {bug.prog}"
    results = grade(tree, n, jobs, tree / "grade.json", only=seed is not None)
    if isinstance(results, str):
        return [f"{label}: {results}"]
    full = set() if seed is not None else {k for k in psets.PSETS if k < n}
    problems = judge(results, full, {n})
    print(f"psets: {label} builds and boots{shown}: {summary(results)} "
          f"({time.time() - start:.0f}s){'' if not problems else ' -- WRONG'}", flush=True)
    return [f"{label}: {p}" for p in problems]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="check_handouts.py")
    parser.add_argument("--skip-full", action="store_true",
                        help="do not grade the solution tree")
    parser.add_argument("--jobs", "-j", type=int, default=2)
    parser.add_argument("--pset", type=int, action="append", choices=sorted(psets.PSETS),
                        help="only this pset's handouts (repeatable)")
    ns = parser.parse_args(argv)
    if not handout.is_checkout():
        print("psets: not a git checkout (a handout): handout check skipped")
        return 0
    try:
        marked = handout.scan_all()
    except (handout.MarkerError, handout.HandoutError) as err:
        print(f"psets: FAILED: {err}")
        return 1
    if not marked:
        print("psets: no solution regions here (a student handout): handout check skipped")
        return 0
    out_root = qemu.BUILD_DIR / "handouts"
    out_root.mkdir(parents=True, exist_ok=True)
    failures = []

    if not ns.skip_full:
        start = time.time()
        results = grade(REPO, max(psets.PSETS), ns.jobs, out_root / "full.json")
        if isinstance(results, str):
            failures.append(f"solution tree: {results}")
        else:
            problems = judge(results, set(psets.PSETS), set())
            failures += [f"solution tree: {p}" for p in problems]
            print(f"psets: solution tree: {summary(results)} ({time.time() - start:.0f}s)"
                  f"{'' if not problems else ' -- NOT full marks'}", flush=True)

    for n in sorted(ns.pset or psets.PSETS):
        try:
            ways = [(e, s) for e, s in handout.variants(n) if e == "staff"]
        except handout.HandoutError as err:
            failures.append(f"handout {n}: {err}")
            continue
        for _, seed in ways:
            failures += check_handout(n, seed, out_root, ns.jobs)

    if failures:
        print("psets: FAILED")
        for f in failures:
            print("  " + f.replace("\n", "\n    "))
        return 1
    print("psets: every handout builds, keeps earlier psets' marks and scores zero on its own; "
          "every planted bug shows its symptom")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
