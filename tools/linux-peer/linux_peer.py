#!/usr/bin/env python3
"""Linux in Grace's QEMU machine: the peer that `make bench-linux` compares with.

    python3 tools/linux-peer/linux_peer.py [--ncpu N] [--seconds S] [--reps R]
        [--kernel BZIMAGE] [--work build/linux-peer]

Boots Debian's stock Linux kernel (the package linux-image-amd64 depends on)
in the QEMU machine Grace boots in (tools/qemu.py, machine_args), with an
initramfs whose only program is syscalls.c, built static, as /init. That
program times getpid and getppid the way user/bench.cc does under Grace: one
pinned process per CPU, SECONDS each, REPS times; see its opening comment.
The kernel command line adds `mitigations=off`, since Grace has none.

What it needs, and how it gets it:
  - the kernel: `apt-get download` of linux-image-<version>-amd64 into the
    work directory, of which only boot/vmlinuz-* is kept (about 8 MB; the
    package is fetched again after `make clean`). --kernel takes any x86-64
    bzImage instead (on a host without apt, say).
  - gcc and a static C library (Debian: gcc, libc6-dev), and QEMU: installed
    with apt-get when run as root, otherwise the command to run is printed.
The initramfs is written here, in Python (no cpio needed).

Prints every LINUXPEER line, then per call the per-CPU median over the reps
with [min..max]. The console goes to WORK/console-ncpuN.log.
Exit status: 0 fine; 1 the boot or a measurement failed; 2 a tool or the
kernel could not be had (the message says what to run).

Module API (tools/bench.py): measure(ncpu, seconds, reps) -> (rows, ok),
where rows are the LINUXPEER objects of the measuring processes, each with
"source": "linux" and "boot_ncpu" added, and ok is None when a tool or the
kernel could not be had.
"""

from __future__ import annotations

import sys

sys.dont_write_bytecode = True

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import tarfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
if str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))

import qemu  # noqa: E402

SOURCE = HERE / "syscalls.c"
DEFAULT_WORK = REPO / "build" / "linux-peer"
META_PACKAGE = "linux-image-amd64"
LINE_RE = re.compile(r"LINUXPEER (\{.*\})\s*$", re.MULTILINE)
ERROR_RE = re.compile(r"LINUXPEER-ERROR .*$", re.MULTILINE)
CMDLINE = "console=ttyS0 quiet mitigations=off panic=-1"


class Missing(Exception):
    """A tool or the kernel cannot be had; the message says what to run."""


def is_root() -> bool:
    return os.geteuid() == 0


def apt_install(packages: list[str]) -> None:
    """Install Debian packages as root (updating the lists if needed), or
    raise Missing with the command for the user to run."""
    if not is_root() or not shutil.which("apt-get"):
        raise Missing(f"run:  sudo apt-get install -y {' '.join(packages)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    print(f"linux-peer: installing {' '.join(packages)}", file=sys.stderr, flush=True)
    for step in (["install", "-y", *packages], ["update"], ["install", "-y", *packages]):
        if subprocess.call(["apt-get", *step], env=env, stdin=subprocess.DEVNULL,
                           stdout=sys.stderr.fileno()) == 0 and step[0] == "install":
            return
    raise Missing(f"apt-get install -y {' '.join(packages)} failed")


# --- the kernel -----------------------------------------------------------

def kernel_package() -> str:
    """The versioned package linux-image-amd64 depends on, from apt's lists."""
    if not shutil.which("apt-cache"):
        raise Missing("no apt-cache: this host is not Debian; pass --kernel BZIMAGE")
    for attempt in range(2):
        out = subprocess.run(["apt-cache", "depends", META_PACKAGE],
                             capture_output=True, text=True).stdout
        m = re.search(r"Depends: (linux-image-\S+)", out)
        if m:
            return m.group(1)
        if attempt == 0 and is_root():
            subprocess.call(["apt-get", "update"], stdin=subprocess.DEVNULL,
                            stdout=sys.stderr.fileno())
        elif not is_root():
            break
    raise Missing(f"apt knows no {META_PACKAGE}: run  sudo apt-get update")


def fetch_kernel(work: Path) -> Path:
    """WORK/boot/vmlinuz-*: Debian's kernel, downloaded once and kept."""
    found = sorted((work / "boot").glob("vmlinuz-*"))
    if found:
        return found[-1]
    package = kernel_package()
    print(f"linux-peer: downloading {package} (apt-get download)", flush=True)
    work.mkdir(parents=True, exist_ok=True)
    p = subprocess.run(["apt-get", "download", package], cwd=work,
                       capture_output=True, text=True)
    debs = sorted(work.glob(f"{package}_*.deb"))
    if p.returncode != 0 or not debs:
        raise Missing(f"apt-get download {package} failed: {p.stderr.strip()[-300:]}")
    # Keep only the kernel image: the package's modules are not needed.
    tar = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(debs[-1])],
                           stdout=subprocess.PIPE)
    kernel = None
    with tarfile.open(fileobj=tar.stdout, mode="r|") as archive:
        for member in archive:
            name = Path(member.name)
            if member.isfile() and name.parent.name == "boot" and name.name.startswith("vmlinuz-"):
                (work / "boot").mkdir(exist_ok=True)
                kernel = work / "boot" / name.name
                kernel.write_bytes(archive.extractfile(member).read())
    tar.wait()
    for deb in debs:
        deb.unlink()
    if kernel is None:
        raise Missing(f"{package} holds no boot/vmlinuz-*")
    return kernel


