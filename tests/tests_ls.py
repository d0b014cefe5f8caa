"""The largestruct system calls: hammer (concurrent readers and writers on
one scheme, every read checked against the checksums of the structs that
may legitimately exist) and lsbad (bad arguments). See user/hammer.cc for
hammer's output lines and exit codes.

The tests are generated from lib/abi.hh's LS_SCHEMES (tools/abi.py), by
each scheme's kind:
  consistent    ls-hammer-SCHEME-1, -2, -4: no reader may see a torn or
                freed struct
  broken        ls-hammer-SCHEME-2, -4: the bug must be caught (some reader
                sees an inconsistent read)
  unprotected   ls-hammer-SCHEME-2: torn reads are allowed; the kernel must
                just survive
plus ls-hammer-rcu-sync-2 (RCU writers in synchronize_rcu) and
ls-bad-inputs (lsbad: every scheme ok).

How these tests are known to catch a broken scheme: ls-hammer-busted-N runs
hammer on LS_BUSTED (RCU without the grace period) and requires that the
bug is caught (hammer exits 0 only if some reader saw an inconsistent
read); ls-hammer-rcu-2, -rcu-4 and -rcu-sync-2 were shown to fail with
kernel/ls/ls_rcu.cc's write changed to `delete old;` (no grace period), and
ls-hammer-rcu-4 also caught a real RCU bug (a task switched in by a wakeup
IPI while its CPU still counted as idle; fixed in trap.cc by 89eaccd);
ls-hammer-spinlock-* fail with the read side's lock removed, and
ls-hammer-rwlock-2/4 with the writer taking the shared side. For the other
consistent schemes see tests/tests_schemes.py.
"""

import re

import abi
from testlib import test

READER_RE = re.compile(
    r"^hammer: reader cpu(\d+) pid \d+: (\d+) reads, (\d+)/s, (\d+) inconsistent$",
    re.MULTILINE)
WRITER_RE = re.compile(
    r"^hammer: writer cpu(\d+) pid \d+: (\d+) writes, (\d+)/s$", re.MULTILINE)


def hammer_lines(ncpu, writers=2, readers_per_cpu=1, torn="none"):
    """A check on hammer's per-child lines: one reader line per reader,
    readers on every CPU, every reader read and every writer wrote.
    torn: "none" (no reader may see an inconsistent read), "some" (at least
    one must: the scheme is broken on purpose) or "any" (don't care)."""
    def check(output):
        readers = READER_RE.findall(output)
        writer_lines = WRITER_RE.findall(output)
        if len(readers) != ncpu * readers_per_cpu:
            return f"{len(readers)} reader lines, expected {ncpu * readers_per_cpu}"
        if len(writer_lines) != writers:
            return f"{len(writer_lines)} writer lines, expected {writers}"
        cpus = sorted({int(cpu) for cpu, _, _, _ in readers})
        if cpus != list(range(ncpu)):
            return f"readers ran on CPUs {cpus}, expected 0..{ncpu - 1}"
        for cpu, reads, _, _ in readers:
            if int(reads) == 0:
                return f"the reader on cpu{cpu} never read"
        for cpu, writes, _ in writer_lines:
            if int(writes) == 0:
                return f"the writer on cpu{cpu} never wrote"
        torn_readers = sum(1 for *_, bad in readers if int(bad) > 0)
        if torn == "none" and torn_readers:
            return f"{torn_readers} readers saw inconsistent reads"
        if torn == "some" and not torn_readers:
            return "no reader saw an inconsistent read"
        return None
    return check


def hammer_test(name, scheme, n, opts=()):
    """Declare `hammer SCHEME 2` at NCPU=n for a scheme that promises
    consistency: no reader may see a torn or freed struct."""
    test(name, prog="hammer", args=[scheme, "2"], ncpu=n, opts=list(opts), timeout=90,
         expect=[rf"^hammer: {scheme}: 0 of {n} readers saw inconsistent reads$",
                 r"^hammer: PASS$"],
         check=hammer_lines(n))


SCHEMES = abi.schemes()

for _s in SCHEMES:
    if _s.kind == "consistent":
        # Every read is a whole, live struct.
        for _n in (1, 2, 4):
            hammer_test(f"ls-hammer-{_s.name}-{_n}", _s.name, _n)
    elif _s.kind == "broken":
        # The bug must be caught: exit 0 here means hammer saw readers of
        # freed (poisoned) or reused memory.
        for _n in (2, 4):
            test(f"ls-hammer-{_s.name}-{_n}", prog="hammer", args=[_s.name, "2"], ncpu=_n,
                 timeout=90,
                 expect=[rf"^hammer: {_s.name}: [1-9]\d* of \d+ readers saw inconsistent reads$",
                         rf"^hammer: PASS \({_s.name} is broken on purpose, and the bug was caught\)$"],
                 check=hammer_lines(_n, torn="some"))
    else:
        assert _s.kind == "unprotected", _s
        # Torn reads are allowed; the kernel must just survive.
        test(f"ls-hammer-{_s.name}-2", prog="hammer", args=[_s.name, "2"], ncpu=2, timeout=90,
             status=None, expect=[rf"^hammer: PASS \({_s.name} is unprotected"],
             check=hammer_lines(2, torn="any"))

# RCU with synchronous reclamation (writers wait in synchronize_rcu).
hammer_test("ls-hammer-rcu-sync-2", "rcu", 2, opts=["ls_sync=1"])

# Bad arguments to sys_lsread / sys_lswrite for every scheme.
test("ls-bad-inputs", prog="lsbad", ncpu=2, timeout=60,
     expect=[rf"^lsbad: {_s.name} ok$" for _s in SCHEMES]
     + [rf"^lsbad: PASS \({len(SCHEMES)} schemes checked\)$"],
     reject=[r"PANIC", r"poison.*corrupt", r"FAILED", r"killed"])
