#!/usr/bin/env python3
"""Release a pset into the course's handout repository: `make handout
PSET=N HANDOUT_REPO=dir [EARLIER=student|staff]`.

    python3 tools/release.py PSET REPO [--earlier student|staff] [--seed N]

REPO is a git repository that students clone (staff push it wherever the
course hosts it). Each release is one commit whose tree is exactly the
handout of pset PSET (tools/handout.py), with the trailers

    Grace-Handout: pset N
    Grace-Earlier: student

so that a student who has pset N-1's release and their own work in a clone
runs `git pull` and gets pset N, with conflicts only where the course
changed lines the student changed too. The first release creates REPO (a
repository on branch main). Releasing the same pset again commits the
course's fixes as another commit of that pset; releases never go back to
an earlier pset, nor change the course's choice of EARLIER (with "staff",
a release carries the staff's solutions of the earlier psets, and a pull
conflicts wherever the student's code differs from them).

A debugging pset (one bug planted per student, tools/bugs.py) is released
with --seed N (`make handout PSET=5 SEED=N HANDOUT_REPO=dir`) into a
repository of its own per seed, which the students of that seed clone: its
handout carries the staff's solutions of the earlier psets, so it would not
merge into a student's clone of the earlier releases. Its commits also
carry `Grace-Seed: N`, and a release into a repository that holds any
other release (another pset, another seed) is refused.

tools/submit.py finds the release a student's work starts from by the
Grace-Handout trailer, and its seed by Grace-Seed.
"""

from __future__ import annotations

import sys

sys.dont_write_bytecode = True

import argparse
import os
import re
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO / "tools") not in sys.path:
    sys.path.insert(0, str(REPO / "tools"))
import handout  # noqa: E402
import psets  # noqa: E402

TRAILER_RE = re.compile(r"^Grace-Handout: pset (\d+)$", re.MULTILINE)
EARLIER_RE = re.compile(r"^Grace-Earlier: (\w+)$", re.MULTILINE)
SEED_RE = re.compile(r"^Grace-Seed: (\d+)$", re.MULTILINE)
# An identity for the release commits when git has none configured.
IDENTITY = {"GIT_AUTHOR_NAME": "Grace course staff", "GIT_AUTHOR_EMAIL": "staff@grace.invalid",
            "GIT_COMMITTER_NAME": "Grace course staff",
            "GIT_COMMITTER_EMAIL": "staff@grace.invalid"}


class ReleaseError(Exception):
    """The release cannot be made: the message says why."""


def git(repo: Path, *args: str, env: dict | None = None) -> str:
    """Run git in `repo`; its output, or ReleaseError with git's message."""
    proc = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True,
                          env={**os.environ, **(env or {})})
    if proc.returncode != 0:
        raise ReleaseError(f"git {' '.join(args)} in {repo}: {proc.stderr.strip()}")
    return proc.stdout


def last_release(repo: Path, rev: str = "HEAD") -> tuple[int, str, str] | None:
    """(pset, earlier, commit) of the newest release in `rev`'s history."""
    out = subprocess.run(["git", "log", "-1", "--format=%H%n%B", "--grep=^Grace-Handout: pset",
                          rev], cwd=repo, capture_output=True, text=True)
    if out.returncode != 0 or not out.stdout.strip():
        return None
    commit, _, body = out.stdout.partition("\n")
    pset, earlier = TRAILER_RE.search(body), EARLIER_RE.search(body)
    if not pset:
        return None
    return int(pset.group(1)), earlier.group(1) if earlier else "staff", commit


def release_seed(repo: Path, commit: str) -> int | None:
    """The seed of the release `commit` (a debugging pset's), or None."""
    out = subprocess.run(["git", "log", "-1", "--format=%B", commit], cwd=repo,
                         capture_output=True, text=True)
    m = SEED_RE.search(out.stdout) if out.returncode == 0 else None
    return int(m.group(1)) if m else None


def identity(repo: Path) -> dict:
    """IDENTITY, unless git in `repo` has a user configured."""
    configured = subprocess.run(["git", "config", "user.email"], cwd=repo,
                                capture_output=True, text=True).stdout.strip()
    return {} if configured else IDENTITY


def release(pset: int, repo: Path, earlier: str, seed: int | None = None) -> str:
    """Commit pset `pset`'s handout (with the bug of `seed`, for a
    debugging pset) into `repo`; return what was done."""
    earlier, _ = handout.choose(pset, earlier, seed)   # a debugging pset needs its seed
    if repo.exists() and not (repo / ".git").exists():
        raise ReleaseError(f"{repo} exists and is not a git repository")
    if not repo.exists():
        repo.mkdir(parents=True)
        git(repo, "init", "-q", "-b", "main")
    if git(repo, "status", "--porcelain").strip():
        raise ReleaseError(f"{repo} has uncommitted changes: commit or discard them first")
    previous = last_release(repo)
    if previous and (seed is not None or release_seed(repo, previous[2]) is not None):
        if (previous[0], release_seed(repo, previous[2])) != (pset, seed):
            raise ReleaseError(f"{repo} holds the release of pset {previous[0]}"
                               f"{seed_words(release_seed(repo, previous[2]))}: each seed of a "
                               "debugging pset is a repository of its own")
    if previous:
        if pset < previous[0]:
            raise ReleaseError(f"{repo} has released pset {previous[0]}: releases go forward")
        if earlier != previous[1]:
            raise ReleaseError(f"{repo} releases earlier psets as the {previous[1]}'s code; "
                               f"releasing with EARLIER={earlier} would break every student's "
                               "pulls")
    files = handout.plan(pset, earlier, seed=seed)   # validates everything first
    for entry in repo.iterdir():
        if entry.name != ".git":
            shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
    handout.write_files(files, repo)
    git(repo, "add", "-A")
    if not git(repo, "status", "--porcelain").strip():
        return f"pset {pset}: {repo} already holds this release (nothing to commit)"
    again = previous and previous[0] == pset
    subject = f"Pset {pset}: {psets.PSETS[pset].title}" + (" (the course's fixes)" if again else "")
    trailers = f"Grace-Handout: pset {pset}\nGrace-Earlier: {earlier}"
    if seed is not None:
        trailers += f"\nGrace-Seed: {seed}"
    git(repo, "commit", "-q", "-m", subject, "-m", trailers, env=identity(repo))
    commit = git(repo, "rev-parse", "--short", "HEAD").strip()
    return (f"pset {pset}{seed_words(seed)} released in {repo} as commit {commit}; "
            f"students {'clone it' if not previous else 'run `git pull`'}")


def seed_words(seed: int | None) -> str:
    return f" (seed {seed})" if seed is not None else ""


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="release.py", description=__doc__.split("\n")[0])
    parser.add_argument("pset", type=int)
    parser.add_argument("repo", type=Path)
    parser.add_argument("--earlier", choices=handout.EARLIER_CHOICES, default=psets.EARLIER)
    parser.add_argument("--seed", type=int, help="a debugging pset: which planted bug")
    ns = parser.parse_args(argv)
    repo = ns.repo.resolve()
    if repo == REPO or REPO.is_relative_to(repo) or repo.is_relative_to(REPO / ".git"):
        print(f"release.py: refusing to release into {repo}", file=sys.stderr)
        return 2
    try:
        print(release(ns.pset, repo, ns.earlier, ns.seed))
    except (ReleaseError, handout.HandoutError, handout.MarkerError) as err:
        print(f"release.py: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
