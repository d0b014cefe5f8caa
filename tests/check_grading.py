#!/usr/bin/env python3
"""`make check-psets`: hand-ins and fair grading, end to end (minutes: it
builds a student's tree twice and boots QEMU).

    python3 tests/check_grading.py [--jobs J] [--keep]

On a clone of the first pset's release (tools/release.py), a student:
edits tests/testlib.py so that every test passes (the cheat), writes
their answers, changes a kernel file and adds one, commits part of it.

  1. `tools/submit.py` builds the tree and writes an archive; `submit.py
     unpack` applies its patch to the release it names, in a fresh clone of
     the handout repository: the result is the student's tree, file for
     file, and the archive's answers file is theirs.
  2. The student's own grader, with the edited tests, gives the first pset
     full marks: the cheat works on their tree.
  3. The staff's grader (`tools/grade.py --student`, the course's tests)
     gives the stubs zero all the same. Its Gradescope results.json parses,
     and its tests' scores add up to the printed total, as do their
     max_scores.
  4. With a syntax error in a kernel file, `submit.py` refuses: the tree
     does not build.

How it was shown to fail: with psets.FROM_STAFF emptied (grading keeps the
student's tests), step 3 reports full marks; with submit.work_patch diffing
HEAD instead of the release, the unpacked tree of step 1 lacks the
student's commits.
Exit status 0 when every step holds, 1 otherwise.
"""

from __future__ import annotations

import sys

sys.dont_write_bytecode = True

import argparse
import filecmp
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
for _dir in ("tools", "tests"):
    if str(REPO / _dir) not in sys.path:
        sys.path.insert(0, str(REPO / _dir))

import handout  # noqa: E402
import psets  # noqa: E402
import qemu  # noqa: E402

FIRST = min(psets.PSETS)
ENV = {**{k: v for k, v in os.environ.items()
          if k not in ("GRACE_BUILD", "BUILD", "MAKEFLAGS", "MAKELEVEL", "MFLAGS", "TESTS",
                       "STRESS", "GRADE_JSON", "MAKEOVERRIDES")},
       "GIT_AUTHOR_NAME": "A Student", "GIT_AUTHOR_EMAIL": "s@grace.invalid",
       "GIT_COMMITTER_NAME": "A Student", "GIT_COMMITTER_EMAIL": "s@grace.invalid"}
CHEAT = ('def evaluate(spec: TestSpec, result) -> tuple[str, str]:\n'
         '    return PASS, ""          # the student\'s edit: every test passes\n\n\n'
         'def evaluate_for_real(spec: TestSpec, result) -> tuple[str, str]:')


class Failed(Exception):
    pass


def run(*cmd, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], cwd=cwd, env=ENV, capture_output=True,
                          text=True)


