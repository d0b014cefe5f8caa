"""Hostile input: system call fuzzing, faults in user code,
resource exhaustion, and writers that never lose data. The programs are
user/fuzz.cc, user/faults.cc, user/hostile.cc (with user/ballast.cc) and
user/lswriters.cc; each explains what it checks.

How each test was shown to fail (each variant built in a scratch copy of
the tree, never committed):
  - hostile-fuzz-*: before their fixes it found four kernel bugs: RFLAGS.NT
    not cleared on syscall entry (kernel #GP at trap_return's iretq within
    a second), DF not cleared on interrupt entry ("poison corrupted: heap
    object" within seconds), two processes swapping CPUs with sys_setcpu
    (both CPUs deadlocked: TIMEOUT), exec refusing exactly 32 arguments
    (VIOLATION). With user_range_ok's overflow check (n > USER_TOP - va)
    removed, a range whose end wraps around 2^64 passes and the kernel
    reads it: PANIC (kernel page fault in serial_write) after 3 s. With
    sys_waitpid's status check removed: FAIL at once (the fuzzer's probe
    of its address space, which relies on that -EFAULT, finds no end).
  - hostile-faults-2: with the breakpoint gate's DPL back to 0, int3 is a
    #GP (status 269, expected 259): FAIL.
  - hostile-exhaustion-2: with no process limit the fork bomb reaches 3806
    processes and ends in -ENOMEM, not -EAGAIN: FAIL; with no reserve
    (user allocations may take every page) the memory hog leaves 29 free
    pages, below the reserve: FAIL; with pt_clone's failure path not
    freeing the half-built copy, pages leak after the memory hog: LEAKED.
  - hostile-lswriters-*: with LS_RCU's writer copying the struct outside
    its lock (lost updates), 3 of 4 runs of 3 rounds FAIL ("not that
    writer's last covering it"); with sys_lswrite writing the readable
    part of a buffer that runs onto an unmapped page before returning
    -EFAULT: FAIL ("after solo write 10 the struct is not what it must
    be"); with ls_rcu_write returning -ENOMEM under memory pressure for a
    write it did publish: hostile-lswriters-rcu-hog-2 FAILs ("not that
    writer's last covering it").
"""

import re

import abi
from testlib import test

HOSTILE_REJECT = [r"PANIC", r"poison.*corrupt", r"VIOLATION", r"FAILED", r"LEAKED"]


def fuzz_workers(ncpu, min_calls=10000):
    """A check: one line per worker, each with many calls and no violation."""
    line_re = re.compile(r"^fuzz: worker (\d+) \(pid \d+\): (\d+) calls, (\d+) violations", re.MULTILINE)

    def check(output):
        workers = line_re.findall(output)
        if len(workers) != ncpu:
            return f"{len(workers)} worker lines, expected {ncpu}"
        for index, calls, violations in workers:
            if int(calls) < min_calls:
                return f"worker {index} made only {calls} calls"
            if int(violations):
                return f"worker {index}: {violations} violations"
        return None
    return check


def fuzz_test(name, seed, ncpu, seconds, stress=False):
    """fuzz SEED SECONDS at NCPU: no violation, no panic, no leak."""
    test(name, prog="fuzz", args=[str(seed), str(seconds)], ncpu=ncpu, timeout=seconds + 120,
         stress=stress, reject=HOSTILE_REJECT,
         expect=[rf"^fuzz: PASS: seed {seed}, {ncpu} workers", r"^fuzz: free pages before (\d+) after \1$"],
         check=fuzz_workers(ncpu))


fuzz_test("hostile-fuzz-2-seed1", 1, 2, 10)
fuzz_test("hostile-fuzz-2-seed2", 2, 2, 10)
fuzz_test("hostile-fuzz-4-seed3", 3, 4, 10)
fuzz_test("hostile-fuzz-stress-4", 4, 4, 120, stress=True)

# Faults in user code: each kills only its process, with 256 + vector,
# and the kernel says so naming the process, its pid and the fault.
FAULT_NAMES = ["page fault", "general protection fault", "divide error", "invalid opcode",
               "breakpoint", "debug"]


def fault_log_lines(output):
    for fault in FAULT_NAMES:
        pattern = rf"^\[cpu\d+\] proc \d+ \(faults\): {fault} at rip 0x[0-9a-f]+, address (0|0x[0-9a-f]+): killed$"
        if not re.search(pattern, output, re.MULTILINE):
            return f"no kernel log line for a {fault}"
    if not re.search(r"\(faults\): page fault at rip .*, address 0x7ffff[0-9a-f]+: killed", output):
        return "no page fault below the stack (the stack overflow)"
    return None


test("hostile-faults-2", prog="faults", ncpu=2, timeout=60, reject=HOSTILE_REJECT,
     expect=[r"^faults: child \d+ \(stack overflow \(unbounded recursion\)\): status 270, expected 270: ok$",
             r"^faults: child \d+ \(breakpoint \(int3\)\): status 259, expected 259: ok$",
             r"^faults: child \d+ \(divide overflow \(INT64_MIN / -1\)\): status 256, expected 256: ok$",
             r"^faults: free pages before (\d+) after \1: ok$",
             r"^faults: PASS: 16 faulting children killed"],
     check=fault_log_lines)

# Resource exhaustion: fork bomb, memory hog, call_rcu storms (with and
# without the hog), then a normal hammer run, all in one boot, with the
# free-page and process counts back at their start after each.
test("hostile-exhaustion-2", prog="hostile", ncpu=2, timeout=180, reject=HOSTILE_REJECT,
     expect=[r"^hostile: forkbomb: peak 512 processes \(table size 512\); fork refused with -EAGAIN",
             r"^hostile: memhog: \d+ ballast .* refused with( -EAGAIN)? -ENOMEM",
             r"^hostile: storm under memhog: .* the struct is whole",
             r"^hostile: hammer rcu: status 0: ok; .* all back$",
             r"^hammer: PASS$",
             r"^hostile: PASS"])

# Writers never lose data, with failing writes mixed in; under a memory
# hog some good writes fail with -ENOMEM and must leave no trace either.
test("hostile-lswriters-rcu-2", prog="lswriters", args=["rcu", "3"], ncpu=2, timeout=120,
     reject=HOSTILE_REJECT, expect=[r"^lswriters: rcu: PASS: "])
# Under the hog, free memory sits at the kernel's reserve (the hog's own line
# says it was refused), so writes may fail with -ENOMEM. How many do varies
# from none to hundreds: call_rcu makes writers reclaim when memory is low,
# and that races with the hog. So the count is reported, not required.
test("hostile-lswriters-rcu-hog-2", prog="lswriters", args=["rcu", "2", "4", "hog"], ncpu=2, timeout=180,
     reject=HOSTILE_REJECT,
     expect=[r"^hostile: memhog: .* refused with -ENOMEM",
             r"^lswriters: rcu: PASS: .*; \d+ good writes refused with -ENOMEM by the writers"])
test("hostile-lswriters-hazptr-4", prog="lswriters", args=["hazptr", "2"], ncpu=4, timeout=120,
     reject=HOSTILE_REJECT, expect=[r"^lswriters: hazptr: PASS: "])
# Every consistent scheme of lib/abi.hh's LS_SCHEMES, 10 rounds, 7 writers.
for _scheme in (s.name for s in abi.schemes() if s.consistent):
    test(f"hostile-lswriters-stress-{_scheme}-4", prog="lswriters", args=[_scheme, "10", "7"], ncpu=4,
         timeout=300, stress=True, reject=HOSTILE_REJECT, expect=[rf"^lswriters: {_scheme}: PASS: "])
