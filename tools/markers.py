"""The solution markers: which text of the solution tree students never see.

A *region* is text between two marker lines, written in the comment syntax
of its file, so that it works in every text file the handout ships:

    C, C++, assembly (.cc .hh .c .h .S)     // BEGIN PSET 2 SOLUTION: what
    Python, make, shell (.py Makefile .sh)   # BEGIN PSET 2 SOLUTION: what
    Markdown (.md)                           <!-- BEGIN PSET 2 EXPLANATION -->

There are four kinds:

  - SOLUTION (`BEGIN PSET N SOLUTION: what`): code a student writes. The
    handout has, in its place, the line `TODO (pset N): what (psets/N-NAME.md)`
    (in the file's comment syntax) and the region's STUB lines.
  - EXPLANATION (`BEGIN PSET N EXPLANATION`): text that explains an answer
    (an essay's paragraph, an annotated disassembly, measured numbers), or
    code that shows one. The handout has its STUB lines only: the essay
    minus the answer, or a pointer to the pset.
  - STAFF (`BEGIN STAFF`): text for the course staff in a file that ships
    (a pointer to staff/). No handout has it; its STUB lines replace it.
  - BUG (`BEGIN PSET N BUG: name`): a site of a bug that a debugging pset
    plants, one per student (psets.Pset.bugs: the registry of names and
    seeds). The body is the kernel's correct code, which every other
    handout keeps; the handout of pset N for the seed that picks `name`
    has the STUB lines (the bug) instead, and no TODO line: finding the
    site is the pset. One bug may span several regions of the same name.

Inside a region, a line `// STUB: text` (`# STUB: text`, `<!-- STUB: text -->`)
becomes `text` in the handout. A region ends with the same words as its
BEGIN line (`END PSET N SOLUTION`, `END STAFF`). Regions do not nest.

This module only parses; tools/handout.py decides what each handout keeps,
and tests/check_leaks.py checks that no region's text survives elsewhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

KINDS = ("SOLUTION", "EXPLANATION", "STAFF", "BUG")
STAFF_PSET = 0             # the pset of a STAFF region: before every pset

# The comment syntax of each file type that may hold markers: (open, close).
COMMENT_SYNTAX: dict[str, tuple[str, str]] = {
    ".cc": ("//", ""), ".hh": ("//", ""), ".c": ("//", ""), ".h": ("//", ""), ".S": ("//", ""),
    ".py": ("#", ""), ".sh": ("#", ""), "Makefile": ("#", ""),
    ".md": ("<!--", "-->"),
}

# Marker-like text in any file: a file whose syntax is not known above may
# not hold markers at all (they would ship unstripped).
ANY_MARKER_RE = re.compile(r"\b(?:BEGIN|END) (?:PSET \d+ (?:SOLUTION|EXPLANATION|BUG)|STAFF)\b")


class MarkerError(Exception):
    """A malformed region: the message names the file and the line."""


@dataclass(frozen=True)
class Region:
    path: Path                 # relative to the repository
    pset: int                  # STAFF_PSET for a STAFF region
    kind: str                  # one of KINDS
    first: int                 # line of the BEGIN marker (1-based)
    last: int                  # line of the END marker
    indent: str                # the BEGIN marker's indentation
    what: str                  # SOLUTION: the TODO text; BUG: the bug's name
    stubs: tuple[str, ...]     # the STUB lines' text, in order
    body: tuple[str, ...]      # the lines between the markers, STUB lines excluded


def syntax(path: Path) -> tuple[str, str] | None:
    """The comment syntax of `path`, or None when it may hold no markers."""
    return COMMENT_SYNTAX.get(path.name) or COMMENT_SYNTAX.get(path.suffix)


@dataclass(frozen=True)
class _Patterns:
    begin: re.Pattern
    end: re.Pattern
    stub: re.Pattern
    loose: re.Pattern          # anything that tries to be a marker


def _patterns(open_: str, close: str) -> _Patterns:
    o = re.escape(open_)
    c = r"\s*" + re.escape(close) if close else ""
    which = r"(?:PSET (\d+) (SOLUTION|EXPLANATION|BUG)|(STAFF))"
    return _Patterns(
        begin=re.compile(rf"^(\s*){o} BEGIN {which}(?::\s*(.*?))?{c}\s*$"),
        end=re.compile(rf"^\s*{o} END {which}{c}\s*$"),
        stub=re.compile(rf"^(\s*){o} STUB:(?: (.*?))?{c}\s*$"),
        loose=re.compile(rf"^\s*{o}\s*(?:(?:BEGIN|END)\s+(?:PSET|STAFF)|STUB\b)", re.IGNORECASE),
    )


def regions(path: Path, text: str, known_psets) -> list[Region]:
    """Every region of `text` (the contents of `path`), in order. Raises
    MarkerError for unbalanced or nested markers, a STUB line outside a
    region, a SOLUTION or BUG without `: what`, an unknown pset, or markers
    in a file whose comment syntax is unknown."""
    lines = text.split("\n")
    comment = syntax(path)
    if comment is None:
        for number, line in enumerate(lines, start=1):
            if ANY_MARKER_RE.search(line):
                raise MarkerError(f"{path}:{number}: a solution marker in a file whose comment "
                                  "syntax tools/markers.py does not know (it would ship as is)")
        return []
    pat = _patterns(*comment)
    found: list[Region] = []
    open_region = None         # [pset, kind, first, indent, what, stubs, body]
    for number, line in enumerate(lines, start=1):
        begin, end, stub = pat.begin.match(line), pat.end.match(line), pat.stub.match(line)
        if begin:
            if open_region:
                raise MarkerError(f"{path}:{number}: BEGIN inside the region opened "
                                  f"at line {open_region[2]} (regions do not nest)")
            kind = begin.group(3) or begin.group(4)
            pset = int(begin.group(2)) if begin.group(2) else STAFF_PSET
            what = (begin.group(5) or "").strip()
            if kind != "STAFF" and pset not in known_psets:
                raise MarkerError(f"{path}:{number}: no pset {pset} in tools/psets.py")
            if kind == "SOLUTION" and not what:
                raise MarkerError(f"{path}:{number}: a SOLUTION region needs ': what' "
                                  "(the student's TODO line)")
            if kind == "BUG" and not what:
                raise MarkerError(f"{path}:{number}: a BUG region needs ': name' "
                                  "(the bug's name in the pset's registry)")
            if kind not in ("SOLUTION", "BUG") and what:
                raise MarkerError(f"{path}:{number}: a{'n' if kind[0] == 'E' else ''} {kind} "
                                  "region takes no ': what'")
            open_region = [pset, kind, number, begin.group(1), what, [], []]
        elif end:
            end_kind = end.group(2) or end.group(3)
            end_pset = int(end.group(1)) if end.group(1) else STAFF_PSET
            if not open_region or (end_pset, end_kind) != tuple(open_region[:2]):
                said = f"PSET {end_pset} {end_kind}" if end_kind != "STAFF" else "STAFF"
                raise MarkerError(f"{path}:{number}: END {said} without a matching BEGIN")
            pset, kind, first, indent, what, stubs, body = open_region
            found.append(Region(path, pset, kind, first, number, indent, what,
                                tuple(stubs), tuple(body)))
            open_region = None
        elif stub:
            if not open_region:
                raise MarkerError(f"{path}:{number}: STUB line outside a solution region")
            open_region[5].append(stub.group(2) or "")
        elif pat.loose.match(line):
            raise MarkerError(f"{path}:{number}: malformed marker: {line.strip()!r}")
        elif open_region:
            open_region[6].append(line)
    if open_region:
        raise MarkerError(f"{path}: region opened at line {open_region[2]} is never closed")
    return found


def todo_line(path: Path, region: Region, doc: str) -> str:
    """The handout's line in place of a SOLUTION region."""
    open_, close = syntax(path)
    return (f"{region.indent}{open_} TODO (pset {region.pset}): {region.what} ({doc})"
            + (f" {close}" if close else ""))


