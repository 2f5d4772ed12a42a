"""The learner's workspace: a copy of the release in which the learner's work is never overwritten.

Each file is written under a temporary name in its folder and then linked into place, so a copy cut
short (a full disk, a file-size limit, Ctrl+C) leaves no half file behind, and a file that appears in
the meantime is never clobbered. What was copied is recorded, with the hash of its bytes, in
``.framelab-copied.json`` at the top of the workspace. On the next run:

* a file the learner does not have yet is copied;
* a file that still has exactly the bytes that were copied (the learner never changed it) and that
  the new release changes is brought up to date;
* a file the learner changed (or that the record does not know) is kept untouched, and listed if it
  differs from the release;
* an earlier copy that is only the beginning of the release file (cut short before copies were
  atomic) is set aside under a dated name and copied again;
* anything that cannot be copied (a read-only folder, a link or a folder in the way, a module path
  that is a file) is reported with its reason, and the rest is copied.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

#: Left behind: editor and grading clutter that a learner never needs.
SKIP = {".ipynb_checkpoints", "__pycache__", ".DS_Store"}
MANIFEST = ".framelab-copied.json"
MANIFEST_FORMAT = "framelab-workspace/1"
#: Far larger than the record of any course's files.
MANIFEST_MAX_BYTES = 4 * 1024 * 1024


@dataclass
class CopyReport:
    copied: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)
    #: kept files that differ from the release: the learner's own work, or a newer release file
    differ: list[Path] = field(default_factory=list)
    #: files the learner never changed, brought up to date with this release
    updated: list[Path] = field(default_factory=list)
    #: earlier copies cut short, set aside (old path, where it went) and copied again
    replaced: list[tuple[Path, Path]] = field(default_factory=list)
    #: files that could not be copied, with the reason and the fix
    failed: list[tuple[Path, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"copied {p}" for p in self.copied]
        out += [f"updated {p} to this release (you had not changed it)" for p in self.updated]
        out += [
            f"copied {p} again: the earlier copy was incomplete (set aside as {aside.name})"
            for p, aside in self.replaced
        ]
        if self.kept:
            out.append(f"kept {len(self.kept)} existing file(s) untouched")
        if self.differ:
            out.append(
                f"Your work is safe: {len(self.differ)} file(s) you have worked on were kept as yours, unchanged ("
                + ", ".join(str(p) for p in self.differ)
                + "). If you ever want a fresh copy of a module, rename its folder and run 'make lab' again."
            )
        out += self.notes
        out += [f"could not copy {p}: {why}" for p, why in self.failed]
        return out

    @property
    def ok(self) -> bool:
        return not self.failed


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_manifest(workspace: Path) -> tuple[dict[str, str], str | None]:
    """The record of copied files (relative path -> hash) and a note if it could not be read."""
    from framelab.core.safejson import UnsafeJSON, load

    path = workspace / MANIFEST
    if not path.exists():
        return {}, None
    try:
        data = load(path, max_bytes=MANIFEST_MAX_BYTES, what=str(path))
    except UnsafeJSON as exc:
        return (
            {},
            f"note: the copy record could not be read ({exc}); a new one was started, and files are kept as yours.",
        )
    files = data.get("files") if isinstance(data, dict) and data.get("format") == MANIFEST_FORMAT else None
    if not isinstance(files, dict):
        return {}, f"note: {path} is not a Frame Lab copy record; a new one was started, and files are kept as yours."
    return {k: v for k, v in files.items() if isinstance(k, str) and isinstance(v, str)}, None


def _write_atomic(path: Path, data: bytes, *, replace: bool) -> bool:
    """Write ``data`` to ``path`` through a temporary file in the same folder. Without ``replace``,
    never clobbers: False if something is already there. Raises OSError when it cannot write."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if replace:
            os.replace(tmp, path)
            return True
        try:
            os.link(tmp, path)  # exclusive: fails if the name was taken meanwhile
        except FileExistsError:
            return False
        except OSError:  # a file system without hard links
            if os.path.lexists(path):
                return False
            os.replace(tmp, path)
        return True
    finally:
        Path(tmp).unlink(missing_ok=True)


