"""GDB that knows the kernel (make run-gdb, make gdb, tools/gdb/grace.py).

These tests drive real GDB, in batch mode, against QEMU. Each one starts
QEMU stopped with its GDB stub on a free local port (tests run two at a
time, so not the per-user GDBPORT), has `make gdbinit` write the project's
gdbinit (the rule `make gdb` uses: kernel and program symbols, grace.py,
run to kernel_main), runs `gdb -batch -nx -x GDBINIT -x COMMANDS`, and
compares what GDB prints with what the kernel printed for the same state.

gdb-rcu-2    user/gdbdemo (read its comment) on 2 CPUs. sys_lswrite(LS_RCU)
             reaches synchronize_rcu only with the boot option ls_sync=1
             (by default the writer uses call_rcu and never waits), so the
             test boots with it. GDB breaks on synchronize_rcu; `bt` must
             name the path from the user's call through syscall_entry,
             syscall_dispatch, sys_lswrite and ls_rcu_write; grace-cpus,
             grace-ps, grace-rcu and grace-ls must agree with the kernel's
             `sys_kprint("state")` lines and gdbdemo's checksums, printed just
             before (nothing that they show changes in between: CPU 1
             spins with preemption off the whole time, holding grace
             period 1 open). After `detach` the program must finish.
gdb-panic-2  `ktest panic` with a GDB stub (qemu.py adds the boot option
             gdb=1): after the panic message the kernel says it halted,
             QEMU must still be running, and GDB, interrupted (SIGINT, as
             Ctrl-C would), must show ktest_panic in a backtrace and run
             grace-cpus.
gdb-errors   no QEMU: every grace-* command grace.py defines, without kernel symbols and
             with symbols but no target, prints one clear line, never a
             Python traceback.

A test is skipped (SKIP) only when gdb is missing and cannot be installed
(installing needs root: apt-get install -y gdb).

How they were shown to fail (scratch changes, not committed): grace-ps
printing each parent's pid plus one: gdb-rcu-2 FAILs ("grace-ps row ...
differs from the kernel's"); booting gdbdemo without ls_sync=1: FAIL
("breakpoint on synchronize_rcu not hit"); grace-rcu reporting gp_seq/2+1
completed GPs: FAIL; ls_hazptr.cc's retire() not counting what it retires
(the registry's `waiting` that grace-ls reads): FAIL ("grace-ls does not
show hazptr's 3 retired structs"); panic_stop() powering off under gdb=1
too: gdb-panic-2 FAILs ("QEMU exited after the panic"); a traceback in
grace-cpus without symbols (its symbol check removed): gdb-errors FAILs.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import abi
import qemu
from testlib import FAIL, PASS, SKIP, test

REPO = qemu.REPO
_install_lock = threading.Lock()


def ensure_gdb() -> str | None:
    """None if gdb can run; else why not (installs it when we are root)."""
    with _install_lock:
        if not shutil.which("gdb") and os.geteuid() == 0:
            env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
            for step in (["install", "-y", "gdb"], ["update"], ["install", "-y", "gdb"]):
                if shutil.which("gdb"):
                    break
                subprocess.call(["apt-get", *step], env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if shutil.which("gdb"):
            return None
        return ("gdb is not installed and cannot be installed here (not root): "
                "sudo apt-get install -y gdb")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port: int) -> bool:
    """Whether something listens on 127.0.0.1:port (Linux's /proc/net/tcp:
    looking does not connect, which would disturb QEMU's GDB stub)."""
    try:
        lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    except OSError:
        return True   # cannot tell: let GDB try
    want = f"0100007F:{port:04X}"
    return any(l.split()[1] == want and l.split()[3] == "0A" for l in lines)


def write_gdbinit(path: Path, program: str, port: int) -> None:
    """The project's gdbinit for `program`, by the Makefile's own rule."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")}
    subprocess.run(["make", "-s", "--no-print-directory", "gdbinit", f"GDBINIT={path}",
                    f"GDB_PROGRAM={program}", f"GDBPORT={port}", f"BUILD={qemu.BUILD_DIR}"],
                   cwd=REPO, env=env, check=True, stdout=subprocess.DEVNULL)


def sections(gdb_output: str) -> dict[str, str]:
    """GDB's output cut at the "@@NAME" lines our scripts echo."""
    parts = re.split(r"^@@(\S+)\n", gdb_output, flags=re.MULTILINE)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}


