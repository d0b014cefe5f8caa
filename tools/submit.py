#!/usr/bin/env python3
"""Hand in a pset: `make submit [PSET=N]`; and, for course staff, turn a
hand-in back into a tree.

    python3 tools/submit.py [--pset N] [--out PATH]
    python3 tools/submit.py unpack ARCHIVE DIR [--repo HANDOUT_REPO]

`submit` packs the student's work on pset N (default: the newest pset
released into this tree) into one archive, build/submit/pset-N.tar.gz:

    SUBMISSION                 the pset, the release the work starts from
                               (its commit; its seed, for a debugging
                               pset), the student's HEAD, the date
    psets/N-NAME-answers.md    the answers file
    submission.patch           every change against that release, committed
                               or not, new files included, build/ never

A tree that is not a git clone of a release (no commit with a
Grace-Handout trailer in its history: tools/release.py) is packed whole
instead, as tree/ without build/ and .git.

It refuses, saying why and changing nothing, when the answers file is
missing or still the template (its collaboration section, or every
question, still holds the placeholder line), or when the tree does not
build (`make all`). A question left unanswered among answered ones is
named, not refused.

`unpack` (staff) makes DIR the student's tree again: a clone of the
handout repository (default: the `origin` of this tree) at the release
commit with the patch applied, or the packed tree. Then grade it with the
course's pristine tests: `python3 tools/grade.py --student DIR`.
"""

from __future__ import annotations

import sys

sys.dont_write_bytecode = True

import argparse
import io
import os
import re
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO / "tools") not in sys.path:
    sys.path.insert(0, str(REPO / "tools"))
import psets  # noqa: E402
import release  # noqa: E402

PLACEHOLDER = "_(your answer)_"
HEADING_RE = re.compile(r"^## (.*)$", re.MULTILINE)
QUESTION_RE = re.compile(r"^(Q\d+)\b")
NOT_PACKED = ("build", ".git")
CLEAN_ENV = {k: v for k, v in os.environ.items()
             if k not in ("GRACE_BUILD", "BUILD", "MAKEFLAGS", "MAKELEVEL", "MFLAGS",
                          "MAKEOVERRIDES")}


class Refused(Exception):
    """The work cannot be handed in as it is: the message says why."""


def released_psets(root: Path) -> list[int]:
    """The psets whose handout text is in the tree `root`."""
    return sorted(n for n, p in psets.PSETS.items() if (root / p.doc).is_file())


def check_answers(text: str, path: str) -> list[str]:
    """Raise Refused when the answers file is still the template; return
    the labels of the questions left unanswered."""
    sections = {}
    heads = list(HEADING_RE.finditer(text))
    for i, m in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
        sections[m.group(1).strip()] = text[m.end():end]
    collaboration = [body for title, body in sections.items() if "collaboration" in title.lower()]
    questions = {QUESTION_RE.match(t).group(1): body for t, body in sections.items()
                 if QUESTION_RE.match(t)}
    if not collaboration or PLACEHOLDER in collaboration[0]:
        raise Refused(f"{path}: fill in \"Collaboration and sources\" (whom you worked with, "
                      f"what you used; \"None\" is an answer) in place of {PLACEHOLDER}")
    blank = [label for label, body in questions.items() if PLACEHOLDER in body]
    if questions and len(blank) == len(questions):
        raise Refused(f"{path} is still the template: no question is answered (write each "
                      f"answer in place of its line {PLACEHOLDER})")
    return blank


def git(*args: str, env: dict | None = None, root: Path = REPO) -> subprocess.CompletedProcess:
    """Run git in `root` with `env` added to the environment."""
    return subprocess.run(["git", *args], cwd=root, capture_output=True,
                          env={**os.environ, **(env or {})})