# --- the initramfs ----------------------------------------------------------

def build_init(work: Path) -> Path:
    """WORK/init: syscalls.c compiled static, rebuilt when the source changes."""
    out = work / "init"
    if out.is_file() and out.stat().st_mtime >= SOURCE.stat().st_mtime:
        return out
    work.mkdir(parents=True, exist_ok=True)
    cmd = ["gcc", "-O2", "-static", "-Wall", "-Wextra", "-o", str(out), str(SOURCE)]
    for attempt in range(2):
        if shutil.which("gcc"):
            p = subprocess.run(cmd, capture_output=True, text=True)
            if p.returncode == 0:
                return out
            if "cannot find -lc" not in p.stderr or attempt:
                raise Missing(f"gcc failed on {SOURCE.name}:\n{p.stderr.strip()}")
        if attempt == 0:
            apt_install(["gcc", "libc6-dev"])   # a static C library is in libc6-dev
    raise Missing("run:  sudo apt-get install -y gcc libc6-dev")


def cpio_entry(name: str, mode: int, data: bytes = b"", rdev: tuple[int, int] = (0, 0),
               ino: int = 0) -> bytes:
    """One member of a "newc" cpio archive, the format Linux unpacks as its
    initramfs: a 110-byte ASCII header, the name, the data, each padded to 4."""
    fields = [ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1],
              len(name) + 1, 0]
    header = b"070701" + b"".join(b"%08X" % f for f in fields)
    pad = lambda n: b"\0" * (-n % 4)
    blob = header + name.encode() + b"\0"
    return blob + pad(len(blob)) + data + pad(len(data))


def write_initramfs(init: Path, path: Path) -> None:
    """An initramfs holding /dev/console (where /init's output goes) and /init."""
    parts = [cpio_entry("dev", 0o040755, ino=1),
             cpio_entry("dev/console", 0o020600, rdev=(5, 1), ino=2),
             cpio_entry("init", 0o100755, init.read_bytes(), ino=3),
             cpio_entry("TRAILER!!!", 0)]
    path.write_bytes(b"".join(parts))


# --- measuring --------------------------------------------------------------