class Session:
    """One QEMU (started stopped, GDB stub on a free port) and one batch GDB
    running the project's gdbinit and then `commands`."""

    def __init__(self, spec, log_path: Path, commands: str):
        self.spec, self.log_path, self.commands = spec, log_path, commands
        self.qemu_proc = None
        self.result = None
        self.gdb_output = ""
        self.gdb_status = None
        self.console_text = None

    def start(self) -> str | None:
        """Start QEMU and GDB; None, or why they could not start."""
        for _ in range(3):   # another program may take the port first
            self.port = free_port()
            self.thread = threading.Thread(target=self._run_qemu, daemon=True)
            self.thread.start()
            deadline = time.monotonic() + 20
            while not listening(self.port) and self.thread.is_alive() \
                    and time.monotonic() < deadline:
                time.sleep(0.05)
            if self.thread.is_alive():
                break
            self.thread.join()
            if "bind" not in (self.result.output if self.result else ""):
                return f"QEMU did not start: {self.result.note if self.result else '?'}"
        else:
            return "QEMU could not bind a GDB port"
        stem = self.log_path.with_suffix("")
        gdbinit, script = Path(f"{stem}.gdbinit"), Path(f"{stem}.gdb")
        self.files = (gdbinit, script)
        try:
            write_gdbinit(gdbinit, self.spec.prog, self.port)
            script.write_text(self.commands)
            # In the log directory, where a GDB that crashes leaves its core.
            self.gdb = subprocess.Popen(
                ["gdb", "-batch", "-nx", "-x", str(gdbinit), "-x", str(script)],
                cwd=self.log_path.parent, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, start_new_session=True)
        except (OSError, subprocess.CalledProcessError) as err:
            self.qemu_proc.kill()
            self.thread.join()
            return f"could not start gdb: {err}"
        return None

    def _run_qemu(self):
        self.result = qemu.run(self.spec.ncpu, self.spec.prog, list(self.spec.args),
                               list(self.spec.opts), self.spec.timeout, self.log_path,
                               gdb=self.port, on_start=self._started)

    def _started(self, proc):
        self.qemu_proc = proc

    def qemu_alive(self) -> bool:
        return self.qemu_proc is not None and self.qemu_proc.poll() is None

    def console(self) -> str:
        """The console so far (all of it, once finish() has returned)."""
        if self.console_text is not None:
            return self.console_text
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def finish(self, gdb_timeout: float, qemu_grace: float) -> str | None:
        """Wait for GDB, then for QEMU (killed after qemu_grace seconds);
        append GDB's transcript to the log. None, or what went wrong."""
        problem = None
        try:
            out, _ = self.gdb.communicate(timeout=gdb_timeout)
        except subprocess.TimeoutExpired:
            self.gdb.kill()
            out, _ = self.gdb.communicate()
            problem = f"gdb did not finish within {gdb_timeout:g} s"
        self.gdb_output = out.decode(errors="replace")
        self.gdb_status = self.gdb.returncode
        self.thread.join(qemu_grace)
        if self.thread.is_alive():
            self.qemu_proc.kill()
            self.thread.join()
        self.console_text = self.result.output
        for f in self.files:
            f.unlink(missing_ok=True)
        with open(self.log_path, "a", encoding="utf-8") as log:
            log.write(f"\n--- gdb (status {self.gdb_status}) ---\n{self.gdb_output}")
        return problem


# --- gdb-rcu-2 --------------------------------------------------------------

RCU_COMMANDS = """\
break synchronize_rcu
continue
echo @@stop\\n
info threads
echo @@bt\\n
bt
echo @@grace-cpus\\n
grace-cpus
echo @@grace-ps\\n
grace-ps
echo @@grace-rcu\\n
grace-rcu
echo @@grace-ls\\n
grace-ls
echo @@end\\n
delete
detach
"""

PS_ROW = re.compile(r"^\s*(\d+)\s+(\d+)\s+(\w+)\s+(\d+)(\*?)\s+(\S.*?)\s*$", re.MULTILINE)
CPU_ROW = re.compile(r"^\s*(\d+)\s+(\d+|\?)( \*)?\s+(pid \d+ \S+|idle\d+)\s+(0x[0-9a-f]+)\s+"
                     r"(\d+)\s+(\d+)\s+(.*)$", re.MULTILINE)


