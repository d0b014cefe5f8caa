#!/usr/bin/env python3
"""Write the student tree for a problem set: `make handout PSET=N`.

    python3 tools/handout.py PSET OUTDIR [--earlier student|staff] [--seed N]
    python3 tools/handout.py --list        (every region, by pset)
    python3 tools/handout.py --seed-for PSET STUDENT   (a student's seed)

The handout of pset N is built from the files git tracks (never untracked
ones) under the paths in SHIPPED; HELD_BACK lists what stays home (the
staff-only area STAFF_ONLY, CI), and a tracked file in neither is an error,
so that nothing new ships or stays home by accident. A pset's own files,
psets/K-*, ship from pset K's release on; a file that answers pset K whole
(SOLVES: the spin model of RCU) from pset K + 1's on.

Solution regions (tools/markers.py: SOLUTION and EXPLANATION, in every text
file, Markdown included) of pset N and every later pset, and every STAFF
region, become their stubs: a SOLUTION region becomes

        // TODO (pset 1): enter as a reader (psets/1-rwlock.md)
        PSET_TODO(1, "rwlock::lock_shared");

(a TODO line and its STUB lines), the others their STUB lines only.
Regions of earlier psets depend on how the course releases psets
(psets.EARLIER, or --earlier):

  - student (the default): they are stubbed too. Every release then has
    the same stubs, so a student who pulls pset N+1 into the tree that
    holds their pset-N work keeps their own code (tools/release.py).
  - staff: they keep the staff solution, so that pset N+1 starts from a
    working pset N; a student who pulls it gets conflicts wherever their
    code differs from the staff's.

A debugging pset (one with a registry of planted bugs, tools/bugs.py)
needs a working kernel: its handout keeps the staff's solutions of the
earlier psets whatever --earlier says, and needs --seed, which picks the
one bug whose BUG regions become their STUB lines. Every other BUG region,
in every handout, keeps its body: the kernel's correct code.

No marker is left in a handout. Errors (malformed markers, an unknown pset,
a file the allow-list does not know) name the file and line, and nothing
is written.
"""

from __future__ import annotations

import sys

sys.dont_write_bytecode = True

import argparse
import re
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
for _dir in ("tools", "tests"):   # the tools and the test declarations
    if str(REPO / _dir) not in sys.path:
        sys.path.insert(0, str(REPO / _dir))
import bugs  # noqa: E402
import markers  # noqa: E402
import psets  # noqa: E402

MarkerError = markers.MarkerError

# What a handout is made of: tracked files under these paths ("dir/" or a
# file name at the top). Everything else git tracks must be HELD_BACK.
SHIPPED = (".editorconfig", ".gitignore", "Makefile", "README.md", "link.ld",
           "boot/", "docs/", "host/", "kernel/", "lib/", "model/", "psets/", "tests/", "tools/", "user/")
# Staff-only material: never in a handout (tests/check_leaks.py checks).
STAFF_ONLY = ("staff/",)
HELD_BACK = STAFF_ONLY + (".ci/",)
EARLIER_CHOICES = ("student", "staff")
PSET_FILE_RE = re.compile(r"^psets/(\d+)-")
# Files that would hand a student pset K's answer whole ("dir/" or a file):
# they ship only from pset K + 1's handout on. The spin model of the
# grace-period machinery spells out pset 2's rcu_note_qs, call_rcu and
# synchronize_rcu.
SOLVES = {"model/": 2, "docs/model.md": 2}


class HandoutError(Exception):
    """The handout cannot be made: the message says why."""


def under(rel: str, prefixes) -> bool:
    """Whether path `rel` is one of `prefixes` or lies under one ("dir/")."""
    return any(rel == p or (p.endswith("/") and rel.startswith(p)) for p in prefixes)


def is_checkout(root: Path = REPO) -> bool:
    """Whether `root` is a git checkout (a handout written as a plain
    directory is not: it has no regions, and its checks have nothing to do)."""
    return (root / ".git").exists()


def tracked_files(root: Path = REPO) -> list[Path]:
    """The files git tracks in `root` (relative paths). Untracked files never
    ship: a staff note left in the tree must not reach students."""
    try:
        listed = subprocess.run(["git", "ls-files", "-z", "--cached"], cwd=root, check=True,
                                capture_output=True).stdout.decode().split("\0")
    except (OSError, subprocess.CalledProcessError) as err:
        raise HandoutError(f"{root} is not a git checkout ({err}): a handout is made from "
                           "the files git tracks") from None
    return [Path(f) for f in listed if f and (root / f).is_file()]


