#!/usr/bin/env python3
"""Check the grace-period model (model/rcu.pml) with spin: `make model`.

    python3 model/check.py [--jobs N] [--show] [--full] [NAME ...]

1. Every C function or field the model names (`rcu.cc: rcu_note_qs()`)
   must still exist in that file under kernel/, so a rename is caught.
2. spin turns the model into a verifier, built twice: one for safety
   (assertions) and one for liveness (the LTL formulas). Which variant, how
   many CPUs and which properties each run checks come from MODEL_*
   environment variables (see CONFIGURATION in the model), so these two
   builds serve every run.
3. The runs, every one an exhaustive search:
   - rcu.cc itself: safety, irq and asserts with 2 CPUs and 2 updates and
     with 3 CPUs and 1 update; liveness with 2 CPUs and 1 update. Each must
     hold.
   - each broken variant (the BROKEN_ lines of the model): the property it
     names must fail, with a counterexample. Its trail, as a table of which
     CPU did what (model/trail.py), goes to build/model/NAME.txt.
   --full adds liveness with 2 updates (4.6 million states, ~16 s of CPU and
   ~700 MB): too long for `make check`.
One line per run: PASS or FAIL, what was checked, states stored, seconds.
NAME selects runs: `rcu.cc` or a variant's name. --show prints the trails.
Exit status 0 when every run passes.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.dont_write_bytecode = True

REPO = Path(__file__).resolve().parent.parent
MODEL = REPO / "model" / "rcu.pml"         # it includes the other model/*.pml
KERNEL = REPO / "kernel"
sys.path.insert(0, str(REPO / "model"))
import trail  # noqa: E402

CHECK_BITS = {"safety": 1, "irq": 2, "asserts": 4, "liveness": 8}
# Compiling pan.c: -O0 because compiling is slower than most searches.
BUILDS = {"safety": ["-DSAFETY", "-DNOCLAIM"], "liveness": []}
TIMEOUT = 600   # seconds for any one search: a guard, never reached


@dataclass
class Variant:
    name: str           # BROKEN_...
    number: int         # its MODEL_VARIANT
    prop: str           # the property that must fail
    ncpu: int
    what: str


@dataclass
class Run:
    name: str           # rcu.cc or a variant's name
    props: list[str]    # properties checked
    ncpu: int
    updates: int
    variant: Variant | None = None
    result: dict = field(default_factory=dict)

    @property
    def build(self) -> str:
        return "liveness" if "liveness" in self.props else "safety"

    def env(self) -> dict:
        return dict(os.environ, MODEL_NCPU=str(self.ncpu), MODEL_UPDATES=str(self.updates),
                    MODEL_VARIANT=str(self.variant.number if self.variant else 0),
                    MODEL_CHECK=str(sum(CHECK_BITS[p] for p in self.props)))

    def pan_args(self) -> list[str]:
        # -m: search depth (the deepest search reaches ~8000); -w: 2^w hash
        # slots; -E: a broken variant may block at the gp_seq bound, which
        # is no error here.
        args = ["-m200000", "-w23" if self.ncpu == 3 else "-w22"]
        if self.build == "liveness":
            args += ["-a", f"-Nliveness{self.ncpu}"]
        elif self.variant:
            args += ["-E"]
        return args

    def label(self) -> str:
        what = "+".join(self.props) + (" fails" if self.variant else "")
        cpus = f"{self.ncpu} CPUs, {self.updates} update{'s' if self.updates > 1 else ''}"
        return f"{self.name:27s} {what:20s} {cpus:17s}"


def model_text() -> str:
    """All of the model's source: rcu.pml and the files it includes."""
    return "".join(p.read_text() for p in sorted(MODEL.parent.glob("*.pml")))


def variants(text: str) -> list[Variant]:
    """The broken variants the model declares (in model/rcu.pml), in order."""
    found = []
    for m in re.finditer(r"^#define (BROKEN_\w+)\s+(\d+)\s+/\*\s*(safety|irq|liveness)\s+([23]):\s*(.*?)\s*\*/",
                         text, re.M):
        found.append(Variant(m.group(1), int(m.group(2)), m.group(3), int(m.group(4)), m.group(5)))
    return found


def variant_problems(text: str, found: list[Variant]) -> list[str]:
    """Each declared variant is used by the code and each one used is declared."""
    declared = {v.name for v in found}
    used = {"BROKEN_" + u for u in re.findall(r"BROKEN\((\w+)\)", text) if u != "v"}
    problems = [f"{n} is declared but the model never tests BROKEN({n[7:]})" for n in sorted(declared - used)]
    problems += [f"BROKEN({n[7:]}) is tested but {n} is not declared" for n in sorted(used - declared)]
    parsed = {v.name for v in found}
    for name in re.findall(r"^#define (BROKEN_\w+)\s", text, re.M):
        if name not in parsed:
            problems.append(f"{name}: its line must read `#define {name} N  /* property CPUs: what */`")
    numbers = [v.number for v in found]
    if len(set(numbers)) != len(numbers) or 0 in numbers:
        problems.append("the BROKEN_ numbers must be distinct and not 0")
    return problems


