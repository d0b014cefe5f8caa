"""The catalogue of known-wrong solutions: mistakes students make, each a
small patch against the solution tree, and what `make grade` must do to
it. tests/check_wrong.py (run by `make check-psets`) applies each patch to
a scratch copy of the tree, builds it, grades its pset, and fails if the
entry keeps more points than it may or if a test that must fail passes.

An entry is one line here, `wrong(ID, PSET, WHAT, LOSES, MUST_FAIL)`, and
its patch, staff/wrong/ID.patch: a unified diff against the solution tree
(`git diff` output; applied with `git apply`). LOSES is the least share of
the pset's test points the entry must lose (at least MIN_LOSS); MUST_FAIL
the graded tests that must fail, each of them every time.

When a wrong solution scores too well, fix the tests (grade a test that
sees the mistake, or write one), never the catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
MIN_LOSS = 0.30          # no entry may be let off with less


@dataclass(frozen=True)
class Wrong:
    id: str
    pset: int
    what: str                 # the mistake, in one line
    loses: float              # least share of the pset's test points lost
    must_fail: tuple[str, ...]

    @property
    def patch(self) -> Path:
        return HERE / f"{self.id}.patch"


CATALOGUE: dict[str, Wrong] = {}


def wrong(id: str, pset: int, what: str, loses: float, must_fail) -> None:
    """Declare one entry; its patch is staff/wrong/ID.patch."""
    if id in CATALOGUE:
        raise ValueError(f"wrong solution {id} declared twice")
    if not (MIN_LOSS <= loses <= 1):
        raise ValueError(f"{id}: loses must lie in [{MIN_LOSS}, 1], not {loses}")
    if not must_fail or isinstance(must_fail, str):
        raise ValueError(f"{id}: must_fail must be a non-empty list of test names")
    CATALOGUE[id] = Wrong(id, pset, what, loses, tuple(must_fail))


# ---- pset 1: the reader-writer lock ------------------------------------------
wrong("p1-spinlock", 1, "a plain spinlock: readers exclude each other",
      0.40, ["lock-rwlock-shared-2"])
wrong("p1-reader-preferring", 1, "readers ignore a waiting writer: writers starve",
      0.30, ["lock-rwlock-writer-4"])
wrong("p1-writer-ignores-readers", 1, "a writer enters while readers are inside",
      0.50, ["ls-hammer-rwlock-2", "ls-hammer-rwlock-4"])
wrong("p1-read-preemptible", 1, "read sections leave preemption on: a spinning writer "
      "waits for a reader switched out on its own CPU (a hang: TIMEOUT)",
      0.30, ["ls-hammer-rwlock-2", "ls-hammer-rwlock-4"])

# ---- pset 2: RCU ---------------------------------------------------------------
wrong("p2-sync-fixed-sleep", 2, "synchronize_rcu sleeps 100 ms instead of waiting for a GP",
      0.30, ["rcu-wait-long-reader-2", "rcu-gp-idle-2"])
wrong("p2-sync-own-cpu", 2, "synchronize_rcu waits only for its own CPU's quiescent state",
      0.30, ["rcu-wait-reader-2", "rcu-wait-long-reader-2"])
wrong("p2-read-lock-empty", 2, "read sections that do not disable preemption",
      0.30, ["rcu-torture-2", "ls-hammer-rcu-2", "rcu-misuse-sync"])
wrong("p2-cb-no-gp", 2, "call_rcu tags a callback with the current gp_seq: it runs at once",
      0.30, ["rcu-torture-2"])
wrong("p2-last-cpu-no-end", 2, "the CPU that reports the last quiescent state does not end "
      "the GP: everything that waits hangs (TIMEOUT)", 0.50, ["rcu-wait-reader-2"])

# ---- pset 3: hazard pointers ------------------------------------------------------
wrong("p3-no-fence", 3, "no full fence between the hazard store and the reload",
      0.30, ["scheme-hazptr-store-buffer-2"])
wrong("p3-no-reload", 3, "the hazard is published but the pointer is not loaded again",
      0.30, ["scheme-hazptr-reload-2"])
wrong("p3-reload-unprotected", 3, "a reload that finds a new pointer returns it unprotected",
      0.30, ["scheme-hazptr-reload-2"])
wrong("p3-scan-own-cpu", 3, "scan reads only its own CPU's hazard slots",
      0.30, ["scheme-hazptr-sleep", "scheme-hazptr-store-buffer-2"])

# ---- pset 4: RCU lists -------------------------------------------------------------
wrong("p4-publish-before-link", 4, "insert links n into the list before setting n->next",
      0.30, ["rculist-publish-2"])
wrong("p4-del-poisons-next", 4, "del_rcu clears the removed node's next",
      0.30, ["rculist-api-2"])
wrong("p4-insert-no-prev", 4, "insert leaves the successor's prev pointing past n",
      0.30, ["rculist-api-2"])
wrong("p4-key-after-publish", 4, "insert sets the key after the entry is published",
      0.30, ["rculist-publish-2"])