def must(proc: subprocess.CompletedProcess, what: str) -> str:
    if proc.returncode != 0:
        raise Failed(f"{what} exited {proc.returncode}:\n"
                     f"{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
    return proc.stdout


def printed_total(out: str) -> tuple[int, int]:
    m = re.search(r"^total: (\d+)/(\d+)", out, re.MULTILINE)
    if not m:
        raise Failed(f"no 'total: X/Y' line in:\n{out[-2000:]}")
    return int(m.group(1)), int(m.group(2))


def student_work(clone: Path) -> None:
    """The student's changes: the cheat, answers, code, a new file."""
    testlib = clone / "tests" / "testlib.py"
    text = testlib.read_text()
    if "def evaluate(spec: TestSpec, result) -> tuple[str, str]:" not in text:
        raise Failed("tests/testlib.py has no evaluate() to edit")
    testlib.write_text(text.replace("def evaluate(spec: TestSpec, result) -> tuple[str, str]:",
                                    CHEAT))
    answers = clone / psets.PSETS[FIRST].answers
    answers.write_text(answers.read_text().replace("_(your answer)_", "Worked alone.", 2))
    must(run("git", "commit", "-qam", "my work so far", cwd=clone), "git commit")
    for rel in handout.tracked_files(clone):
        text = (clone / rel).read_text() if rel.suffix == ".cc" else ""
        if rel.parts[0] == "kernel" and "TODO (pset" in text:
            with open(clone / rel, "a") as f:
                f.write("// A note the student has not committed yet.\n")
            break
    (clone / "kernel" / "NOTES.txt").write_text("My design notes.\n")


def same_trees(a: Path, b: Path) -> list[str]:
    """The files that differ between the git work trees `a` and `b` (what
    git tracks or would: nothing ignored, such as build/)."""
    def files(root):
        listed = must(run("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard",
                          cwd=root), "git ls-files")
        return {Path(f) for f in listed.split("\0") if f and (root / f).is_file()}
    fa, fb = files(a), files(b)
    differ = sorted(str(p) for p in fa ^ fb)
    differ += [str(p) for p in sorted(fa & fb) if not filecmp.cmp(a / p, b / p, shallow=False)]
    return differ


def check(work: Path, jobs: int) -> list[str]:
    """Run the steps in `work`; return what they showed."""
    shown = []
    repo, clone = work / "handout", work / "student"
    must(run(sys.executable, REPO / "tools" / "release.py", FIRST, repo, cwd=work), "release.py")
    must(run("git", "clone", "-q", repo, clone, cwd=work), "git clone")
    student_work(clone)

    # 1. The hand-in, and its patch applied to its release.
    must(run(sys.executable, clone / "tools" / "submit.py", "--pset", FIRST, cwd=clone),
         "submit.py")
    archive = clone / "build" / "submit" / f"pset-{FIRST}.tar.gz"
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
        answers = tar.extractfile(psets.PSETS[FIRST].answers).read()
    if not {"SUBMISSION", "submission.patch", psets.PSETS[FIRST].answers} <= names:
        raise Failed(f"the archive holds {sorted(names)}")
    if answers != (clone / psets.PSETS[FIRST].answers).read_bytes():
        raise Failed("the archive's answers file is not the student's")
    unpacked = work / "unpacked"
    must(run(sys.executable, REPO / "tools" / "submit.py", "unpack", archive, unpacked,
             "--repo", repo, cwd=work), "submit.py unpack")
    differ = same_trees(clone, unpacked)
    if differ:
        raise Failed(f"the unpacked hand-in differs from the student's tree: {differ[:10]}")
    shown.append("a hand-in's patch applies to its release and gives back the student's tree")

    # 2. The student's own grader, with their edited tests.
    own = must(run(sys.executable, clone / "tools" / "grade.py", "--pset", FIRST, "--runs", "1",
                   "--jobs", jobs, cwd=clone), "the student's grade.py")
    score, total = printed_total(own)
    if score != total:
        raise Failed(f"the edited tests should give full marks on the student's tree, "
                     f"gave {score}/{total}: the cheat did not take")

    # 3. The staff's grader, with the course's tests, and Gradescope's JSON.
    gs = work / "results.json"
    staff = must(run(sys.executable, REPO / "tools" / "grade.py", "--student", clone, "--pset",
                     FIRST, "--runs", "1", "--jobs", jobs, "--gradescope", gs, cwd=REPO),
                 "grade.py --student")
    score, total = printed_total(staff)
    if score != 0:
        raise Failed(f"the course's tests gave the stubs {score}/{total}:\n{staff[-3000:]}")
    results = json.loads(gs.read_text())
    tests = results["tests"]
    if not tests or any(set(t) != {"name", "score", "max_score", "output"} for t in tests):
        raise Failed(f"results.json tests[] are not Gradescope's: {tests[:2]}")
    if (sum(t["score"] for t in tests), sum(t["max_score"] for t in tests)) != (score, total) \
            or results["score"] != score:
        raise Failed(f"results.json adds up to {sum(t['score'] for t in tests)}/"
                     f"{sum(t['max_score'] for t in tests)} (score {results['score']}), "
                     f"printed {score}/{total}")
    shown.append(f"edited tests give the student's tree full marks; the course's give it "
                 f"{score}/{total}, and Gradescope's results.json adds up to it")

    # 4. A tree that does not build is refused.
    broken = next((clone / "kernel").glob("*.cc"))
    broken.write_text(broken.read_text() + "\nthis is not C++\n")
    refused = run(sys.executable, clone / "tools" / "submit.py", "--pset", FIRST, cwd=clone)
    if refused.returncode == 0 or "does not build" not in refused.stderr:
        raise Failed(f"submit.py accepted a tree that does not build:\n{refused.stderr}")
    shown.append("a tree that does not build is refused")
    return shown


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="check_grading.py")
    parser.add_argument("--jobs", "-j", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    ns = parser.parse_args(argv)
    if not handout.is_checkout() or not handout.scan_all():
        print("grading: no solution regions here (a student handout): check skipped")
        return 0
    qemu.BUILD_DIR.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="grading-", dir=qemu.BUILD_DIR))
    try:
        for line in check(work, str(ns.jobs)):
            print(f"grading: {line}", flush=True)
    except Failed as err:
        print(f"grading: FAILED: {err}\n  (kept: {work})")
        return 1
    if not ns.keep:
        shutil.rmtree(work)
    print("grading: hand-ins and grading with the course's tests work")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
