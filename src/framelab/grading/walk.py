"""Walking a folder a trainee controls: never following a link, one level at a time, within bounds.

Both the collect (:mod:`framelab.grading.collect`, the exchange's inbound folder into ``submitted/``)
and the snapshot (:mod:`framelab.grading.snapshot`, ``submitted/`` into a private copy) read folders
that a trainee made and may still be changing. :func:`walk` lists such a folder without ever
following a symbolic link (every entry is ``lstat``-ed, every folder opened with ``O_NOFOLLOW`` and
checked to be the very folder that was listed), with a stack rather than recursion (a 100,000-deep
tree is a plain refusal, never a ``RecursionError``), and within :class:`Bounds` on entries (files
*and* folders: 150,000 empty folders are refused after the first few thousand), bytes and depth.
Names are kept as the operating system gives them (``os.fsencode`` gives back their exact bytes),
so a name that is not UTF-8 is one more name. :func:`copy_file` copies one listed file the same
way: opened without following a link or blocking on a FIFO, and refused unless it is still the
regular file that was listed.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO


@dataclass(frozen=True)
class Bounds:
    """How much of a trainee's folder is read at most: entries (files and folders), bytes, depth."""

    entries: int = 2_000
    bytes: int = 50 * 1024**2
    depth: int = 32


BOUNDS = Bounds()


class TreeProblem(Exception):
    """The folder cannot be taken as it stands; the message names the entry and what to do."""


@dataclass(frozen=True)
class Entry:
    """One thing in the folder: its path from the top, what it is, its size and identity."""

    rel: str
    kind: str  # "dir", "file", "link" or "special" (a FIFO, socket or device)
    size: int
    dev: int
    ino: int

    @property
    def shown(self) -> str:
        """The path as a person can read it (bytes that are not UTF-8 shown as escapes)."""
        return shown(self.rel)


#: Control characters (a newline in a name would split a report's one line) shown as escapes.
_CONTROL = {c: f"\\x{c:02x}" for c in [*range(32), 127]}


def shown(rel: str) -> str:
    """A name as one line a person can read: bytes that are not UTF-8, and control characters, as escapes."""
    return os.fsencode(rel).decode("utf-8", "backslashreplace").translate(_CONTROL)


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "link"
    if stat.S_ISDIR(mode):
        return "dir"
    return "file" if stat.S_ISREG(mode) else "special"


def _open_dir(path: str, identity: tuple[int, int]) -> int:
    """Open a listed folder without following a link, and only if it is still that folder."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    st = os.fstat(fd)
    if (st.st_dev, st.st_ino) != identity:
        os.close(fd)
        raise TreeProblem(f"{shown(path)} changed while it was being read; ask the trainee to submit again")
    return fd


def walk(root: str | Path, bounds: Bounds = BOUNDS) -> Iterator[Entry]:
    """Every entry under ``root``, a folder before what it holds, names in order; links and special
    files are listed (never followed or opened). Raises :class:`TreeProblem` past a bound."""
    root = os.fspath(root)
    top = os.lstat(root)
    if not stat.S_ISDIR(top.st_mode):
        raise TreeProblem(f"{shown(root)} is not a folder (it is a {_kind(top.st_mode)})")
    stack: list[tuple[str, int, tuple[int, int]]] = [("", 0, (top.st_dev, top.st_ino))]
    count = total = 0
    while stack:
        rel, depth, identity = stack.pop()
        fd = _open_dir(os.path.join(root, rel) if rel else root, identity)
        try:
            names = sorted(os.listdir(fd))
            found = [(name, os.stat(name, dir_fd=fd, follow_symlinks=False)) for name in names]
        finally:
            os.close(fd)
        subdirs = []
        for name, st in found:
            entry = Entry(os.path.join(rel, name) if rel else name, _kind(st.st_mode), st.st_size, st.st_dev, st.st_ino)
            count += 1
            total += entry.size if entry.kind == "file" else 0
            if count > bounds.entries or total > bounds.bytes:
                raise TreeProblem(
                    f"the folder holds more than {bounds.entries:,} files and folders or {bounds.bytes:,} bytes; "
                    "ask the trainee to submit only the module's own files"
                )
            if entry.kind == "dir" and depth + 1 > bounds.depth:
                raise TreeProblem(
                    f"{entry.shown} is nested more than {bounds.depth} folders deep; "
                    "ask the trainee to submit only the module's own files"
                )
            yield entry
            if entry.kind == "dir":
                subdirs.append((entry.rel, depth + 1, (entry.dev, entry.ino)))
        stack.extend(reversed(subdirs))


def open_file(root: str | Path, entry: Entry) -> int:
    """A read-only descriptor for a listed regular file: no link followed, no FIFO waited on, and
    only if it is still the file that was listed."""
    path = os.path.join(os.fspath(root), entry.rel)
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode) or (st.st_dev, st.st_ino) != (entry.dev, entry.ino):
        os.close(fd)
        raise TreeProblem(f"{entry.shown} changed while it was being read; ask the trainee to submit again")
    return fd


def copy_file(root: str | Path, entry: Entry, dest: Path, budget: int) -> int:
    """Copy one listed file's bytes to ``dest`` (which must not exist), reading at most ``budget``
    bytes (a file that grew past it is refused). Returns the bytes copied."""
    fd = open_file(root, entry)
    with os.fdopen(fd, "rb") as fin, open(dest, "xb") as fout:
        shutil.copyfileobj(_Capped(fin, budget), fout)
        return fout.tell()


class _Capped:
    """A reader that refuses to give more than ``budget`` bytes."""

    def __init__(self, raw: BinaryIO, budget: int) -> None:
        self.raw, self.left = raw, budget

    def read(self, n: int = -1) -> bytes:
        block = self.raw.read(1 << 20 if n is None or n < 0 else n)
        self.left -= len(block)
        if self.left < 0:
            raise TreeProblem("a file grew past the folder's size bound while it was copied; ask for a resubmission")
        return block