# --- comparing text: what the leak check calls "the same line" -------------

_LEADER_RE = re.compile(r"^(?://+|#+|\*+|<!--|-->|[|>]|[-*+] |\d+\. )\s*")
_TRAILER_RE = re.compile(r"\s*(?:-->|\|)\s*$")
_WORD_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Words that alone do not make a line an answer: C++ keywords and the
# plainest code (`}`, `return 0;`, `#endif`, `} else {`, `while (true) {`).
KEYWORDS = frozenset("""
    if else for while do switch case default break continue return goto true false nullptr
    endif ifdef ifndef define include pragma once const constexpr static inline auto void
    int long unsigned char bool new delete this public private protected class struct
    namespace using template typename
""".split())


def normalize(line: str) -> str:
    """`line` as the leak check compares it: comment leaders and list or
    table markup removed, whitespace collapsed."""
    text = " ".join(line.split())
    for _ in range(3):                      # "// - item", "<!-- | a |"
        stripped = _TRAILER_RE.sub("", _LEADER_RE.sub("", text))
        if stripped == text:
            break
        text = stripped
    return text


def trivial(normalized: str) -> bool:
    """Whether a normalized line says nothing by itself: it names nothing
    but keywords (`}`, `return 0;`, `#endif`, `} else {`, a blank comment)."""
    return not any(w not in KEYWORDS for w in _WORD_RE.findall(normalized))