def c_name_problems(text: str) -> tuple[int, list[str]]:
    """(how many names were checked, what is missing). The model names C
    code as `file.cc: name()` (a function) or `file.hh: type::field`."""
    refs = set(re.findall(r"\b([a-z_]+\.(?:cc|hh)): ((?:\w+::)*~?\w+)(\(\))?", text))
    problems = []
    sources: dict[str, tuple[str, str] | None] = {}
    for filename, name, call in sorted(refs):
        if filename not in sources:
            paths = sorted(KERNEL.rglob(filename))
            sources[filename] = (str(paths[0].relative_to(KERNEL.parent)), paths[0].read_text()) if paths else None
        if sources[filename] is None:
            problems.append(f"{filename}: no such file under kernel/ (the model names {name})")
            continue
        where, src = sources[filename]
        parts = name.split("::")
        last = re.escape(parts[-1])
        if call:
            # A definition: NAME( ... ) followed by `{` or the end of the line, not `;`.
            ok = re.search(rf"\b{last}\s*\([^;{{]*\)\s*(const\s*)?(\{{|$)", src, re.M)
        else:
            ok = re.search(rf"\b{last}\b", src)
        if ok and len(parts) > 1:
            ok = re.search(rf"\b{re.escape(parts[-2])}\b", src)
        if not ok:
            kind = "function" if call else "name"
            problems.append(f"{where}: no {kind} {name}{call} (the model names it)")
    return len(refs), problems


def tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        pkg = {"spin": "spin", "gcc": "gcc"}[name]
        sys.exit(f"model: `{name}` is not installed. Run:  sudo apt-get install -y {pkg}   (or `make model` as root)")
    return path


