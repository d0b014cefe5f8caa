#!/usr/bin/env python3
"""lib/abi.hh, read by the host tools: the one place Python learns the ABI.

    import abi
    abi.schemes()        # [Scheme(number=0, constant='LS_RCU', name='rcu',
                         #         kind='consistent', storage='copies'), ...]
    abi.scheme_names()   # ['rcu', 'spinlock', ...]
    abi.syscalls()       # {'SYS_GETPID': 1, ..., 'NSYSCALL': 102}
    abi.errnos()         # {'ENOENT': 2, ...}
    abi.kstats()         # {'KSTAT_FREE_PAGES': 0, ..., 'KSTAT_COUNT': 16}
    abi.ls_size()        # 10000

    python3 tools/abi.py [PATH]    prints all of it (a check of the parser)

The parser is strict: inside the LS_SCHEMES macro and the syscall_number
and kstat_id enums, a line it does not understand is an AbiError naming
the file, the line and its text, never a silently shorter list. So is a
table that breaks the header's own rules (numbers 0, 1, 2... in order,
unique names, LS_NAME constants). Python 3 standard library only.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ABI_HH = REPO / "lib" / "abi.hh"

KINDS = ("consistent", "unprotected", "broken")
STORAGES = ("in_place", "copies")


class AbiError(Exception):
    """lib/abi.hh is not in the form this parser reads; says where."""


@dataclass(frozen=True)
class Scheme:
    """One line of LS_SCHEMES."""
    number: int
    constant: str        # "LS_RCU"
    name: str            # "rcu"
    kind: str            # one of KINDS
    storage: str         # one of STORAGES

    @property
    def consistent(self) -> bool:
        """Readers only ever see a whole struct some write published."""
        return self.kind == "consistent"

    @property
    def unsafe(self) -> bool:
        """Torn or freed reads are possible (unprotected or broken)."""
        return self.kind != "consistent"


SCHEME_LINE = re.compile(
    r'^\s*X\(\s*(\d+)\s*,\s*([A-Z][A-Z0-9_]*)\s*,\s*"([a-z][a-z0-9_]*)"\s*,\s*(\w+)\s*,\s*(\w+)\s*\)'
    r'\s*(\\?)\s*$')
ENUM_LINE = re.compile(r"^\s*([A-Z][A-Z0-9_]*)\s*(?:=\s*(\d+)\s*)?(,?)\s*(?://.*)?$")
COMMENT_OR_BLANK = re.compile(r"^\s*(?://.*)?$")
ERRNO_LINE = re.compile(r"^constexpr int (E[A-Z0-9]+) = (\d+);\s*$")
LS_SIZE_LINE = re.compile(r"^constexpr size_t LS_SIZE = (\d+);\s*$")


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text().split("\n")
    except OSError as err:
        raise AbiError(f"cannot read {path}: {err.strerror}") from None


def _error(path: Path, index: int, line: str, why: str) -> AbiError:
    return AbiError(f"{path}:{index + 1}: {why}: {line.strip()!r}")


def _find(path: Path, lines: list[str], pattern: str) -> int:
    """The index of the one line matching `pattern` (a regex)."""
    found = [i for i, line in enumerate(lines) if re.match(pattern, line)]
    if len(found) != 1:
        raise AbiError(f"{path}: expected one line matching /{pattern}/, found {len(found)}")
    return found[0]


@lru_cache(maxsize=None)
def schemes(path: Path = ABI_HH) -> tuple[Scheme, ...]:
    """The LS_SCHEMES table, in number order."""
    lines = _lines(path)
    at = _find(path, lines, r"^#define LS_SCHEMES\(X\)\s*\\\s*$")
    table: list[Scheme] = []
    for i in range(at + 1, len(lines)):
        line = lines[i]
        m = SCHEME_LINE.match(line)
        if not m:
            raise _error(path, i, line, "not a scheme line X(NUMBER, CONSTANT, \"name\", kind, "
                                        "storage) inside LS_SCHEMES")
        number, constant, name, kind, storage, more = m.groups()
        if kind not in KINDS:
            raise _error(path, i, line, f"kind {kind!r} is not one of {', '.join(KINDS)}")
        if storage not in STORAGES:
            raise _error(path, i, line, f"storage {storage!r} is not one of {', '.join(STORAGES)}")
        if int(number) != len(table):
            raise _error(path, i, line, f"scheme number {number}, expected {len(table)} "
                                        "(numbered 0, 1, 2... in order)")
        if constant != name.upper():
            raise _error(path, i, line, f"constant {constant} is not the name in capitals "
                                        f"({name.upper()})")
        if any(s.name == name for s in table):
            raise _error(path, i, line, f"name {name!r} is used twice")
        table.append(Scheme(int(number), f"LS_{constant}", name, kind, storage))
        if not more:
            break
    else:
        raise AbiError(f"{path}: LS_SCHEMES does not end (its last line ends with a backslash)")
    return tuple(table)


def scheme_names(path: Path = ABI_HH) -> list[str]:
    return [s.name for s in schemes(path)]


def scheme(name: str, path: Path = ABI_HH) -> Scheme:
    """The scheme called `name`; KeyError if there is none."""
    for s in schemes(path):
        if s.name == name:
            return s
    raise KeyError(f"no scheme {name!r} in {path}")


def _enum(path: Path, opening: str) -> dict[str, int]:
    """The members of the C++ enum whose first line matches `opening`, with
    implicit values counted as the compiler does."""
    lines = _lines(path)
    at = _find(path, lines, opening)
    members: dict[str, int] = {}
    value = -1
    for i in range(at + 1, len(lines)):
        line = lines[i]
        if re.match(r"^\s*};\s*$", line):
            return members
        if COMMENT_OR_BLANK.match(line):
            continue
        m = ENUM_LINE.match(line)
        if not m:
            raise _error(path, i, line, "not an enum member NAME [= N], [// comment]")
        name, number, _ = m.groups()
        value = int(number) if number is not None else value + 1
        if name in members:
            raise _error(path, i, line, f"{name} is declared twice")
        members[name] = value
    raise AbiError(f"{path}: the enum opened at line {at + 1} does not end")


@lru_cache(maxsize=None)
def syscalls(path: Path = ABI_HH) -> dict[str, int]:
    """System call numbers, by SYS_ name, from the GRACE_SYSCALLS list
    (`X(NAME, number)` entries on backslash-continued lines), and NSYSCALL
    (one past the highest number), as the header derives it."""
    lines = _lines(path)
    at = _find(path, lines, r"^#define GRACE_SYSCALLS\(X\)\s*\\\s*$")
    calls: dict[str, int] = {}
    for i in range(at + 1, len(lines)):
        line = lines[i]
        body, more = re.match(r"^(.*?)(\\?)\s*$", line).groups()
        entries = re.findall(r"X\(\s*([A-Z][A-Z0-9_]*)\s*,\s*(\d+)\s*\)", body)
        if not entries or re.sub(r"X\([^)]*\)", "", body).strip():
            raise _error(path, i, line, "not a line of X(NAME, number) entries inside GRACE_SYSCALLS")
        for name, number in entries:
            if f"SYS_{name}" in calls or int(number) in calls.values():
                raise _error(path, i, line, f"{name} or its number {number} is used twice")
            calls[f"SYS_{name}"] = int(number)
        if not more:
            break
    else:
        raise AbiError(f"{path}: GRACE_SYSCALLS does not end (its last line ends with a backslash)")
    calls["NSYSCALL"] = max(calls.values()) + 1
    return calls


@lru_cache(maxsize=None)
def kstats(path: Path = ABI_HH) -> dict[str, int]:
    """sys_kstat statistic ids, by KSTAT_ name (and KSTAT_COUNT)."""
    return _enum(path, r"^enum kstat_id : int \{\s*$")


@lru_cache(maxsize=None)
def errnos(path: Path = ABI_HH) -> dict[str, int]:
    """Error numbers, by name: the `constexpr int EXXX = N;` lines, each of
    which must come with an `#undef EXXX` (see the header)."""
    lines = _lines(path)
    found: dict[str, int] = {}
    undefs = {m.group(1) for line in lines if (m := re.match(r"^#undef (E[A-Z0-9]+)\s*$", line))}
    for i, line in enumerate(lines):
        if line.startswith("constexpr int E"):
            m = ERRNO_LINE.match(line)
            if not m:
                raise _error(path, i, line, "not an error number `constexpr int EXXX = N;`")
            if m.group(1) not in undefs:
                raise _error(path, i, line, f"no `#undef {m.group(1)}` before it")
            found[m.group(1)] = int(m.group(2))
    if not found or set(found) != undefs:
        raise AbiError(f"{path}: the #undef lines ({sorted(undefs)}) and the error numbers "
                       f"({sorted(found)}) differ")
    return found


@lru_cache(maxsize=None)
def ls_size(path: Path = ABI_HH) -> int:
    lines = _lines(path)
    i = _find(path, lines, r"^constexpr size_t LS_SIZE\b")
    m = LS_SIZE_LINE.match(lines[i])
    if not m:
        raise _error(path, i, lines[i], "not `constexpr size_t LS_SIZE = N;`")
    return int(m.group(1))


def main(argv: list[str]) -> int:
    path = Path(argv[1]) if len(argv) > 1 else ABI_HH
    try:
        table = schemes(path)
        calls, stats, errs, size = syscalls(path), kstats(path), errnos(path), ls_size(path)
    except AbiError as err:
        print(f"abi.py: {err}", file=sys.stderr)
        return 1
    print(f"schemes (LS_SIZE {size}):")
    for s in table:
        print(f"  {s.number:2d}  {s.constant:<12} {s.name:<10} {s.kind:<12} {s.storage}")
    for title, values in (("system calls", calls), ("kstat ids", stats), ("error numbers", errs)):
        print(f"{title}: " + ", ".join(f"{k}={v}" for k, v in values.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
