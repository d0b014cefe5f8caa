#!/usr/bin/env python3
"""`make check`: the handout stands alone: every name its text mentions exists.

    python3 tests/check_names.py

For this tree (its tracked files) and every pset's handout (both ways a
course may release it: tools/handout.py's plan), reads every Markdown file, takes each inline
code span (`...`, outside fenced and indented code blocks) and each relative
link target, and fails when one names something the tree does not have.

What a span names, and how it is checked (the first rule that applies):

  - `make TARGET [VAR=value ...]`: TARGET is a rule of the Makefile (an
    explicit target or one of its patterns, run-% and the like) and each
    VAR a variable the Makefile or a tool it runs mentions.
  - `python3 PATH ...`: PATH exists.
  - any other span with a space is a command line, an example of output or
    code (`hammer rcu 2`, `N passed, N failed`): not a name.
  - a path (a `/`, or a file suffix such as .cc, .md, .py): it exists,
    relative to the tree's root or to the Markdown file, or for a bare file
    name anywhere in the tree; or a file a later release ships (the text
    may point to what comes: docs/model.md is in the handouts from pset 3
    on). `*` matches anything.
  - `NAME=value` (a knob or a boot option): NAME is a word of the Makefile,
    kernel/options.cc or tools/.
  - a hyphenated name (`rcu-nested-2`, `sync-latency`, `gdb-*`): a test of
    the tree's registry (tests/run.py), a pattern that selects some, or a
    string the source code spells.
  - `A::b` (a member of a class, struct or namespace A): b is declared in
    A's body, or the source spells A::b. `a.b`, `a->b`, `a[i].b` (a member
    of an object): the source spells it, or a is declared with a type whose
    body declares b (or a standard-library type). `f()`, `f(args)`: f.
  - an identifier: a word of some source file (not Markdown). Names in
    `std::` are the C++ library's: not checked.
  - anything else (numbers, registers, flags such as `-busted`, quoted
    strings, punctuation) is not a name.

A capitalized segment (NAME in `kernel/ls/ls_NAME.cc`, AREA, N) that does
not match literally is a placeholder: it matches anything. Paths that
.gitignore names (build/, compile_commands.json) are made by the build and
not checked.

The exceptions are the two tables below, each entry with its reason:
NOT_YET, the names a page specifies before the code has them (the check
fails once one exists, so that its exception goes), and NOT_GRACE, names of
other things (a GDB command, a C++ library type) that the text mentions.

Exit status 0 when every name exists, 1 otherwise (each missing name is
given with its file and line, for each tree it is missing from).
"""

from __future__ import annotations

import sys

sys.dont_write_bytecode = True

import fnmatch
import os
import re
import shlex
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
for _dir in ("tools", "tests"):
    if str(REPO / _dir) not in sys.path:
        sys.path.insert(0, str(REPO / _dir))

import handout  # noqa: E402
import psets  # noqa: E402

# The exceptions, each with its reason. Names a page specifies before the
# code has them (the check fails once the code has one):
NOT_YET: dict[str, str] = {}
# Names of other things than Grace that the text mentions as such:
NOT_GRACE = {
    "watch": "GDB's watchpoint command (docs/gdb.md)",
    "shared_ptr": "C++'s (docs/schemes.md compares a scheme with it)",
    "EBADF": "the errno Grace does not have (docs/abi.md says so)",
    "results.json": "Gradescope's results file (make grade GRADESCOPE=)",
    "run_autograder": "Gradescope's script (staff/README.md)",
    "list_del": "Linux's (psets/4-rcu-lists.md compares del_rcu with it)",
}

FENCE_RE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.MULTILINE | re.DOTALL)
SPAN_RE = re.compile(r"(?<!`)`([^`]+)`(?!`)")
LINK_RE = re.compile(r"\]\(([^)\s]+)\)")
IDENT = r"[A-Za-z_~][A-Za-z0-9_]*"
SUFFIXES = (".cc", ".hh", ".c", ".h", ".S", ".ld", ".md", ".py", ".in", ".json", ".svg",
            ".log", ".list", ".elf", ".bin", ".sym", ".asm", ".tar.gz")
