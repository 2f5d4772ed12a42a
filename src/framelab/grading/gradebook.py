"""The gradebook side of ``framelab grade``: only the parent process writes it.

* :func:`copy_sqlite` takes a consistent copy of a SQLite gradebook for the workers;
* :func:`extract` reads one submission's rows from a worker's private copy as plain data;
* :func:`merge` writes those rows into the real gradebook *without committing*, so that the
  out-of-kernel score of record goes into the same transaction and a trainee is recorded whole
  or not at all;
* :func:`patiently` waits, within a bound, for a gradebook someone else holds locked, or whose
  database server is restarting, and then says so in one line (:class:`GradebookLocked`), never
  with a traceback.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from framelab.grading import dbretry

T = TypeVar("T")

#: How long a gradebook locked by another program is waited for, in seconds.
LOCK_WAIT = 60.0


class GradebookLocked(Exception):
    """The gradebook could not be used within the bound: locked by another program, or its database
    server away for longer than :data:`framelab.grading.dbretry.DEADLINE`. The message is one plain line."""


def is_sqlite(db_url: str) -> bool:
    return db_url.startswith("sqlite:///")


def sqlite_file(db_url: str) -> Path:
    return Path(db_url.removeprefix("sqlite:///"))


def _locked(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "database is locked" in text or "database table is locked" in text or "busy" in text


def patiently(
    step: Callable[[], T],
    db_url: str,
    wait: float = LOCK_WAIT,
    undo: Callable[[], Any] | None = None,
    retries: dbretry.Retries | None = None,
) -> T:
    """Run ``step``; while the gradebook is locked by someone else, undo and try again, up to ``wait`` seconds.
    While a database server is away (a restart), undo, wait until it answers again and try again, within
    :func:`framelab.grading.dbretry.call`'s bounds; ``retries`` counts those waits for the summary."""
    if is_sqlite(db_url):
        return _while_locked(step, db_url, wait, undo)

    def recover(exc: BaseException) -> float:
        _undo(undo)  # the connection it would roll back may be gone
        return dbretry.wait_reachable(db_url)

    try:
        return dbretry.call(
            lambda: _while_locked(step, db_url, wait, undo),
            what="writing the gradebook",
            retries=retries,
            attempts=dbretry.ATTEMPTS + 1,
            recover=recover,
        )
    except dbretry.GradebookUnavailable as gone:
        raise GradebookLocked(str(gone)) from None


def _undo(undo: Callable[[], Any] | None) -> None:
    if undo is not None:
        with contextlib.suppress(Exception):
            undo()


def _while_locked(step: Callable[[], T], db_url: str, wait: float, undo: Callable[[], Any] | None) -> T:
    """Run ``step``; while the gradebook is locked by another program, undo and try again, up to ``wait``
    seconds, then say so in one line. Any other error is raised as it is."""
    deadline = time.monotonic() + wait
    pause = 0.2
    while True:
        try:
            return step()
        except Exception as exc:  # sqlite3 and SQLAlchemy both say "database is locked"
            if not _locked(exc):
                raise
            _undo(undo)
            if time.monotonic() >= deadline:
                where = sqlite_file(db_url) if is_sqlite(db_url) else "the gradebook database"
                raise GradebookLocked(
                    f"{where} stayed locked by another program for {wait:g} s: close whatever holds it "
                    "(another grading run, formgrader, a database browser) and run the same command again"
                ) from None
            time.sleep(pause)
            pause = min(pause * 2, 2.0)


def copy_sqlite(db_url: str, dest: Path, wait: float = LOCK_WAIT) -> None:
    """A consistent copy of a SQLite gradebook, even if something is writing to it."""

    def backup() -> None:
        src = sqlite3.connect(sqlite_file(db_url), timeout=1.0)
        dst = sqlite3.connect(dest)
        try:
            # a read lock first (it fails, after the timeout, while someone holds the file locked), held
            # through the copy: SQLite's own backup would otherwise retry a locked file for ever
            src.execute("BEGIN")
            src.execute("SELECT count(*) FROM sqlite_master").fetchone()
            with dst:
                src.backup(dst)
        finally:
            src.close()
            dst.close()

    patiently(backup, db_url, wait)


