#!/usr/bin/env python3
"""Mutation testing: `make mutate` breaks the kernel on purpose, one small
bug at a time, and checks that the test suite notices.

    python3 tools/mutate.py [--list | --check] [--jobs J] [--max-timeout S] [NAME_OR_PATTERN ...]

The bugs are tests/mutations.py (how to add one is there). For each, in a
scratch copy of the tree ($GRACE_BUILD/mutate/wN, one per job; the tree
itself is never written), the mutation replaces its text, the debug kernel
is rebuilt, and the mutation's tests run one after another until one
fails: the mutant is then KILLED by that test. One that passes them all
SURVIVED: the suite has a gap there. A baseline run first checks that
every test involved passes on the unmutated kernel, so that a failure
means the mutation, not a flaky test or a broken tree.

Patterns (also MUTANTS="a b", as with TESTS) pick mutations by name,
prefix or shell pattern. --max-timeout caps each test's timeout (default
30 s): a mutant that hangs a test is killed by its timeout.
Exit status: 0 every selected mutation was killed; 1 one survived, or a
mutation no longer applies or does not build; 2 usage error or a baseline
test failed.
"""

from __future__ import annotations

import sys

sys.dont_write_bytecode = True

import argparse
import fnmatch
import os
import queue
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
for _dir in ("tools", "tests"):
    if str(REPO / _dir) not in sys.path:
        sys.path.insert(0, str(REPO / _dir))

import qemu  # noqa: E402
from check_handouts import CLEAN_ENV, seed_build  # noqa: E402

SCRATCH = qemu.BUILD_DIR / "mutate"
RESULT_RE = re.compile(r"^(PASS|FAIL|PANIC|TIMEOUT|SKIP)\s+(\S+)\s+\(([\d.]+)s\)(?: : (.*))?$",
                       re.MULTILINE)
_print_lock = threading.Lock()


def say(text: str) -> None:
    with _print_lock:
        print(text, flush=True)


def run_workers(worker, args: list) -> bool:
    """Run worker(arg) for each of `args`, each in a thread of its own, and
    wait for them all. On Ctrl-C kill every QEMU and return False."""
    threads = [threading.Thread(target=worker, args=(arg,)) for arg in args]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    except KeyboardInterrupt:
        qemu.kill_all()
        return False
    return True


def load_mutations():
    try:
        import mutations
    except ImportError as err:
        sys.exit(f"mutate.py: no mutation list ({err})")
    return mutations.MUTATIONS


def select(all_mutations: dict, patterns: list[str]) -> list:
    if not patterns:
        return list(all_mutations.values())
    return [m for m in all_mutations.values()
            if any(m.name == p or m.name.startswith(p) or fnmatch.fnmatchcase(m.name, p)
                   for p in patterns)]


def check_applies(chosen: list, test_names: set[str]) -> list[str]:
    """Problems that stop the run before anything is built."""
    problems = []
    for m in chosen:
        path = REPO / m.file
        if not path.is_file():
            problems.append(f"{m.name}: no file {m.file}")
            continue
        count = path.read_text().count(m.find)
        if count != 1:
            problems.append(f"{m.name}: its text occurs {count} times in {m.file} (must be once)")
        for t in m.tests:
            if t not in test_names:
                problems.append(f"{m.name}: no test named {t}")
    return problems