WORD_RE = re.compile(IDENT)
PLACEHOLDER_RE = re.compile(r"(?<![A-Za-z0-9])[A-Z][A-Z0-9]*(?![a-z0-9])")


def placeholders(name: str) -> str:
    """`name` as a glob: each capitalized segment (NAME, N, AREA) is `*`."""
    return PLACEHOLDER_RE.sub("*", name.replace("*", "\0")).replace("\0", "*")


def strip_code_blocks(text: str) -> str:
    """`text` with fenced blocks and indented code blocks blanked (line
    numbers kept)."""
    text = FENCE_RE.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    out, in_block, previous_blank = [], False, True
    for line in text.split("\n"):
        indented = line.startswith("    ") or line.startswith("\t")
        in_block = indented and (in_block or previous_blank)
        out.append("" if in_block else line)
        previous_blank = not line.strip()
    return "\n".join(out)


class Tree:
    """What a tree has: its files, the words of its source, its Makefile."""

    def __init__(self, texts: dict[Path, str | None], tests: set[str],
                 later: set[Path] = frozenset()):
        self.texts = texts                     # {path: text, None if binary}
        self.files = list(texts)
        known = self.files + list(later)       # `later`: what a later release ships
        dirs = {d for p in known for d in p.parents if str(d) != "."}
        self.paths = {p.as_posix() for p in known} | {d.as_posix() for d in dirs}
        self.basenames = {p.name for p in known} | {d.name for d in dirs}
        self.source = {}
        for rel in self.files:
            if rel.suffix != ".md" and rel.name != Path(__file__).name:
                if texts[rel] is not None:
                    self.source[rel] = texts[rel]
        self.words = set()
        for text in self.source.values():
            self.words.update(WORD_RE.findall(text))
        self.all_source = "\n".join(self.source.values())
        self.cpp = "\n".join(t for rel, t in self.source.items()
                             if rel.suffix in (".cc", ".hh", ".c", ".h", ".S"))
        self.index_bodies()
        self.tests = tests
        ignore = self.source.get(Path(".gitignore"), "")
        self.generated = [l.strip() for l in ignore.split("\n") if l.strip()
                          and not l.startswith("#")]
        makefile = self.source.get(Path("Makefile"), "")
        for included in re.findall(r"^-?include\s+(\S+\.mk)\s*$", makefile, re.MULTILINE):
            makefile += "\n" + self.source.get(Path(included), "")   # host/host.mk's targets
        self.targets = set(re.findall(r"^([A-Za-z0-9_.%$()/-]+)\s*:(?!=)", makefile, re.MULTILINE))
        for phony in re.findall(r"^\.PHONY:(.*)$", makefile, re.MULTILINE):
            self.targets.update(phony.split())

    def path_exists(self, name: str, md: Path) -> bool:
        name = name.rstrip("/")
        first = name.split("/")[0]
        if any(fnmatch.fnmatchcase(first + "/", g) or fnmatch.fnmatchcase(first, g)
               for g in self.generated):
            return True                           # made by the build
        for pattern in dict.fromkeys((name, placeholders(name))):
            for base in ("", md.parent.as_posix()):
                full = Path(base, pattern).as_posix() if base else pattern
                full = re.sub(r"[^/]+/\.\./", "", full)
                if self.matches(full, self.paths):
                    return True
            if "/" not in pattern and self.matches(pattern, self.basenames):
                return True
        return False

    def matches(self, pattern: str, names) -> bool:
        if "*" not in pattern and "?" not in pattern:
            return pattern in names
        return any(fnmatch.fnmatchcase(n, pattern) for n in names)

    def index_bodies(self) -> None:
        """Where each class, struct, namespace or union body of the C++
        source begins and ends (one pass over the braces)."""
        cpp = self.cpp
        match, stack = {}, []
        for m in re.finditer(r"[{}]", cpp):
            if m.group() == "{":
                stack.append(m.start())
            elif stack:
                match[stack.pop()] = m.start()
        self.bodies: dict[str, list[tuple[int, int]]] = {}
        for m in re.finditer(r"\b(?:class|struct|namespace|union)\s+(?:\[\[\w+\]\]\s+)?"
                             rf"({IDENT})\b[^;{{}}()]*{{", cpp):
            start = m.end() - 1
            self.bodies.setdefault(m.group(1), []).append((start, match.get(start, start)))

    def body_of(self, type_name: str) -> str:
        """The bodies of every class, struct, namespace or union `type_name`."""
        return "\n".join(self.cpp[a:b] for a, b in self.bodies.get(type_name, []))

    def declared_types(self, var: str) -> list[str]:
        """The types `var` is declared with (`T var;`, `T var{...}`, `T var[N]`)."""
        types = []
        for m in re.finditer(rf"\b{re.escape(var)}\s*[;{{=\[(]", self.cpp):
            before = re.search(r"([A-Za-z_][\w:]*(?:<[^;<>]*>)?)\s*[*&]?\s+$",
                               self.cpp[max(0, m.start() - 80):m.start()])
            if before:
                types.append(before.group(1))
        return types

    def member_exists(self, owner: str, member: str) -> bool:
        if re.search(rf"\b{re.escape(member)}\b", self.body_of(owner)):
            return True
        return any(t.startswith("std::") or re.search(rf"\b{re.escape(member)}\b",
                                                      self.body_of(t.split("<")[0].split("::")[-1]))
                   for t in self.declared_types(owner))


