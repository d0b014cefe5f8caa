#!/usr/bin/env python3
"""Host unit tests for the handout's solution markers and allow-list
(tools/markers.py, tools/handout.py), the psets' written work
(tools/psets.py, the answers files and rubrics) and Gradescope's results
(tools/grade.py); run by make check."""

import sys

sys.dont_write_bytecode = True

import io
import subprocess
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
import grade  # noqa: E402
import handout  # noqa: E402
import markers  # noqa: E402
import psets  # noqa: E402
import submit  # noqa: E402

REPO = Path(__file__).resolve().parent.parent

SOURCE = """int a() {
    // BEGIN PSET 1 SOLUTION: compute a
    return 1;
    // STUB: return 0;
    // END PSET 1 SOLUTION
}
int b() {
    // BEGIN PSET 2 SOLUTION: compute b
    return 2;
    // END PSET 2 SOLUTION
}
"""

MARKDOWN = """# Notes

<!-- BEGIN PSET 2 EXPLANATION -->
The answer is forty-two.
<!-- STUB: The answer is pset 2's. -->
<!-- END PSET 2 EXPLANATION -->
The end.
"""


class StripTest(unittest.TestCase):
    def test_pset_and_later_become_stubs(self):
        out = handout.strip(Path("x.cc"), SOURCE, 1, "staff")
        self.assertIn("    // TODO (pset 1): compute a (psets/1-rwlock.md)\n    return 0;", out)
        self.assertIn("    // TODO (pset 2): compute b (psets/2-rcu.md)\n}", out)
        self.assertNotIn("return 1;", out)
        self.assertNotIn("return 2;", out)
        self.assertNotIn("SOLUTION", out)

    def test_staff_release_keeps_earlier_solutions_without_markers(self):
        out = handout.strip(Path("x.cc"), SOURCE, 2, "staff")
        self.assertIn("    return 1;\n}", out)
        self.assertNotIn("STUB", out)
        self.assertNotIn("return 0;", out)
        self.assertNotIn("return 2;", out)
        self.assertNotIn("BEGIN", out)

    def test_student_release_stubs_every_pset(self):
        self.assertEqual(handout.strip(Path("x.cc"), SOURCE, 2, "student"),
                         handout.strip(Path("x.cc"), SOURCE, 1, "student"))
        self.assertNotIn("return 1;", handout.strip(Path("x.cc"), SOURCE, 2, "student"))

    def test_markdown_explanation_becomes_its_stub(self):
        out = handout.strip(Path("n.md"), MARKDOWN, 1)
        self.assertEqual(out, "# Notes\n\nThe answer is pset 2's.\nThe end.\n")
        kept = handout.strip(Path("n.md"), MARKDOWN, 3, "staff")
        self.assertEqual(kept, "# Notes\n\nThe answer is forty-two.\nThe end.\n")

    def test_staff_regions_never_ship(self):
        text = "a\n<!-- BEGIN STAFF -->\nsee staff/\n<!-- STUB: b -->\n<!-- END STAFF -->\nc\n"
        for pset in (1, 3):
            for earlier in ("student", "staff"):
                self.assertEqual(handout.strip(Path("r.md"), text, pset, earlier), "a\nb\nc\n")

    def test_python_markers_use_hash(self):
        text = "x = 1\n# BEGIN PSET 1 SOLUTION: set y\ny = 2\n# STUB: y = 0\n# END PSET 1 SOLUTION\n"
        self.assertEqual(handout.strip(Path("t.py"), text, 1),
                         "x = 1\n# TODO (pset 1): set y (psets/1-rwlock.md)\ny = 0\n")

    def test_untouched_text_is_kept_exactly(self):
        plain = "int main() {}\n// a comment\n"
        self.assertEqual(handout.strip(Path("y.cc"), plain, 1), plain)

    def errors(self, text, name="z.cc"):
        with self.assertRaises(markers.MarkerError) as caught:
            handout.strip(Path(name), text, 1)
        return str(caught.exception)

    def test_bad_markers_are_errors_with_file_and_line(self):
        self.assertIn("z.cc:2: BEGIN inside", self.errors(
            "// BEGIN PSET 1 SOLUTION: a\n// BEGIN PSET 1 SOLUTION: a\n"))
        self.assertIn("z.cc:1: END PSET 2 SOLUTION without",
                      self.errors("// END PSET 2 SOLUTION\n"))
        self.assertIn("without a matching", self.errors(
            "// BEGIN PSET 1 SOLUTION: a\n// END PSET 1 EXPLANATION\n"))
        self.assertIn("never closed", self.errors("// BEGIN PSET 1 SOLUTION: a\nx;\n"))
        self.assertIn("STUB line outside", self.errors("// STUB: x;\n"))
        self.assertIn("no pset 9", self.errors("// BEGIN PSET 9 SOLUTION: a\n"))
        self.assertIn("malformed marker", self.errors("// BEGIN PSET 1 SOLUTIONS\n"))
        self.assertIn("needs ': what'", self.errors("// BEGIN PSET 1 SOLUTION\n"))
        self.assertIn("z.cc:1: END STAFF without", self.errors("// END STAFF\n"))
        self.assertIn("z.cc:2: END PSET 1 SOLUTION without",
                      self.errors("// BEGIN STAFF\n// END PSET 1 SOLUTION\n"))
        self.assertIn("z.md:1: malformed", self.errors("<!-- BEGIN PSET 1 EXPLANATION\n", "z.md"))
        self.assertIn("does not know", self.errors("# BEGIN PSET 1 SOLUTION: a\n", "z.txt"))

    def test_normalize_and_trivial(self):
        self.assertEqual(markers.normalize("    //   a   b  "), "a b")
        self.assertEqual(markers.normalize("<!-- STUB: x -->"), "STUB: x")
        self.assertEqual(markers.normalize("| rcu | 6.08M |"), "rcu | 6.08M")
        for line in ("}", "return 0;", "#endif", "} else {", "//", "while (true) {"):
            self.assertTrue(markers.trivial(markers.normalize(line)), line)
        self.assertFalse(markers.trivial("preempt_disable();"))

    def test_files_that_solve_a_pset_ship_only_after_it(self):
        for solved_by in ("model/rcu.pml", "docs/model.md"):
            self.assertFalse(handout.ships(Path(solved_by), 1), solved_by)
            self.assertFalse(handout.ships(Path(solved_by), 2), solved_by)
            self.assertTrue(handout.ships(Path(solved_by), 3), solved_by)
        self.assertTrue(handout.ships(Path("docs/rcu.md"), 1))
        self.assertTrue(handout.ships(Path("modelx/a"), 1))
        self.assertFalse(handout.ships(Path("psets/2-rcu.md"), 1))
        self.assertTrue(handout.ships(Path("psets/2-rcu.md"), 2))

    def test_the_tree_has_regions_for_every_pset(self):
        if not handout.is_checkout():
            self.skipTest("not a git checkout: a handout")
        found = {r.pset for rs in handout.scan_all().values() for r in rs
                 if r.kind in ("SOLUTION", "BUG")}
        if not found:
            self.skipTest("a student handout: no solution regions")
        self.assertEqual(found, set(handout.psets.PSETS))


