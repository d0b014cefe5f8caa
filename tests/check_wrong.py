#!/usr/bin/env python3
"""`make check-psets`: the grader tells right from wrong. Every entry of the
catalogue of known-wrong solutions (staff/wrong/catalogue.py: a patch
against the solution tree, the pset it breaks, the least share of that
pset's test points it must lose, the tests that must fail) is applied to a
scratch copy of the tree ($GRACE_BUILD/wrong/wN, one per job; the tree
itself is never written), built, and graded (tools/grade.py --pset N
--json). An entry FAILS the check when it keeps more points than it may,
when a test it must fail passes, or when its patch no longer applies or
does not build.

    python3 tests/check_wrong.py [--jobs J] [--runs R] [--only ID ...] [--list]

--only picks entries by id, prefix or shell pattern (p2-*, p3-no-fence).
--runs R grades each concurrency test R times (default 1: a wrong solution
must lose its points on a single run, every time, which is stricter than
`make grade`'s psets.RUNS runs, where one failed run loses them).
That the solution tree itself scores full marks is tests/check_handouts.py's
part of `make check-psets`: a wrong entry's loss then means its mistake.

Time: each entry is a build of what its patch touches and one grading of
its pset (an entry that hangs its kernel spends its tests' timeouts). The
catalogue of 17 took 7m13s at --jobs 2 on an otherwise idle 2-core machine
without KVM (2026-12-03): most entries 8-36 s, the hung grace period
(p2-last-cpu-no-end) 303 s. At a load average of 20-25 from other jobs
it took 48 minutes: a header included everywhere (rcu.hh, rculist.hh,
rwlock.hh) costs a near-full rebuild. One file's entries run in a row to
share rebuilds.
In a student handout (no staff/) there is no catalogue and nothing to do.
Exit status 0 when every entry is caught as it must be, 1 otherwise.
"""

from __future__ import annotations

import sys

sys.dont_write_bytecode = True

import argparse
import fnmatch
import json
import queue
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
for _dir in ("tools", "tests"):
    if str(REPO / _dir) not in sys.path:
        sys.path.insert(0, str(REPO / _dir))

import psets  # noqa: E402
import qemu  # noqa: E402
from check_handouts import CLEAN_ENV  # noqa: E402
from mutate import build, run_workers, say, sync_tree  # noqa: E402

CATALOGUE_DIR = REPO / "staff" / "wrong"
SCRATCH = qemu.BUILD_DIR / "wrong"

def load_catalogue():
    """The catalogue module, or None in a tree that has none (a handout)."""
    if not (CATALOGUE_DIR / "catalogue.py").is_file():
        return None
    sys.path.insert(0, str(CATALOGUE_DIR))
    import catalogue
    return catalogue


def problems_of(entries: list) -> list[str]:
    """What is wrong with the catalogue itself: stops the run before any build."""
    problems = []
    for w in entries:
        if w.pset not in psets.PSETS:
            problems.append(f"{w.id}: no pset {w.pset} in tools/psets.py")
            continue
        graded = {g.test for g in psets.PSETS[w.pset].tests}
        for t in w.must_fail:
            if t not in graded:
                problems.append(f"{w.id}: {t} is not a graded test of pset {w.pset}")
        if not w.patch.is_file():
            problems.append(f"{w.id}: no patch {w.patch.relative_to(REPO)}")
            continue
        check = subprocess.run(["git", "apply", "--check", str(w.patch)], cwd=REPO,
                               capture_output=True, text=True)
        if check.returncode != 0:
            problems.append(f"{w.id}: its patch does not apply to the tree: "
                            f"{check.stderr.strip()[:300]}")
    return problems


def patched_files(patch: Path) -> tuple[str, ...]:
    """The files a patch changes."""
    return tuple(sorted(line[6:].strip() for line in patch.read_text().splitlines()
                        if line.startswith("+++ b/")))


def apply_patch(tree: Path, patch: Path) -> str | None:
    """Apply `patch` in the scratch tree (not a git repository: plain
    patching, relative to it); None, or why it failed."""
    env = dict(CLEAN_ENV, GIT_CEILING_DIRECTORIES=str(tree.parent))
    proc = subprocess.run(["git", "apply", str(patch)], cwd=tree, env=env,
                          capture_output=True, text=True)
    return None if proc.returncode == 0 else proc.stderr.strip()[:300]