def missing(span: str, md: Path, tree: Tree) -> str | None:
    """Why `span` (in the Markdown file `md`) names nothing in `tree`, or
    None when it exists or is not a name."""
    span = span.strip()
    words = span.split()
    if not words or span in NOT_GRACE:
        return None
    if words[0] == "make" and len(words) > 1:
        try:
            words = shlex.split(span.replace("[", " ").replace("]", " ").replace("|", " "))
        except ValueError:
            return None
        for w in words[1:]:
            if w.startswith("-"):
                continue
            if "=" in w:
                var = w.split("=")[0]
                if var not in tree.words:
                    return f"the Makefile knows no variable {var}"
            elif not any(fnmatch.fnmatchcase(w, t.replace("%", "*")) or
                         fnmatch.fnmatchcase(t, placeholders(w)) for t in tree.targets):
                return f"the Makefile has no target {w}"
        return None
    if words[0] == "python3" and len(words) > 1 and not words[1].startswith(("-", "/")):
        return None if tree.path_exists(words[1], md) else f"no file {words[1]}"
    if len(words) > 1 or span.startswith(("-", "$", "/", "\"", "'", "%", "#", "<", "[", "http")):
        return None
    if "/" in span or span.endswith(SUFFIXES):
        if span.startswith(".."):
            rel = (md.parent / span).as_posix()
            if rel.startswith(".."):
                return "a path outside the repository"
        return None if tree.path_exists(span, md) else f"no file or directory {span}"
    if re.fullmatch(rf"{IDENT}=.*", span):
        var = span.split("=")[0]
        return None if var in tree.words else f"no knob or boot option {var}"
    if re.fullmatch(r"[a-zA-Z0-9]+(?:-[a-zA-Z0-9*]+)+", span):
        glob = placeholders(span)
        if any(fnmatch.fnmatchcase(t, glob) or t.startswith(span) for t in tree.tests):
            return None
        return None if span.rstrip("*") in tree.all_source else f"no test or name {span}"
    m = re.fullmatch(rf"({IDENT}(?:(?:::|\.|->|\[[^\]]*\])+{IDENT}?)*)(\(.*\))?;?", span)
    if not m:
        return None
    if m.group(1).startswith("std::"):
        return None                               # the C++ library's
    chain = re.sub(r"\[[^\]]*\]", "[]", m.group(1))
    parts = [p for p in re.split(r"::|\.|->|\[\]", chain) if p]
    if not parts:
        return None
    for name in parts:
        if name in NOT_YET:
            return None
    if len(parts) == 1:
        name = parts[0]
        if name in tree.words or (placeholders(name) != name and
                                  tree.matches(placeholders(name), tree.words)):
            return None
        return f"nothing in the source is called {name}"
    spelled = re.escape(chain).replace(r"\[\]", r"\[[^\]]*\]")
    if re.search(rf"(?<![\w.>]){spelled}\b", tree.cpp):
        return None
    owner, member = parts[-2], parts[-1]
    if "::" in chain and tree.body_of(owner):
        ok = re.search(rf"\b{re.escape(member)}\b", tree.body_of(owner))
        return None if ok else f"{owner} declares no {member}"
    return None if tree.member_exists(owner, member) else f"{owner} has no member {member}"