class TreeTest(unittest.TestCase):
    """plan() on a small git repository: tracked, allowed files only."""

    FILES = {
        "kernel/a.cc": SOURCE,
        "docs/notes.md": MARKDOWN,
        "psets/1-rwlock.md": "pset 1\n",
        "psets/2-rcu.md": "pset 2\n",
        "psets/README.md": "psets\n",
        "staff/1-rwlock-rubric.md": "the rubric\n",
        ".ci/run": "make check\n",
    }

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.root = Path(self.tmp.name)
        for rel, text in self.FILES.items():
            (self.root / rel).parent.mkdir(parents=True, exist_ok=True)
            (self.root / rel).write_text(text)
        subprocess.run(["git", "init", "-q"], cwd=self.root, check=True)
        subprocess.run(["git", "add", "."], cwd=self.root, check=True)
        (self.root / "kernel/untracked.cc").write_text("int secret = 1;\n")

    def tearDown(self):
        self.tmp.cleanup()

    def test_only_tracked_allowed_and_released_files_ship(self):
        files = {p.as_posix() for p in handout.plan(1, "student", self.root)}
        self.assertEqual(files, {"kernel/a.cc", "docs/notes.md", "psets/1-rwlock.md",
                                 "psets/README.md"})
        files2 = {p.as_posix() for p in handout.plan(2, "student", self.root)}
        self.assertIn("psets/2-rcu.md", files2)

    def test_text_files_are_stripped(self):
        out = handout.plan(2, "staff", self.root)
        self.assertIn("return 1;", out[Path("kernel/a.cc")])
        self.assertNotIn("forty-two", out[Path("docs/notes.md")])
        self.assertIsNone(out[Path("psets/README.md")])        # copied as it is

    def test_a_tracked_file_outside_the_allow_list_is_an_error(self):
        (self.root / "NOTES").write_text("x\n")
        subprocess.run(["git", "add", "NOTES"], cwd=self.root, check=True)
        with self.assertRaises(handout.HandoutError) as caught:
            handout.plan(1, "student", self.root)
        self.assertIn("NOTES", str(caught.exception))