def try_entry(tree: Path, w, runs: int) -> dict:
    """Patch, build and grade one entry in `tree`: its result."""
    sync_tree(tree)                    # undo the previous entry's patch
    result = {"id": w.id, "pset": w.pset, "required": w.loses, "lost": None,
              "failed": {}, "problems": []}
    why = apply_patch(tree, w.patch)
    if why:
        result["problems"].append(f"patch does not apply: {why}")
        return result
    ok, out, _ = build(tree)           # the debug kernel and its programs
    if not ok:
        errors = [l for l in out.splitlines() if "error" in l][:2]
        result["problems"].append(f"does not build: {' | '.join(errors) or out[-300:]}")
        return result
    json_path = tree / "build" / "wrong-grade.json"
    json_path.unlink(missing_ok=True)
    graded = subprocess.run([sys.executable, str(tree / "tools" / "grade.py"), "--pset",
                             str(w.pset), "--runs", str(runs), "--jobs", "2",
                             "--json", str(json_path)],
                            cwd=tree, env=CLEAN_ENV, capture_output=True, text=True)
    if graded.returncode != 0 or not json_path.is_file():
        result["problems"].append(f"grade.py exited {graded.returncode}: "
                                  f"{(graded.stdout + graded.stderr)[-300:]}")
        return result
    entry = json.loads(json_path.read_text())["psets"][str(w.pset)]
    result["lost"] = 1 - entry["score"] / entry["total"]
    for t in entry["tests"]:
        if t["points"] < t["max"]:
            bad = [v for v in t["verdicts"] if v != "PASS"]
            result["failed"][t["name"]] = bad[0] if bad else "FAIL"
    if result["lost"] < w.loses:
        result["problems"].append(f"loses {result['lost']:.0%} of pset {w.pset}'s points, "
                                  f"must lose at least {w.loses:.0%}")
    for t in w.must_fail:
        if t not in result["failed"]:
            result["problems"].append(f"{t} passes, must fail")
    return result


def table(entries: list, results: dict) -> str:
    """The results, one line per entry."""
    lines = [f"{'entry':28} {'pset':>4} {'lost':>5} {'req.':>5}  {'verdict':7} tests lost"]
    for w in entries:
        r = results[w.id]
        lost = "-" if r["lost"] is None else f"{r['lost']:.0%}"
        failed = ", ".join(f"{n} ({v})" for n, v in r["failed"].items()) or "none"
        verdict = "caught" if not r["problems"] else "WRONG"
        lines.append(f"{w.id:28} {w.pset:>4} {lost:>5} {w.loses:>5.0%}  {verdict:7} {failed}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="check_wrong.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", "-j", type=int, default=2,
                        help="entries tried at once, each in its own scratch tree")
    parser.add_argument("--runs", type=int, default=1,
                        help="runs of each concurrency test (default 1)")
    parser.add_argument("--only", nargs="+", default=[], metavar="ID",
                        help="only these entries (id, prefix or shell pattern)")
    parser.add_argument("--list", action="store_true", help="list the entries and exit")
    ns = parser.parse_args(argv)
    catalogue = load_catalogue()
    if catalogue is None:
        print("wrong: no catalogue here (a student handout): check skipped")
        return 0
    entries = [w for w in catalogue.CATALOGUE.values()
               if not ns.only or any(w.id == p or w.id.startswith(p)
                                     or fnmatch.fnmatchcase(w.id, p) for p in ns.only)]
    if not entries:
        print(f"wrong: no entry matches {' '.join(ns.only)}")
        return 2
    if ns.list:
        for w in entries:
            print(f"{w.id:28} pset {w.pset}  loses >= {w.loses:.0%}  "
                  f"must fail: {', '.join(w.must_fail)}\n    {w.what}")
        return 0
    problems = problems_of(entries)
    if problems:
        print("wrong: FAILED: fix staff/wrong first:\n  " + "\n  ".join(problems))
        return 1
    qemu.ensure_qemu()
    start = time.monotonic()
    jobs = max(1, min(ns.jobs, len(entries)))
    say(f"wrong: {len(entries)} wrong solutions, {jobs} at a time, in scratch copies under "
        f"{SCRATCH.relative_to(REPO) if SCRATCH.is_relative_to(REPO) else SCRATCH}/")
    work: queue.Queue = queue.Queue()
    for w in sorted(entries, key=lambda w: (patched_files(w.patch), w.id)):
        work.put(w)                    # one file's entries in a row: smaller rebuilds
    results: dict[str, dict] = {}

    def worker(tree: Path) -> None:
        while True:
            try:
                w = work.get_nowait()
            except queue.Empty:
                return
            t0 = time.monotonic()
            r = try_entry(tree, w, ns.runs)
            results[w.id] = r
            lost = "-" if r["lost"] is None else f"{r['lost']:.0%}"
            say(f"wrong: {w.id}: lost {lost} (needs {w.loses:.0%})"
                f"{'' if not r['problems'] else ' -- ' + '; '.join(r['problems'])}"
                f" [{time.monotonic() - t0:.0f}s]")

    if not run_workers(worker, [SCRATCH / f"w{i}" for i in range(jobs)]):
        print("\nwrong: interrupted")
        return 130
    minutes, seconds = divmod(int(time.monotonic() - start), 60)
    print(table(entries, results))
    bad = [w for w in entries if results[w.id]["problems"]]
    if bad:
        print(f"wrong: FAILED: {len(bad)} of {len(entries)} wrong solutions not caught as "
              f"they must be ({minutes}m{seconds:02d}s):")
        for w in bad:
            print(f"  {w.id}: {'; '.join(results[w.id]['problems'])}")
        return 1
    print(f"wrong: all {len(entries)} wrong solutions caught ({minutes}m{seconds:02d}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