def work_patch(base: str, root: Path = REPO) -> bytes:
    """Every change of the work tree against commit `base` (committed or
    not, new files included, ignored files and build/ excluded)."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        for args in (("read-tree", base), ("add", "-A"),
                     ("rm", "-r", "-q", "--cached", "--ignore-unmatch", "--", "build", "build-*")):
            proc = git(*args, env=env, root=root)
            if proc.returncode != 0:
                raise Refused(f"git {' '.join(args)}: {proc.stderr.decode().strip()}")
        proc = git("diff", "--cached", "--binary", "--full-index", base, env=env, root=root)
        if proc.returncode != 0:
            raise Refused(f"git diff: {proc.stderr.decode().strip()}")
        return proc.stdout


def not_packed(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
    """tarfile filter for a packed tree: no build directory, no .git."""
    parts = Path(info.name).parts
    top = parts[1] if len(parts) > 1 else ""
    return None if top in NOT_PACKED or top.startswith("build-") else info


def add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    """Add `data` to `tar` as the file `name`."""
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), int(time.time()), 0o644
    tar.addfile(info, io.BytesIO(data))


def build_ok(root: Path = REPO) -> None:
    """Raise Refused unless the tree builds."""
    proc = subprocess.run(["make", "-C", str(root), "-s", "-j2", "all"], env=CLEAN_ENV,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().split("\n")[-15:])
        raise Refused(f"the tree does not build (make all):\n{tail}")


def submit(pset: int | None, out: Path | None, root: Path = REPO) -> str:
    """Pack the work on `pset`; return a summary. Raises Refused."""
    available = released_psets(root)
    if pset is None:
        if not available:
            raise Refused("no pset is released in this tree (no psets/N-NAME.md)")
        pset = available[-1]
    if pset not in psets.PSETS:
        raise Refused(f"no pset {pset}; psets are {sorted(psets.PSETS)}")
    answers = psets.PSETS[pset].answers
    if not (root / answers).is_file():
        raise Refused(f"{answers} is missing: it is part of pset {pset}'s hand-in")
    answers_bytes = (root / answers).read_bytes()
    blank = check_answers(answers_bytes.decode("utf-8", errors="replace"), answers)
    build_ok(root)
    base = release.last_release(root) if (root / ".git").exists() else None
    head = git("rev-parse", "HEAD", root=root).stdout.decode().strip() if base else ""
    out = out or root / "build" / "submit" / f"pset-{pset}.tar.gz"
    out.parent.mkdir(parents=True, exist_ok=True)
    note = [f"pset: {pset}", f"answers: {answers}",
            f"date: {time.strftime('%Y-%m-%d %H:%M:%S %z')}"]
    with tarfile.open(out, "w:gz") as tar:
        add_bytes(tar, answers, answers_bytes)
        if base:
            patch = work_patch(base[2], root)
            note += [f"kind: patch", f"release: pset {base[0]} ({base[1]}), commit {base[2]}",
                     f"head: {head}"]
            seed = release.release_seed(root, base[2])
            if seed is not None:         # a debugging pset: unpack against that seed's repository
                note.append(f"seed: {seed}")
            add_bytes(tar, "submission.patch", patch)
            what = f"a patch of {patch.count(b'diff --git ')} files against release pset {base[0]}"
        else:
            note.append("kind: tree")
            tar.add(root, arcname="tree", filter=not_packed)
            what = "the whole tree (not a clone of a release)"
        add_bytes(tar, "SUBMISSION", ("\n".join(note) + "\n").encode())
    warn = f"\n  not answered: {', '.join(blank)}" if blank else ""
    return f"submit: pset {pset}: {out} ({what}, and {answers}){warn}"


def unpack(archive: Path, dest: Path, repo: str | None) -> str:
    """Make `dest` the tree that `archive` was packed from."""
    if dest.exists() and any(dest.iterdir()):
        raise Refused(f"{dest} exists and is not empty")
    with tarfile.open(archive) as tar:
        note = tar.extractfile("SUBMISSION").read().decode()
        fields = dict(line.split(": ", 1) for line in note.strip().split("\n"))
        if fields.get("kind") == "tree":
            dest.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=dest.parent) as tmp:
                tar.extractall(tmp, filter="data")
                if dest.exists():
                    dest.rmdir()
                (Path(tmp) / "tree").rename(dest)
            return f"unpack: pset {fields['pset']}: the packed tree is {dest}"
        patch = tar.extractfile("submission.patch").read()
    commit = re.search(r"commit (\w+)", fields["release"]).group(1)
    if repo is None:
        repo = git("remote", "get-url", "origin").stdout.decode().strip()
        if not repo:
            raise Refused("no handout repository: give --repo (this tree has no origin)")
    for args, where in ((("clone", "-q", repo, str(dest)), REPO),
                        (("checkout", "-q", commit), dest)):
        proc = git(*args, root=where)
        if proc.returncode != 0:
            raise Refused(f"git {' '.join(args)}: {proc.stderr.decode().strip()}")
    proc = subprocess.run(["git", "apply", "--binary", "--whitespace=nowarn", "-"], cwd=dest,
                          input=patch, capture_output=True)
    if proc.returncode != 0:
        raise Refused(f"the patch does not apply to {commit}: {proc.stderr.decode().strip()}")
    seeded = f" (seed {fields['seed']})" if "seed" in fields else ""
    return (f"unpack: pset {fields['pset']}{seeded}: {dest} is the release {fields['release']} with the "
            f"student's changes; grade it with: python3 tools/grade.py --student {dest} "
            f"--pset {fields['pset']}")


def main(argv: list[str]) -> int:
    if argv[:1] == ["unpack"]:
        parser = argparse.ArgumentParser(prog="submit.py unpack")
        parser.add_argument("archive", type=Path)
        parser.add_argument("dest", type=Path)
        parser.add_argument("--repo", help="the handout repository (default: origin)")
        ns = parser.parse_args(argv[1:])
        action = lambda: unpack(ns.archive, ns.dest.resolve(), ns.repo)   # noqa: E731
    else:
        parser = argparse.ArgumentParser(prog="submit.py", description="Hand in a pset.")
        parser.add_argument("--pset", type=int, help="the pset (default: the newest released)")
        parser.add_argument("--out", type=Path,
                            help="the archive (default build/submit/pset-N.tar.gz)")
        ns = parser.parse_args(argv)
        action = lambda: submit(ns.pset, ns.out)   # noqa: E731
    try:
        print(action())
    except Refused as err:
        print(f"submit: refused: {err}", file=sys.stderr)
        return 1
    except (OSError, tarfile.TarError, KeyError) as err:
        print(f"submit: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
