#!/usr/bin/env python3
"""Host unit tests for tools/handout.py: solution markers, files held back (run by make check)."""

import sys

sys.dont_write_bytecode = True

import io
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
import handout  # noqa: E402

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


class StripTest(unittest.TestCase):
    def test_pset_and_later_become_stubs(self):
        out = handout.strip(Path("x.cc"), SOURCE, 1)
        self.assertIn("    // TODO (pset 1): compute a (psets/1-rwlock.md)\n    return 0;", out)
        self.assertIn("    // TODO (pset 2): compute b", out)
        self.assertNotIn("return 1;", out)
        self.assertNotIn("return 2;", out)
        self.assertNotIn("SOLUTION", out)

    def test_earlier_psets_keep_solution_without_markers(self):
        out = handout.strip(Path("x.cc"), SOURCE, 2)
        self.assertIn("    return 1;\n}", out)
        self.assertNotIn("STUB", out)
        self.assertNotIn("return 0;", out)
        self.assertNotIn("return 2;", out)
        self.assertNotIn("BEGIN", out)

    def test_untouched_text_is_kept_exactly(self):
        plain = "int main() {}\n// a comment\n"
        self.assertEqual(handout.strip(Path("y.cc"), plain, 1), plain)

    def errors(self, text):
        with self.assertRaises(handout.MarkerError) as caught:
            handout.strip(Path("z.cc"), text, 1)
        return str(caught.exception)

    def test_bad_markers_are_errors_with_file_and_line(self):
        self.assertIn("z.cc:2: BEGIN inside", self.errors(
            "// BEGIN PSET 1 SOLUTION: a\n// BEGIN PSET 1 SOLUTION: a\n"))
        self.assertIn("z.cc:1: END PSET 2 SOLUTION without", self.errors("// END PSET 2 SOLUTION\n"))
        self.assertIn("never closed", self.errors("// BEGIN PSET 1 SOLUTION: a\nx;\n"))
        self.assertIn("STUB line outside", self.errors("// STUB: x;\n"))
        self.assertIn("no pset 9", self.errors("// BEGIN PSET 9 SOLUTION: a\n// END PSET 9 SOLUTION\n"))
        self.assertIn("malformed marker", self.errors("// BEGIN PSET 1 SOLUTIONS\n"))

    def test_files_that_solve_a_pset_ship_only_after_it(self):
        for solved_by in ("model/rcu.pml", "docs/model.md"):
            self.assertFalse(handout.ships(Path(solved_by), 1), solved_by)
            self.assertFalse(handout.ships(Path(solved_by), 2), solved_by)
            self.assertTrue(handout.ships(Path(solved_by), 3), solved_by)
        self.assertTrue(handout.ships(Path("docs/rcu.md"), 1))
        self.assertTrue(handout.ships(Path("modelx/a"), 1))

    def test_the_tree_has_regions_for_every_pset(self):
        found = {r[0] for rs in handout.scan_all().values() for r in rs}
        if not found:
            self.skipTest("a student handout: no solution regions")
        self.assertEqual(found, set(handout.psets.PSETS))


if __name__ == "__main__":
    stream = io.StringIO()
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(StripTest)
    result = unittest.TextTestRunner(stream=stream, verbosity=0).run(suite)
    if not result.wasSuccessful():
        print(stream.getvalue())
        sys.exit(1)
    print(f"handout: {result.testsRun} marker unit tests passed")
