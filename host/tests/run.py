#!/usr/bin/env python3
"""The host tests (`make host-test`): run under each sanitizer build.

    python3 host/tests/run.py [--build build/host] [--variants tsan,asan,liburcu] [--jobs 2]

For each sanitizer build (build/host/tsan: ThreadSanitizer; build/host/asan:
AddressSanitizer), every check below runs as its own process:

  - host_test (host/tests/test_*.cc): every test of the real code must
    pass with no sanitizer report;
  - each urcu_* program (host/tests/urcu_*.c, written to liburcu's API
    alone) must pass with no report;
  - each deliberately broken variant must be FLAGGED by the sanitizer:
    the host_test variants that `host_test --list` marks for this
    sanitizer, and every urcu_* program with GRACE_URCU_BUSTED=1 (grace
    periods skipped).

The liburcu variant (build/host/liburcu) is the urcu_* programs built
against liburcu itself: each must pass there too.

A sanitizer report is recognised by its own banner ("WARNING:
ThreadSanitizer:", "ERROR: AddressSanitizer:"). A process that runs
longer than --timeout seconds is a failure (a hang: the tests count
events and never depend on speed). Prints one line per check and a
total; exit status 0 when every check went as required.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BANNER = {"tsan": "WARNING: ThreadSanitizer:", "asan": "ERROR: AddressSanitizer:"}
# halt_on_error: the first report ends the process (a broken variant is
# caught in its first race, not after the whole run). GRACE_OPTS: the tests
# hold readers for counts of yields, which a loaded host can stretch past
# the 2 s stall warning; at 60 s it still comes before the hang timeout.
OPTIONS = {
    "TSAN_OPTIONS": "halt_on_error=1 exitcode=66 second_deadlock_stack=1",
    "ASAN_OPTIONS": "halt_on_error=1 exitcode=67 detect_leaks=1",
    "GRACE_OPTS": "rcu_stall_ms=60000",
}


class Check:
    """One process to run and what must happen."""

    def __init__(self, variant: str, label: str, argv: list[str], flagged: bool, env=None):
        self.variant, self.label, self.argv, self.flagged = variant, label, argv, flagged
        self.env = env or {}
        self.ok = False
        self.detail = ""
        self.output = ""
        self.seconds = 0.0

    def run(self, timeout: float) -> "Check":
        env = dict(os.environ, **OPTIONS, **self.env)
        t0 = time.monotonic()
        try:
            r = subprocess.run(self.argv, cwd=REPO, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, errors="replace",
                               timeout=timeout)
            self.output, status = r.stdout, r.returncode
        except subprocess.TimeoutExpired as e:
            self.output = (e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes) \
                else (e.stdout or "")
            status = None
        self.seconds = time.monotonic() - t0
        reported = BANNER.get(self.variant, "ThreadSanitizer: AddressSanitizer:") in self.output
        if status is None:
            self.detail = f"no exit within {timeout:g} s (a hang)"
        elif self.flagged:
            self.ok = reported
            self.detail = "flagged, as required" if reported else \
                f"NOT flagged by the sanitizer (exit status {status})"
        else:
            self.ok = status == 0 and not reported
            self.detail = "passed, no report" if self.ok else \
                ("sanitizer report" if reported else f"exit status {status}")
        return self


def checks_for(build: Path, variant: str) -> list[Check]:
    vdir = build / variant
    if variant == "liburcu":
        return [Check(variant, f"{prog.name} against liburcu", [str(prog)], False)
                for prog in sorted(vdir.glob("urcu_*"))]
    host_test = vdir / "host_test"
    checks = [Check(variant, "host_test (every test of the real code)", [str(host_test)], False)]
    listing = subprocess.run([str(host_test), "--list"], cwd=REPO, stdout=subprocess.PIPE,
                             text=True, check=True, env=dict(os.environ, **OPTIONS)).stdout
    for line in listing.splitlines():
        name, broken, _ = line.split(" ", 2)
        if broken != "-" and variant in broken.split(","):
            checks.append(Check(variant, f"{name} (broken)", [str(host_test), name], True))
    for prog in sorted(vdir.glob("urcu_*")):
        checks.append(Check(variant, prog.name, [str(prog)], False))
        checks.append(Check(variant, f"{prog.name} GRACE_URCU_BUSTED=1 (broken)", [str(prog)], True,
                            {"GRACE_URCU_BUSTED": "1"}))
    return checks


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default="build/host")
    ap.add_argument("--variants", default="tsan,asan,liburcu")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=180)
    ns = ap.parse_args(argv)
    build = REPO / ns.build
    variants = [v for v in ns.variants.split(",") if v]
    for v in variants:
        built = build / v / ("urcu_readers" if v == "liburcu" else "host_test")
        if v not in (*BANNER, "liburcu") or not built.is_file():
            print(f"host-test: no {built}: run make host-test", file=sys.stderr)
            return 2
    checks = [c for v in variants for c in checks_for(build, v)]
    t0 = time.monotonic()
    failed = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, ns.jobs)) as pool:
        for c in pool.map(lambda c: c.run(ns.timeout), checks):
            print(f"host-test {c.variant}: {'ok  ' if c.ok else 'FAIL'} {c.label}: {c.detail} "
                  f"({c.seconds:.1f} s)", flush=True)
            if not c.ok:
                failed.append(c)
    for c in failed:
        tail = "\n".join(c.output.splitlines()[-40:])
        print(f"\n--- {c.variant} {c.label}: last lines of output ---\n{tail}", file=sys.stderr)
    print(f"host-test: {len(checks) - len(failed)} of {len(checks)} checks as required "
          f"({time.monotonic() - t0:.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
