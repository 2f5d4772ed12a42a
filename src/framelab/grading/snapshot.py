"""The first step of grading: a private copy of each submission, taken before any of its code runs.

``framelab grade`` grades the snapshot, never the live ``submitted/`` folder, and the out-of-kernel
score of record and ``framelab audit`` read it too; so nothing a notebook does while it runs (or a
trainee does to ``submitted/`` later) changes what is scored. The copy:

* never follows a symbolic link: a link anywhere in the submission (to ``/etc/passwd``, a peer's
  answers, the source notebook) is a plain reason on that trainee's line, and nothing is graded;
* holds only regular files and folders, within bounds on files and folders together, bytes and
  depth, walked one level at a time (:mod:`framelab.grading.walk`); names are bytes, so a name that
  is not UTF-8 is hashed like any other;
* has every notebook and ``answers.json`` read with bounds on size and nesting depth
  (:mod:`framelab.core.safejson`), so a JSON bomb is that trainee's reason and the rest are graded;
* is hashed (SHA-256 over every relative path and byte), so that ``framelab audit`` can say whether
  ``submitted/`` still matches what was graded.

Snapshots of record live in ``.framelab/snapshots/<assignment>/<student>/`` under the course root
(mode 0700), where no sandboxed kernel can see them.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from framelab.core import safejson
from framelab.grading import walk as walker
from framelab.scoring import answers as store

#: A whole submission larger than this is not graded (a real one is well under 1 MB).
MAX_SUBMISSION_BYTES = walker.BOUNDS.bytes
#: How large one notebook may be before it is not read (the same bound as the audit's).
MAX_NOTEBOOK_BYTES = 20_000_000
#: How many files and folders a submission may hold, and how deep its folders may nest.
MAX_FILES = walker.BOUNDS.entries
MAX_DEPTH = walker.BOUNDS.depth
STORE = Path(".framelab") / "snapshots"


@dataclass
class Snapshot:
    """One trainee's private copy: where it is, its digest, and why it cannot be graded ("" if it can)."""

    student: str
    folder: Path
    digest: str = ""
    problem: str = ""


class SubmissionProblem(Exception):
    """The submission cannot be graded as it stands; the message says why and what to do."""


def copy_tree(src: Path, dest: Path, bounds: walker.Bounds = walker.BOUNDS) -> None:
    """Copy ``src`` to ``dest`` without following any symbolic link; refuse links and special files.
    The walk is iterative and bounded (:mod:`framelab.grading.walk`): folders count toward the bound."""
    dest.mkdir(parents=True)
    left = bounds.bytes
    try:
        for entry in walker.walk(src, bounds):
            target = dest / entry.rel
            if entry.kind == "link":
                raise SubmissionProblem(
                    f"{entry.shown} is a symbolic link (to {_target(src, entry)}), not a file: links are never "
                    "followed; ask the trainee to submit the file itself"
                )
            if entry.kind == "special":
                raise SubmissionProblem(
                    f"{entry.shown} is not a regular file (a FIFO, socket or device); "
                    "ask the trainee to resubmit without it"
                )
            if entry.kind == "dir":
                target.mkdir()
            else:
                left -= walker.copy_file(src, entry, target, left)
    except walker.TreeProblem as exc:
        raise SubmissionProblem(str(exc)) from None


def _target(root: Path, entry: walker.Entry) -> str:
    try:
        return walker.shown(os.readlink(os.path.join(root, entry.rel)))
    except OSError:
        return "somewhere"


def digest(folder: Path, bounds: walker.Bounds = walker.BOUNDS) -> str:
    """SHA-256 over every relative path and byte under ``folder`` (links are hashed as links, never
    followed; names as their bytes). A folder past the bounds, or that changes as it is read, has
    a digest that starts with "!" and says why (it matches no recorded digest)."""
    h = hashlib.sha256()
    try:
        entries = list(walker.walk(folder, bounds))
        for entry in _hash_order(entries):
            h.update(os.fsencode(entry.rel) + b"\0")
            if entry.kind == "link":
                h.update(b"link:" + os.fsencode(os.readlink(folder / entry.rel)))
            elif entry.kind == "special":
                h.update(b"special")
            else:
                with os.fdopen(walker.open_file(folder, entry), "rb") as fh:
                    for block in iter(lambda: fh.read(1 << 20), b""):
                        h.update(block)
            h.update(b"\0")
    except (walker.TreeProblem, OSError) as exc:
        return f"!{exc}"
    return h.hexdigest()


