"""The planted bugs of a debugging pset: one registry, kept by the staff.

A debugging pset (pset 5) hands each student the staff's kernel with ONE
bug planted in it, chosen by a seed. Its registry is the table of
staff/N-NAME-bugs.md (never shipped: it names every bug), one row per seed:

    | seed | bug | site | shown by | symptom |
    | 0 | `tick-qs` | ... | `make run-gpstuck NCPU=2` | `rcu: INFO: grace period \\d+ stalled` |

  - seed: 0, 1, 2, ... with no gaps;
  - bug: the name of its BUG regions in the tree (tools/markers.py), which
    hold the correct code and, as STUB lines, the bug;
  - site: where it is and what it breaks, for the staff;
  - shown by: the run that shows the symptom on that seed's handout,
    `make run-PROG [NCPU=n] [ARGS="a b"]`;
  - symptom: a regular expression (no `|`) that this run's console matches
    on the seed's handout (tests/check_handouts.py checks it does).

A pset is a debugging pset exactly when its registry file exists.
Everything else derives from the table: `make handout PSET=5 SEED=n`
(tools/handout.py), the leak check of every seed (tests/check_leaks.py),
the build-and-symptom check of every seed (tests/check_handouts.py), and a
student's seed (seed_for).
"""

from __future__ import annotations

import hashlib
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import psets

ROW_RE = re.compile(r"^\|\s*(\d+)\s*\|(.*)\|\s*$")
CODE_RE = re.compile(r"`([^`]+)`")
RUN_RE = re.compile(r"^make run-(\S+)((?:\s+\w+=\S+|\s+ARGS=\"[^\"]*\")*)$")


class BugError(Exception):
    """The registry is malformed: the message names the file and row."""


@dataclass(frozen=True)
class Bug:
    seed: int
    name: str                 # the BUG regions' name
    site: str                 # staff prose: where, what it breaks
    prog: str                 # the program that shows it
    args: tuple[str, ...]
    ncpu: int
    symptom: re.Pattern       # what that run's console matches


def registry_path(pset: int) -> str:
    """The registry of pset `pset`, relative to the tree: staff/N-NAME-bugs.md."""
    return psets.PSETS[pset].rubric.removesuffix("-rubric.md") + "-bugs.md"


def _code(cell: str, where: str) -> str:
    m = CODE_RE.search(cell)
    if not m:
        raise BugError(f"{where}: expected a `quoted` value in {cell.strip()!r}")
    return m.group(1)


def registry(pset: int, root: Path) -> dict[int, Bug] | None:
    """{seed: Bug} for pset `pset` in the tree `root`, or None when it is
    not a debugging pset (no registry: also every handout)."""
    path = root / registry_path(pset)
    if not path.is_file():
        return None
    bugs: dict[int, Bug] = {}
    for number, line in enumerate(path.read_text().split("\n"), start=1):
        m = ROW_RE.match(line)
        if not m:
            continue
        where = f"{registry_path(pset)}:{number}"
        cells = m.group(2).split("|")
        if len(cells) != 4:
            raise BugError(f"{where}: a row has 5 columns: seed, bug, site, shown by, symptom")
        seed = int(m.group(1))
        run = RUN_RE.match(_code(cells[2], where))
        if not run:
            raise BugError(f"{where}: `shown by` must be `make run-PROG [NCPU=n] [ARGS=\"...\"]`")
        knobs = dict(k.split("=", 1) for k in shlex.split(run.group(2)))
        try:
            symptom = re.compile(_code(cells[3], where), re.MULTILINE)
        except re.error as err:
            raise BugError(f"{where}: bad symptom regex: {err}") from None
        if seed in bugs:
            raise BugError(f"{where}: seed {seed} twice")
        bugs[seed] = Bug(seed, _code(cells[0], where), cells[1].strip(), run.group(1),
                         tuple(knobs.get("ARGS", "").split()), int(knobs.get("NCPU", "1")),
                         symptom)
    if sorted(bugs) != list(range(len(bugs))) or not bugs:
        raise BugError(f"{registry_path(pset)}: seeds must be 0, 1, 2, ... (found {sorted(bugs)})")
    if len({b.name for b in bugs.values()}) != len(bugs):
        raise BugError(f"{registry_path(pset)}: a bug has two seeds")
    return bugs


def seed_for(student: str, nbugs: int) -> int:
    """A student's seed, from their id (login, email or number): the same
    id always gets the same seed, and ids spread evenly over the bugs."""
    digest = hashlib.sha256(student.strip().lower().encode()).digest()
    return int.from_bytes(digest[:8], "big") % nbugs