def kernel_state(console: str) -> dict:
    """What the kernel printed: sys_kprint("state") and gdbdemo's lines."""
    state = {"cpus": {}, "ls": {}}
    if m := re.search(r"^state: ncpu (\d+)$", console, re.MULTILINE):
        state["ncpu"] = int(m.group(1))
    for m in re.finditer(r"^state: cpu(\d+) pid (\d+) \((\S+)\) preempt \S+ depth (\d+) "
                         r"schedules (\d+) last_qs_gp (\d+) idle (\d)$", console, re.MULTILINE):
        cpu, pid, name, depth, scheds, last_qs, idle = m.groups()
        state["cpus"][int(cpu)] = dict(
            label=f"pid {pid} {name}" if pid != "0" else name, depth=int(depth),
            schedules=int(scheds), last_qs=int(last_qs), idle=idle == "1")
    if m := re.search(r"^rcu: gp_seq (\d+) completed (\d+) running (\d+) owe (\S+) cbs (\S+)$",
                      console, re.MULTILINE):
        state["rcu"] = dict(seq=int(m.group(1)), completed=int(m.group(2)),
                            running=int(m.group(3)), owe=int(m.group(4), 16),
                            cbs=[int(n) for n in m.group(5).split(",")])
    # The process table that follows the rcu line.
    state["ps"] = []
    lines = console[m.end():].splitlines()[1:] if m else []
    if lines and lines[0].split() == ["PID", "PPID", "STATE", "CPU", "NAME"]:
        for line in lines[1:]:
            row = PS_ROW.match(line)
            if not row:
                break
            state["ps"].append(row.groups())
    for m in re.finditer(r"^gdbdemo: ls (\w+) checksum (\d+) first (.*?)(?: \(after the write\))?$",
                         console, re.MULTILINE):
        state["ls"][m.group(1)] = (int(m.group(2)), m.group(3))
    return state


def check_bt(bt: str) -> str | None:
    """The backtrace names the whole path of the system call, in order."""
    path = ["synchronize_rcu", "ls_rcu_write", "sys_lswrite", "syscall_dispatch",
            "syscall_entry", r"sys_lswrite \(.*user/ulib\.hh", r"main \(.*user/gdbdemo\.cc"]
    at = 0
    for frame in path:
        m = re.compile(rf"^#\d+\s.*{frame}", re.MULTILINE).search(bt, at)
        if not m:
            return f"bt does not name /{frame}/ after the frames before it:\n{bt.strip()}"
        at = m.end()
    return None


def check_cpus(text: str, k: dict, ncpu: int) -> str | None:
    m = re.search(r"\(ncpu = (\d+)\)", text)
    if not m or int(m.group(1)) != k["ncpu"] or k["ncpu"] != ncpu:
        return f"grace-cpus ncpu {m and m.group(1)}, kernel {k.get('ncpu')}, booted {ncpu}"
    rows = {int(r[0]): r for r in CPU_ROW.findall(text)}
    if sorted(rows) != list(range(ncpu)):
        return f"grace-cpus shows CPUs {sorted(rows)}, expected 0..{ncpu - 1}:\n{text}"
    if rows[0][1] != "1" or rows[0][2] != " *":
        return "grace-cpus: the breakpoint stopped CPU 0 (thread 1), but it is not marked '1 *'"
    owe = k["rcu"]["owe"]
    for cpu, (_, _, _, label, count, depth, scheds, qs) in rows.items():
        kc = k["cpus"][cpu]
        if label != kc["label"] or int(depth) != kc["depth"] or int(count, 16) % 65536 != kc["depth"]:
            return (f"grace-cpus cpu{cpu}: {label}, depth {depth}; the kernel printed "
                    f"{kc['label']}, depth {kc['depth']}")
        # Inside a read section since the kernel printed: it cannot have scheduled.
        if int(scheds) < kc["schedules"] or (kc["depth"] and int(scheds) != kc["schedules"]):
            return f"grace-cpus cpu{cpu}: {scheds} schedules, the kernel printed {kc['schedules']}"
        want_qs = f"GP {kc['last_qs']}," if kc["last_qs"] else "none yet"
        if not qs.startswith(want_qs) or ("owes GP" in qs) != bool(owe >> cpu & 1):
            return (f"grace-cpus cpu{cpu} last QS '{qs}'; the kernel printed last_qs_gp "
                    f"{kc['last_qs']}, owe mask {owe:#x}")
    return None


