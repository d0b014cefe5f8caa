"""Declaring and judging Grace tests (used by tests/tests_*.py and tests/run.py).

Declare a test in the tests/tests_AREA.py of its area with

    from testlib import test
    test("boot-smp-1", prog="cpuinfo", args=[], ncpu=1, timeout=30,
         expect=[r"cpu0 online"], status=0)

Parameters (all but the name are keyword arguments):
    prog, args  program the kernel starts first, and its arguments
                (prog=None boots the shell `sh`).  No whitespace in words.
    ncpu        number of CPUs (-smp), default 1
    timeout     seconds before QEMU is killed (verdict TIMEOUT), default 60
    opts        kernel options, e.g. ["hz=100"]
    status      expected exit status of the first process (int, default 0),
                "panic" (the kernel must panic), or None (don't care).
                An unexpected panic is always verdict PANIC.
    expect      regexes that must each match somewhere in the console
    reject      regexes that must not match; default [r"PANIC",
                r"poison.*corrupt"], or [] when status="panic".  Giving
                reject replaces the default (it does not extend it).
    check       callable(output: str) -> str | None: an error message, or
                None if the output is fine
    stress      True: only run with --stress / STRESS=1 (or by exact name)
    input       text typed on the console (for the shell), e.g. "ls\\r"
    provokes    names of KERNEL_WARNINGS this test provokes on purpose (and
                usually expects); every other kernel warning fails it
    caught_by_panic
                for a busted twin: a regex; a kernel panic whose PANIC line
                matches it is also the bug caught (the kernel's own net
                found it before the test's check did), so the test passes
    driver      callable(spec, log_path) -> (verdict, reason, output): the
                test runs itself instead of one plain boot judged by the
                fields above (tests_gdb.py drives GDB against QEMU). It
                writes its own log to log_path; verdict SKIP (with the
                reason) only when a tool it needs cannot be had.

Kernel warnings: every test fails when the console has a line of
KERNEL_WARNINGS, whatever its expect and reject say, unless it names that
warning in `provokes`. No correct run prints one, however loaded the host:
`rcu: WARNING` says an rcu_ptr was loaded outside a read section, a bug and
never a matter of timing. (The stall report is not one: a correct kernel
prints it on a loaded host.) So every test that reads through an rcu_ptr
catches a read section that does not disable preemption, every run,
whatever the timing: with rcu_read_lock's preempt_disable() and
rcu_read_unlock's preempt_enable() removed, rcu-torture-2, ls-hammer-rcu-1,
-2 and -sync-2 and rculist-torture-2 fail on `rcu: WARNING: rcu_ptr ...
loaded outside a read section`. (Their own checks caught that kernel too,
on a loaded host, but only when a reader was preempted mid-read: a matter
of timing.)

Regexes are searched with re.MULTILINE (so ^ and $ work per line) in the
console text, where "\\r\\n" has been folded to "\\n".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

import qemu

DEFAULT_REJECT = (r"PANIC", r"poison.*corrupt")
# The kernel warnings no correct run prints, by name (see the docstring).
KERNEL_WARNINGS = {
    # rcu_warn_unprotected_load (kernel/rcu.cc): an rcu_ptr loaded with
    # preemption enabled, outside any read section and update lock.
    "rcu-warning": re.compile(r"rcu: WARNING", re.MULTILINE),
}
# Not one of them: the stall report ("rcu: INFO: grace period N stalled"),
# which a correct kernel prints when the host starves a virtual CPU, or
# preempts one that holds a lock others spin on, for rcu_stall_ms
# (measured: staff/grading.md).
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")

PASS, FAIL, PANIC, TIMEOUT, SKIP = "PASS", "FAIL", "PANIC", "TIMEOUT", "SKIP"


@dataclass(frozen=True)
class TestSpec:
    """One declared test; see the module docstring for the fields."""
    name: str
    prog: str | None
    args: tuple[str, ...]
    ncpu: int
    timeout: float
    opts: tuple[str, ...]
    status: int | str | None
    expect: tuple[re.Pattern, ...]
    reject: tuple[re.Pattern, ...]
    check: Callable[[str], str | None] | None
    stress: bool
    input: str | None = None
    driver: Callable | None = None
    provokes: tuple[str, ...] = ()
    caught_by_panic: re.Pattern | None = None


# All declared tests, by name, in declaration order.
REGISTRY: dict[str, TestSpec] = {}


def _compile(patterns, name: str, what: str) -> tuple[re.Pattern, ...]:
    """Compile regexes up front so a typo fails at load time, not mid-run."""
    if isinstance(patterns, str):
        raise TypeError(f"test {name}: {what} must be a list of regexes, "
                        "not a single string")
    compiled = []
    for pattern in patterns:
        try:
            compiled.append(re.compile(pattern, re.MULTILINE))
        except re.error as err:
            raise ValueError(f"test {name}: bad {what} regex {pattern!r}: {err}")
    return tuple(compiled)


def test(name: str, *, prog: str | None = None, args=(), ncpu: int = 1,
         timeout: float = 60, opts=(), status: int | str | None = 0,
         expect=(), reject=None, check=None, stress: bool = False,
         input: str | None = None, driver=None, provokes=(),
         caught_by_panic: str | None = None) -> TestSpec:
    """Declare a test and add it to REGISTRY.  Raises on bad declarations."""
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise ValueError(f"bad test name {name!r} (use letters, digits, . _ -)")
    if name in REGISTRY:
        raise ValueError(f"test {name} declared twice")
    if not (status is None or status == "panic"
            or (isinstance(status, int) and not isinstance(status, bool))):
        raise ValueError(f"test {name}: status must be an int, 'panic' "
                         f"or None, got {status!r}")
    if isinstance(args, str) or isinstance(opts, str):
        raise TypeError(f"test {name}: args and opts must be lists")
    if check is not None and not callable(check):
        raise TypeError(f"test {name}: check must be callable")
    if driver is not None and not callable(driver):
        raise TypeError(f"test {name}: driver must be callable")
    if isinstance(provokes, str) or not set(provokes) <= set(KERNEL_WARNINGS):
        raise ValueError(f"test {name}: provokes must list names of KERNEL_WARNINGS "
                         f"({', '.join(KERNEL_WARNINGS)}), got {provokes!r}")
    if timeout is None or timeout <= 0:
        raise ValueError(f"test {name}: timeout must be > 0")
    try:  # validates prog, args, opts and ncpu exactly as a run would
        qemu.build_command(ncpu, prog, list(args), list(opts))
    except ValueError as err:
        raise ValueError(f"test {name}: {err}") from None
    if reject is None:
        reject = () if status == "panic" else DEFAULT_REJECT
    spec = TestSpec(name=name, prog=prog, args=tuple(args), ncpu=ncpu,
                    timeout=timeout, opts=tuple(opts), status=status,
                    expect=_compile(expect, name, "expect"),
                    reject=_compile(reject, name, "reject"),
                    check=check, stress=bool(stress), input=input, driver=driver,
                    provokes=tuple(provokes),
                    caught_by_panic=(_compile([caught_by_panic], name, "caught_by_panic")[0]
                                     if caught_by_panic is not None else None))
    REGISTRY[name] = spec
    return spec


def _line_at(text: str, pos: int, limit: int = 120) -> str:
    """The console line containing offset `pos`, stripped and shortened."""
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    line = text[start:end if end >= 0 else len(text)].strip()
    return line if len(line) <= limit else line[:limit] + "..."


def _with_note(message: str, result) -> str:
    note = result.note.removeprefix("qemu.py: ")
    return f"{message} ({note})" if note else message


def kernel_warning(spec: TestSpec, out: str) -> str | None:
    """The first line of `out` that is a kernel warning `spec` does not
    provoke on purpose, as a failure reason; None when there is none."""
    for name, pattern in KERNEL_WARNINGS.items():
        found = None if name in spec.provokes else pattern.search(out)
        if found:
            return f"kernel warning ({name}): {_line_at(out, found.start())}"
    return None


def evaluate(spec: TestSpec, result) -> tuple[str, str]:
    """Judge a qemu.Result against `spec`: return (verdict, reason)."""
    out = result.output
    if result.timed_out:
        return TIMEOUT, f"no power-off within {spec.timeout:g} s"
    if spec.status == "panic":
        if not result.panicked:
            return FAIL, _with_note(f"expected a kernel panic, got exit "
                                    f"status {result.status}", result)
    elif result.panicked:
        caught = spec.caught_by_panic and re.search(r"^.*PANIC.*$", out, re.MULTILINE)
        if caught and spec.caught_by_panic.search(caught.group(0)):
            return PASS, ""
        where = re.search(r"PANIC", out) or re.search(r"(?i)\bpanic", out)
        return PANIC, (_line_at(out, where.start()) if where
                       else "kernel panic (no PANIC line on the console)")
    message = kernel_warning(spec, out)     # says more than the exit status
    if message:
        return FAIL, message
    if spec.status not in (None, "panic") and result.status != spec.status:
        return FAIL, _with_note(f"exit status {result.status}, expected "
                                f"{spec.status}", result)
    for pattern in spec.expect:
        if not pattern.search(out):
            return FAIL, f"expected /{pattern.pattern}/ not found"
    for pattern in spec.reject:
        found = pattern.search(out)
        if found:
            return FAIL, (f"rejected /{pattern.pattern}/ matched: "
                          f"{_line_at(out, found.start())}")
    if spec.check is not None:
        try:
            message = spec.check(out)
        except Exception as err:  # a buggy check must not kill the runner
            message = f"check raised {type(err).__name__}: {err}"
        if message:
            return FAIL, str(message)
    return PASS, ""


def rerun_command(spec: TestSpec) -> str:
    """The command line that reproduces `spec` by hand: qemu.py for a plain
    boot, run.py for a test with its own driver."""
    if spec.driver is not None:
        return f"python3 tests/run.py {spec.name}"
    words = ["python3", "tools/qemu.py", "--ncpu", str(spec.ncpu)]
    for opt in spec.opts:
        words += ["--opt", opt]
    if spec.prog is not None:
        words += ["--", spec.prog, *spec.args]
    return " ".join(words)
