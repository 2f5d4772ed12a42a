"""The course's roster: trainees imported into nbgrader's gradebook from an LMS roster file, so that
a trainee who never submits still exists, and every table can name her as not submitted.

Three kinds of file are read, told apart by their header row:

* **Canvas** (Grades > Export): ``Student`` ("Last, First"), ``ID`` (Canvas's user id, kept as
  nbgrader's ``lms_user_id``), ``SIS User ID``, ``SIS Login ID``, ``Section``. The nbgrader id is the
  column ``nbgrader_id`` if the file has one, else ``SIS Login ID``.
* **Moodle** (Grades > Export, or Participants > Download): ``First name``, ``Last name``,
  ``ID number``, ``Email address`` (and ``Username`` if present). The nbgrader id is ``nbgrader_id``,
  else ``Username``, else ``ID number``.
* **nbgrader's own** (as ``nbgrader db student import`` reads): ``id`` and any of ``first_name``,
  ``last_name``, ``email``, ``lms_user_id``.

``id_column`` names another column holding the nbgrader (hub) username. Importing adds each trainee
or updates their names, email and LMS id; it never removes anyone and never touches a grade.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from framelab.instructor.course import CourseError, gradebook_args

ROSTER_ID = "nbgrader_id"
CANVAS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
MOODLE = ("First name", "Last name", "ID number", "Email address")
POINTS_POSSIBLE = "Points Possible"


@dataclass(frozen=True)
class Person:
    id: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    lms_user_id: str = ""


def _kind(header: list[str]) -> str | None:
    if all(c in header for c in CANVAS):
        return "canvas"
    if all(c in header for c in MOODLE):
        return "moodle"
    if "id" in header:
        return "nbgrader"
    return None


def _id_column(kind: str, header: list[str], id_column: str | None) -> str:
    if id_column:
        return id_column
    if ROSTER_ID in header:
        return ROSTER_ID
    if kind == "canvas":
        return "SIS Login ID"
    if kind == "moodle":
        return "Username" if "Username" in header else "ID number"
    return "id"


def _person(kind: str, row: dict[str, str], nid: str) -> Person:
    get = {k: (v or "").strip() for k, v in row.items() if k is not None}.get
    if kind == "canvas":
        last, _, first = (get("Student") or "").partition(",")
        return Person(nid, first.strip(), last.strip(), "", get("ID") or "")
    if kind == "moodle":
        return Person(nid, get("First name") or "", get("Last name") or "", get("Email address") or "")
    return Person(nid, get("first_name") or "", get("last_name") or "", get("email") or "", get("lms_user_id") or "")


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CourseError(f"{path}: no such roster file (export it from Canvas or Moodle as CSV)") from None
    except UnicodeDecodeError:
        raise CourseError(f"{path}: not UTF-8 text; save the roster as CSV (UTF-8) and try again") from None


def read_people(path: str | Path, id_column: str | None = None) -> list[Person]:
    """The trainees in a roster file (see the module docstring); one plain error naming the line."""
    path = Path(path)
    reader = csv.DictReader(io.StringIO(_text(path)))
    header = [h.strip() for h in reader.fieldnames or []]
    reader.fieldnames = header
    kind = _kind(header)
    if kind is None:
        raise CourseError(
            f"{path} line 1: not a roster this command knows (its columns: {', '.join(header) or 'none'}). "
            "Use Canvas's gradebook export, Moodle's grade export, or a CSV with a column 'id'."
        )
    key = _id_column(kind, header, id_column)
    if key not in header:
        raise CourseError(
            f"{path} line 1: no column '{key}' (it has: {', '.join(header)}); add a column '{ROSTER_ID}' with "
            "each trainee's hub username, or pass --id-column naming the column that holds it."
        )
    people: dict[str, Person] = {}
    for line, row in enumerate(reader, start=2):
        if POINTS_POSSIBLE in (row.get("Student") or ""):
            continue
        nid = (row.get(key) or "").strip()
        if not nid:
            raise CourseError(f"{path} line {line}: column '{key}' is empty; fill in the trainee's hub username")
        if nid in people:
            raise CourseError(f"{path} line {line}: '{nid}' appears twice in column '{key}'; keep one row each")
        people[nid] = _person(kind, row, nid)
    return list(people.values())


@dataclass
class Imported:
    added: list[str]
    updated: list[str]

    def summary(self) -> str:
        total = len(self.added) + len(self.updated)
        return f"{len(self.added)} trainee(s) added, {len(self.updated)} updated ({total} in the roster)."


def import_people(course: str | Path, people: list[Person]) -> Imported:
    """Add or update each trainee in the course's gradebook (created if there is none yet)."""
    from nbgrader.api import Gradebook

    url, course_id = gradebook_args(course)
    done = Imported([], [])
    with Gradebook(url, course_id) as gb:
        known = {s.id for s in gb.students}
        for p in people:
            fields = {k: v for k, v in vars(p).items() if k != "id" and v}
            gb.update_or_create_student(p.id, **fields)
            (done.updated if p.id in known else done.added).append(p.id)
    return done


def not_submitted(gb: Any, assignment: str) -> list[str]:
    """The trainees in an open gradebook with no submission of ``assignment``, sorted."""
    submitted = {s.student.id for s in gb.assignment_submissions(assignment)}
    return sorted(s.id for s in gb.students if s.id not in submitted)