def check_ps(text: str, k: dict) -> str | None:
    rows = PS_ROW.findall(text)
    if not k["ps"]:
        return "the kernel's process table is missing from the console"
    if len(rows) != len(k["ps"]) or f"grace-ps: {len(rows)} processes" not in text:
        return f"grace-ps shows {len(rows)} processes, the kernel {len(k['ps'])}:\n{text}"
    for mine, theirs in zip(rows, k["ps"]):
        if mine != theirs:
            return f"grace-ps row {' '.join(mine)} differs from the kernel's {' '.join(theirs)}"
    return None


def check_rcu(text: str, k: dict, ncpu: int) -> str | None:
    r = k["rcu"]
    expect = [rf"^grace-rcu: gp_seq {r['seq']} ",
              rf"^  completed grace periods: {r['completed']}$",
              (rf"^  current grace period: {r['running']} \(running\)$" if r["running"]
               else r"^  current grace period: none running"),
              r"^  callbacks queued: " + ", ".join(f"cpu{i} {n}" for i, n in enumerate(r["cbs"]))
              + rf" \(total {sum(r['cbs'])}\)$"]
    if r["running"]:
        owing = " ".join(f"cpu{i}" for i in range(ncpu) if r["owe"] >> i & 1) or "none"
        expect.append(rf"^  CPUs that still owe GP {r['running']} a quiescent state: "
                      rf"{owing} \(mask {r['owe']:#x}\)$")
    if sum(r["cbs"]):
        expect.append(r"^  oldest callback: on cpu\d+, queued \d+ ms ago .*waits for GP "
                      rf"{r['running']} .*rcu_free<proc>")
    for pattern in expect:
        if not re.search(pattern, text, re.MULTILINE):
            return f"grace-rcu does not match the kernel's '{r}': no /{pattern}/ in\n{text}"
    return None


def check_ls(text: str, k: dict) -> str | None:
    if sorted(k["ls"]) != sorted(abi.scheme_names()):
        return (f"gdbdemo printed lines for {sorted(k['ls'])}, expected one for each of "
                f"lib/abi.hh's schemes {sorted(abi.scheme_names())}")
    for scheme, (checksum, first) in k["ls"].items():
        m = re.search(rf"^{scheme}\s+0x[0-9a-f]+\s+checksum (\d+)\s+first \"(.*)\"$", text,
                      re.MULTILINE)
        if not m:
            return f"grace-ls has no line for {scheme}:\n{text}"
        if int(m.group(1)) != checksum or not m.group(2).startswith(first[:16]):
            return (f"grace-ls {scheme}: checksum {m.group(1)} first \"{m.group(2)}\"; the "
                    f"kernel read checksum {checksum}, first \"{first}\"")
    waiting = re.findall(r"^\s+waiting to be reclaimed: \S.*$", text, re.MULTILINE)
    if len(waiting) != len(k["ls"]):
        return f"grace-ls shows {len(waiting)} 'waiting to be reclaimed' lines, one per scheme expected"
    if not re.search(r"^\s+waiting to be reclaimed: 3 retired structs", text, re.MULTILINE):
        return "grace-ls does not show hazptr's 3 retired structs (gdbdemo wrote it 3 times)"
    return None


def gdb_rcu_driver(spec, log_path: Path):
    """gdb-rcu-2: see the module comment."""
    if why := ensure_gdb():
        return SKIP, why, ""
    session = Session(spec, log_path, RCU_COMMANDS)
    if problem := session.start():
        return FAIL, problem, session.console()
    problem = session.finish(gdb_timeout=spec.timeout - 10, qemu_grace=20)
    console, parts = session.console(), sections(session.gdb_output)
    output = console + "\n--- gdb ---\n" + session.gdb_output
    if "stop" not in parts or not re.search(r"hit Breakpoint .*synchronize_rcu", session.gdb_output):
        return FAIL, problem or "breakpoint on synchronize_rcu not hit", output
    if "end" not in parts:
        return FAIL, problem or "gdb stopped before running every command", output
    k = kernel_state(console)
    if "ncpu" not in k or "rcu" not in k or len(k["cpus"]) != spec.ncpu:
        return FAIL, "the kernel's state table (sys_kprint) is missing", output
    for error in (check_bt(parts["bt"]), check_cpus(parts["grace-cpus"], k, spec.ncpu),
                  check_ps(parts["grace-ps"], k), check_rcu(parts["grace-rcu"], k, spec.ncpu),
                  check_ls(parts["grace-ls"], k)):
        if error:
            return FAIL, error, output
    if "Traceback" in session.gdb_output or "Python Exception" in session.gdb_output:
        return FAIL, "a grace-* command raised a Python exception", output
    if "gdbdemo: done" not in console or session.result.status != 0:
        return FAIL, f"gdbdemo did not finish after detach (status {session.result.status})", output
    return PASS, "", output


