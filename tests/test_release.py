#!/usr/bin/env python3
"""`make check`: releases reach a student's clone, and a blank hand-in is
refused (host only, seconds; tools/release.py, tools/submit.py).

  - student releases (the default): release pset 1 into a new handout
    repository, clone it, commit a student's pset-1 code and answers,
    release pset 2, `git pull`: it merges without a conflict, the student's
    code and answers survive, pset 2's text and answers file arrive.
  - staff releases: pset 2's release carries the staff's pset-1 solution; a
    student who did not touch those lines gets it by `git pull`, and one who
    did gets a conflict there (what staff/README.md says).
  - releases go forward only, and keep the course's EARLIER.
  - a debugging pset (tools/bugs.py): each seed is released into a
    repository of its own, with its planted bug and a Grace-Seed trailer;
    another seed, or another pset, into the same repository is refused.
  - `tools/submit.py` in the clone refuses the template answers file and one
    with no question answered, before it builds anything, and says why.

How this was shown to fail: with the pset-1 regions shipped as the staff's
solution in a student release (keeps_solution returning true for earlier
psets), the student pull conflicts in kernel/rwlock.hh and the first test
fails; with submit.check_answers accepting everything, the refusal tests fail.
"""

from __future__ import annotations

import sys

sys.dont_write_bytecode = True

import io
import os
import subprocess
import tempfile
import unittest
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tools"))
import handout  # noqa: E402
import markers  # noqa: E402
import psets  # noqa: E402

GIT_ENV = {**os.environ, "GIT_AUTHOR_NAME": "A Student", "GIT_AUTHOR_EMAIL": "s@grace.invalid",
           "GIT_COMMITTER_NAME": "A Student", "GIT_COMMITTER_EMAIL": "s@grace.invalid"}
FIRST, SECOND = sorted(psets.PSETS)[:2]


def run(*cmd, cwd: Path, check=True) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True,
                          env=GIT_ENV)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, cmd))} exited {proc.returncode}:\n"
                             f"{proc.stdout}{proc.stderr}")
    return proc


def first_region(pset: int) -> markers.Region:
    """The first SOLUTION region of `pset` in the solution tree."""
    for rs in handout.scan_all().values():
        for r in rs:
            if r.pset == pset and r.kind == "SOLUTION":
                return r
    raise AssertionError(f"no SOLUTION region of pset {pset}")


class ReleaseTest(unittest.TestCase):
    """Two handout repositories, each with the releases of the first two
    psets (made once): one releasing the students' own code, one the
    staff's; each test clones what it needs."""

    @classmethod
    def setUpClass(cls):
        if not handout.is_checkout() or not handout.scan_all():
            raise unittest.SkipTest("a student handout: nothing to release")
        cls.tmp = tempfile.TemporaryDirectory()
        cls.dir = Path(cls.tmp.name)
        cls.repos = {}
        for earlier in ("student", "staff"):
            cls.repos[earlier] = cls.dir / f"handout-{earlier}"
            for pset in (FIRST, SECOND):
                cls.release(pset, earlier)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    @classmethod
    def release(cls, pset: int, earlier: str, check=True):
        return run(sys.executable, REPO / "tools" / "release.py", pset, cls.repos[earlier],
                   "--earlier", earlier, cwd=cls.dir, check=check)

    def clone_first(self, earlier: str, name: str) -> Path:
        """A clone of the `earlier` repository as of the first release."""
        clone = self.dir / f"{self._testMethodName}-{name}"
        run("git", "clone", "-q", self.repos[earlier], clone, cwd=self.dir)
        run("git", "reset", "-q", "--hard", "HEAD~1", cwd=clone)
        return clone

    def student_edits_region(self, clone: Path, r: markers.Region) -> str:
        """Replace the TODO line of region `r` by a line of the student's."""
        path = clone / r.path
        todo = markers.todo_line(r.path, r, psets.PSETS[r.pset].doc)
        mine = f"{r.indent}// the student's own code for pset {r.pset}"
        text = path.read_text()
        self.assertIn(todo, text)
        path.write_text(text.replace(todo, mine))
        return mine

    def test_a_student_pull_keeps_their_code(self):
        clone = self.clone_first("student", "alice")
        mine = self.student_edits_region(clone, first_region(FIRST))
        answers = clone / psets.PSETS[FIRST].answers
        answers.write_text(answers.read_text() + "\nMy answers.\n")
        run("git", "commit", "-qam", "my pset", cwd=clone)
        self.assertFalse((clone / psets.PSETS[SECOND].doc).exists())
        pulled = run("git", "pull", "-q", "--no-rebase", "--no-edit", cwd=clone)
        self.assertNotIn("CONFLICT", pulled.stdout + pulled.stderr)
        self.assertIn(mine, (clone / first_region(FIRST).path).read_text())
        self.assertIn("My answers.", answers.read_text())
        for f in (psets.PSETS[SECOND].doc, psets.PSETS[SECOND].answers):
            self.assertTrue((clone / f).is_file(), f)

    def test_a_staff_release_brings_the_solution_and_conflicts_with_changes(self):
        untouched = self.clone_first("staff", "untouched")
        edited = self.clone_first("staff", "edited")
        r = first_region(FIRST)
        self.student_edits_region(edited, r)
        run("git", "commit", "-qam", "my pset", cwd=edited)
        run("git", "pull", "-q", "--no-rebase", "--no-edit", cwd=untouched)
        text = (untouched / r.path).read_text()
        body = [l for l in r.body if markers.normalize(l)]
        self.assertTrue(body and all(l in text for l in body), "the staff's solution arrived")
        pulled = run("git", "pull", "--no-rebase", "--no-edit", cwd=edited, check=False)
        self.assertNotEqual(pulled.returncode, 0)
        self.assertIn(f"CONFLICT (content): Merge conflict in {r.path}", pulled.stdout)

    def test_releases_go_forward_and_keep_the_course_choice(self):
        back = self.release(FIRST, "student", check=False)
        self.assertIn("releases go forward", back.stderr)
        other = run(sys.executable, REPO / "tools" / "release.py", SECOND,
                    self.repos["student"], "--earlier", "staff", cwd=self.dir, check=False)
        self.assertIn("EARLIER=staff", other.stderr)
        again = self.release(SECOND, "student")
        self.assertIn("nothing to commit", again.stdout)

    def submit(self, clone: Path) -> subprocess.CompletedProcess:
        return run(sys.executable, clone / "tools" / "submit.py", "--pset", FIRST, cwd=clone,
                   check=False)

    def test_submit_refuses_the_template(self):
        clone = self.clone_first("student", "bob")
        answers = clone / psets.PSETS[FIRST].answers
        refused = self.submit(clone)
        self.assertEqual(refused.returncode, 1)
        self.assertIn("Collaboration and sources", refused.stderr)
        text = answers.read_text()
        head, _, rest = text.partition("_(your answer)_")
        answers.write_text(head + "None." + rest)      # the collaboration section only
        refused = self.submit(clone)
        self.assertEqual(refused.returncode, 1)
        self.assertIn("still the template: no question is answered", refused.stderr)
        self.assertFalse((clone / "build" / "submit").exists(), "nothing was written")


