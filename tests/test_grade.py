#!/usr/bin/env python3
"""Host unit tests of the autograder's run scheduling and verdicts
(tools/grade.py), of its false-failure tally (tools/grade_flakes.py) and of
the kernel-warning rule (tests/testlib.py), with
QEMU replaced by fakes: seconds, run by make check."""

import sys

sys.dont_write_bytecode = True

import io
import subprocess
import tempfile
import threading
import time
import unittest
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tools"))
import grade  # noqa: E402
import psets  # noqa: E402
import qemu  # noqa: E402
import testlib  # noqa: E402

REGISTRY = grade.runner.load_tests()
PSET = 2
HUNG = "rcu-torture-2"          # a concurrency test of PSET, hung in the fakes


class FakeRuns:
    """Stands in for grade.run_once: every run passes but those of `hung`,
    which time out; records how many runs of each test were in flight."""

    def __init__(self, hung=HUNG):
        self.hung, self.lock = hung, threading.Lock()
        self.calls, self.inflight, self.most = {}, {}, {}

    def __call__(self, spec, attempt):
        with self.lock:
            self.calls[spec.name] = self.calls.get(spec.name, 0) + 1
            self.inflight[spec.name] = self.inflight.get(spec.name, 0) + 1
            self.most[spec.name] = max(self.most.get(spec.name, 0), self.inflight[spec.name])
        time.sleep(0.01)
        with self.lock:
            self.inflight[spec.name] -= 1
        if spec.name == self.hung:
            console = "\n".join(f"line {i}" for i in range(20))
            return testlib.TIMEOUT, f"no power-off within {spec.timeout:g} s", console, spec.timeout
        return testlib.PASS, "", "", 1.0


class GradeTest(unittest.TestCase):
    def setUp(self):
        self.saved, self.fake = grade.run_once, FakeRuns()
        grade.run_once = self.fake
        self.tmp = tempfile.TemporaryDirectory()
        self.saved_logs, grade.LOG_DIR = grade.LOG_DIR, Path(self.tmp.name)

    def tearDown(self):
        grade.run_once, grade.LOG_DIR = self.saved, self.saved_logs
        self.tmp.cleanup()

    def test_a_failed_run_ends_its_test(self):
        results = grade.grade([PSET], REGISTRY, 3, 2)
        tests = {t["name"]: t for t in results["psets"][str(PSET)]["tests"]}
        hung = tests[HUNG]
        self.assertEqual(self.fake.calls[HUNG], 1)             # one timeout, not three
        self.assertEqual((hung["points"], hung["runs"], hung["planned"], hung["skipped"]),
                         (0, 1, 3, 2))
        self.assertIn("2 of 3 runs not started", hung["stopped"])
        self.assertTrue(hung["reason"].startswith("TIMEOUT: no power-off"))
        self.assertEqual(hung["evidence"], [f"line {i}" for i in range(12, 20)])
        for g in psets.PSETS[PSET].tests:                       # the others: every run
            if g.test != HUNG:
                self.assertEqual(self.fake.calls[g.test], 3 if g.concurrency else 1, g.test)
                self.assertEqual(tests[g.test]["points"], g.points)
        out = io.StringIO()
        saved, sys.stdout = sys.stdout, out
        try:
            grade.print_report(results)
        finally:
            sys.stdout = saved
        self.assertIn("0/3 runs passed; stopped after run 1 failed", out.getvalue())
        scope = {t["name"]: t for t in grade.gradescope(results)["tests"]}
        self.assertIn("2 of 3 runs not started", scope[f"pset {PSET}: {HUNG}"]["output"])
        self.assertIn("| line 19", scope[f"pset {PSET}: {HUNG}"]["output"])

    def test_never_two_runs_of_one_test_at_once(self):
        self.fake.hung = None
        results = grade.grade([PSET], REGISTRY, 4, 3)
        self.assertEqual(results["score"], psets.PSETS[PSET].total)
        self.assertEqual(max(self.fake.most.values()), 1)