def shipped_files(root: Path = REPO) -> list[Path]:
    """The tracked files that a handout may contain (before pset gating)."""
    files, unknown = [], []
    for rel in tracked_files(root):
        name = rel.as_posix()
        if under(name, SHIPPED):
            files.append(rel)
        elif not under(name, HELD_BACK):
            unknown.append(name)
    if unknown:
        raise HandoutError(f"tools/handout.py does not know whether {', '.join(unknown)} "
                           "ships: add it to SHIPPED or HELD_BACK")
    return files


def ships(rel: Path, pset: int) -> bool:
    """Whether the shipped file `rel` is in pset `pset`'s release: psets/K-*
    from pset K on, a file that SOLVES pset K from pset K + 1 on."""
    name = rel.as_posix()
    m = PSET_FILE_RE.match(name)
    if m and int(m.group(1)) > pset:
        return False
    return not any(pset <= solved and under(name, [path]) for path, solved in SOLVES.items())


def read_text(path: Path) -> str | None:
    """The text of `path`, or None for a binary file."""
    data = path.read_bytes()
    return None if b"\0" in data else data.decode("utf-8")


def scan_all(root: Path = REPO) -> dict[Path, list[markers.Region]]:
    """Every shipped file that holds regions, with its regions (raises
    MarkerError for the first malformed one)."""
    found = {}
    for rel in shipped_files(root):
        text = read_text(root / rel)
        if text is not None:
            rs = markers.regions(rel, text, psets.PSETS)
            if rs:
                found[rel] = rs
    return found


def keeps_solution(region: markers.Region, pset: int, earlier: str,
                   planted: str | None = None) -> bool:
    """Whether the handout of `pset` (with bug `planted`, if it is a
    debugging pset) keeps `region` as it is."""
    if region.kind == "BUG":
        return not (region.pset == pset and region.what == planted)
    return earlier == "staff" and region.kind != "STAFF" and region.pset < pset


def debugging(pset: int, root: Path = REPO) -> dict[int, bugs.Bug] | None:
    """The planted bugs of `pset` by seed, or None if it plants none."""
    try:
        return bugs.registry(pset, root)
    except bugs.BugError as err:
        raise HandoutError(str(err)) from None


def choose(pset: int, earlier: str, seed: int | None,
           root: Path = REPO) -> tuple[str, str | None]:
    """(earlier, planted bug) for the handout of `pset`: a debugging pset
    takes the staff's earlier psets and needs a seed; no other takes one."""
    planted = debugging(pset, root)
    if planted is None:
        if seed is not None:
            raise HandoutError(f"pset {pset} plants no bug: it takes no seed")
        return earlier, None
    if seed not in planted:
        raise HandoutError(f"pset {pset} plants one bug per student: give SEED=n, n in "
                           f"0..{len(planted) - 1} ({bugs.registry_path(pset)})")
    return "staff", planted[seed].name


def variants(pset: int, root: Path = REPO) -> list[tuple[str, int | None]]:
    """Every (earlier, seed) that `pset` may be released with: both ways
    for an ordinary pset, each seed for a debugging pset. The checks of
    every handout (tests/check_leaks.py, tests/check_names.py) walk these."""
    planted = debugging(pset, root)
    if planted is None:
        return [(earlier, None) for earlier in EARLIER_CHOICES]
    return [("staff", seed) for seed in sorted(planted)]


def strip(path: Path, text: str, pset: int, earlier: str = psets.EARLIER,
          planted: str | None = None) -> str:
    """`text` (the file `path`) as the handout of `pset` (with bug `planted`) has it."""
    lines = text.split("\n")
    out: list[str] = []
    cursor = 0
    for r in markers.regions(path, text, psets.PSETS):
        out += lines[cursor:r.first - 1]
        if keeps_solution(r, pset, earlier, planted):
            out += list(r.body)
        else:
            if r.kind == "SOLUTION":
                out.append(markers.todo_line(path, r, psets.PSETS[r.pset].doc))
            out += [f"{r.indent}{s}" for s in r.stubs]
        cursor = r.last
    out += lines[cursor:]
    return "\n".join(out)


def check_bugs(marked: dict[Path, list[markers.Region]], root: Path = REPO) -> None:
    """Raise HandoutError unless the BUG regions and the registries agree:
    every bug of a registry has regions, every BUG region a registry row."""
    for n in psets.PSETS:
        planted = debugging(n, root) or {}
        names = {b.name for b in planted.values()}
        found = {r.what for rs in marked.values() for r in rs if r.kind == "BUG" and r.pset == n}
        if found - names:
            raise HandoutError(f"BUG regions of pset {n} not in {bugs.registry_path(n)}: "
                               f"{', '.join(sorted(found - names))}")
        if names - found:
            raise HandoutError(f"bugs of {bugs.registry_path(n)} with no BUG region: "
                               f"{', '.join(sorted(names - found))}")


