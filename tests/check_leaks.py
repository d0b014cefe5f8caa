#!/usr/bin/env python3
"""`make check`: no handout holds an answer to its own or a later pset.

    python3 tests/check_leaks.py [--keep]

Generates every pset's handout both ways a course may release it (earlier
psets as the student's own or as the staff's solution: tools/handout.py's
plan, the files it would write), and fails when, in the handout of pset N:

  - a staff-only path (handout.STAFF_ONLY) is present; or
  - a *secret* of a region the handout must not hold (pset N or later; all
    of them when earlier psets are the student's own) is anywhere in the
    tree, in any file, comments and Markdown included.

What counts as a secret, region by region (SOLUTION and EXPLANATION alike):

  - each line, normalized (markers.normalize: comment leaders, list and
    table markup and extra whitespace removed), unless it says nothing by
    itself (markers.trivial: `}`, `return 0;`, `#endif`; or shorter than
    LINE_MIN), it is a STUB line of a region the handout stubs (the handout
    prints those), or it is the kernel's vocabulary: text that the tree outside
    every region uses in the region's own file or in VOCABULARY_FILES other
    files, such as `preempt_disable();`, `irq_guard g;` or `delete old;`.
    A secret of SUBSTRING_MIN characters or more leaks when it appears
    anywhere in a file's normalized text, even re-wrapped across lines; a
    shorter one when a whole line equals it.
  - the pair its first line makes with the given line above the region,
    and the pair its last line makes with the line below (non-trivial
    lines, unless the region's line is one of its stubs; vocabulary is
    judged the same way). A region made only of
    vocabulary, such as LS_RCU's `rcu_read_guard g;`, says its answer by
    where it stands: above the struct's load. A pair leaks when two
    adjacent non-trivial lines of a file equal it.

The seeded leaks it was shown to catch before they were fixed (the commits
that added it and marked the essays quote its output):

  - psets/README.md's staff example, the real rwlock::unlock_shared: a
    SOLUTION line in a Markdown file, in every handout;
  - kernel/ls/ls_busted.cc's read side: the pair `rcu_read_guard g;` /
    the struct's load, LS_RCU's read region where it stands;
  - an untracked staff/notes.md (a staff-only path) and an untracked file
    holding a pset-1 line, while the generator copied untracked files;
  - once marked as EXPLANATION regions, while the generator stripped only
    C++ SOLUTION regions: the opening essays of kernel/rcu.cc,
    kernel/ls/ls_rcu.cc, kernel/ls/ls_hazptr.cc (both variants' barriers
    and arguments, the comparison with RCU), kernel/rcu.hh and
    kernel/preempt.hh; docs/rcu.md's read-section instructions, call_rcu
    helping rule and annotated disassembly; docs/schemes.md's hazard-pointer
    costs; docs/benchmarks.md's read-side results.

Exit status 0 when no handout leaks, 1 otherwise (each leak is named:
handout, file, line, and the region it comes from).
"""

from __future__ import annotations

import sys

sys.dont_write_bytecode = True

import argparse
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
for _dir in ("tools", "tests"):
    if str(REPO / _dir) not in sys.path:
        sys.path.insert(0, str(REPO / _dir))

import handout  # noqa: E402
import markers  # noqa: E402
import psets  # noqa: E402
import qemu  # noqa: E402

VOCABULARY_FILES = 2     # a line used in this many other files outside regions is vocabulary
SUBSTRING_MIN = 20       # shorter secrets must equal a whole line
LINE_MIN = 8             # a shorter line (`ret`, `p = q;`) is no secret by itself
SHOWN_PER_HANDOUT = 30   # leaks listed per handout (the count is always given)


def read_text(path: Path) -> str | None:
    """The text of `path`, or None for a binary file."""
    data = path.read_bytes()
    if b"\0" in data:
        return None
    return data.decode("utf-8", errors="replace")


def numbered(text: str) -> list[tuple[int, str]]:
    """(line number, normalized line) for each non-trivial line."""
    out = []
    for number, line in enumerate(text.split("\n"), start=1):
        n = markers.normalize(line)
        if n and not markers.trivial(n):
            out.append((number, n))
    return out


def solution_tree() -> tuple[list[markers.Region], dict[Path, str]]:
    """Every region of the solution tree's shipped files, and their text."""
    texts, found = {}, []
    for rel in handout.shipped_files():
        text = read_text(REPO / rel)
        if text is None:
            continue
        texts[rel] = text
        found += markers.regions(rel, text, psets.PSETS)
    return found, texts


class Outside:
    """The solution tree's text outside every region, file by file: what a
    handout has in any case, and so what makes a line vocabulary."""

    def __init__(self, found: list[markers.Region], texts: dict[Path, str]):
        inside = defaultdict(set)
        for r in found:
            inside[r.path].update(range(r.first, r.last + 1))
        self.rows = {rel: [(n, l) for n, l in numbered(text) if n not in inside[rel]]
                     for rel, text in texts.items()}
        self.files = {rel: Text(rows) for rel, rows in self.rows.items()}
        self.texts = texts

    def vocabulary(self, secret, home: Path) -> bool:
        """Whether `secret` (a line or a pair) is used outside every region
        in `home` (the region's own file) or in VOCABULARY_FILES others."""
        if self.files[home].has(secret):
            return True
        return sum(1 for rel, t in self.files.items()
                   if rel != home and t.has(secret)) >= VOCABULARY_FILES

    def neighbours(self, r: markers.Region) -> tuple[str | None, str | None]:
        """The non-trivial lines just above and just below region `r`."""
        lines = self.texts[r.path].split("\n")
        def first(numbers):
            for i in numbers:
                n = markers.normalize(lines[i - 1])
                if n and not markers.trivial(n):
                    return n
            return None
        return first(range(r.first - 1, 0, -1)), first(range(r.last + 1, len(lines) + 1))


