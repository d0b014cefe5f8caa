#!/usr/bin/env python3
"""Write the student tree for a problem set: `make handout PSET=N`.

    python3 tools/handout.py PSET OUTDIR
    python3 tools/handout.py --list        (every solution region, by pset)

The solution tree marks each part a student writes:

    void rwlock::lock_shared() {
        // BEGIN PSET 1 SOLUTION: enter as a reader
        ...the staff solution...
        // STUB: PSET_TODO(1, "rwlock::lock_shared");
        // END PSET 1 SOLUTION
    }

The handout for pset N is a copy of the tree (the files git tracks, or the
whole tree without build/ when there is no git) in which every region of
pset N *and every later pset* becomes

        // TODO (pset 1): enter as a reader (psets/1-rwlock.md)
        PSET_TODO(1, "rwlock::lock_shared");

that is, a TODO comment and the region's `// STUB:` lines uncommented. Earlier
psets' regions keep their solution (the student wrote them already), so the
handout builds, boots and passes the earlier psets' tests. A stub must keep
the kernel running but unsafe, so that the pset's tests fail with their own
messages rather than hang. Marker lines of earlier psets are dropped too:
the handout shows no solution markers at all. A file that answers a pset
whole (SOLVES: the spin model of RCU) is left out until that pset is over.

Errors (unbalanced or nested markers, a STUB line outside a region, an
unknown pset) name the file and line, and nothing is written.
"""

from __future__ import annotations

import sys

sys.dont_write_bytecode = True

import re
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
for _dir in ("tools", "tests"):   # the tools and the test declarations
    if str(REPO / _dir) not in sys.path:
        sys.path.insert(0, str(REPO / _dir))
import markers  # noqa: E402
import psets  # noqa: E402

# Files that would hand a student pset K's answer whole ("dir/" or a file):
# they ship only from pset K + 1's handout on. The spin model of the
# grace-period machinery spells out pset 2's rcu_note_qs, call_rcu and
# synchronize_rcu.
SOLVES = {"model/": 2, "docs/model.md": 2}

MARKED_SUFFIXES = (".cc", ".hh", ".S", ".ld")
# Paths that hold staff-only material and must never ship.
STAFF_ONLY = ("staff/",)
MarkerError = markers.MarkerError


def regions(path: Path, text: str):
    """Yield (pset, first_line, last_line, indent, what, stub_lines) for each
    SOLUTION region in `text` (line numbers 1-based, inclusive of the markers)."""
    for r in markers.regions(path, text, psets.PSETS):
        if r.kind == "SOLUTION":
            yield r.pset, r.first, r.last, r.indent, r.what, list(r.stubs)


def strip(path: Path, text: str, pset: int) -> str:
    """`text` with the regions of psets >= `pset` replaced by their stubs
    and the markers of earlier psets removed. (EXPLANATION regions are
    kept whole, markers and all.)"""
    lines = text.split("\n")
    out: list[str] = []
    cursor = 0
    for region_pset, first, last, indent, what, stubs in regions(path, text):
        out += lines[cursor:first - 1]
        if region_pset >= pset:
            doc = psets.PSETS[region_pset].doc
            out.append(f"{indent}// TODO (pset {region_pset}): "
                       f"{what or 'write this part'} ({doc})")
            out += [f"{indent}{s}" for s in stubs]
        else:
            body = lines[first:last - 1]
            out += [l for l in body if not markers.syntax(path) or not
                    re.match(r"^\s*// STUB:", l)]
        cursor = last
    out += lines[cursor:]
    return "\n".join(out)


def tree_files() -> list[Path]:
    """The files of the project, relative to REPO."""
    try:
        listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO, check=True,
                                capture_output=True).stdout.decode().split("\0")
        files = [Path(f) for f in listed if f and (REPO / f).is_file()]
        if files:
            return files
    except (OSError, subprocess.CalledProcessError):
        pass
    skip = {".git", "build", "compile_commands.json"}
    return [p.relative_to(REPO) for p in REPO.rglob("*")
            if p.is_file() and not (set(p.relative_to(REPO).parts) & skip)]


def scan_all() -> dict[Path, list]:
    """Every marked file and its regions (raises MarkerError)."""
    found = {}
    for rel in tree_files():
        if rel.suffix not in MARKED_SUFFIXES:
            continue
        text = (REPO / rel).read_text()
        found_regions = list(regions(rel, text))
        if found_regions:
            found[rel] = found_regions
    return found


def ships(rel: Path, pset: int) -> bool:
    """Whether file `rel` belongs in pset `pset`'s handout (SOLVES)."""
    name = rel.as_posix()
    return not any(pset <= solved and (name == path or (path.endswith("/") and name.startswith(path)))
                   for path, solved in SOLVES.items())


def write_handout(pset: int, outdir: Path) -> int:
    """Write the handout tree; return how many regions were stubbed."""
    marked = scan_all()          # validate everything before writing anything
    stubbed = sum(1 for rs in marked.values() for r in rs if r[0] >= pset)
    if not any(r[0] == pset for rs in marked.values() for r in rs):
        raise MarkerError(f"no solution regions for pset {pset}")
    if outdir.exists():
        shutil.rmtree(outdir)
    for rel in tree_files():
        if not ships(rel, pset):
            continue
        dest = outdir / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        if rel in marked:
            dest.write_text(strip(rel, (REPO / rel).read_text(), pset))
        else:
            shutil.copy2(REPO / rel, dest)
    return stubbed


def main(argv: list[str]) -> int:
    if argv == ["--list"]:
        try:
            marked = scan_all()
        except MarkerError as err:
            print(f"handout.py: {err}", file=sys.stderr)
            return 1
        for rel, rs in sorted(marked.items()):
            for pset, first, last, _, what, _ in rs:
                print(f"pset {pset}  {rel}:{first}-{last}  {what}")
        return 0
    if len(argv) != 2 or not argv[0].isdigit():
        print("usage: handout.py PSET OUTDIR   |   handout.py --list", file=sys.stderr)
        return 2
    pset, outdir = int(argv[0]), Path(argv[1]).resolve()
    if pset not in psets.PSETS:
        print(f"handout.py: no pset {pset}; psets are {sorted(psets.PSETS)}", file=sys.stderr)
        return 2
    if outdir == REPO or REPO.is_relative_to(outdir):
        print(f"handout.py: refusing to overwrite {outdir}", file=sys.stderr)
        return 2
    try:
        stubbed = write_handout(pset, outdir)
    except MarkerError as err:
        print(f"handout.py: {err}", file=sys.stderr)
        return 1
    print(f"handout for pset {pset} ({psets.PSETS[pset].title}): {outdir} "
          f"({stubbed} solution regions stubbed, psets {pset}..{max(psets.PSETS)})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
