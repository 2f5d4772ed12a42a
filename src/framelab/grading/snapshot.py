"""The first step of grading: a private copy of each submission, taken before any of its code runs.

``framelab grade`` grades the snapshot, never the live ``submitted/`` folder, and the out-of-kernel
score of record and ``framelab audit`` read it too; so nothing a notebook does while it runs (or a
trainee does to ``submitted/`` later) changes what is scored. The copy:

* never follows a symbolic link: a link anywhere in the submission (to ``/etc/passwd``, a peer's
  answers, the source notebook) is a plain reason on that trainee's line, and nothing is graded;
* holds only regular files and folders, within a size bound;
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
import stat
from dataclasses import dataclass
from pathlib import Path

from framelab.core import safejson
from framelab.scoring import answers as store

#: A whole submission larger than this is not graded (a real one is well under 1 MB).
MAX_SUBMISSION_BYTES = 50 * 1024**2
#: How large one notebook may be before it is not read (the same bound as the audit's).
MAX_NOTEBOOK_BYTES = 20_000_000
#: How many files a submission may hold.
MAX_FILES = 2_000
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


def copy_tree(src: Path, dest: Path) -> None:
    """Copy ``src`` to ``dest`` without following any symbolic link; refuse links and special files."""
    count = size = 0
    dest.mkdir(parents=True)
    for dirpath, dirnames, filenames in os.walk(src, followlinks=False):
        here = Path(dirpath)
        rel = here.relative_to(src)
        for name in sorted(dirnames + filenames):
            path = here / name
            st = path.lstat()
            shown = (rel / name).as_posix()
            if stat.S_ISLNK(st.st_mode):
                raise SubmissionProblem(
                    f"{shown} is a symbolic link (to {os.readlink(path)}), not a file: links are never followed; "
                    "ask the trainee to submit the file itself"
                )
            if stat.S_ISDIR(st.st_mode):
                (dest / rel / name).mkdir()
                continue
            if not stat.S_ISREG(st.st_mode):
                raise SubmissionProblem(f"{shown} is not a regular file; ask the trainee to resubmit without it")
            count += 1
            size += st.st_size
            if count > MAX_FILES or size > MAX_SUBMISSION_BYTES:
                raise SubmissionProblem(
                    f"the submission holds more than {MAX_FILES:,} files or {MAX_SUBMISSION_BYTES:,} bytes; "
                    "ask the trainee to submit only the module's folder"
                )
            _copy_file(path, dest / rel / name)


def _copy_file(src: Path, dest: Path) -> None:
    """Copy one file's bytes, refusing (not following) a link that appeared since it was listed."""
    fd = os.open(src, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as fin, open(dest, "xb") as fout:
        shutil.copyfileobj(fin, fout)


def digest(folder: Path) -> str:
    """SHA-256 over every relative path and byte under ``folder`` (links are hashed as links, never followed)."""
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        dirnames.sort()
        for name in sorted(filenames + [d for d in dirnames if Path(dirpath, d).is_symlink()]):
            path = Path(dirpath) / name
            h.update(path.relative_to(folder).as_posix().encode() + b"\0")
            if path.is_symlink():
                h.update(b"link:" + os.readlink(path).encode())
            else:
                with path.open("rb") as fh:
                    for block in iter(lambda: fh.read(1 << 20), b""):
                        h.update(block)
            h.update(b"\0")
    return h.hexdigest()


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
    """Copy one submission into ``dest`` (which must not exist), hash it and check its JSON."""
    try:
        copy_tree(src, dest)
    except SubmissionProblem as exc:
        shutil.rmtree(dest, ignore_errors=True)
        return Snapshot(student, dest, problem=str(exc))
    except OSError as exc:
        shutil.rmtree(dest, ignore_errors=True)
        return Snapshot(student, dest, problem=f"the submission could not be copied ({exc.strerror or exc})")
    return Snapshot(student, dest, digest(dest), check_json(dest, notebooks))


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