test("gdb-rcu-2", prog="gdbdemo", ncpu=2, opts=["ls_sync=1"], timeout=60,
     driver=gdb_rcu_driver)


# --- gdb-panic-2 ------------------------------------------------------------

PANIC_COMMANDS = """\
continue
echo @@stopped\\n
echo @@bt\\n
thread apply all bt
echo @@grace-cpus\\n
grace-cpus
echo @@end\\n
kill
"""
HALTED = "QEMU stays up for GDB"


def gdb_panic_driver(spec, log_path: Path):
    """gdb-panic-2: see the module comment."""
    if why := ensure_gdb():
        return SKIP, why, ""
    session = Session(spec, log_path, PANIC_COMMANDS)
    if problem := session.start():
        return FAIL, problem, session.console()
    deadline = time.monotonic() + spec.timeout - 15
    while HALTED not in session.console() and session.qemu_alive() \
            and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1)                 # QEMU would exit at once after a power-off
    halted, alive = HALTED in session.console(), session.qemu_alive()
    if alive:
        session.gdb.send_signal(signal.SIGINT)   # Ctrl-C: GDB stops the machine
    problem = session.finish(gdb_timeout=15, qemu_grace=10)
    console, parts = session.console(), sections(session.gdb_output)
    output = console + "\n--- gdb ---\n" + session.gdb_output
    if not re.search(r"^PANIC: \[cpu\d\] .*assertion 'ktest_panic_value == 42'", console,
                     re.MULTILINE):
        return FAIL, "no panic message on the console", output
    if not halted or not alive or "power off" in console:
        return FAIL, "QEMU exited after the panic (gdb=1 must keep it up)", output
    if "end" not in parts:
        return FAIL, problem or "gdb did not get control after Ctrl-C", output
    if not re.search(r"^#\d+\s.*ktest_panic", parts["bt"], re.MULTILINE):
        return FAIL, f"no thread's backtrace names ktest_panic:\n{parts['bt']}", output
    if not re.search(rf"\(ncpu = {spec.ncpu}\)", parts["grace-cpus"]):
        return FAIL, f"grace-cpus after the panic:\n{parts['grace-cpus']}", output
    return PASS, "", output


test("gdb-panic-2", prog="ktest", args=["panic"], ncpu=2, timeout=60, status="panic",
     driver=gdb_panic_driver)


# --- gdb-errors -------------------------------------------------------------

def gdb_errors_driver(spec, log_path: Path):
    """gdb-errors: see the module comment (no QEMU)."""
    if why := ensure_gdb():
        return SKIP, why, ""
    grace_py = str(REPO / "tools/gdb/grace.py")
    # Every command grace.py defines (each `super().__init__("grace-...")`).
    commands = re.findall(r'super\(\).__init__\("(grace-[\w-]+)"', Path(grace_py).read_text())
    runs = {"no symbols": [], "no target": ["-ex", f"file {qemu.BUILD_DIR / 'kernel.elf'}"]}
    output = ""
    for case, setup in runs.items():
        argv = ["gdb", "-batch", "-nx", *setup, "-ex", f"source {grace_py}"]
        for c in commands:
            argv += ["-ex", c]
        out = subprocess.run(argv, cwd=log_path.parent, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             timeout=30).stdout.decode(errors="replace")
        output += f"--- {case} ---\n{out}"
        want = "no symbol '" if case == "no symbols" else "no kernel to read: "
        for c in commands:
            if not re.search(rf"^{c}: {want}.*make", out, re.MULTILINE):
                return FAIL, f"{case}: {c} does not say '{c}: {want}...'", output
        if "Traceback" in out or "Python Exception" in out or len(out.splitlines()) != len(commands):
            return FAIL, f"{case}: more than one clear line per command", output
    log_path.write_text(output)
    return PASS, "", output


test("gdb-errors", prog=None, timeout=30, driver=gdb_errors_driver)
