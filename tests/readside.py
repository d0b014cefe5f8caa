"""Check the machine code of LS_RCU's read side: `python3 tests/readside.py [ELF] [--show]`.

The read section must cost nothing but the preemption count: no `lock`
prefix (an atomic read-modify-write), no fence, no xchg with memory (which
locks implicitly). This disassembles (anonymous namespace)::ls_rcu_read
from the kernel ELF with objdump and checks it; --show prints the code.
`make check` runs it; docs/rcu.md shows its output for the benchmark build.
A handout whose read side is still pset 2's stub skips it (and says so).
"""

import re
import subprocess
import sys
from pathlib import Path

FUNCTION = "ls_rcu_read"
# In the pset-1 and pset-2 handouts the read side is still pset 2's stub.
STUB_RE = re.compile(r'^\s*PSET_TODO\(2, "rcu_read_(?:lock|unlock)"\);', re.MULTILINE)
RCU_HH = Path(__file__).resolve().parent.parent / "kernel" / "rcu.hh"
FORBIDDEN = re.compile(r"\block\b|\b[lms]fence\b|\bxchg\w*\s+[^,]*\(|,\s*\(")


def disassemble(elf: str) -> list[str]:
    """The instructions of FUNCTION, one line each, from objdump."""
    syms = subprocess.run(["nm", "-S", "-C", elf], capture_output=True, text=True,
                          check=True).stdout
    match = [l for l in syms.splitlines() if f"::{FUNCTION}(" in l]
    if len(match) != 1:
        sys.exit(f"readside.py: expected one {FUNCTION} in {elf}, found {len(match)}")
    start, size = (int(x, 16) for x in match[0].split()[:2])
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", "-C",
                          f"--start-address={start:#x}", f"--stop-address={start + size:#x}", elf],
                         capture_output=True, text=True, check=True).stdout
    return [l for l in out.splitlines() if re.match(r"^\s*[0-9a-f]+:\t", l)]


def main() -> int:
    elf = next((a for a in sys.argv[1:] if not a.startswith("--")), "build/kernel.elf")
    if STUB_RE.search(RCU_HH.read_text()):
        print("SKIP  readside-codegen: rcu_read_lock and rcu_read_unlock are still "
              "pset 2's stubs (kernel/rcu.hh)")
        return 0
    lines = disassemble(elf)
    if "--show" in sys.argv:
        print("\n".join(lines))
    bad = [l for l in lines if FORBIDDEN.search(l.split("\t", 1)[1].split("#")[0])
           and "xchg   %ax,%ax" not in l]
    has_pair = any("incl   %gs:0x20" in l for l in lines) and any("decl   %gs:0x20" in l for l in lines)
    if bad or not has_pair:
        print("FAIL  readside-codegen: " + ("; ".join(bad) if bad else "no incl/decl %gs:0x20 pair"))
        return 1
    print(f"PASS  readside-codegen  ({len(lines)} instructions, no lock prefix, no fence)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