class Text:
    """One file's normalized non-trivial lines, for matching secrets."""

    def __init__(self, rows: list[tuple[int, str]]):
        self.rows = rows
        self.exact = {}
        for number, line in rows:
            self.exact.setdefault(line, number)
        self.flat = " ".join(line for _, line in rows)
        self.pairs = {}
        for (n1, a), (_, b) in zip(rows, rows[1:]):
            self.pairs.setdefault((a, b), n1)

    def find(self, secret) -> int | None:
        """The line where `secret` (a line or a pair of lines) is, or None."""
        if isinstance(secret, tuple):
            return self.pairs.get(secret)
        if secret in self.exact:
            return self.exact[secret]
        if len(secret) >= SUBSTRING_MIN and secret in self.flat:
            head = secret[:SUBSTRING_MIN]
            return next((n for n, line in self.rows if head in line),
                        next((n for n, line in self.rows if line in secret), 0))
        return None

    def has(self, secret) -> bool:
        return self.find(secret) is not None


def secrets(chosen: list[markers.Region], outside: Outside) -> dict:
    """{secret: region} for the chosen regions: their lines, and the pairs
    their first and last lines make with the given lines around them."""
    found = {}
    printed = {markers.normalize(s) for r in chosen for s in r.stubs}
    for r in chosen:
        stubs = {markers.normalize(s) for s in r.stubs}
        body = [n for n in (markers.normalize(l) for l in r.body) if n and not markers.trivial(n)]
        candidates = [line for line in body if line not in printed and len(line) >= LINE_MIN]
        above, below = outside.neighbours(r)
        if body and above and body[0] not in stubs:
            candidates.append((above, body[0]))
        if body and below and body[-1] not in stubs:
            candidates.append((body[-1], below))
        for secret in candidates:
            if secret not in found and not outside.vocabulary(secret, r.path):
                found[secret] = r
    return found


def where(r: markers.Region) -> str:
    return f"pset {r.pset} {r.kind} region {r.path}:{r.first}-{r.last}"


def leaks_in(files: dict[Path, str | None], found: dict) -> list[str]:
    """Every leak in a handout ({path: text}), one line per file and region:
    how many of the region's secrets the file holds, and the first."""
    leaks = []
    for rel, text in sorted(files.items()):
        if handout.under(rel.as_posix(), handout.STAFF_ONLY):
            leaks.append(f"{rel}: a staff-only file")
        if text is None:
            continue
        t = Text(numbered(text))
        hits = defaultdict(list)
        for secret, r in found.items():
            number = t.find(secret)
            if number is not None:
                hits[r].append((number, secret))
        for r, where_found in hits.items():
            number, secret = min(where_found, key=lambda h: h[0])
            shown = " / ".join(secret) if isinstance(secret, tuple) else secret
            more = f" and {len(where_found) - 1} more" if len(where_found) > 1 else ""
            leaks.append(f"{rel}:{number}: {shown[:70]!r}{more} (from the {where(r)})")
    return leaks


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="check_leaks.py")
    parser.add_argument("--keep", action="store_true",
                        help="also write the handouts into $GRACE_BUILD/leak-check/")
    ns = parser.parse_args(argv)
    if not handout.is_checkout():
        print("leaks: not a git checkout (a handout): check skipped")
        return 0
    try:
        found, texts = solution_tree()
    except (markers.MarkerError, handout.HandoutError) as err:
        print(f"leaks: FAILED: {err}")
        return 1
    if not found:
        print("leaks: no solution regions here (a student handout): check skipped")
        return 0
    outside = Outside(found, texts)
    failed = False
    checked = 0
    for n in sorted(psets.PSETS):
        try:
            ways = handout.variants(n)
        except handout.HandoutError as err:
            print(f"leaks: handout {n}: {err}")
            failed = True
            continue
        for earlier, seed in ways:
            label = f"earlier psets: {earlier}" + (f", seed {seed}" if seed is not None else "")
            checked += 1
            try:
                files = handout.texts(n, earlier, seed=seed)
                earlier, planted = handout.choose(n, earlier, seed)
            except (handout.MarkerError, handout.HandoutError) as err:
                print(f"leaks: handout {n} ({label}): {err}")
                failed = True
                continue
            if ns.keep:
                name = f"pset-{n}-{earlier}" + (f"-seed{seed}" if seed is not None else "")
                handout.write_handout(n, qemu.BUILD_DIR / "leak-check" / name, earlier, seed=seed)
            chosen = [r for r in found if not handout.keeps_solution(r, n, earlier, planted)]
            leaks = leaks_in(files, secrets(chosen, outside))
            if leaks:
                failed = True
                print(f"leaks: handout {n} ({label}): {len(leaks)} leaks:")
                for leak in leaks[:SHOWN_PER_HANDOUT]:
                    print(f"  {leak}")
                if len(leaks) > SHOWN_PER_HANDOUT:
                    print(f"  ... and {len(leaks) - SHOWN_PER_HANDOUT} more")
    if failed:
        print("leaks: FAILED")
        return 1
    print(f"leaks: {checked} handouts ({len(psets.PSETS)} psets, each way to release and each "
          f"seed): no handout holds an answer it must not ({len(found)} regions)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