def tree_files() -> list[Path]:
    """The tree's files: what git tracks, and new files it does not ignore
    (a mutation may break a file not committed yet)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=REPO, check=True, capture_output=True).stdout.decode().split("\0")
    return [Path(f) for f in listed if f and (REPO / f).is_file()]


def sync_tree(dest: Path) -> None:
    """Make `dest` a copy of the tree's files. New files keep their times
    (so seeded objects stay current); a file whose content differs (a
    mutant left behind by an interrupted run, an edited source) is
    rewritten with a new time, so make rebuilds what depends on it."""
    fresh = not (dest / "build").exists()
    for rel in tree_files():
        src, dst = REPO / rel, dest / rel
        if not dst.exists():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
        elif dst.read_bytes() != src.read_bytes():
            shutil.copyfile(src, dst)
    if fresh:
        seed_build(dest)


def build(tree: Path) -> tuple[bool, str, float]:
    """Build the debug kernel in `tree`: (ok, output, seconds)."""
    start = time.monotonic()
    proc = subprocess.run(["make", "-C", str(tree), "-j2", "BUILD=build", "DEBUG=1",
                           "build/kernel.bin", "build/kernel.sym"],
                          env=CLEAN_ENV, capture_output=True, text=True)
    return proc.returncode == 0, proc.stdout + proc.stderr, time.monotonic() - start


def run_tests(tree: Path, names: list[str], jobs: int, max_timeout: float) -> dict[str, tuple]:
    """Run tests in `tree`: {name: (verdict, seconds, reason)}."""
    env = dict(CLEAN_ENV, GRACE_BUILD="build")
    proc = subprocess.run([sys.executable, str(tree / "tests" / "run.py"), "--jobs", str(jobs),
                           "--max-timeout", str(max_timeout), *names],
                          cwd=tree, env=env, capture_output=True, text=True)
    found = {m.group(2): (m.group(1), float(m.group(3)), m.group(4) or "")
             for m in RESULT_RE.finditer(proc.stdout)}
    for name in names:
        found.setdefault(name, ("FAIL", 0.0, f"run.py exited {proc.returncode} without a verdict"))
    return found


def try_mutant(tree: Path, m, max_timeout: float) -> tuple[str, str]:
    """Apply m in `tree`, build, run its tests, restore: (result, detail)."""
    path = tree / m.file
    original = path.read_text()
    path.write_text(original.replace(m.find, m.replace, 1))
    try:
        ok, out, build_s = build(tree)
        if not ok:
            last = [l for l in out.splitlines() if "error" in l][:2]
            return "BROKEN", f"does not build: {' | '.join(last) or out[-200:]}"
        for t in m.tests:
            verdict, secs, reason = run_tests(tree, [t], 1, max_timeout)[t]
            if verdict != "PASS":
                why = f": {reason}" if reason else ""
                return "KILLED", f"by {t} ({verdict} after {secs:.1f}s{why}); build {build_s:.0f}s"
        return "SURVIVED", f"{', '.join(m.tests)} all passed; build {build_s:.0f}s"
    finally:
        path.write_text(original)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mutate.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("patterns", nargs="*", metavar="NAME_OR_PATTERN")
    parser.add_argument("--list", action="store_true", help="list the mutations and exit")
    parser.add_argument("--check", action="store_true",
                        help="only check that every mutation still applies and names real tests "
                             "(seconds; make check runs it)")
    parser.add_argument("--jobs", "-j", type=int, default=2, metavar="J",
                        help="mutants tried at once, each in its own scratch tree (default 2)")
    parser.add_argument("--max-timeout", type=float, default=30, metavar="S",
                        help="cap each test's timeout at S seconds (default 30)")
    ns = parser.parse_args(sys.argv[1:] if argv is None else argv)
    patterns = ns.patterns + [p for p in re.split(r"[\s,]+", os.environ.get("MUTANTS", "")) if p]
    if ns.jobs < 1:
        parser.error("--jobs must be at least 1")
    all_mutations = load_mutations()
    chosen = select(all_mutations, patterns)
    if not chosen:
        print(f"mutate.py: no mutation matches {' '.join(patterns)}")
        return 2
    if ns.list:
        for m in chosen:
            print(f"{m.name:34} {m.area}: {m.what}  [{m.file}; {', '.join(m.tests)}]")
        return 0
    import run  # the test registry, to check the names
    test_names = set(run.load_tests())
    problems = check_applies(chosen, test_names)
    if problems:
        print("mutate.py: fix tests/mutations.py first:\n  " + "\n  ".join(problems))
        return 1
    if ns.check:
        print(f"mutate: all {len(chosen)} mutations apply to the tree and name real tests")
        return 0
    qemu.ensure_qemu()
    start = time.monotonic()
    jobs = min(ns.jobs, len(chosen))
    trees = [SCRATCH / f"w{i}" for i in range(jobs)]
    say(f"make mutate: {len(chosen)} mutations, {jobs} at a time, in scratch copies under "
        f"{os.path.relpath(SCRATCH, REPO)}/ (the tree itself is not written)")
    for tree in trees:
        sync_tree(tree)
    builds = [None] * jobs
    threads = [threading.Thread(target=lambda i=i: builds.__setitem__(i, build(trees[i])))
               for i in range(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for tree, (ok, out, _) in zip(trees, builds):
        if not ok:
            print(f"mutate.py: the unmutated tree does not build in {tree}:\n{out[-2000:]}")
            return 2
    needed = sorted({t for m in chosen for t in m.tests})
    t0 = time.monotonic()
    baseline = run_tests(trees[0], needed, 2, ns.max_timeout)
    failing = [f"{n} ({v[0]}: {v[2]})" for n, v in baseline.items() if v[0] != "PASS"]
    if failing:
        print("mutate.py: on the unmutated kernel these tests fail already (a mutant they kill "
              "would prove nothing):\n  " + "\n  ".join(failing))
        return 2
    say(f"baseline: the {len(needed)} tests involved pass on the unmutated kernel "
        f"({time.monotonic() - t0:.0f}s)")

    work: queue.Queue = queue.Queue()
    for m in chosen:
        work.put(m)
    results: dict[str, tuple[str, str]] = {}

    def worker(tree: Path) -> None:
        while True:
            try:
                m = work.get_nowait()
            except queue.Empty:
                return
            t1 = time.monotonic()
            result, detail = try_mutant(tree, m, ns.max_timeout)
            results[m.name] = (result, detail)
            say(f"{result:9} {m.name:34} {detail} [{time.monotonic() - t1:.0f}s]")

    if not run_workers(worker, trees):
        print("\nmutate.py: interrupted (scratch trees restore themselves on the next run)")
        return 130
    killed = [m for m in chosen if results[m.name][0] == "KILLED"]
    minutes, seconds = divmod(int(time.monotonic() - start), 60)
    print(f"== {len(killed)} of {len(chosen)} mutations killed, in {minutes}m{seconds:02d}s")
    by_area: dict[str, list] = {}
    for m in chosen:
        by_area.setdefault(m.area, []).append(m)
    for area_name, ms in by_area.items():
        marks = ", ".join(m.name if results[m.name][0] == "KILLED"
                          else f"{m.name} {results[m.name][0]}" for m in ms)
        print(f"  {area_name}: {marks}")
    bad = [m for m in chosen if results[m.name][0] != "KILLED"]
    for m in bad:
        print(f"  {results[m.name][0]}: {m.name}: {m.what} ({results[m.name][1]})")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
