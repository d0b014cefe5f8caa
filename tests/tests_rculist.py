"""RCU lists (kernel/rculist.hh).

The list and the hash table are checked step by step by kernel self-tests
(kernel/ktest/ktest_rculist.cc), and under readers and writers on every CPU
by rculist-torture (kernel/ktest/rculist_torture.cc).

How the tests were shown to fail on a broken kernel:
  - every -busted twin runs its test with grace periods skipped (call_rcu
    frees at once) and must fail, and does: rculist-api and -hash see the
    node or entry they stand on freed; rculist-torture's walks meet freed
    nodes and miss permanent ones.
  - with del_rcu clearing the removed node's `next`, as an ordinary list's
    erase does, rculist-api and -hash fail every run, and rculist-torture's
    walks step to NULL a few hundred times a run.
"""

from testlib import test

BUSTED_FAILS = [r"with grace periods skipped the test failed, as it must"]

# The list and the table, one deterministic step at a time.
for name in ("rculist-api", "rculist-hash"):
    test(f"{name}-2", prog="ktest", args=[name], ncpu=2, timeout=60,
         expect=[rf"ktest {name}: \d+ checks, 0 failed: ok", rf"ktest {name}: passed"])
    test(f"{name}-busted-2", prog="ktest", args=[f"busted:{name}"], ncpu=2, timeout=60,
         status=1, expect=[rf"ktest {name}: .*: FAILED", *BUSTED_FAILS])

# Readers (threads and interrupts) on every CPU, writers churning on every CPU.
for n, cycles in ((2, 20000), (4, 10000)):
    test(f"rculist-torture-{n}", prog="ktest", args=["rculist-torture", str(cycles)], ncpu=n,
         timeout=120, expect=[r"^\[cpu\d+\] rculist-torture: PASSED$", r"ktest rculist-torture: passed"])
test("rculist-torture-busted-2", prog="ktest", args=["busted:rculist-torture", "5000"], ncpu=2,
     timeout=120, status=1, expect=[r"rculist-torture: FAILED$", *BUSTED_FAILS])