class FlakesTest(unittest.TestCase):
    def test_lost_points_are_tallied_by_reason_with_their_logs(self):
        import grade_flakes
        with tempfile.TemporaryDirectory() as tmp:
            log = Path(tmp) / "t.run2.log"
            log.write_text("console\n")
            tally = {}
            for reads in (412, 97):
                lost = {"name": "t", "points": 0, "max": 20, "log": str(log),
                        "reason": f"FAIL: {reads} of 4 readers at 0x1f", "evidence": []}
                kept = {"name": "u", "points": 10, "max": 10, "log": "", "reason": "",
                        "evidence": []}
                results = {"psets": {"1": {"tests": [lost, kept]}}}
                self.assertEqual(grade_flakes.tally_grading(tally, results, Path(tmp) / "k"), 20)
            self.assertEqual(tally["t"]["reasons"], {"FAIL: N of N readers at ADDRESS": 2})
            self.assertEqual(tally["t"]["examples"]["FAIL: N of N readers at ADDRESS"],
                             "FAIL: 412 of 4 readers at 0x1f")
            self.assertEqual((tally["t"]["lost"], tally["u"]["lost"]), (2, 0))
            self.assertTrue(Path(tally["t"]["logs"][0]).is_file())


class KernelWarningTest(unittest.TestCase):
    def spec(self, provokes=()):
        return testlib.TestSpec(name="t", prog=None, args=(), ncpu=2, timeout=5, opts=(),
                                status=0, expect=(), reject=(), check=None, stress=False,
                                provokes=tuple(provokes))

    def test_every_warning_fails_a_test_unless_it_provokes_it(self):
        for name, line in (("rcu-warning", "rcu: WARNING: rcu_ptr 0x10 loaded outside"),):
            result = qemu.Result(status=0, output=f"boot\n[cpu1] {line}\ndone\n")
            verdict, reason = testlib.evaluate(self.spec(), result)
            self.assertEqual(verdict, testlib.FAIL)
            self.assertIn(f"kernel warning ({name})", reason)
            self.assertEqual(testlib.evaluate(self.spec([name]), result)[0], testlib.PASS)

    def test_a_stall_report_is_no_failure(self):
        # A starved virtual CPU of a correct kernel prints this on a loaded host.
        line = "rcu: INFO: grace period 7 stalled for 2001 ms, waiting on CPUs mask 0x2:"
        result = qemu.Result(status=0, output=f"[cpu0] {line}\n")
        self.assertEqual(testlib.evaluate(self.spec(), result)[0], testlib.PASS)
        self.assertEqual(grade.evidence(f"[cpu0] {line}\n"), [f"[cpu0] {line}"])

    def test_provokes_names_a_known_warning(self):
        with self.assertRaises(ValueError):
            testlib.test("test-grade-bad-provokes", prog="ktest", provokes=["rcu-oops"])

    def test_the_watch_stops_qemu_at_a_warning(self):
        with tempfile.TemporaryDirectory() as tmp:
            log = Path(tmp) / "run.log"
            log.write_text("boot\n[cpu1] rcu: WARNING: rcu_ptr 0x10 loaded outside a read section\n")
            proc = subprocess.Popen(["sleep", "30"])
            watch = grade.WarningWatch(self.spec(), log)
            start = time.monotonic()
            watch.start(proc)
            proc.wait(timeout=10)
            watch.done.set()
            self.assertLess(time.monotonic() - start, 5)
            self.assertIn("kernel warning (rcu-warning)", watch.reason)

    def test_the_watch_leaves_a_provoked_warning_alone(self):
        with tempfile.TemporaryDirectory() as tmp:
            log = Path(tmp) / "run.log"
            log.write_text("rcu: WARNING: rcu_ptr 0x10 loaded outside a read section\n")
            proc = subprocess.Popen(["sleep", "1"])
            watch = grade.WarningWatch(self.spec(["rcu-warning"]), log)
            watch.start(proc)
            self.assertEqual(proc.wait(timeout=10), 0)      # ran to its end
            watch.done.set()
            self.assertEqual(watch.reason, "")


if __name__ == "__main__":
    stream = io.StringIO()
    suite = unittest.TestSuite(unittest.defaultTestLoader.loadTestsFromTestCase(c)
                               for c in (GradeTest, FlakesTest, KernelWarningTest))
    result = unittest.TextTestRunner(stream=stream, verbosity=0).run(suite)
    if not result.wasSuccessful():
        print(stream.getvalue())
        sys.exit(1)
    print(f"grade: {result.testsRun} unit tests of the grader's runs and kernel warnings passed")