def build(out: Path) -> float:
    """Generate pan.c and compile both verifiers into `out`, unless the model
    is unchanged since the last build. Returns the seconds it took."""
    start = time.time()
    out.mkdir(parents=True, exist_ok=True)
    spin, gcc = tool("spin"), tool("gcc")
    version = subprocess.run([spin, "-V"], capture_output=True, text=True).stdout.strip()
    stamp = hashlib.sha256((model_text() + version + repr(BUILDS)).encode()).hexdigest()
    stamp_file = out / "stamp"
    if stamp_file.exists() and stamp_file.read_text() == stamp and all(
            (out / f"pan-{b}").exists() for b in BUILDS):
        return 0.0
    stamp_file.unlink(missing_ok=True)
    gen = subprocess.run([spin, "-a", str(MODEL)], cwd=out, capture_output=True, text=True)
    if gen.returncode != 0 or not (out / "pan.c").exists():
        sys.exit(f"model: spin -a {MODEL} failed:\n{gen.stdout}{gen.stderr}")
    procs = {b: subprocess.Popen([gcc, "-O0", "-w", *flags, "-o", f"pan-{b}", "pan.c"], cwd=out,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for b, flags in BUILDS.items()}
    for b, p in procs.items():
        output = p.communicate()[0]
        if p.returncode != 0:
            sys.exit(f"model: compiling the {b} verifier failed:\n{output}")
    stamp_file.write_text(stamp)
    return time.time() - start


def number(pattern: str, text: str) -> float | None:
    m = re.search(pattern, text)
    return float(m.group(1)) if m else None


# A 3-CPU search stores ~580 MB of states: one at a time.
BIG_SEARCH = threading.Semaphore(1)


def execute(run: Run, out: Path) -> Run:
    """Run the search, and replay its trail if it found an error."""
    if run.ncpu == 3:
        with BIG_SEARCH:
            return search(run, out)
    return search(run, out)


def search(run: Run, out: Path) -> Run:
    where = out / "runs" / run.name.replace(".", "_") / f"{run.ncpu}cpu-{run.updates}u-{run.build}"
    where.mkdir(parents=True, exist_ok=True)
    for old in where.glob("*.trail"):
        old.unlink()
    binary = str(out / f"pan-{run.build}")
    start = time.time()
    try:
        p = subprocess.run([binary, *run.pan_args()], cwd=where, env=run.env(), capture_output=True,
                           text=True, timeout=TIMEOUT)
        text = p.stdout + p.stderr
        if p.returncode < 0:
            text += f"\nmodel: the verifier died (signal {-p.returncode})"
    except subprocess.TimeoutExpired:
        text = f"model: the search took longer than {TIMEOUT} s"
    r = run.result
    r["seconds"] = time.time() - start
    r["states"] = number(r"(\d+) states, stored", text)
    r["errors"] = number(r"errors: (\d+)", text)
    r["output"] = text
    r["complete"] = r["states"] is not None and not any(
        sign in text for sign in ("max search depth too small", "out of memory", "MEMLIM",
                                  "the verifier died", "took longer"))
    r["violation"] = None
    if r["errors"]:
        replay = subprocess.run([binary, "-r", "rcu.pml.trail"], cwd=where, env=run.env(), capture_output=True, text=True)
        events, violation = trail.parse(replay.stdout.splitlines())
        r["cycle"] = any(e[0] == "cycle" for e in events)
        r["violation"] = violation or ("liveness: a cycle in which the GP never ends"
                                       if r["cycle"] else first_error(text))
        r["trail"] = trail.render(trail.collapse(events), r["violation"], 100)
        (out / f"{run.name}.txt").write_text(
            f"{run.name}: {run.variant.what if run.variant else 'rcu.cc'}\n"
            f"{run.ncpu} CPUs, {run.updates} update(s); checked: {', '.join(run.props)}\n\n"
            + r["trail"] + "\n")
    r["passed"] = judge(run)
    return run


def first_error(text: str) -> str:
    m = re.search(r"^pan:\d+: (.*)$", text, re.M)
    return m.group(1) if m else "an error"


def judge(run: Run) -> bool:
    r = run.result
    if not r["complete"]:
        return False
    if run.variant is None:
        return r["errors"] == 0
    if not r["errors"]:
        return False
    if run.variant.prop == "liveness":
        return r.get("cycle", False)
    return (r["violation"] or "").startswith(run.variant.prop + ":")


def plan(text: str, full: bool) -> list[Run]:
    """Every run, the real model's first. 2 updates only where the search
    stays small: liveness and 3 CPUs check 1 update (docs/model.md)."""
    runs = [Run("rcu.cc", ["safety", "irq", "asserts"], 2, 2),
            Run("rcu.cc", ["safety", "irq", "asserts"], 3, 1),
            Run("rcu.cc", ["liveness"], 2, 1)]
    if full:
        runs.append(Run("rcu.cc", ["liveness"], 2, 2))
    runs += [Run(v.name, [v.prop], v.ncpu, 1, v) for v in variants(text)]
    return runs


def schedule(runs: list[Run]) -> list[Run]:
    """The order to start them in: the real model's 3-CPU and liveness
    searches (the longest) first, then the rest; the other 3-CPU search last,
    as two of them never run at once (execute)."""
    return sorted(runs, key=lambda r: (r.variant is not None and r.ncpu == 3, r.variant is not None,
                                       -r.ncpu, r.build != "liveness"))


def report(run: Run, out: Path, show: bool) -> None:
    r = run.result
    verdict = "PASS" if r["passed"] else "FAIL"
    states = f"{int(r['states']):>11,} states" if r["states"] is not None else " " * 18
    line = f"{verdict}  {run.label()} {states} {r['seconds']:6.1f} s"
    if run.variant and r["passed"]:
        line += f"  {out / (run.name + '.txt')}"
    print(line, flush=True)
    if not r["complete"]:
        print("      the search did not complete:\n" + indent(r["output"]))
    elif run.variant and not r["errors"]:
        print(f"      no counterexample: the model no longer shows this bug ({run.variant.what})")
    elif r["errors"] and (not r["passed"] or show):
        print(indent(r.get("trail", r["output"])))


def indent(text: str) -> str:
    return "\n".join("      " + line for line in text.splitlines()[-200:])


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="runs to do: rcu.cc or BROKEN_... (default: all)")
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("JOBS", "2") or 2))
    parser.add_argument("--show", action="store_true", help="print each counterexample trail")
    parser.add_argument("--full", action="store_true", help="also liveness with 2 updates (long)")
    parser.add_argument("--build", default=str(REPO / os.environ.get("GRACE_BUILD", "build") / "model"),
                        help="where the verifier and the trails go (default build/model)")
    args = parser.parse_args(argv)
    begin = time.time()
    out = Path(args.build)
    text = model_text()

    count, problems = c_name_problems(text)
    problems += variant_problems(text, variants(text))
    if problems:
        print("model: the model (model/*.pml) and the kernel disagree:\n" + "\n".join("  " + p for p in problems))
        return 1
    print(f"model: the {count} C names the model uses exist in kernel/", flush=True)

    runs = plan(text, args.full)
    if args.names:
        unknown = set(args.names) - {r.name for r in runs}
        if unknown:
            print(f"model: no run named {', '.join(sorted(unknown))}; runs: rcu.cc, "
                  + ", ".join(v.name for v in variants(text)))
            return 2
        runs = [r for r in runs if r.name in args.names]

    seconds = build(out)
    print(f"model: verifiers {'built' if seconds else 'up to date'} in {out}"
          + (f" ({seconds:.1f} s)" if seconds else ""), flush=True)
    with concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as pool:
        futures = {id(r): pool.submit(execute, r, out) for r in schedule(runs)}
        for r in runs:                    # reported in plan order
            report(futures[id(r)].result(), out, args.show)
    failed = sum(not r.result["passed"] for r in runs)
    print(f"model: {len(runs) - failed} passed, {failed} failed ({time.time() - begin:.1f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
