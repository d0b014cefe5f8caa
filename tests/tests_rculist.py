"""RCU lists (kernel/rculist.hh) and the pid table built on them (proc.cc).

The list and the hash table are checked step by step by kernel self-tests
(kernel/ktest/ktest_rculist.cc), under readers and writers on every CPU by
rculist-torture (kernel/ktest/rculist_torture.cc), and in use by the pid
table: user/pidhammer.cc forks and reaps as fast as it can on every CPU
while user readers and kernel readers (kernel/ktest/ktest_pidtable.cc) look
pids up with no lock.

How the tests were shown to fail on a broken kernel:
  - every -busted twin runs its test with grace periods skipped (call_rcu
    frees at once) and must fail, and does: rculist-api and -hash see the
    node or entry they stand on freed; rculist-torture's walks meet freed
    nodes and miss permanent ones; pidhammer's kernel readers see a task
    they hold freed (tens of times a run).
  - on the pset 4 handout (the student's parts replaced by their stubs)
    rculist-api, -hash and -torture fail every run (tools/psets.py grades
    them; tests/check_handouts.py checks that the stub scores zero).
  - rculist-pidtable-2 with fork publishing the child in the pid table
    before its parent is set (proc_publish moved into proc_alloc): the user
    readers find pidhammer processes with no parent, dozens a run: FAIL.
"""

from testlib import test

BUSTED_FAILS = [r"with grace periods skipped the test failed, as it must"]

# A reader that left its list through a reused node goes round another
# list for ever; debug builds panic instead (shown to fail: without the
# step count in rcu_entries' iterator the test times out).
test("rculist-lost", prog="ktest", args=["rculist-lost"], ncpu=1, timeout=30, status="panic",
     expect=[r"^PANIC: \[cpu0\] rcu list: a reader took \d+ steps, the last from node \S+, without "
             r"coming back to its list's head"])

# The list and the table, one deterministic step at a time.
for name in ("rculist-api", "rculist-hash"):
    test(f"{name}-2", prog="ktest", args=[name], ncpu=2, timeout=60,
         expect=[rf"ktest {name}: \d+ checks, 0 failed: ok", rf"ktest {name}: passed"])
    test(f"{name}-busted-2", prog="ktest", args=[f"busted:{name}"], ncpu=2, timeout=60,
         status=1, expect=[rf"ktest {name}: .*: FAILED", *BUSTED_FAILS])

# A reader arriving right at the publishing store finds the new node whole
# (a debug-build hook holds that instant open; ktest_rculist.cc says how it
# was shown to fail). No busted twin: grace periods play no part in it.
test("rculist-publish-2", prog="ktest", args=["rculist-publish"], ncpu=2, timeout=60,
     expect=[r"ktest rculist-publish: \d+ checks, 0 failed: ok", r"ktest rculist-publish: passed"])

# Readers (threads and interrupts) on every CPU, writers churning on every CPU.
for n, cycles in ((2, 20000), (4, 10000)):
    test(f"rculist-torture-{n}", prog="ktest", args=["rculist-torture", str(cycles)], ncpu=n,
         timeout=120, expect=[r"^\[cpu\d+\] rculist-torture: PASSED$", r"ktest rculist-torture: passed"])
test("rculist-torture-busted-2", prog="ktest", args=["busted:rculist-torture", "5000"], ncpu=2,
     timeout=120, status=1, expect=[r"rculist-torture: FAILED$", *BUSTED_FAILS])

# proc_info of a kernel thread through its life; a 40-character name cut to 31.
test("rculist-procinfo-kthread-2", prog="ktest", args=["procinfo-kthread"], ncpu=2, timeout=60,
     expect=[r"ktest procinfo-kthread: ok", r"ktest procinfo-kthread: passed"])

# The pid table under a fork storm, looked up by user and kernel readers.
for n, cycles in ((2, 200), (4, 100)):
    test(f"rculist-pidtable-{n}", prog="pidhammer", args=[str(cycles)], ncpu=n, timeout=120,
         expect=[rf"^pidhammer: PASS: {n * cycles} children forked and reaped on {n} CPUs",
                 r"ktest pidtable-readers: .* 0 saw a freed or changed task: ok"])
# Its busted twin: the readers see freed tasks; or, about one run in 90,
# a lookup steps onto a freed node first and one of the list's own checks
# panics, which catches the same bug: the node's `next` was cleared (`rcu
# list: a reader stepped from node ... to NULL`), or the node was reused in
# another bucket and the lookup went round that bucket for ever (`rcu list:
# a reader took N steps ...`; before that check, the run hung).
test("rculist-pidtable-busted-2", prog="pidhammer", args=["200", "busted"], ncpu=2, timeout=120,
     status=1, expect=[r"ktest pidtable-readers: .* [1-9]\d* saw a freed or changed task: FAILED",
                       *BUSTED_FAILS, r"^pidhammer: FAIL"],
     caught_by_panic=r"rcu list: a reader (stepped from node \S+ to NULL|took \d+ steps)")
