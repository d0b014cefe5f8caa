#!/usr/bin/env python3
"""Print a spin counterexample of model/rcu.pml as a table: one column per CPU.

    ./pan -r | python3 model/trail.py [--width N]

The verifier's replay (`pan -r`, with the same MODEL_* environment as the
run that found the error) prints every step; the model's `printf`s among
them say what a CPU did: `EV <cpu> <what>`. This filter keeps those, in
order, and numbers them (`NOTE <text>` lines stay as they are, and
`SB <cpu> <what> <value>`, a store buffer written to memory, is put in
words):

      #  cpu0                          cpu1
      1                                rcu_read_lock, loads v0
      2  publishes v1 (it waits in ...

`MASK(n)` becomes the set of CPUs it stands for, and a block of events that
repeats right after itself is printed once with how often it repeats. A
liveness counterexample ends in a cycle that repeats forever; a line marks
where it starts. The `VIOLATION ...` line the model prints, if any, ends the
table. model/check.py uses this for every variant (docs/model.md shows one).
"""

from __future__ import annotations

import argparse
import re
import sys
import textwrap

EVENT_RE = re.compile(r"^EV (\d+) (.*)$")
NOTE_RE = re.compile(r"^NOTE (.*)$")
STORE_RE = re.compile(r"^SB (\d+) (\d+) (\d+)$")     # the model's sb_drain: cpu, what, value
STORED = {1: "store buffer: ptr = v{} reaches memory", 2: "store buffer: dynticks = {} reaches memory"}
MASK_RE = re.compile(r"MASK\((\d+)\)")
CYCLE = "<<<<<START OF CYCLE>>>>>"


def cpu_set(match: re.Match) -> str:
    """MASK(5) -> {cpu0,cpu2}; MASK(0) -> {}."""
    bits = int(match.group(1))
    return "{" + ",".join(f"cpu{i}" for i in range(8) if bits >> i & 1) + "}"


def parse(lines) -> tuple[list, str | None]:
    """The events, in order, as (cpu, text) or ("cycle", None), and the
    violation line if the model printed one."""
    events: list = []
    violation = None
    for line in lines:
        line = line.rstrip("\n")
        if line.startswith(CYCLE):
            events.append(("cycle", None))
        elif line.startswith("VIOLATION "):
            violation = line[len("VIOLATION "):]
        elif m := EVENT_RE.match(line):
            events.append((int(m.group(1)), MASK_RE.sub(cpu_set, m.group(2))))
        elif m := STORE_RE.match(line):
            if int(m.group(2)) in STORED:
                events.append((int(m.group(1)), STORED[int(m.group(2))].format(m.group(3))))
        elif m := NOTE_RE.match(line):
            events.append(("note", m.group(1)))
    return events, violation


def collapse(events: list, longest: int = 8) -> list:
    """Events with each block (of up to `longest` events) that repeats right
    after itself replaced by ("repeat", n, block)."""
    out: list = []
    i = 0
    while i < len(events):
        best = None
        for size in range(1, longest + 1):
            block = events[i:i + size]
            if len(block) < size or any(isinstance(e[0], str) for e in block):
                break
            n = 1
            while events[i + n * size:i + (n + 1) * size] == block:
                n += 1
            if n > 1 and (best is None or n * size > best[0] * best[1]):
                best = (n, size)
        if best:
            n, size = best
            out.append(("repeat", n, events[i:i + size]))
            i += n * size
        else:
            out.append(events[i])
            i += 1
    return out


def render(events: list, violation: str | None, width: int) -> str:
    """The table, `width` characters wide at most."""
    cpus = sorted({e[0] for e in events if isinstance(e[0], int)}) or [0]
    ncols = max(cpus) + 1
    col = max(24, (width - 6) // ncols - 2)
    lines = ["     #  " + "".join(f"cpu{c}".ljust(col + 2) for c in range(ncols)).rstrip()]
    number = 0

    def row(cpu: int, text: str, indent: str = "") -> None:
        nonlocal number
        number += 1
        wrapped = textwrap.wrap(text, col - len(indent)) or [""]
        for k, piece in enumerate(wrapped):
            label = f"{number:6d}  " if k == 0 else " " * 8
            lines.append((label + " " * ((col + 2) * cpu) + indent + piece).rstrip())

    for e in events:
        if e[0] == "note":
            lines.append("        " + e[1])
        elif e[0] == "cycle":
            lines.append("        " + "-" * 20 + " from here on, the same steps repeat forever " + "-" * 20)
        elif e[0] == "repeat":
            _, n, block = e
            what = f"the next {len(block)} steps happen" if len(block) > 1 else "the next step happens"
            lines.append(f"        ({what} {n} times in a row)")
            for cpu, text in block:
                row(cpu, text, "| ")
        else:
            row(e[0], e[1])
    if violation:
        lines.append("")
        lines.append(f"        VIOLATED: {violation}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", nargs="?", help="pan -r output (default: standard input)")
    parser.add_argument("--width", type=int, default=100, help="characters per line (default 100)")
    args = parser.parse_args(argv)
    try:
        text = open(args.file).read().splitlines() if args.file else sys.stdin.read().splitlines()
    except OSError as err:
        print(f"trail.py: {err}", file=sys.stderr)
        return 2
    events, violation = parse(text)
    if not events:
        print("trail.py: no model events (EV lines) in the input: is it `pan -r` output "
              "of model/rcu.pml?", file=sys.stderr)
        return 1
    print(render(collapse(events), violation, args.width))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
