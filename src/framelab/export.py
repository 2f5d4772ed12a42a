"""Grades out of nbgrader's gradebook: nbgrader's own CSV, and CSVs that Canvas and Moodle import.

Scores are nbgrader's: automatic plus manual points, minus any late penalty (the ``score``
column of ``nbgrader export``). A trainee with no submission for an assignment gets an empty
cell in the LMS files (so an import leaves that grade alone) and 0 in nbgrader's own export.

* **Canvas** (Grades > Import): ``Student, ID, SIS User ID, SIS Login ID, Section``, one column
  per assignment, and a ``Points Possible`` row. Canvas matches a row by ``ID`` (its own user
  id: nbgrader's ``lms_user_id`` when set), ``SIS User ID`` or ``SIS Login ID`` (both the
  nbgrader student id); a column whose name is not an existing assignment becomes a new one.
* **Moodle** (Grades > Import > CSV file): ``First name, Last name, ID number, Email address``
  and one column per assignment; at import, map ``ID number`` (the nbgrader student id) or
  ``Email address`` to the user, and each assignment column to a grade item.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
CANVAS_POINTS_ROW = "    Points Possible"
MOODLE_COLUMNS = ["First name", "Last name", "ID number", "Email address"]


def gradebook_args(course: str | Path) -> tuple[str, str]:
    """The course's gradebook URL and course id, as its ``nbgrader_config.py`` sets them."""
    from nbgrader.coursedir import CourseDirectory

    from .cohort import course_config

    cd = CourseDirectory(config=course_config(Path(course).resolve()))
    return cd.db_url, cd.course_id


def _open(course: str | Path) -> Any:
    from nbgrader.api import Gradebook

    url, course_id = gradebook_args(course)
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        raise FileNotFoundError(f"no gradebook at {url.removeprefix('sqlite:///')}: nothing has been graded yet")
    return Gradebook(url, course_id)


def scores(course: str | Path, assignments: list[str] | None = None) -> list[dict[str, Any]]:
    """One row per trainee and assignment, from the gradebook (the numbers ``nbgrader export`` writes)."""
    from nbgrader.api import MissingEntry

    rows = []
    with _open(course) as gb:
        for assignment in gb.assignments:
            if assignments and assignment.name not in assignments:
                continue
            for student in gb.students:
                row = {
                    "assignment": assignment.name,
                    "student_id": student.id,
                    "first_name": student.first_name or "",
                    "last_name": student.last_name or "",
                    "email": student.email or "",
                    "lms_user_id": student.lms_user_id or "",
                    "max_score": float(assignment.max_score),
                    "submitted": False,
                    "auto": None,
                    "manual": None,
                    "raw_score": None,
                    "late_submission_penalty": None,
                    "score": None,
                }
                try:
                    sub = gb.find_submission(assignment.name, student.id)
                except MissingEntry:
                    rows.append(row)
                    continue
                grades = [g for nb in sub.notebooks for g in nb.grades]
                penalty = float(sub.late_submission_penalty or 0)
                row.update(
                    submitted=True,
                    auto=float(sum(g.auto_score or 0 for g in grades if g.manual_score is None)),
                    manual=float(sum(g.manual_score or 0 for g in grades if g.manual_score is not None)),
                    raw_score=float(sub.score),
                    late_submission_penalty=penalty,
                    score=float(sub.score) - penalty,
                )
                rows.append(row)
    if assignments:
        order = {a: i for i, a in enumerate(assignments)}
        rows.sort(key=lambda r: (order.get(r["assignment"], len(order)), r["student_id"]))
    return rows


def _fmt(x: float | None) -> str:
    return "" if x is None else f"{x:g}"


def _pivot(rows: list[dict[str, Any]]) -> tuple[list[str], dict[str, dict[str, Any]], dict[str, float]]:
    assignments = list(dict.fromkeys(r["assignment"] for r in rows))
    students: dict[str, dict[str, Any]] = {}
    maxima: dict[str, float] = {}
    for r in rows:
        s = students.setdefault(r["student_id"], {**r, "scores": {}})
        s["scores"][r["assignment"]] = r["score"]
        maxima[r["assignment"]] = r["max_score"]
    return assignments, dict(sorted(students.items())), maxima


def write_canvas(rows: list[dict[str, Any]], path: str | Path) -> Path:
    assignments, students, maxima = _pivot(rows)
    path = Path(path)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(CANVAS_COLUMNS + assignments)
        w.writerow([CANVAS_POINTS_ROW, "", "", "", "", *(_fmt(maxima[a]) for a in assignments)])
        for sid, s in students.items():
            name = f"{s['last_name']}, {s['first_name']}" if s["last_name"] and s["first_name"] else sid
            w.writerow([name, s["lms_user_id"], sid, sid, "", *(_fmt(s["scores"].get(a)) for a in assignments)])
    return path


def write_moodle(rows: list[dict[str, Any]], path: str | Path) -> Path:
    assignments, students, _ = _pivot(rows)
    path = Path(path)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(MOODLE_COLUMNS + assignments)
        for sid, s in students.items():
            w.writerow(
                [s["first_name"], s["last_name"], sid, s["email"], *(_fmt(s["scores"].get(a)) for a in assignments)]
            )
    return path


def write_nbgrader(course: str | Path, path: str | Path, assignments: list[str] | None = None) -> Path:
    """nbgrader's own export (its CSV plugin, as ``nbgrader export`` runs it)."""
    from nbgrader.plugins import CsvExportPlugin

    from .cohort import course_config

    path = Path(path).resolve()
    plugin = CsvExportPlugin(config=course_config(Path(course).resolve()))
    plugin.to = str(path)
    plugin.assignment = list(assignments or [])
    with _open(course) as gb:
        plugin.export(gb)
    return path


def export_all(course: str | Path, out: str | Path, assignments: list[str] | None = None) -> list[Path]:
    """``grades.csv`` (nbgrader's export), ``grades_canvas.csv`` and ``grades_moodle.csv`` in ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows = scores(course, assignments)
    return [
        write_nbgrader(course, out / "grades.csv", assignments),
        write_canvas(rows, out / "grades_canvas.csv"),
        write_moodle(rows, out / "grades_moodle.csv"),
    ]
