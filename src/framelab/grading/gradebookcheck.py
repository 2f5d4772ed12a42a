"""Before a command hands the course to nbgrader: is this a course root, and is its gradebook readable?

nbgrader (through SQLAlchemy) answers a missing, damaged or locked ``gradebook.db`` with a traceback,
and creates an empty gradebook wherever it is pointed. These checks answer first, in one plain sentence
that names the file and the fix, using only the standard library: the course's database URL is read
from its ``nbgrader_config.py`` (``c.CourseDirectory.db_url``; nbgrader's default is ``gradebook.db`` in
the course root), and a SQLite file is opened read-only. A server database (PostgreSQL) is left to
nbgrader, which names it in its own errors.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from framelab.core import settings

#: Seconds to wait for a lock held by another program before saying so.
LOCK_WAIT = 5.0
#: A table every nbgrader gradebook has.
NBGRADER_TABLE = "assignment"


def db_url(course: Path) -> str:
    """The course's gradebook URL as its ``nbgrader_config.py`` sets it, else nbgrader's default."""
    default = f"sqlite:///{(course / 'gradebook.db').resolve()}"
    try:
        config = settings.read_config(course)
        url = config.get("CourseDirectory", {}).get("db_url")
    except Exception:
        return default  # nbgrader will report a config it cannot read in its own words
    return url if isinstance(url, str) and url else default


def sqlite_file(url: str) -> Path | None:
    return Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None


def gradebook_problem(course: Path, url: str | None = None, *, must_exist: bool = True) -> str | None:
    """Why the course's gradebook cannot be read, in one sentence with the fix; None if it can (or is
    not a SQLite file, or is absent and ``must_exist`` is False). Never creates or changes the file."""
    path = sqlite_file(url or db_url(course))
    if path is None:
        return None
    if not path.exists():
        if not must_exist:
            return None
        return f"no gradebook at {path}: nothing has been graded yet. Grade an assignment first ('framelab grade')."
    if not path.is_file():
        return f"{path} is not a file, so it cannot be the gradebook: move it aside."
    if not must_exist and path.stat().st_size == 0:
        return None  # an empty file: nbgrader makes its tables there
    return _sqlite_problem(path)


def _sqlite_problem(path: Path) -> str | None:
    damaged = (
        f"{path} is damaged or is not a gradebook ({{}}): restore it from a backup, or move it aside and grade again."
    )
    try:
        con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=LOCK_WAIT)
    except sqlite3.Error as exc:
        return damaged.format(exc)
    try:
        check = con.execute("PRAGMA quick_check").fetchone()
        tables = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc):
            return (
                f"{path} is locked by another program (waited {LOCK_WAIT:.0f} s): let it finish, "
                "or stop it, then run this again."
            )
        return damaged.format(exc)
    except sqlite3.DatabaseError as exc:
        return damaged.format(exc)
    finally:
        con.close()
    if not check or check[0] != "ok":
        return damaged.format(f"integrity check: {check[0] if check else 'no answer'}")
    if NBGRADER_TABLE not in tables:
        return damaged.format("it has no nbgrader tables")
    return None


# --------------------------------------------------------------------------- assignment names


def gradebook_assignments(course: Path, url: str | None = None) -> list[str]:
    """The assignments in the course's gradebook (none when there is no gradebook yet); read-only."""
    url = url or db_url(course)
    path = sqlite_file(url)
    if path is None:
        from nbgrader.api import Gradebook

        with Gradebook(url) as gb:
            return sorted(a.name for a in gb.assignments)
    if not path.is_file() or path.stat().st_size == 0:
        return []
    con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=LOCK_WAIT)
    try:
        return sorted(row[0] for row in con.execute(f"SELECT name FROM {NBGRADER_TABLE}"))
    except sqlite3.Error:
        return []  # gradebook_problem names a damaged gradebook in its own words
    finally:
        con.close()


def source_assignments(course: Path) -> list[str]:
    """The assignments the course has source notebooks for (``source/<assignment>/``)."""
    try:
        source = settings.read_config(course).get("CourseDirectory", {}).get("source_directory") or "source"
    except Exception:
        source = "source"
    folder = course / str(source)
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def assignment_problem(course: Path, names: list[str], url: str | None = None) -> str | None:
    """One line naming the first of ``names`` the gradebook does not hold, and the assignments that
    exist; None if every name is in the gradebook. A name with source notebooks that was never
    generated is told how to add it; a misspelt one is shown the assignments to choose from."""
    book = gradebook_assignments(course, url)
    unknown = [n for n in dict.fromkeys(names) if n not in book]
    if not unknown:
        return None
    name, source = unknown[0], source_assignments(course)
    if name in source:
        return (
            f"'{name}' is not in the gradebook yet: run 'nbgrader generate_assignment {name}' "
            "(and release, collect and grade it) first"
        )
    known = sorted(set(book) | set(source))
    have = f"the assignments are {', '.join(known)}" if known else "this course has no assignments yet"
    return f"no assignment named '{name}' in this course: {have}"