def check_tree(tree: Tree, label: str) -> list[str]:
    """Every missing name in the Markdown of `tree`."""
    problems = []
    for md in sorted(f for f in tree.files if f.suffix == ".md"):
        text = strip_code_blocks(tree.texts[md])
        flat = re.sub(r"\n(?!\n)", " ", text)   # a span may wrap; keep line numbers below
        for m in SPAN_RE.finditer(flat):
            why = missing(" ".join(m.group(1).split()), md, tree)
            if why:
                line = text.count("\n", 0, m.start()) + 1   # flat has text's offsets
                problems.append(f"{label}: {md}:{line}: `{m.group(1)}`: {why}")
        for m in LINK_RE.finditer(text):
            target = m.group(1).split("#")[0]
            if target and not re.match(r"^[a-z]+:", target):
                path = (md.parent / target).as_posix()
                if path.startswith("..") or not tree.path_exists(path, Path("x.md")):
                    line = text.count("\n", 0, m.start()) + 1
                    problems.append(f"{label}: {md}:{line}: link to {target}: no such file")
    return problems


def main(argv: list[str]) -> int:
    try:
        marked = handout.scan_all() if handout.is_checkout() else {}
    except (handout.MarkerError, handout.HandoutError) as err:
        print(f"names: FAILED: {err}")
        return 1
    # Every declared test, whatever `make check TESTS=...` selected.
    env = {k: v for k, v in os.environ.items() if k not in ("TESTS", "STRESS")}
    tests = set(subprocess.run([sys.executable, str(REPO / "tests" / "run.py"), "--list", "--stress"],
                               capture_output=True, text=True, check=True, env=env).stdout.split())
    if handout.is_checkout():
        files = handout.tracked_files()
    else:
        files = [p.relative_to(REPO) for p in REPO.rglob("*") if p.is_file()
                 and not {"build", "__pycache__"} & set(p.relative_to(REPO).parts)]
    # A handout (no solution regions: a plain directory, or a student's clone
    # of a release) has left out what a later release ships (handout.SOLVES):
    # its text may point there.
    coming = set() if marked else {Path(k.rstrip("/")) for k in handout.SOLVES}
    solution = Tree({rel: handout.read_text(REPO / rel) for rel in files}, tests,
                    coming - set(files))
    problems = check_tree(solution, "this tree")
    for name, why in NOT_YET.items():
        if re.search(rf"\b{re.escape(name)}\b", solution.all_source):
            problems.append(f"NOT_YET: {name} exists now: remove its exception ({why})")
    handouts = 0
    if marked:
        for n in sorted(psets.PSETS):
            for earlier, seed in handout.variants(n):
                texts = handout.texts(n, earlier, seed=seed)
                later = set(handout.shipped_files()) - set(texts)
                seeded = f", seed {seed}" if seed is not None else ""
                problems += check_tree(Tree(texts, tests, later),
                                       f"handout {n} ({earlier}{seeded})")
                handouts += 1
    if problems:
        print("names: FAILED: names the text mentions that the tree does not have:")
        for p in problems:
            print(f"  {p}")
        return 1
    print(f"names: every name in the Markdown of this tree and {handouts} handouts exists")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
