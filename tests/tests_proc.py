"""Processes, system calls and the preemptible scheduler (user side).

Each program is in user/NAME.cc and explains what it checks; each runs at
NCPU=1, 2 and 4 as proc-NAME-N and exits 0 only if every check passed.

How the tests were shown to fail on a broken kernel (each variant built in
a private copy of the tree):
  - proc-preempt_user-*: sched_tick never ending a time slice: neither
    spinner is ever switched out and back (0 slices each): FAIL. The test
    counts slices (CPU 0's schedule count moving under a spinner), not
    running time: a host that stops the virtual CPU for 400 ms costs
    whichever spinner was running that time, which once made a correct
    kernel's time share 23% against the 25% required.
  - proc-preempt_kernel-*: the same variant, or trap_dispatch rescheduling
    only interrupted user code: spin(300) returns 0: FAIL. preempt_enable
    not running the held-back reschedule: spin-nopreempt returns -2: FAIL.
  - proc-ppidtest-*: proc_exit not re-parenting orphans to process 1: the
    orphans read their freed parent's pid (0x6b6b6b6b, poison): FAIL.
  - proc-forktree-4 found two kernel bugs, fixed with it (sched.cc
    wake_proc: a stale run-queue entry for a task woken while still
    running; proc.cc proc_exit: a preemption between leaving the page table
    and forgetting it). With either fix reverted it crashes in about 1 run
    of 4 to 6 (switch to a freed kernel stack / a freed page table).
  - proc-exitstatus-* and proc-forkleak-* hung (lost wakeup) before commit
    53abdb8 (a preempted task that was about to sleep was put to sleep).
"""

import re

from testlib import test

NCPUS = (1, 2, 4)


def kill_log_lines(output):
    """nullderef: the kernel logs one line per killed child, naming the
    process, the fault and the address."""
    wanted = [
        (r"page fault", r"0"),
        (r"page fault", r"0x4[0-9a-f]{5}"),             # its own text
        (r"page fault", r"0xffffffff80100000"),
        (r"invalid opcode", r"0"),
        (r"divide error", r"0"),
        (r"general protection fault", r"0"),
    ]
    for fault, address in wanted:
        pattern = (rf"^\[cpu\d+\] proc \d+ \(nullderef\): {fault} at rip 0x[0-9a-f]+, "
                   rf"address {address}: killed$")
        if not re.search(pattern, output, re.MULTILINE):
            return f"no kernel log line for a {fault} at address {address}"
    return None


for n in NCPUS:
    # 121 processes (364 at NCPU=4, where the races it found show up).
    depth, count = ("5", 364) if n == 4 else ("4", 121)
    test(f"proc-forktree-{n}", prog="forktree", args=[depth, "3"], ncpu=n, timeout=90,
         expect=[rf"^forktree: depth {depth} fan-out 3: {count} processes, every status and pid right"])

    test(f"proc-ppidtest-{n}", prog="ppidtest", args=[str(max(n, 2) * 2)], ncpu=n,
         timeout=60,
         expect=[r"^ppidtest: PASS: \d+ orphans saw their parent, then process 1"])

    test(f"proc-exitstatus-{n}", prog="exitstatus", ncpu=n, timeout=60,
         expect=[r"^exitstatus: PASS$"], reject=[r"PANIC", r"FAILED"])

    test(f"proc-preempt_user-{n}", prog="preempt_user", ncpu=n, timeout=60,
         expect=[r"^preempt_user: spinner 0: .*: ok$", r"^preempt_user: spinner 1: .*: ok$",
                 r"^preempt_user: PASS"])

    test(f"proc-preempt_kernel-{n}", prog="preempt_kernel", ncpu=n, timeout=60,
         expect=[r"^preempt_kernel: spin\(300\) with preemption on: cpu 0 scheduled [1-9]\d* times: ok$",
                 r"^preempt_kernel: spin-nopreempt\(300\): 1: .*: ok$",
                 r"^preempt_kernel: PASS$"])

    # Every CPU runs a pinned process at once and sys_getcpu agrees.
    test(f"proc-pinall-{n}", prog="cpuinfo", args=[str(n)], ncpu=n, timeout=60,
         expect=[rf"^cpuinfo: {n} CPUs, all ran a pinned process$"])

    test(f"proc-forkleak-{n}", prog="forkleak", args=["2000"], ncpu=n, timeout=90,
         expect=[r"^forkleak: 2000 cycles .* free pages before (\d+) after \1,",
                 r"^forkleak: PASS"])

    # sys_procinfo through a child's life: forked, asleep, exec'd, a zombie, reaped.
    test(f"proc-procinfo-{n}", prog="procinfo", ncpu=n, timeout=60,
         expect=[r"^procinfo: PASS: all \d+ checks$"], reject=[r"PANIC", r"FAILED"])

    test(f"proc-badptr-{n}", prog="badptr", ncpu=n, timeout=60,
         expect=[r"^badptr: PASS: all \d+ checks$"], reject=[r"PANIC", r"FAILED", r"killed"])

    test(f"proc-nullderef-{n}", prog="nullderef", ncpu=n, timeout=60,
         expect=[r"^nullderef: child \d+ \(read NULL\): status 270, expected 270: ok$",
                 r"^nullderef: child \d+ \(ud2\): status 262, expected 262: ok$",
                 r"^nullderef: child \d+ \(divide by zero\): status 256, expected 256: ok$",
                 r"^nullderef: PASS"],
         check=kill_log_lines)

# The shell, driven through the serial console (console input by interrupt,
# line editing, running programs, reporting statuses, exit powers off).
test("proc-shell-2", prog=None, ncpu=2, timeout=60,
     input="hello a b\rls\rps\rstate\rnosuch\rexitstatus-nope\x08\x08\x08\x08\x08\rnullderef\rexit 3\r",
     status=3,
     expect=[r"hello from pid \d+ on cpu \d of 2: a b", r"hello\s+.*ktest",
             r"sh: nosuch: no such program", r"PID  PPID  STATE", r"^state: ncpu 2$", r"^rcu: gp_seq \d+ ", r"^\s+1\s+0\s+run\s+\d\*? sh$", r"^\s+1\s+0\s+running\s+\d\s+sh$", r"grace\$ exitstatus\r?$|grace\$ exitstatus\b",
             r"sh: nullderef exited with status 0|nullderef: .*ok",
             r"init exited with status 3"])
