"""Trainees' work and grades readable by the grader account only.

A course keeps personal data in ``submitted/``, ``autograded/``, ``feedback/``, the snapshots of
record (``.framelab/``) and the gradebook. :func:`make_private` closes each of those folders to
everyone but their owner (``0700``: nobody else can list or enter them, whatever the modes of the
files inside) and the gradebook file to its owner (``0600``). Only the top folders change, never a
file inside ``submitted/``. :func:`privacy_problems` says, one line each, what is still open to
others. ``framelab grade`` and ``framelab feedback`` call both; the README's "Retention and privacy"
says where everything is kept.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

#: the course's folders that hold trainees' work (nbgrader's defaults, and the snapshots of record)
FOLDERS = ("submitted", "autograded", "feedback", ".framelab")
GRADEBOOK = "gradebook.db"
#: SQLite's companion files, which hold the same rows while it writes
COMPANIONS = ("-journal", "-wal", "-shm")


def private_places(course: Path, folders: Iterable[str] = FOLDERS, gradebook: str = GRADEBOOK) -> list[Path]:
    """The folders and gradebook files of ``course`` that exist and hold personal data."""
    places = [course / name for name in folders if (course / name).is_dir() and not (course / name).is_symlink()]
    book = course / gradebook
    places += [p for p in (book, *(Path(f"{book}{c}") for c in COMPANIONS)) if p.is_file() and not p.is_symlink()]
    return places


def open_to_others(path: Path) -> bool:
    return bool(path.lstat().st_mode & (stat.S_IRWXG | stat.S_IRWXO))


def make_private(course: Path, folders: Iterable[str] = FOLDERS, gradebook: str = GRADEBOOK) -> list[str]:
    """Close every place that holds personal data to all but its owner; one line per place that could not be."""
    problems = []
    for path in private_places(course, folders, gradebook):
        if not open_to_others(path):
            continue
        try:
            os.chmod(path, 0o700 if path.is_dir() else 0o600)
        except OSError as exc:
            problems.append(
                f"{path} is readable by other accounts and could not be closed ({exc.strerror}): "
                f"run chmod {'700' if path.is_dir() else '600'} {path} as its owner"
            )
    return problems


def privacy_problems(course: Path, folders: Iterable[str] = FOLDERS, gradebook: str = GRADEBOOK) -> list[str]:
    """One line for each place with personal data that other accounts can still read or enter."""
    return [
        f"{path} can be read by other accounts (mode {stat.filemode(path.lstat().st_mode)}): "
        f"run chmod {'700' if path.is_dir() else '600'} {path}"
        for path in private_places(course, folders, gradebook)
        if open_to_others(path)
    ]
