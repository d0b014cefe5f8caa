#!/usr/bin/env python3
"""`make check-psets`: the problem sets (tools/psets.py) build and grade:

  - the solution tree scores full marks on every pset;
  - for each pset N, the handout that ships the staff's solutions of the
    earlier psets (`make handout PSET=N EARLIER=staff`) builds, boots,
    keeps full marks on the earlier psets, and scores zero on pset N, with a
    reason and console evidence for every lost test. (A handout that keeps
    the student's own code has the stubs of every pset: its code is the
    pset-1 handout's.)

    python3 tests/check_handouts.py [--skip-full] [--jobs J]

Each run here is a single run per test (`grade.py --runs 1`); `make grade`
runs concurrency tests psets.RUNS times. --skip-full leaves out the grading
of the solution tree (when a `make check` just ran the same tests).
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


def grade(tree: Path, upto: int, jobs: int, json_path: Path) -> dict | str:
    """Grade the psets up to `upto` in `tree` once per test; results or an error."""
    cmd = [sys.executable, str(tree / "tools" / "grade.py"), "--runs", "1", "--jobs", str(jobs),
           "--json", str(json_path)]
    for n in sorted(k for k in psets.PSETS if k <= upto):
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


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="check_handouts.py")
    parser.add_argument("--skip-full", action="store_true",
                        help="do not grade the solution tree")
    parser.add_argument("--jobs", "-j", type=int, default=2)
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

    for n in sorted(psets.PSETS):
        start = time.time()
        tree = out_root / f"pset-{n}"
        made = subprocess.run([sys.executable, str(REPO / "tools/handout.py"), str(n), str(tree),
                               "--earlier", "staff"], capture_output=True, text=True)
        if made.returncode != 0:
            failures.append(f"handout {n}: handout.py failed:\n{made.stdout}{made.stderr}")
            continue
        seed_build(tree)
        built = subprocess.run(["make", "-C", str(tree), f"-j{max(ns.jobs, 2)}", "-s", "all"],
                               env=CLEAN_ENV, capture_output=True, text=True)
        if built.returncode != 0:
            failures.append(f"handout {n}: does not build:\n{built.stdout[-3000:]}"
                            f"{built.stderr[-3000:]}")
            continue
        booted = subprocess.run([sys.executable, str(tree / "tools" / "qemu.py"), "--ncpu", "2",
                                 "--timeout", "60", "--", "hello"],
                                cwd=tree, env=CLEAN_ENV, capture_output=True, text=True)
        if booted.returncode != 0:
            failures.append(f"handout {n}: does not boot (`hello` exited {booted.returncode}):\n"
                            f"{booted.stdout[-2000:]}")
            continue
        results = grade(tree, n, ns.jobs, tree / "grade.json")
        if isinstance(results, str):
            failures.append(f"handout {n}: {results}")
            continue
        problems = judge(results, {k for k in psets.PSETS if k < n}, {n})
        failures += [f"handout {n}: {p}" for p in problems]
        print(f"psets: handout {n} builds and boots: {summary(results)} "
              f"({time.time() - start:.0f}s){'' if not problems else ' -- WRONG'}", flush=True)

    if failures:
        print("psets: FAILED")
        for f in failures:
            print("  " + f.replace("\n", "\n    "))
        return 1
    print("psets: every handout builds, keeps earlier psets' marks and scores zero on its own")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
