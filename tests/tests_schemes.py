"""The other reclamation schemes (kernel/ls/ls_hazptr.cc, ls_refcount.cc,
ls_diffref.cc, ls_lopsided.cc): the asymmetric hazard-pointer variant
under hammer, the self-tests for what distinguishes each
(kernel/ktest/ktest_schemes.cc), and memory returning after a run
(user/schemetest.cc) for every consistent scheme in lib/abi.hh's
LS_SCHEMES that copies the struct on each write (scheme-mem-SCHEME). Every consistent scheme's hammer tests
(ls-hammer-SCHEME-1/2/4) are in tests/tests_ls.py.

How these tests are known to catch a broken scheme (each shown by building
a deliberately broken copy of the scheme, never committed):
ls-hammer-hazptr-2/4 and scheme-hazptr-sleep fail when a scan ignores
the hazards; ls-hammer-refcount-2/4 and scheme-refcount-sleep fail when
the eraser ignores the count; ls-hammer-diffref-2/4 and
scheme-diffref-stress fail when the writer frees the old struct at the
swap; ls-hammer-lopsided-2/4 fail when the writer does not wait for
readers, and scheme-lopsided-bounded fails when readers wait while a writer
is waiting (readers spinning while `waiting` > 0 completed 50-95 sections
during 19 long writes, under the 190 it requires; the real scheme about
35000); scheme-mem-* fail when a scheme leaks. At 1 CPU the broken
variants that only free too early can pass (no reader runs in the middle of
a write there unless it is preempted), so the 1-CPU runs check the schemes
work at all. The race that the hazard-pointer reader's fence (or, with
hazptr_asym=1, the scanner's IPI barrier) closes is a store still in a
store buffer, a window of nanoseconds that no hammer run hits:
scheme-hazptr-store-buffer-2 and scheme-hazptr-asym-store-buffer-2 hold
that store back on purpose (a debug-build hook in the hazard slot's word,
ls_hazptr.cc, and apic.hh) and fail with the fence, or the IPI barrier,
removed. The race that the reader's reload closes, a writer replacing and
freeing the struct between the reader's load and its hazard store, is held
open the same way (a hook in the current pointer's word):
scheme-hazptr-reload-2 and -asym-reload-2 fail, every run, with the reload
removed (the reader reads poison) or with a reload that returns the new
pointer unprotected. staff/wrong (tests/check_wrong.py) keeps showing all
of these.
"""

import abi
from testlib import test
from tests_ls import hammer_test

# Hazard pointers without the reader's fence: scanners IPI every CPU.
for n in (2, 4):
    hammer_test(f"scheme-hazptr-asym-{n}", "hazptr", n, opts=["hazptr_asym=1"])

# Readers that sleep while protected keep their struct.
test("scheme-hazptr-sleep", prog="ktest", args=["hazptr-sleep", "20"], ncpu=2, timeout=60,
     expect=[r"ktest hazptr-sleep: round 2: .*: intact", r"ktest hazptr-sleep: passed"])
test("scheme-hazptr-asym-sleep", prog="ktest", args=["hazptr-sleep", "20"], ncpu=2,
     opts=["hazptr_asym=1"], timeout=60,
     expect=[r"ktest hazptr-sleep: round 2: .*: intact", r"ktest hazptr-sleep: passed"])
# A hazard store held in the store buffer: the scan must still see it.
for _name, _opts in (("scheme-hazptr-store-buffer-2", []),
                     ("scheme-hazptr-asym-store-buffer-2", ["hazptr_asym=1"])):
    test(_name, prog="ktest", args=["hazptr-store-buffer"], ncpu=2, timeout=60, opts=_opts,
         expect=[r"ktest hazptr-store-buffer \(\w+\): the reader's hazard store was held back; "
                 r".* scans kept the struct [2-9]\d* times.*: ok",
                 r"ktest hazptr-store-buffer: passed"])
# Writers replace and scan between a reader's load and its hazard store.
for _name, _opts in (("scheme-hazptr-reload-2", []), ("scheme-hazptr-asym-reload-2", ["hazptr_asym=1"])):
    test(_name, prog="ktest", args=["hazptr-reload"], ncpu=2, timeout=60, opts=_opts,
         expect=[r"ktest hazptr-reload \(\w+\): between the reader's load and its hazard, \d+ "
                 r"writes on cpu1 freed the struct it loaded; scans kept the struct [2-9]\d* "
                 r"times.*: ok",
                 r"ktest hazptr-reload: passed"])
test("scheme-refcount-sleep", prog="ktest", args=["refcount-sleep", "20"], ncpu=2, timeout=60,
     expect=[r"ktest refcount-sleep: round 2: .*: intact", r"ktest refcount-sleep: passed"])
# Differential counts: no reader sees a freed struct; every old struct freed.
test("scheme-diffref-stress-4", prog="ktest", args=["diffref-stress", "1000"], ncpu=4,
     timeout=60,
     expect=[r"ktest diffref-stress: .* 0 saw a changed or freed struct; "
             r"old structs not yet freed before 0, after 0 \(want 0\): ok",
             r"ktest diffref-stress: passed"])
# Lopsided: readers' sections stay short while the writer spins for a
# slow reader.
test("scheme-lopsided-bounded-3", prog="ktest", args=["lopsided-bounded", "20"], ncpu=3,
     timeout=60,
     expect=[r"readers' p99 bounded .* readers progressed while the writer spun, writer waited long, 0 bad reads: ok",
             r"ktest lopsided-bounded: passed"])

# Every page comes back after a hammer run, for every consistent scheme
# that allocates a struct per write (one written in place allocates none).
for _s in abi.schemes():
    if _s.consistent and _s.storage == "copies":
        test(f"scheme-mem-{_s.name}", prog="schemetest", args=["mem", _s.name], ncpu=2, timeout=60,
             expect=[rf"^schemetest: {_s.name}: free pages before (\d+) after \1$",
                     r"^schemetest: PASS$"])
