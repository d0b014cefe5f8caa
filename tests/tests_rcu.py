"""RCU tests: read sections, grace periods, call_rcu, misuse aids.

Most tests are kernel self-tests (kernel/ktest/ktest_rcu.cc, kernel/ktest/rcutorture.cc)
started by the `ktest` program. Each safety test has a `-busted` twin that
runs it with grace periods skipped (`ktest busted:NAME`) and must FAIL:
that is how the suite shows its tests can catch a broken RCU.
"""

from testlib import test

BUSTED_FAILS = [r"with grace periods skipped the test failed, as it must"]


def rcu_test(name, ktest, arg, ncpu, timeout=60, expect=(), opts=(), busted=True):
    """Declare rcu-NAME-NCPU and, with busted, its twin that must fail."""
    test(f"rcu-{name}-{ncpu}", prog="ktest", args=[ktest, str(arg)], ncpu=ncpu,
         timeout=timeout, opts=list(opts), expect=[rf"ktest {ktest}: passed", *expect])
    if busted:
        test(f"rcu-{name}-busted-{ncpu}", prog="ktest", args=[f"busted:{ktest}", str(arg)],
             ncpu=ncpu, timeout=timeout, opts=list(opts), status=1, expect=BUSTED_FAILS)


# synchronize_rcu waits for a reader spinning 50 ms in its section on
# another CPU; nested sections protect until the outer unlock; expedited.
rcu_test("wait-reader", "rcu-wait-reader", 50, 2, expect=[r"had left first: ok"])
# ... however long the reader stays: a synchronize_rcu that sleeps a fixed
# time instead of waiting for a grace period (100 ms: staff/wrong's
# p2-sync-fixed-sleep) returns while this one is still inside.
rcu_test("wait-long-reader", "rcu-wait-reader", 500, 2, busted=False,
         expect=[r"\(1-deep, 500 ms\) had left first: ok"])
rcu_test("nested", "rcu-nested", 50, 2, expect=[r"\(2-deep, 50 ms\) had left first: ok"])
rcu_test("expedited", "rcu-expedited", 50, 2, expect=[r"had left first: ok"])
# Grace periods with every other CPU idle (they must not hold it up, and
# timer-interrupt readers on the idle CPUs must stay protected), with
# kernel threads reading in long sections on every other CPU.
rcu_test("gp-idle", "rcu-gp-idle", 1500, 2)
rcu_test("gp-idle", "rcu-gp-idle", 1500, 4, busted=False)
rcu_test("gp-readers", "rcu-gp-readers", 1500, 2)
rcu_test("gp-readers", "rcu-gp-readers", 1500, 4, busted=False)
# ... with every other CPU spinning in user mode.
test("rcu-gp-userspin-2", prog="rcuuser", args=["1500"], ncpu=2, timeout=60,
     expect=[r"rcuuser: .* ok"])
test("rcu-gp-userspin-4", prog="rcuuser", args=["1500"], ncpu=4, timeout=60,
     expect=[r"rcuuser: .* ok"])
test("rcu-gp-userspin-busted-2", prog="rcuuser", args=["1500", "busted"], ncpu=2,
     timeout=60, status=1, expect=BUSTED_FAILS)
# Grace periods end while CPUs spin in user mode after a system call, and
# callbacks queued on a CPU run once it idles (user/gpstuck.cc); no stall
# warning meanwhile. Shown to fail: pset 5 plants a bug per seed that stalls
# or strands callbacks, and `make check-psets` (tests/check_handouts.py)
# builds every seed's handout and sees these tests score zero there.
for n in (2, 4):
    test(f"rcu-gpstuck-{n}", prog="gpstuck", ncpu=n, timeout=90,
         expect=[r"^gpstuck: busy CPUs: .*: ok$", r"^gpstuck: idle CPUs: .*: ok$",
                 r"^gpstuck: PASS$"],
         reject=[r"PANIC", r"poison.*corrupt", r"rcu: INFO: grace period \d+ stalled"])
# The stall warning fires for a reader held too long and names its CPU.
rcu_test("stall", "rcu-stall", 800, 2, opts=["rcu_stall_ms=300"],
         expect=[r"rcu: INFO: grace period \d+ stalled",
                 r"rcu:   cpu\d running pid \d+ \(stall-reader\)"])
# The detector never reads a previous GP's start time: no report at a GP's
# start after a quiet stretch, and the real stall of that GP is reported.
test("rcu-stall-start-2", prog="ktest", args=["rcu-stall-start"], ncpu=2, timeout=60,
     opts=["rcu_stall_ms=300"],
     expect=[r"ktest rcu-stall-start: passed",
             r"rcu: INFO: grace period \d+ stalled for \d+ ms, waiting on CPUs mask 0x[1-9a-f]",
             r"rcu:   cpu\d running pid \d+ \(stall-reader\)"])