def _hash_order(entries: list[walker.Entry]) -> list[walker.Entry]:
    """Each folder's own entries (all but its folders) in name order, then its folders in turn: the
    order the digest has always had, so that digests recorded before stay valid."""
    children: dict[str, list[walker.Entry]] = {}
    for entry in entries:
        children.setdefault(os.path.dirname(entry.rel), []).append(entry)
    out: list[walker.Entry] = []
    stack = [""]
    while stack:
        here = stack.pop()
        mine = children.get(here, [])
        out += sorted((e for e in mine if e.kind != "dir"), key=lambda e: os.path.basename(e.rel))
        stack.extend(sorted((e.rel for e in mine if e.kind == "dir"), reverse=True))
    return out


def check_json(folder: Path, notebooks: list[str]) -> str:
    """A plain reason why a notebook or the answers file cannot be read safely, or ""."""
    present = sorted(p.name for p in folder.glob("*.ipynb"))
    for name in notebooks:
        path = folder / f"{name}.ipynb"
        if not path.is_file():
            others = f" (it has: {', '.join(present)})" if present else " (it has no notebook at all)"
            return (
                f"{path.name} is missing from the submission{others}: ask the trainee to submit it under its own name"
            )
        try:
            safejson.load(path, max_bytes=MAX_NOTEBOOK_BYTES, what=path.name)
        except safejson.UnsafeJSON as exc:
            return f"{exc} The upload was cut short or edited by hand: ask for a resubmission"
    answers = folder / store.FILENAME
    if answers.is_file():
        try:
            safejson.load(answers, max_bytes=store.MAX_BYTES, what=store.FILENAME)
        except safejson.UnsafeJSON as exc:
            return f"{exc} Ask the trainee to pick their answers again and resubmit"
    return ""


def take(src: Path, dest: Path, student: str, notebooks: list[str]) -> Snapshot:
    """Copy one submission into ``dest`` (which must not exist), hash it and check its JSON. Nothing
    raises: whatever goes wrong is this trainee's ``problem``, and the rest of the cohort is graded."""
    try:
        copy_tree(src, dest)
        snap = Snapshot(student, dest, digest(dest))
        if snap.digest.startswith("!"):
            raise SubmissionProblem(f"the copy could not be hashed ({snap.digest[1:]})")
        snap.problem = check_json(dest, notebooks)
        return snap
    except SubmissionProblem as exc:
        problem = str(exc)
    except OSError as exc:
        problem = f"the submission could not be copied ({exc.strerror or exc})"
    except Exception as exc:  # anything else is still this trainee's line, never the run's end
        problem = f"the submission could not be copied ({type(exc).__name__}: {exc})"
    shutil.rmtree(dest, ignore_errors=True)
    return Snapshot(student, dest, problem=problem)


def of_record(course: Path, assignment: str, student: str) -> Path:
    """Where the snapshot a trainee's grade was made from is kept."""
    return course / STORE / assignment / student


def keep(snap: Snapshot, course: Path, assignment: str) -> Path:
    """Make a graded snapshot the one of record (replacing an older one) with its digest beside it."""
    home = of_record(course, assignment, snap.student)
    home.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(course / STORE.parts[0], 0o700)
    old = home.with_name(f".old-{snap.student}")
    shutil.rmtree(old, ignore_errors=True)
    if home.exists():
        os.replace(home, old)
    os.replace(snap.folder, home)
    shutil.rmtree(old, ignore_errors=True)
    meta = home.with_name(f"{snap.student}.json")
    tmp = meta.with_name(f".{meta.name}.tmp")
    tmp.write_text(json.dumps({"sha256": snap.digest}) + "\n", encoding="utf-8")
    os.replace(tmp, meta)
    return home


def recorded_digest(course: Path, assignment: str, student: str) -> str:
    """The digest saved with a snapshot of record ("" if none)."""
    meta = of_record(course, assignment, student).with_name(f"{student}.json")
    try:
        data = safejson.load(meta, max_bytes=4096)
    except safejson.UnsafeJSON:
        return ""
    return data.get("sha256", "") if type(data) is dict else ""