def boot(ncpu: int, seconds: float, reps: int, kernel: Path, work: Path) -> tuple[list[dict], bool, str]:
    """Boot Linux once; (the LINUXPEER objects, whether all went well, console)."""
    initrd = work / "initramfs.cpio"
    write_initramfs(build_init(work), initrd)
    qemu.ensure_qemu()
    cmd = qemu.machine_args(ncpu) + [
        "-kernel", str(kernel), "-initrd", str(initrd),
        "-append", f"{CMDLINE} -- {seconds:g} {reps}",
        "-serial", "stdio", "-monitor", "none"]
    timeout = 300 + reps * 2 * (seconds + 1) * 3
    log = work / f"console-ncpu{ncpu}.log"
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=timeout, start_new_session=True)
        output, note = (p.stdout + p.stderr).decode(errors="replace"), ""
    except subprocess.TimeoutExpired as e:
        output = ((e.stdout or b"") + (e.stderr or b"")).decode(errors="replace")
        note = f"TIMEOUT after {timeout:.0f} s"
    output = output.replace("\r\n", "\n")
    log.write_text(output + (f"\nlinux-peer: {note}\n" if note else ""))
    objs = []
    for m in LINE_RE.finditer(output):
        try:
            objs.append(json.loads(m.group(1)))
        except json.JSONDecodeError:
            note = note or f"unparsable line {m.group(0)!r}"
    done = [o for o in objs if o.get("name") == "done"]
    ok = not note and bool(done) and done[-1].get("failed") == 0 and not ERROR_RE.search(output)
    if not done and not note:
        note = "Linux never reached the end of the benchmark"
    return objs, ok, note or ("" if ok else "a measurement failed")


def measure(ncpu: int, seconds: float = 1.0, reps: int = 3, kernel: str | None = None,
            work: Path = DEFAULT_WORK) -> tuple[list[dict], bool | None]:
    """Measure getpid/getppid under Linux at `ncpu` CPUs; (rows, ok). Rows are
    the measuring processes' objects plus "source": "linux", "boot_ncpu".
    Prints what it does; when a tool or the kernel cannot be had it says
    what to run and returns ([], None)."""
    work.mkdir(parents=True, exist_ok=True)
    try:
        image = Path(kernel) if kernel else fetch_kernel(work)
        if not image.is_file():
            raise Missing(f"{image}: no such kernel image")
        t0 = time.monotonic()
        objs, ok, note = boot(ncpu, seconds, reps, image, work)
    except Missing as e:
        print(f"linux-peer: {e}", file=sys.stderr)
        return [], None
    rows = [dict(o, source="linux", boot_ncpu=ncpu) for o in objs
            if o.get("name") in ("getpid", "getppid")]
    config = next((o for o in objs if o.get("name") == "config"), {})
    print(f"linux-peer: Linux {config.get('kernel', '?')} on {ncpu} CPU(s): "
          f"{len(rows)} results in {time.monotonic() - t0:.0f} s"
          + (f"; {note} (console: {work / f'console-ncpu{ncpu}.log'})" if note else ""),
          flush=True)
    return rows, ok


def summary(rows: list[dict]) -> list[str]:
    """Per call: per-CPU calls/s, the median over reps of each rep's mean."""
    lines = []
    for name in ("getpid", "getppid"):
        per_rep: dict[int, list[int]] = {}
        for r in rows:
            if r["name"] == name:
                per_rep.setdefault(r["rep"], []).append(r["ops_per_sec"])
        means = sorted(sum(v) / len(v) for v in per_rep.values())
        if means:
            lines.append(f"{name:8} {statistics.median(means) / 1e6:.2f}M/s per CPU "
                         f"[{means[0] / 1e6:.2f}M..{means[-1] / 1e6:.2f}M] over {len(means)} reps")
    return lines


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ncpu", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--kernel", help="an x86-64 Linux bzImage instead of Debian's")
    ap.add_argument("--work", default=str(DEFAULT_WORK))
    ns = ap.parse_args(argv)
    if not 1 <= ns.ncpu <= 64 or not 0 < ns.seconds <= 60 or not 1 <= ns.reps <= 20:
        ap.error("--ncpu 1-64, --seconds (0, 60], --reps 1-20")
    rows, ok = measure(ns.ncpu, ns.seconds, ns.reps, ns.kernel, Path(ns.work))
    if ok is None:
        return 2
    for r in rows:
        print("LINUXPEER " + json.dumps({k: v for k, v in r.items() if k != "source"}))
    for line in summary(rows):
        print(line)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