def plan(pset: int, earlier: str = psets.EARLIER, root: Path = REPO,
         seed: int | None = None) -> dict[Path, str | None]:
    """The handout of `pset` (with the bug of `seed`, for a debugging pset):
    {relative path: its text, or None to copy the file as it is}. Validates
    every file before anything is written."""
    if pset not in psets.PSETS:
        raise HandoutError(f"no pset {pset}; psets are {sorted(psets.PSETS)}")
    if earlier not in EARLIER_CHOICES:
        raise HandoutError(f"--earlier must be one of {', '.join(EARLIER_CHOICES)}")
    marked = scan_all(root)
    check_bugs(marked, root)
    earlier, planted = choose(pset, earlier, seed, root)
    if not any(r.pset == pset and r.kind in ("SOLUTION", "BUG")
               for rs in marked.values() for r in rs):
        raise HandoutError(f"no solution regions for pset {pset}")
    out: dict[Path, str | None] = {}
    for rel in shipped_files(root):
        if not ships(rel, pset):
            continue
        out[rel] = (strip(rel, read_text(root / rel), pset, earlier, planted)
                    if rel in marked else None)
    return out


def texts(pset: int, earlier: str = psets.EARLIER, root: Path = REPO,
          seed: int | None = None) -> dict[Path, str | None]:
    """The handout of `pset` as {relative path: its text, None if binary}."""
    return {rel: text if text is not None else read_text(root / rel)
            for rel, text in plan(pset, earlier, root, seed).items()}


def write_files(files: dict[Path, str | None], outdir: Path, root: Path = REPO) -> None:
    """Write a plan() into `outdir` (which need not be empty)."""
    for rel, text in files.items():
        dest = outdir / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        if text is None:
            shutil.copy2(root / rel, dest)
        else:
            dest.write_text(text)
            shutil.copymode(root / rel, dest)


def write_handout(pset: int, outdir: Path, earlier: str = psets.EARLIER,
                  root: Path = REPO, seed: int | None = None) -> int:
    """Write the handout tree into `outdir` (replacing it); return how many
    regions it stubs."""
    files = plan(pset, earlier, root, seed)
    earlier, planted = choose(pset, earlier, seed, root)
    if outdir.exists():
        shutil.rmtree(outdir)
    write_files(files, outdir, root)
    return sum(1 for rs in scan_all(root).values() for r in rs
               if not keeps_solution(r, pset, earlier, planted))


def main(argv: list[str]) -> int:
    if argv == ["--list"]:
        try:
            marked = scan_all()
        except (MarkerError, HandoutError) as err:
            print(f"handout.py: {err}", file=sys.stderr)
            return 1
        for rel, rs in sorted(marked.items()):
            for r in rs:
                print(f"pset {r.pset}  {r.kind:<11}  {rel}:{r.first}-{r.last}  {r.what}")
        return 0
    if argv[:1] == ["--seed-for"]:
        if len(argv) != 3 or not argv[1].isdigit():
            print("usage: handout.py --seed-for PSET STUDENT", file=sys.stderr)
            return 2
        try:
            planted = debugging(int(argv[1]))
        except (HandoutError, KeyError) as err:
            print(f"handout.py: {err}", file=sys.stderr)
            return 1
        if not planted:
            print(f"handout.py: pset {argv[1]} plants no bug", file=sys.stderr)
            return 1
        print(bugs.seed_for(argv[2], len(planted)))
        return 0
    parser = argparse.ArgumentParser(prog="handout.py", description="Write a pset's handout.")
    parser.add_argument("pset", type=int)
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--earlier", choices=EARLIER_CHOICES, default=psets.EARLIER,
                        help=f"earlier psets' regions: the student's own (stubs) or the "
                             f"staff's solution (default {psets.EARLIER}, from tools/psets.py)")
    parser.add_argument("--seed", type=int,
                        help="a debugging pset: which planted bug (staff/N-NAME-bugs.md)")
    ns = parser.parse_args(argv)
    outdir = ns.outdir.resolve()
    if outdir == REPO or REPO.is_relative_to(outdir):
        print(f"handout.py: refusing to overwrite {outdir}", file=sys.stderr)
        return 2
    try:
        stubbed = write_handout(ns.pset, outdir, ns.earlier, seed=ns.seed)
    except (MarkerError, HandoutError) as err:
        print(f"handout.py: {err}", file=sys.stderr)
        return 1
    seeded = f"; seed {ns.seed}" if ns.seed is not None else ""
    earlier = "staff" if ns.seed is not None else ns.earlier   # choose() accepted the seed
    print(f"handout for pset {ns.pset} ({psets.PSETS[ns.pset].title}): {outdir} "
          f"({stubbed} regions stubbed; earlier psets: {earlier}{seeded})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