def extract(db_url: str, course_id: str, assignment: str, student: str) -> dict[str, Any] | None:
    """One submission's gradebook rows as plain data (what merging copies)."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(db_url, course_id) as gb:
        try:
            sub = gb.find_submission(assignment, student)
        except MissingEntry:
            return None
        st = sub.student
        data: dict[str, Any] = {
            "student": {
                "first_name": st.first_name,
                "last_name": st.last_name,
                "email": st.email,
                "lms_user_id": st.lms_user_id,
            },
            "timestamp": sub.timestamp,
            "extension": sub.extension,
            "notebooks": {},
        }
        for nb in sub.notebooks:
            data["notebooks"][nb.name] = {
                "flagged": nb.flagged,
                "late_submission_penalty": nb.late_submission_penalty,
                "grades": {
                    g.name: {
                        "auto_score": g.auto_score,
                        "manual_score": g.manual_score,
                        "extra_credit": g.extra_credit,
                        "needs_manual_grade": g.needs_manual_grade,
                    }
                    for g in nb.grades
                },
                "comments": {
                    c.name: {"auto_comment": c.auto_comment, "manual_comment": c.manual_comment} for c in nb.comments
                },
            }
        return data


def merge(gb: Any, assignment: str, student: str, data: dict[str, Any]) -> None:
    """Write one submission's rows (from :func:`extract`) into an open gradebook, uncommitted."""
    from nbgrader.api import MissingEntry

    with warnings.catch_warnings():
        # nbgrader's update_or_create_submission triggers SQLAlchemy autoflush warnings
        warnings.simplefilter("ignore")
        try:
            gb.find_student(student)
        except MissingEntry:
            gb.add_student(student, **{k: v for k, v in data["student"].items() if v is not None})
        kwargs = {"timestamp": data["timestamp"]} if data["timestamp"] is not None else {}
        sub = gb.update_or_create_submission(assignment, student, **kwargs)
        sub.extension = data["extension"]
        for nb_name, nb_data in data["notebooks"].items():
            snb = gb.find_submission_notebook(nb_name, assignment, student)
            snb.flagged = nb_data["flagged"]
            snb.late_submission_penalty = nb_data["late_submission_penalty"]
            for g in snb.grades:
                for key, value in nb_data["grades"].get(g.name, {}).items():
                    setattr(g, key, value)
            for c in snb.comments:
                for key, value in nb_data["comments"].get(c.name, {}).items():
                    setattr(c, key, value)


def tally(gb: Any, assignment: str, student: str) -> tuple[float, float, float]:
    """(autograded points earned, autograded points possible, points still to hand-grade)."""
    sub = gb.find_submission(assignment, student)
    earned = possible = pending = 0.0
    for nb in sub.notebooks:
        for g in nb.grades:
            if g.auto_score is not None:
                earned += g.auto_score
                possible += g.max_score
            elif g.needs_manual_grade and g.manual_score is None:
                pending += g.max_score
    return earned, possible, pending


def gradebook_rows(db_url: str, assignment: str, course_id: str) -> dict[tuple[str, ...], tuple[Any, ...]]:
    """Everything autograding writes for an assignment, keyed for comparison: per submission
    its timestamp, per notebook its late penalty, per cell its scores and comments."""
    from nbgrader.api import Gradebook

    rows: dict[tuple[str, ...], tuple[Any, ...]] = {}
    with Gradebook(db_url, course_id) as gb:
        for sub in gb.assignment_submissions(assignment):
            s = sub.student.id
            rows[(s,)] = (sub.timestamp,)
            for nb in sub.notebooks:
                rows[(s, nb.name)] = (nb.late_submission_penalty, nb.flagged)
                for g in nb.grades:
                    rows[(s, nb.name, "grade", g.name)] = (
                        g.auto_score,
                        g.manual_score,
                        g.extra_credit,
                        g.needs_manual_grade,
                    )
                for c in nb.comments:
                    rows[(s, nb.name, "comment", c.name)] = (c.auto_comment, c.manual_comment)
    return rows