# Callbacks: never before their grace period, in order, on their CPU, and
# rcu_barrier waits for all of them.
rcu_test("barrier", "rcu-barrier-test", 1000, 2)
rcu_test("barrier", "rcu-barrier-test", 1000, 4, busted=False)
# The moments of kernel/ktest/ktest_rcu_moments.cc. Each one's comment says
# what it stages and which broken kernel it catches; `make mutate`
# (tests/mutations.py) keeps showing that it does, more sharply than a
# busted twin would (with no grace periods at all, these moments never
# come). A grace period already in flight: a reader that entered after it
# began is still waited for, by synchronize_rcu and by call_rcu's callback.
rcu_test("gp-inflight", "rcu-gp-inflight", 0, 3, busted=False,
         expect=[r"waited for reader B, which entered after that GP began"])
rcu_test("cb-inflight", "rcu-cb-inflight", 0, 3, busted=False,
         expect=[r"waited for reader B, which entered after that GP began"])
# Grace periods keep completing while every CPU reads back to back.
rcu_test("gp-progress", "rcu-gp-progress", 4000, 2, busted=False)
# An interrupt's read section on an idle CPU holds up the GPs that start.
rcu_test("idle-irq", "rcu-idle-irq", 0, 2, busted=False, expect=[r"COMPLETED under 0, .*: ok"])
# Expedited, with a reader inside its section at the IPI on every other CPU.
rcu_test("expedited-ipi", "rcu-expedited-ipi", 0, 3, busted=False,
         expect=[r"waited for every reader: ok"])
# rcu_barrier with slow callbacks on every CPU: CPU 1 busy in user mode
# (user/userspin), CPU 2 idle, CPU 0 the caller's.
test("rcu-barrier-slow-3", prog="userspin", args=["2", "rcu-barrier-slow"], ncpu=3, timeout=60,
     expect=[r"cpu0 \(the caller's\): 1 of 1 slow callbacks had finished",
             r"cpu1 \(busy in user mode\): 20 of 20 slow callbacks had finished",
             r"cpu2 \(idle\): 20 of 20 slow callbacks had finished",
             r"userspin: ktest rcu-barrier-slow .*: passed"])
test("rcu-barrier-slow-busted-3", prog="userspin", args=["2", "busted:rcu-barrier-slow"], ncpu=3,
     timeout=60, status=1, expect=BUSTED_FAILS)
# A call_rcu flood keeps memory bounded and returns every page.
rcu_test("flood", "rcu-flood", 10, 2, timeout=90, busted=False)
test("rcu-flood-busted-2", prog="ktest", args=["busted:rcu-flood", "2"], ncpu=2,
     timeout=60, status=1, expect=BUSTED_FAILS)
test("rcu-flood-stress-4", prog="ktest", args=["rcu-flood", "180"], ncpu=4,
     timeout=400, expect=[r"ktest rcu-flood: passed"], stress=True)
# rcutorture: pipe ages must stay below 2, no reader may see poison.
for n in (2, 4, 8):
    test(f"rcu-torture-{n}", prog="ktest", args=["rcutorture", "5"], ncpu=n, timeout=120,
         expect=[r"rcutorture: PASSED", r"rcutorture: reader pipe ages"])
test("rcu-torture-busted-2", prog="ktest", args=["busted:rcutorture", "3"], ncpu=2,
     timeout=60, status=1, expect=[r"rcutorture: FAILED", *BUSTED_FAILS])
test("rcu-torture-stress-4", prog="ktest", args=["rcutorture", "240"], ncpu=4, timeout=400,
     expect=[r"rcutorture: PASSED"], stress=True)

# Aids that catch misuse.
test("rcu-misuse-sleep", prog="ktest", args=["rcu-misuse-sleep"], ncpu=2, status="panic",
     expect=[r"PANIC: .*msleep\(\) inside an RCU read section or with preemption disabled "
             r"\(count 1\), called from .*misuse_sleep_in_section"])
test("rcu-misuse-unlock", prog="ktest", args=["rcu-misuse-unlock"], ncpu=2, status="panic",
     expect=[r"PANIC: .*rcu_read_unlock\(\) without a matching rcu_read_lock\(\) "
             r"\(called from .*misuse_unbalanced_unlock"])
test("rcu-misuse-sync", prog="ktest", args=["rcu-misuse-sync"], ncpu=2, status="panic",
     expect=[r"PANIC: .*synchronize_rcu\(\) inside an RCU read section.*misuse_sync_in_section"])
test("rcu-misuse-load", prog="ktest", args=["rcu-misuse-load"], ncpu=2, provokes=["rcu-warning"],
     expect=[r"rcu: WARNING: rcu_ptr .* loaded outside a read section",
             r"#0 .*misuse_unprotected_load"])