class SeedReleaseTest(unittest.TestCase):
    """The releases of a debugging pset, one repository per seed."""

    def setUp(self):
        if not handout.is_checkout() or not handout.scan_all():
            self.skipTest("a student handout: nothing to release")
        self.planted = {n: handout.debugging(n) for n in psets.PSETS}
        self.planted = {n: bugs for n, bugs in self.planted.items() if bugs}
        if not self.planted:
            self.skipTest("no debugging pset")
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = Path(self.tmp.name)

    def tearDown(self):
        self.tmp.cleanup()

    def release(self, pset: int, repo: Path, seed: int | None):
        extra = ["--seed", seed] if seed is not None else []
        return run(sys.executable, REPO / "tools" / "release.py", pset, repo, *extra,
                   cwd=self.dir, check=False)

    def test_each_seed_is_a_repository_with_its_bug(self):
        import release
        for pset, bugs in self.planted.items():
            for seed, bug in bugs.items():
                repo = self.dir / f"pset{pset}-seed{seed}"
                self.assertEqual(self.release(pset, repo, seed).returncode, 0)
                regions = [r for rs in handout.scan_all().values() for r in rs
                           if r.kind == "BUG" and r.what == bug.name]
                for r in regions:
                    text = (repo / r.path).read_text()
                    for stub in r.stubs:
                        self.assertIn(stub.strip(), text, f"seed {seed}: the bug is planted")
                head = run("git", "rev-parse", "HEAD", cwd=repo).stdout.strip()
                self.assertEqual(release.release_seed(repo, head), seed)
                other = self.release(pset, repo, (seed + 1) % len(bugs))
                self.assertIn("a repository of its own", other.stderr)
            self.assertIn("give SEED=n", self.release(pset, self.dir / "none", None).stderr)

    def test_a_seed_never_joins_another_psets_repository(self):
        pset = min(self.planted)
        earlier = max(n for n in psets.PSETS if n < pset)
        repo = self.dir / "course"
        self.assertEqual(self.release(earlier, repo, None).returncode, 0)
        refused = self.release(pset, repo, 0)
        self.assertNotEqual(refused.returncode, 0)
        self.assertIn("a repository of its own", refused.stderr)


if __name__ == "__main__":
    stream = io.StringIO()
    suite = unittest.TestSuite(unittest.defaultTestLoader.loadTestsFromTestCase(case)
                               for case in (ReleaseTest, SeedReleaseTest))
    result = unittest.TextTestRunner(stream=stream, verbosity=0).run(suite)
    if not result.wasSuccessful():
        print(stream.getvalue())
        sys.exit(1)
    skipped = f", {len(result.skipped)} skipped" if result.skipped else ""
    print(f"release: {result.testsRun} release and hand-in tests passed{skipped}")