def _set_aside(path: Path, what: str) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.{what}-{stamp}")
    n = 1
    while os.path.lexists(target):
        target = path.with_name(f"{path.name}.{what}-{stamp}-{n}")
        n += 1
    path.rename(target)
    return target


def _why(exc: OSError) -> str:
    where = exc.filename or "the folder"
    fix = "make the folder writable or move what is in the way, then run 'make lab' again"
    return f"{exc.strerror or exc} ({where}); {fix}"


def _copy_one(rel: Path, data: bytes, workspace: Path, record: dict[str, str], report: CopyReport) -> None:
    """Bring one release file into the workspace, by the rules in the module docstring."""
    dest = workspace / rel
    key = rel.as_posix()
    new = _sha256(data)
    blocker = next(
        (p for p in [*reversed(rel.parents[:-1])] if (workspace / p).exists() and not (workspace / p).is_dir()), None
    )
    if blocker is not None:
        report.failed.append(
            (rel, f"{workspace / blocker} is a file where a folder should be; rename it, then run 'make lab' again")
        )
        return
    if dest.is_symlink():
        if not dest.exists():
            report.failed.append(
                (rel, "a link to a missing file is in its place; remove the link, then run 'make lab' again")
            )
        else:
            report.kept.append(rel)
        return
    if dest.exists():
        if not dest.is_file():
            report.failed.append((rel, "a folder is in its place; rename it, then run 'make lab' again"))
            return
        _existing(rel, dest, data, new, record, report)
        return
    dest.parent.mkdir(parents=True, exist_ok=True)
    if _write_atomic(dest, data, replace=False):
        record[key] = new
        report.copied.append(rel)
    else:
        report.kept.append(rel)


def _existing(rel: Path, dest: Path, data: bytes, new: str, record: dict[str, str], report: CopyReport) -> None:
    key = rel.as_posix()
    have = dest.read_bytes()
    if have == data:
        record[key] = new  # as released: a later release may update it
        report.kept.append(rel)
    elif record.get(key) == _sha256(have):  # exactly what was copied: the learner never changed it
        _write_atomic(dest, data, replace=True)
        record[key] = new
        report.updated.append(rel)
    elif len(have) < len(data) and data.startswith(have):  # cut short before copies were atomic
        aside = _set_aside(dest, "incomplete")
        _write_atomic(dest, data, replace=False)
        record[key] = new
        report.replaced.append((rel, aside))
    else:
        report.kept.append(rel)  # the learner's: its hash no longer matches the record
        report.differ.append(rel)


def populate(release: Path, workspace: Path) -> CopyReport:
    """Copy ``release`` into ``workspace`` by the rules in the module docstring; never raises for one
    file: what could not be copied is in the report's ``failed``."""
    if not release.is_dir():
        raise FileNotFoundError(f"{release} is not a folder: run this from the course root")
    if workspace.exists() and not workspace.is_dir():
        raise FileExistsError(f"{workspace} is a file, not a folder: rename it, or pass --to with another folder")
    workspace.mkdir(parents=True, exist_ok=True)
    report = CopyReport()
    record, note = read_manifest(workspace)
    recorded = dict(record)
    if note:
        report.notes.append(note)
    for src in sorted(release.rglob("*")):
        rel = src.relative_to(release)
        if any(part in SKIP for part in rel.parts) or not src.is_file():
            continue
        try:
            _copy_one(rel, src.read_bytes(), workspace, record, report)
        except OSError as exc:
            report.failed.append((rel, _why(exc)))
    if record != recorded or note:
        _save_manifest(workspace, record, report)
    return report


def _save_manifest(workspace: Path, record: dict[str, str], report: CopyReport) -> None:
    payload = json.dumps({"format": MANIFEST_FORMAT, "files": dict(sorted(record.items()))}, indent=1) + "\n"
    try:
        path = workspace / MANIFEST
        if path.exists() and not path.is_file():
            raise IsADirectoryError(0, "a folder has the copy record's name", str(path))
        _write_atomic(path, payload.encode(), replace=True)
    except OSError as exc:
        report.notes.append(
            f"note: could not save the copy record {MANIFEST} ({exc.strerror or exc}); your files are safe"
        )