BUGGY = """int tick() {
    // BEGIN PSET 5 BUG: one
    return report_quiescent_state();
    // STUB: return 0;
    // END PSET 5 BUG
}
int idle() {
    // BEGIN PSET 5 BUG: two
    run_ready_callbacks_here();
    // END PSET 5 BUG
    return 0;
}
"""

REGISTRY = """# bugs

| seed | bug | site | shown by | symptom |
| --- | --- | --- | --- | --- |
| 0 | `one` | tick | `make run-gpstuck NCPU=2` | `stalled` |
| 1 | `two` | idle | `make run-gpstuck NCPU=2 ARGS="100"` | `pending` |
"""


class BugTest(unittest.TestCase):
    """A debugging pset: BUG regions, the registry, seeds, and the leak
    check of a planted bug's fix (tests/check_leaks.py)."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.root = Path(self.tmp.name)
        files = {"kernel/a.cc": SOURCE, "kernel/b.cc": BUGGY, "psets/README.md": "psets\n",
                 "staff/5-stuck-gp-bugs.md": REGISTRY}
        for rel, text in files.items():
            (self.root / rel).parent.mkdir(parents=True, exist_ok=True)
            (self.root / rel).write_text(text)
        subprocess.run(["git", "init", "-q"], cwd=self.root, check=True)
        subprocess.run(["git", "add", "."], cwd=self.root, check=True)

    def tearDown(self):
        self.tmp.cleanup()

    def test_the_seed_plants_its_bug_and_only_it(self):
        out = handout.plan(5, "student", self.root, seed=0)[Path("kernel/b.cc")]
        self.assertNotIn("report_quiescent_state", out)
        self.assertIn("    return 0;\n}\nint idle", out)            # the bug, no TODO line
        self.assertIn("run_ready_callbacks_here();", out)          # the other seed's site
        self.assertNotIn("BEGIN", out)
        out = handout.plan(5, "student", self.root, seed=1)[Path("kernel/b.cc")]
        self.assertIn("report_quiescent_state", out)
        self.assertNotIn("run_ready_callbacks_here", out)

    def test_a_debugging_pset_runs_on_the_staff_solutions(self):
        out = handout.plan(5, "student", self.root, seed=0)[Path("kernel/a.cc")]
        self.assertIn("return 1;", out)
        self.assertIn("return 2;", out)

    def test_other_psets_keep_the_correct_code(self):
        out = handout.plan(1, "student", self.root)[Path("kernel/b.cc")]
        self.assertIn("report_quiescent_state", out)
        self.assertIn("run_ready_callbacks_here", out)

    def test_seeds_are_required_where_bugs_are_planted_only(self):
        with self.assertRaises(handout.HandoutError):
            handout.plan(5, "staff", self.root)
        with self.assertRaises(handout.HandoutError):
            handout.plan(5, "staff", self.root, seed=2)
        with self.assertRaises(handout.HandoutError):
            handout.plan(1, "staff", self.root, seed=0)
        self.assertEqual(handout.variants(5, self.root), [("staff", 0), ("staff", 1)])

    def test_registry_and_regions_agree(self):
        bugs = handout.debugging(5, self.root)
        self.assertEqual((bugs[1].name, bugs[1].prog, bugs[1].args, bugs[1].ncpu),
                         ("two", "gpstuck", ("100",), 2))
        (self.root / "staff/5-stuck-gp-bugs.md").write_text(REGISTRY.replace("`two`", "`three`"))
        with self.assertRaises(handout.HandoutError) as caught:
            handout.plan(1, "student", self.root)
        self.assertIn("two", str(caught.exception))

    def test_the_leak_check_finds_the_fix_of_the_planted_bug(self):
        import check_leaks
        texts = {Path("kernel/b.cc"): BUGGY,
                 Path("docs/x.md"): "Hint: `return report_quiescent_state();`\n"}
        found = markers.regions(Path("kernel/b.cc"), BUGGY, psets.PSETS)
        outside = check_leaks.Outside(found, texts)
        for seed, bug, leaked in ((0, "one", True), (1, "two", False)):
            chosen = [r for r in found if not handout.keeps_solution(r, 5, "staff", bug)]
            self.assertEqual([r.what for r in chosen], [bug])
            files = {rel: handout.strip(rel, text, 5, "staff", bug) if rel.suffix == ".cc"
                     else text for rel, text in texts.items()}
            leaks = check_leaks.leaks_in(files, check_leaks.secrets(chosen, outside))
            self.assertEqual(bool(leaks), leaked, (seed, leaks))
            if leaked:
                self.assertIn("docs/x.md", leaks[0])

    def test_a_students_seed_is_stable_and_in_range(self):
        import bugs
        seeds = {bugs.seed_for(f"student{i}", 3) for i in range(60)}
        self.assertEqual(seeds, {0, 1, 2})
        self.assertEqual(bugs.seed_for("Alice ", 3), bugs.seed_for("alice", 3))


class PsetsTest(unittest.TestCase):
    """Each pset's questions are the same in tools/psets.py, the answers
    file the student fills in and the staff's rubric."""

    def headings(self, path: Path) -> list[str]:
        return [m.group(1) for m in submit.HEADING_RE.finditer(path.read_text())]

    def test_answers_files_match_the_table(self):
        for n, p in psets.PSETS.items():
            answers = REPO / p.answers
            if not (REPO / p.doc).is_file():
                continue                     # not released in this tree
            self.assertTrue(answers.is_file(), f"pset {n}: no {p.answers}")
            heads = self.headings(answers)
            labels = [submit.QUESTION_RE.match(h).group(1) for h in heads
                      if submit.QUESTION_RE.match(h)]
            self.assertEqual(labels, [w.label for w in p.written], p.answers)
            self.assertIn("Collaboration and sources", heads, p.answers)
            text = answers.read_text()
            self.assertEqual(text.count(submit.PLACEHOLDER), len(p.written) + 1, p.answers)
            with self.assertRaises(submit.Refused):
                submit.check_answers(text, p.answers)      # the template is refused

    def test_rubrics_match_the_table(self):
        if not (REPO / "staff").is_dir():
            self.skipTest("a student handout: no staff/")
        for n, p in psets.PSETS.items():
            rubric = REPO / p.rubric
            self.assertTrue(rubric.is_file(), f"pset {n}: no {p.rubric}")
            labels = [submit.QUESTION_RE.match(h).group(1) for h in self.headings(rubric)
                      if submit.QUESTION_RE.match(h)]
            self.assertEqual(labels, [w.label for w in p.written], p.rubric)

    def test_gradescope_results_add_up(self):
        results = {"score": 30, "total": 50, "written_total": 5, "psets": {"1": {
            "title": "t", "doc": "d", "score": 30, "total": 50, "answers": "a.md",
            "written_total": 5, "written": [{"label": "Q1", "points": 5}],
            "tests": [{"name": "x", "points": 30, "max": 30, "runs": 3, "passed": 3,
                       "verdicts": [], "concurrency": True, "reason": "", "evidence": [],
                       "log": ""},
                      {"name": "y", "points": 0, "max": 20, "runs": 1, "passed": 0,
                       "verdicts": [], "concurrency": True, "reason": "FAIL: no",
                       "evidence": ["line"], "log": "l"}]}}}
        out = grade.gradescope(results)
        self.assertEqual(out["score"], 30)
        self.assertEqual(sum(t["score"] for t in out["tests"]), 30)
        self.assertEqual(sum(t["max_score"] for t in out["tests"]), 50)
        self.assertIn("FAIL: no", out["tests"][1]["output"])
        self.assertIn("a.md (5 points)", out["output"])


if __name__ == "__main__":
    stream = io.StringIO()
    suite = unittest.TestSuite(unittest.defaultTestLoader.loadTestsFromTestCase(c)
                               for c in (StripTest, TreeTest, PsetsTest))
    result = unittest.TextTestRunner(stream=stream, verbosity=0).run(suite)
    if not result.wasSuccessful():
        print(stream.getvalue())
        sys.exit(1)
    print(f"handout: {result.testsRun} unit tests of markers, allow-list, psets and results passed")
