"""``framelab purge``: remove a cohort's personal data from every place the course keeps it.

A trainee's written reflection is kept in five places (the exchange's inbound folder, ``submitted/``,
the snapshot of record, ``autograded/`` and ``feedback/``, and the exchange's feedback folder makes a
sixth); their scores and comments are in the gradebook, and a cohort report or a grades export written
inside the course holds them too. :func:`plan` lists every one of them for one assignment or for the
whole cohort; nothing is removed until :func:`carry_out` is called with that list (the command asks
for ``--yes`` after showing it). Plain data in, plain lines out; one place that cannot be removed is one
line, and the rest are removed.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from framelab.instructor.course import course_config, gradebook_args

#: what a cohort report (framelab report) and a grades export (framelab export) write
REPORT_FILES = ("report.html", "item_stats.csv", "confusions.csv", "progress.csv", "scores.png", "items.png")
EXPORT_FILES = ("grades.csv", "grades_canvas.csv", "grades_moodle.csv")
#: folders of the course that hold no report or export (or are walked on their own)
NOT_WALKED = {"submitted", "autograded", "feedback", "source", "release", "modules", ".framelab", ".git", ".venv"}


@dataclass(frozen=True)
class Place:
    """One place to remove: a file or a folder, or (``path`` None) the gradebook's rows."""

    what: str
    path: Path | None = None


def _folders(course: Path, cfg: Any, assignment: str | None) -> list[Place]:
    places = []
    for key, default, what in (
        ("submitted_directory", "submitted", "submission as handed in"),
        ("autograded_directory", "autograded", "graded copy"),
        ("feedback_directory", "feedback", "feedback page"),
    ):
        top = course / str(cfg.CourseDirectory.get(key, default))
        pattern = f"*/{assignment}" if assignment else "*"
        places += [Place(f"{what}: {p.relative_to(course)}", p) for p in sorted(top.glob(pattern)) if p.is_dir()]
    snaps = course / ".framelab" / "snapshots"
    pattern = assignment if assignment else "*"
    places += [Place(f"snapshots of record: {p.relative_to(course)}", p) for p in sorted(snaps.glob(pattern))]
    return places


def exchange_root(cfg: Any, exchange: Path | None) -> Path | None:
    """The exchange folder of this course: ``exchange`` if given, else the course's ``Exchange.root``."""
    if exchange is None:
        root = cfg.Exchange.get("root") if "Exchange" in cfg else None
        exchange = Path(str(root)) if root else Path("/srv/nbgrader/exchange")
    course_id = str(cfg.CourseDirectory.get("course_id", "")) or "framelab"
    folder = exchange / course_id
    return folder if folder.is_dir() else None


def _feedback_names(course: Path, cfg: Any, assignment: str) -> set[str]:
    """The exchange's names for this assignment's released feedback (nbgrader's notebook hash)."""
    from nbgrader.utils import notebook_hash

    names = set()
    for key, default in (("feedback_directory", "feedback"), ("submitted_directory", "submitted")):
        for folder in (course / str(cfg.CourseDirectory.get(key, default))).glob(f"*/{assignment}"):
            secret = folder / "submission_secret.txt"
            if secret.is_file():
                text = secret.read_text(encoding="utf-8", errors="replace")
                names |= {f"{notebook_hash(secret=text, notebook_id=nb.stem)}.html" for nb in folder.glob("*.ipynb")}
                names |= {f"{notebook_hash(secret=text, notebook_id=h.stem)}.html" for h in folder.glob("*.html")}
    return names


def _exchange(course: Path, cfg: Any, assignment: str | None, exchange: Path | None) -> list[Place]:
    root = exchange_root(cfg, exchange)
    if root is None:
        return []
    inbound = [p for p in sorted((root / "inbound").glob("*")) if not assignment or _names(p.name, assignment)]
    places = [Place(f"exchange, handed in: {p}", p) for p in inbound]
    released = sorted((root / "feedback").glob("*.html"))
    if assignment:
        wanted = _feedback_names(course, cfg, assignment)
        released = [p for p in released if p.name in wanted]
    return places + [Place(f"exchange, feedback returned: {p}", p) for p in released]


def _names(folder: str, assignment: str) -> bool:
    """Whether an inbound folder (``student+assignment+timestamp[+random]``) is of ``assignment``."""
    parts = folder.split("+")
    return len(parts) >= 3 and parts[1] == assignment


def _outputs(course: Path) -> list[Place]:
    """Cohort reports and grades exports written inside the course (they hold every assignment's scores)."""
    places = []
    for folder, dirs, files in os.walk(course):
        here = Path(folder)
        dirs[:] = [d for d in dirs if not (here == course and d in NOT_WALKED) and not d.startswith(".framelab")]
        if "report.html" in files and "item_stats.csv" in files:
            kept = [f for f in files if f in REPORT_FILES or (f.startswith("confusion_") and f.endswith(".png"))]
            places += [Place(f"cohort report: {(here / f).relative_to(course)}", here / f) for f in sorted(kept)]
        places += [
            Place(f"grades export: {(here / f).relative_to(course)}", here / f) for f in EXPORT_FILES if f in files
        ]
    return places


def _gradebook(course: Path, assignment: str | None) -> tuple[list[Place], list[str]]:
    """The gradebook's rows to remove, and the trainees they belong to."""
    from nbgrader.api import Gradebook, MissingEntry

    url, course_id = gradebook_args(course)
    with Gradebook(url, course_id) as gb:
        students = [s.id for s in gb.students]
        if assignment:
            try:
                students = [s.student.id for s in gb.find_assignment(assignment).submissions]
            except MissingEntry:
                students = []
    if not students:
        return [], []
    what = f"{assignment}'s submissions" if assignment else "every trainee and all their submissions"
    return [Place(f"gradebook: {what} ({len(students)} trainee(s): scores, comments, late penalties)")], students


def plan(course: Path, assignment: str | None = None, exchange: Path | None = None) -> list[Place]:
    """Every place that holds the cohort's personal data for ``assignment`` (None: the whole cohort)."""
    course = course.resolve()
    cfg = course_config(course)
    places = _folders(course, cfg, assignment) + _exchange(course, cfg, assignment, exchange)
    places += _outputs(course)
    rows, _ = _gradebook(course, assignment)
    return places + rows


def carry_out(course: Path, places: list[Place], assignment: str | None = None) -> list[str]:
    """Remove every place in ``places``; returns one line for each that could not be removed."""
    problems = []
    for place in places:
        try:
            if place.path is None:
                _clear_gradebook(course.resolve(), assignment)
            elif place.path.is_dir() and not place.path.is_symlink():
                shutil.rmtree(place.path)
                _tidy(place.path.parent, course.resolve())
            else:
                place.path.unlink(missing_ok=True)
        except (OSError, ValueError) as exc:
            problems.append(f"not removed: {place.what} ({exc}); remove it by hand, or run again as its owner")
    return problems


def _tidy(folder: Path, course: Path) -> None:
    """A trainee's folder left empty (its name is their id) goes too; never the course's own folders."""
    if folder.parent.parent == course and folder.parent.name != ".framelab" and not any(folder.iterdir()):
        folder.rmdir()


def _clear_gradebook(course: Path, assignment: str | None) -> None:
    from nbgrader.api import Gradebook

    url, course_id = gradebook_args(course)
    _, students = _gradebook(course, assignment)
    with Gradebook(url, course_id) as gb:
        for student in students:
            if assignment:
                gb.remove_submission(assignment, student)
            else:
                gb.remove_student(student)
