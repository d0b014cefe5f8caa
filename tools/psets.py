"""The problem sets and their points: the one table `make grade` uses.

Each pset lists the tests (declared in tests/tests_*.py) that grade it and
the points each is worth. A *concurrency* test passes or fails depending on
timing, so `make grade` runs it RUNS times and gives its points only if it
passes every time; a deterministic test runs once.

Each pset also lists its written work: the questions of its answers file
(psets/N-NAME-answers.md, which the student fills in), with their points.
Course staff grade them by hand with the rubric (staff/N-NAME-rubric.md);
`make grade` prints them as not graded automatically.

Every test listed here must fail on the pset's handout (`make handout
PSET=N`: the solution replaced by its stub) and pass on the solution tree;
`make check-psets` checks both (tests/check_handouts.py). A test that would pass
on a stub proves nothing about the student's code and does not belong here.
"""

from __future__ import annotations

from dataclasses import dataclass

RUNS = 3   # runs of a concurrency test; all must pass

# How a pset's handout treats the earlier psets' regions (tools/handout.py):
# "student": stubs, so each student keeps their own code from pset to pset
# (a `git pull` of the next release merges cleanly); "staff": the staff
# solution, so that every student starts the next pset from working code.
EARLIER = "student"

# What `make grade GRADE_TESTS=dir` takes from the staff tree `dir` rather
# than from the student's: the tests, the test programs, the kernel's
# self-tests, the grader and everything the build and the tests read. The
# student's own work is the rest of kernel/ and the answers files.
FROM_STAFF = ("Makefile", "link.ld", "boot/", "lib/", "tests/", "tools/", "user/",
              "kernel/ktest/")


@dataclass(frozen=True)
class Graded:
    test: str            # a test name from tests/tests_*.py
    points: int
    concurrency: bool = True


@dataclass(frozen=True)
class Written:
    label: str           # "Q1": a heading of the answers file and of the rubric
    points: int


@dataclass(frozen=True)
class Pset:
    title: str
    doc: str             # the handout text, relative to the project root
    tests: tuple[Graded, ...]
    written: tuple[Written, ...] = ()

    @property
    def total(self) -> int:
        """The points `make grade` gives (the tests)."""
        return sum(g.points for g in self.tests)

    @property
    def written_total(self) -> int:
        """The points the course staff give by hand."""
        return sum(w.points for w in self.written)

    @property
    def answers(self) -> str:
        """The answers file the student fills in: psets/N-NAME-answers.md."""
        return self.doc.removesuffix(".md") + "-answers.md"

    @property
    def rubric(self) -> str:
        """The staff-only rubric: staff/N-NAME-rubric.md."""
        return "staff/" + self.doc.removeprefix("psets/").removesuffix(".md") + "-rubric.md"


PSETS: dict[int, Pset] = {
    1: Pset("a reader-writer lock and the largestruct calls under it", "psets/1-rwlock.md", (
        Graded("lock-rwlock-shared-2", 40),      # readers share, writers exclude
        Graded("lock-rwlock-writer-4", 30),      # a writer is not starved by readers
        Graded("ls-hammer-rwlock-2", 15),        # sys_lsread/lswrite(LS_RWLOCK): no torn reads
        Graded("ls-hammer-rwlock-4", 15),
    ), written=(
        Written("Q1", 10),                       # the lock's state; what bounds a writer's wait
        Written("Q2", 5),                        # why preemption goes off before the spin
        Written("Q3", 5),                        # acquire and release on x86 and ARM
    )),
    2: Pset("RCU: read sections, quiescent states, synchronize_rcu, call_rcu",
            "psets/2-rcu.md", (
        Graded("rcu-wait-reader-2", 10),         # synchronize_rcu waits for a reader
        Graded("rcu-wait-long-reader-2", 15),    # ... however long it reads (no fixed sleep)
        Graded("rcu-nested-2", 10),              # ... for the outermost of nested sections
        Graded("rcu-gp-idle-2", 15),             # ... and not for idle CPUs
        Graded("rcu-gp-readers-2", 10),          # call_rcu frees after the readers
        Graded("rcu-barrier-2", 10),             # callbacks all run (rcu_barrier)
        Graded("rcu-misuse-sync", 5, concurrency=False),   # synchronize_rcu in a read section
        Graded("rcu-torture-2", 10),             # rcutorture: no reader sees a freed struct
        Graded("ls-hammer-rcu-2", 10),           # sys_lsread/lswrite(LS_RCU)
        Graded("ls-hammer-rcu-sync-2", 5),       # ... with writers in synchronize_rcu
    ), written=(
        Written("Q1", 10),                       # the full fence in rcu_note_qs
        Written("Q2", 5),                        # why rcu_barrier needs its counters
        Written("Q3", 5),                        # a quiescent state from an interrupt
        Written("Q4", 5),                        # writers that pay for their reclamation
        Written("Q5", 5),                        # measured: the QS in cpu::schedule
    )),
    3: Pset("hazard pointers, measured against RCU", "psets/3-hazard-pointers.md", (
        Graded("scheme-hazptr-sleep", 10),       # a protected struct survives a sleep
        Graded("scheme-hazptr-store-buffer-2", 30),        # the fence: a buffered hazard is seen
        Graded("scheme-hazptr-asym-store-buffer-2", 15),   # ... or the scanner's IPI barrier
        Graded("scheme-hazptr-reload-2", 30),    # the reload: a struct freed after the load
        Graded("ls-hammer-hazptr-2", 8),         # sys_lsread/lswrite(LS_HAZPTR)
        Graded("ls-hammer-hazptr-4", 7),
    ), written=(
        Written("Q1", 10),                       # measured: the cost of a read
        Written("Q2", 5),                        # measured: readers beside a writer
        Written("Q3", 5),                        # measured: the fence
        Written("Q4", 10),                       # store, fence, reload; the asymmetric variant
        Written("Q5", 10),                       # hazard pointers or RCU?
    )),
    4: Pset("RCU-protected lists and the pid table", "psets/4-rcu-lists.md", (
        Graded("rculist-api-2", 20, concurrency=False),    # add/del_rcu under a reader standing on the node
        Graded("rculist-hash-2", 20, concurrency=False),   # lookups take no lock; remove under a reader
        Graded("rculist-publish-2", 30, concurrency=False),  # a reader at the publish finds it whole
        Graded("rculist-torture-2", 15),         # readers on every CPU walk while writers churn
        Graded("rculist-torture-4", 15),
    ), written=(
        Written("Q1", 5),                        # why del_rcu leaves next alone
        Written("Q2", 5),                        # stepping to a deleted successor
        Written("Q3", 5),                        # when an entry may be freed or reused
        Written("Q4", 5),                        # a name changed in place
    )),
    # A debugging pset: the staff's kernel with one planted bug per student
    # (tools/bugs.py; the registry is staff-only). Every bug fails both tests.
    5: Pset("debugging a stuck grace period", "psets/5-stuck-gp.md", (
        Graded("rcu-gpstuck-2", 50),           # GPs end and callbacks run: busy and idle CPUs
        Graded("rcu-gpstuck-4", 50),
    ), written=(
        Written("Q1", 10),                       # the symptom, with the evidence
        Written("Q2", 10),                       # the tools' view: which CPU, what state
        Written("Q3", 15),                       # the cause: the line and why it stalls or leaks
        Written("Q4", 5),                        # the fix, and why it is enough
    )),
}
