#!/usr/bin/env python3
"""Launch the Grace kernel under QEMU -- the one place that knows how.

    python3 tools/qemu.py [--ncpu N] [--timeout S] [--gdb PORT] [--log FILE]
        [--opt key=value ...] [--serial2 FILE] [--interactive] [--quiet] [--dry-run]
        [--kernel build/kernel.bin] [--syms build/kernel.sym] [-- PROG [ARGS...]]

The kernel command line is "grace OPTS -- PROG ARGS" (no PROG: the shell
`sh`); words may not contain whitespace.  Non-interactive runs stream the
serial console to stdout (unless --quiet) and --log FILE, and kill QEMU
after --timeout seconds (default 60, 0 = none; default 0 with --gdb or
--interactive).  --interactive puts the serial port on the terminal (Ctrl-a
x quits); --gdb PORT starts halted for `target remote :PORT` and adds the
boot option gdb=1 (a kernel panic then halts the machine instead of
ending QEMU, so GDB can still look at it); --serial2 FILE writes the
second serial port (COM2: trace dumps with the boot option trace_port=2)
to FILE; --dry-run prints the QEMU command.  Diagnostics ("qemu.py: ...") go to stderr.

Exit status (the kernel writes v to port 0xf4; QEMU exits (v<<1)|1):
    0      first process exited 0 (QEMU 1)
    1-255  it exited non-zero: N from the console line "grace: power off:
           init exited with status N" (1 if absent / interactive) (QEMU 3)
    124 timeout; 125 kernel panic (QEMU 5); 126 QEMU stopped without a
    power-off (triple fault, reset, QEMU error); 2 usage error, kernel not
    built or QEMU not installable.

Module API (used by tests/run.py, tools/bench.py, tools/linux-peer):
machine_args(), build_command(), run() -> Result, map_exit(), ensure_qemu(),
kill_all().
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# GRACE_BUILD (the Makefile's BUILD) picks another build directory.
BUILD_DIR = REPO / os.environ.get("GRACE_BUILD", "build")
DEFAULT_KERNEL = BUILD_DIR / "kernel.bin"
DEFAULT_SYMS = BUILD_DIR / "kernel.sym"
QEMU = "qemu-system-x86_64"
NOT_FOUND_MSG = f"{QEMU} not found: run  sudo apt-get install -y qemu-system-x86"
DEFAULT_TIMEOUT = 60.0

# Mapped exit statuses (see module docstring).
STATUS_TIMEOUT = 124
STATUS_PANIC = 125
STATUS_NO_POWER_OFF = 126

POWER_OFF_RE = re.compile(r"grace: power off: init exited with status (\d+)")
# QEMU reports start-up errors (and then exits 1, like a clean power-off) on
# stderr as "qemu-system-x86_64: ..." or "qemu: ..."; warnings say "warning:".
QEMU_ERROR_RE = re.compile(rf"^(?:qemu|{QEMU}): (?!warning).*$", re.MULTILINE)


@dataclass
class Result:
    """Outcome of one QEMU run."""
    status: int               # mapped exit status, as the CLI would exit
    output: str               # whole console text ("\r\n" folded to "\n")
    timed_out: bool = False
    panicked: bool = False
    seconds: float = 0.0
    qemu_status: int | None = None   # QEMU's own exit status (None: killed)
    note: str = ""            # "qemu.py: ..." diagnostic, "" if clean
    command: list[str] = field(default_factory=list)


def check_word(word: str, what: str) -> None:
    """Raise ValueError unless `word` can go on the kernel command line."""
    if not isinstance(word, str) or not word:
        raise ValueError(f"{what} must be a non-empty string, got {word!r}")
    if any(ch.isspace() for ch in word):
        raise ValueError(f"{what} {word!r} contains whitespace "
                         "(the kernel command line splits on spaces)")


def kernel_cmdline(prog: str | None, args, opts) -> str:
    """Return "grace OPTS -- PROG ARGS" after validating every word."""
    for opt in opts:
        check_word(opt, "option")
        if "=" not in opt or opt.startswith("="):
            raise ValueError(f"option {opt!r} is not of the form key=value")
    words = ["grace", *opts]
    if prog is not None:
        check_word(prog, "program")
        for arg in args:
            check_word(arg, "argument")
        words += ["--", prog, *args]
    elif args:
        raise ValueError("arguments given without a program")
    return " ".join(words)


def machine_args(ncpu: int) -> list[str]:
    """The QEMU machine Grace boots in: CPUs, memory, no display, no reboot.
    The Linux peer of `make bench-linux` (tools/linux-peer) boots Linux in
    the same machine, so that the two kernels are measured alike."""
    return [QEMU, "-smp", str(ncpu), "-m", "512M", "-display", "none",
            "-no-reboot", "-action", "reboot=shutdown"]


def build_command(ncpu: int, prog: str | None = None, args=(), opts=(), *,
                  kernel=DEFAULT_KERNEL, syms=DEFAULT_SYMS,
                  interactive: bool = False, gdb: int | None = None,
                  serial2=None) -> list[str]:
    """Return the QEMU argv.  Raises ValueError on bad arguments.

    With `gdb` (a TCP port) QEMU starts stopped, waiting for GDB there, and
    the kernel gets the boot option gdb=1: a panic leaves QEMU running.
    With `serial2` (a path) the second serial port writes to that file."""
    if not isinstance(ncpu, int) or not 1 <= ncpu <= 255:
        raise ValueError(f"ncpu must be an integer in 1..255, got {ncpu!r}")
    opts = list(opts)
    if gdb is not None and not any(o.startswith("gdb=") for o in opts):
        opts.append("gdb=1")
    cmd = machine_args(ncpu) + [
           "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
           "-kernel", str(kernel), "-initrd", str(syms),
           "-append", kernel_cmdline(prog, list(args), opts)]
    if interactive:
        cmd += ["-serial", "mon:stdio"]
    else:
        cmd += ["-serial", "stdio", "-monitor", "none"]
    if serial2 is not None:
        if "," in str(serial2):
            raise ValueError(f"serial2 path {serial2!r} contains a comma (QEMU splits on them)")
        cmd += ["-serial", f"file:{serial2}"]
    if gdb is not None:
        cmd += ["-S", "-gdb", f"tcp:127.0.0.1:{int(gdb)}"]
    return cmd


_install_lock = threading.Lock()


def ensure_qemu() -> None:
    """Make sure QEMU is installed: apt-get it as root, else exit 2."""
    with _install_lock:
        if not shutil.which(QEMU) and os.geteuid() == 0:
            print(f"qemu.py: {QEMU} not found; installing qemu-system-x86",
                  file=sys.stderr, flush=True)
            install = ["install", "-y", "qemu-system-x86"]
            env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
            for step in (install, ["update"], install):  # update if needed
                if shutil.which(QEMU):
                    break
                try:  # apt-get's chatter goes to stderr
                    subprocess.call(["apt-get", *step], env=env,
                                    stdin=subprocess.DEVNULL,
                                    stdout=sys.stderr.fileno())
                except OSError:
                    break
        if not shutil.which(QEMU):
            print(NOT_FOUND_MSG, file=sys.stderr, flush=True)
            raise SystemExit(2)


def map_exit(qemu_status: int, output: str | None) -> tuple[int, str]:
    """Map QEMU's exit status to (our status, note).

    `output` is the console text, or None when it was not captured
    (interactive mode)."""
    if qemu_status == 1:
        error = QEMU_ERROR_RE.search(output) if output else None
        if error:
            return (STATUS_NO_POWER_OFF,
                    f"qemu.py: QEMU exited with status 1: {error.group(0)}")
        return 0, ""
    if qemu_status == 3:
        found = POWER_OFF_RE.findall(output) if output else []
        code = int(found[-1]) if found else 0
        return (min(code, 255) if code else 1), ""
    if qemu_status == 5:
        return STATUS_PANIC, "qemu.py: kernel panic"
    return (STATUS_NO_POWER_OFF,
            f"qemu.py: QEMU exited with status {qemu_status} without "
            "powering off (triple fault or reset?)")


PROMPT = b"$ "


def _type(proc, text: str, chunks: list[bytes]) -> None:
    """Type `text` on the console a line at a time, as a person would:
    each line (ending in \\r) once one more shell prompt ("$ ") has appeared,
    or after 10 s without one. stdin stays open until QEMU exits: EOF on a
    serial console is not something a shell should have to see."""
    lines = [l + "\r" for l in text.split("\r")]
    if lines and lines[-1] == "\r":
        lines.pop()
    for sent, line in enumerate(lines):
        deadline = time.monotonic() + 10
        while b"".join(chunks).count(PROMPT) <= sent and time.monotonic() < deadline \
                and proc.poll() is None:
            time.sleep(0.05)
        try:
            proc.stdin.write(line.encode())
            proc.stdin.flush()
        except (BrokenPipeError, ValueError):
            return


_live: set[subprocess.Popen] = set()
_live_lock = threading.Lock()


def kill_all() -> None:
    """Kill every QEMU started by run() that is still running (for ^C)."""
    with _live_lock:
        for proc in _live:
            proc.kill()  # Popen.kill() ignores processes already reaped


def _pump(stream, chunks: list[bytes], sinks: list) -> None:
    """Copy QEMU's output into `chunks` and `sinks` as it arrives.

    Folds "\r\n" into "\n" (also across chunk boundaries).  A sink that
    fails (e.g. a closed pipe on stdout) is dropped."""
    pending = b""
    while True:
        data = stream.read1(65536)
        if not data:
            data, pending = pending, b""
        else:
            data = pending + data
            pending = b"\r" if data.endswith(b"\r") else b""
            if pending:
                data = data[:-1]
        data = data.replace(b"\r\n", b"\n")
        if data:
            chunks.append(data)
            for sink in list(sinks):
                try:
                    sink.write(data)
                    sink.flush()
                except (OSError, ValueError):
                    sinks.remove(sink)
        elif not pending:
            return


def run(ncpu: int, prog: str | None, args, opts, timeout: float | None,
        log_path=None, quiet: bool = True, *, kernel=DEFAULT_KERNEL,
        syms=DEFAULT_SYMS, gdb: int | None = None, input: str | None = None,
        on_start=None, serial2=None) -> Result:
    """Boot the kernel non-interactively and wait for it to power off.

    `input`, if given, is typed on the serial console a line at a time,
    each after the next shell prompt appears (see _type).  `on_start`, if
    given, is called with the QEMU Popen once it runs (a caller that drives
    GDB uses it to see whether QEMU is still up, and to end it).

    Streams the console to stdout unless `quiet`, and to `log_path` if
    given; `serial2` names the file the second serial port writes (its
    directory is created).  timeout None or 0 means no limit.  Raises ValueError on bad
    arguments and FileNotFoundError if the kernel or symbol file is
    missing; never raises for anything the guest does."""
    cmd = build_command(ncpu, prog, args, opts, kernel=kernel, syms=syms,
                        gdb=gdb, serial2=serial2)
    if serial2 is not None:
        Path(serial2).parent.mkdir(parents=True, exist_ok=True)
    for path in (kernel, syms):
        if not Path(path).is_file():
            raise FileNotFoundError(f"{path} not found: run 'make' first")
    ensure_qemu()
    log = None
    if log_path:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        log = open(log_path, "wb")
    sinks = ([log] if log else []) + ([] if quiet else [sys.stdout.buffer])
    chunks: list[bytes] = []
    timed_out = False
    start = time.monotonic()
    try:
        # A new session keeps the terminal's ^C away from QEMU: we kill it.
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE if input else subprocess.DEVNULL,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT,
                                start_new_session=True)
        with _live_lock:
            _live.add(proc)
        if on_start:
            on_start(proc)
        reader = threading.Thread(target=_pump, daemon=True,
                                  args=(proc.stdout, chunks, sinks))
        reader.start()
        if input:
            threading.Thread(target=_type, daemon=True,
                             args=(proc, input, chunks)).start()
        try:
            proc.wait(timeout=timeout or None)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:  # also on KeyboardInterrupt
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            reader.join()
            proc.stdout.close()
            if proc.stdin:
                proc.stdin.close()
            with _live_lock:
                _live.discard(proc)
        seconds = time.monotonic() - start
        output = b"".join(chunks).decode("utf-8", errors="replace")
        if timed_out:
            status, note = STATUS_TIMEOUT, f"qemu.py: TIMEOUT after {timeout:g} s"
        else:
            status, note = map_exit(proc.returncode, output)
        if log and note:
            log.write(f"\n{note}\n".encode())
    finally:
        if log:
            log.close()
    return Result(status=status, output=output, timed_out=timed_out,
                  panicked=status == STATUS_PANIC, seconds=seconds,
                  qemu_status=None if timed_out else proc.returncode,
                  note=note, command=cmd)


def _parse_cli(argv: list[str]) -> argparse.Namespace:
    """Parse the options before the first "--"; PROG ARGS come after it."""
    cut = argv.index("--") if "--" in argv else len(argv)
    parser = argparse.ArgumentParser(
        prog="qemu.py", usage="%(prog)s [options] [-- PROG [ARGS...]]",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add = parser.add_argument
    add("--ncpu", type=int, default=1, metavar="N")
    add("--timeout", type=float, metavar="S", help="0 = none; default 60")
    add("--gdb", type=int, metavar="PORT")
    add("--log", metavar="FILE")
    add("--serial2", metavar="FILE")
    add("--opt", action="append", default=[], metavar="KEY=VALUE")
    for flag in ("--interactive", "--quiet", "--dry-run"):
        add(flag, action="store_true")
    add("--kernel", default=str(DEFAULT_KERNEL))
    add("--syms", default=str(DEFAULT_SYMS))
    ns = parser.parse_args(argv[:cut])
    ns.prog, ns.args = (argv[cut + 1:] + [None])[0], argv[cut + 2:]
    if ns.timeout is None:
        ns.timeout = 0 if ns.gdb is not None or ns.interactive else DEFAULT_TIMEOUT
    return ns


def main(argv: list[str] | None = None) -> int:
    ns = _parse_cli(sys.argv[1:] if argv is None else argv)
    common = dict(kernel=ns.kernel, syms=ns.syms, gdb=ns.gdb, serial2=ns.serial2)
    try:
        cmd = build_command(ns.ncpu, ns.prog, ns.args, ns.opt,
                            interactive=ns.interactive, **common)
    except ValueError as err:
        print(f"qemu.py: {err}", file=sys.stderr)
        return 2
    if ns.dry_run:
        print(shlex.join(cmd))
        return 0
    for path in (ns.kernel, ns.syms):
        if not Path(path).is_file():
            print(f"qemu.py: {path} not found: run 'make' first", file=sys.stderr)
            return 2
    if ns.serial2:
        Path(ns.serial2).parent.mkdir(parents=True, exist_ok=True)
    if ns.gdb is not None:
        print(f"qemu.py: waiting for gdb: target remote 127.0.0.1:{ns.gdb}",
              file=sys.stderr, flush=True)
    try:
        if ns.interactive:
            ensure_qemu()  # the terminal is the console: nothing to capture
            qemu_status = subprocess.call(cmd)
            if qemu_status == 0:
                return 0  # the user quit QEMU (Ctrl-a x): nothing went wrong
            status, note = map_exit(qemu_status, None)
        else:
            result = run(ns.ncpu, ns.prog, ns.args, ns.opt, ns.timeout,
                         ns.log, quiet=ns.quiet, **common)
            status, note = result.status, result.note
    except KeyboardInterrupt:
        print("\nqemu.py: interrupted", file=sys.stderr)
        return 130
    if note:
        if not ns.interactive and not ns.quiet and result.output \
                and not result.output.endswith("\n"):
            print(flush=True)  # finish a partial console line (a prompt)
        print(note, file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
