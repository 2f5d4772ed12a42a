"""Grades out of nbgrader's gradebook: nbgrader's own CSV, and CSVs that Canvas and Moodle import.

Scores are nbgrader's: automatic plus manual points, minus any late penalty (the ``score``
column of ``nbgrader export``). A trainee with no submission for an assignment gets an empty
cell in the LMS files (so an import leaves that grade alone) and 0 in nbgrader's own export.

**Hand-grading pending** (see :mod:`framelab.instructor.course`): nbgrader counts an ungraded reflection as
0, so such a total is not a real number. :func:`export_all` refuses while any is pending;
with ``allow_pending`` it writes the files with those totals *blank* (LMS files) or blank with
``needs_manual_grade`` true (nbgrader's CSV), never a number that looks final.

The formats relied on (checked by ``tests/test_export.py``):

* **Canvas** (Grades > Import, a "Gradebook CSV"): the header is ``Student, ID, SIS User ID,
  SIS Login ID, Section`` and then one column per assignment; the second row may be
  ``Points Possible`` with each assignment's maximum. Canvas matches a row to a person by
  ``ID`` (Canvas's own user id), else ``SIS User ID``, else ``SIS Login ID``; a column whose
  name is not an existing assignment becomes a new assignment. Those ids are Canvas's, not
  nbgrader's: pass a **roster**, Canvas's own gradebook export (Grades > Export), with a column
  ``nbgrader_id`` added, or ``match`` naming the Canvas column that holds the nbgrader id (for
  example ``SIS Login ID`` when trainees log in to the hub with their SIS login). Without a
  roster, ``ID`` is nbgrader's ``lms_user_id`` where set, ``SIS Login ID`` the nbgrader id and
  ``SIS User ID`` blank: that matches only when hub usernames are SIS login ids.
* **Moodle** (Grades > Import > CSV file): ``First name, Last name, ID number, Email address``
  and one column per assignment. At import, under "Identify user by", map ``ID number`` to the
  user field "ID number" (when the Moodle profiles' ID number is the nbgrader id) or
  ``Email address`` to "Email address" (when nbgrader has the trainees' emails), and each
  assignment column to a grade item.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from framelab.core.files import write_text_atomically
from framelab.grading import late
from framelab.instructor.course import CourseError, Pending, open_gradebook, pending

CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
CANVAS_POINTS_ROW = "    Points Possible"
MOODLE_COLUMNS = ["First name", "Last name", "ID number", "Email address"]
ROSTER_ID = "nbgrader_id"


class PendingGrades(CourseError):
    """Hand-grading is pending and the caller did not allow an early export."""

    def __init__(self, message: str, items: list[Pending]):
        super().__init__(message)
        self.items = items


def scores(course: str | Path, assignments: list[str] | None = None) -> list[dict[str, Any]]:
    """One row per trainee and assignment, from the gradebook (the numbers ``nbgrader export`` writes),
    with ``pending``: the points still to hand-grade (0 when the total is final)."""
    from nbgrader.api import MissingEntry

    rows = []
    with open_gradebook(course) as gb:
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
                    "pending": 0.0,
                    "late": "",
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
                    pending=float(sum(g.max_score or 0 for g in grades if g.needs_manual_grade)),
                    late=late.describe(float(sub.total_seconds_late or 0), penalty),
                )
                rows.append(row)
    if assignments:
        order = {a: i for i, a in enumerate(assignments)}
        rows.sort(key=lambda r: (order.get(r["assignment"], len(order)), r["student_id"]))
    return rows


def _fmt(x: float | None) -> str:
    return "" if x is None else f"{x:g}"


def _final(row: dict[str, Any]) -> float | None:
    """The score to put in a file: None (blank) when not submitted or hand-grading is pending."""
    return None if row["pending"] else row["score"]


def _pivot(rows: list[dict[str, Any]]) -> tuple[list[str], dict[str, dict[str, Any]], dict[str, float]]:
    assignments = list(dict.fromkeys(r["assignment"] for r in rows))
    students: dict[str, dict[str, Any]] = {}
    maxima: dict[str, float] = {}
    for r in rows:
        s = students.setdefault(r["student_id"], {**r, "scores": {}})
        s["scores"][r["assignment"]] = _final(r)
        maxima[r["assignment"]] = r["max_score"]
    return assignments, dict(sorted(students.items())), maxima


def write_atomic(path: str | Path, rows: Iterable[list[Any]]) -> Path:
    """Write CSV rows to a temporary file beside ``path``, then rename it into place."""
    path = Path(path)
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    write_text_atomically(path, buf.getvalue(), newline="")
    return path


# --------------------------------------------------------------------------- Canvas roster


@dataclass
class Roster:
    """Canvas's identities for nbgrader ids, read from Canvas's own gradebook export."""

    people: dict[str, dict[str, str]]  # nbgrader id -> {Student, ID, SIS User ID, SIS Login ID, Section}
    source: Path


def read_roster(path: str | Path, match: str | None = None) -> Roster:
    """Read a roster CSV: Canvas's gradebook export (Grades > Export) with a ``nbgrader_id`` column
    added, or with ``match`` naming the Canvas column that holds the nbgrader id."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CourseError(f"{path}: no such roster file (export it from Canvas: Grades > Export)") from None
    except UnicodeDecodeError:
        raise CourseError(f"{path}: not UTF-8 text; save the roster as CSV (UTF-8) and try again") from None
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    key = match or ROSTER_ID
    missing = [c for c in [key, *CANVAS_COLUMNS] if c not in header]
    if missing:
        raise CourseError(
            f"{path} line 1: the roster has no column {', '.join(repr(c) for c in missing)} (it has: "
            f"{', '.join(header) or 'nothing'}). Use Canvas's gradebook export and add a column "
            f"'{ROSTER_ID}' with each trainee's nbgrader id, or pass --roster-match with the Canvas column "
            "that already holds it."
        )
    people: dict[str, dict[str, str]] = {}
    for line, row in enumerate(reader, start=2):
        nid = (row.get(key) or "").strip()
        if not nid or (row.get("Student") or "").strip() == CANVAS_POINTS_ROW.strip():
            continue
        if nid in people:
            raise CourseError(f"{path} line {line}: '{nid}' appears twice in column '{key}'; keep one row per trainee")
        people[nid] = {c: (row.get(c) or "").strip() for c in CANVAS_COLUMNS}
    return Roster(people, path)


# --------------------------------------------------------------------------- writers


def canvas_rows(rows: list[dict[str, Any]], roster: Roster | None = None) -> tuple[list[list[str]], list[str]]:
    """The Canvas file's rows, and the nbgrader ids left out because the roster does not know them."""
    assignments, students, maxima = _pivot(rows)
    out = [CANVAS_COLUMNS + assignments, [CANVAS_POINTS_ROW, "", "", "", "", *(_fmt(maxima[a]) for a in assignments)]]
    unknown = []
    for sid, s in students.items():
        grades = [_fmt(s["scores"].get(a)) for a in assignments]
        if roster is not None:
            person = roster.people.get(sid)
            if person is None:
                unknown.append(sid)
                continue
            out.append([person[c] for c in CANVAS_COLUMNS] + grades)
            continue
        name = f"{s['last_name']}, {s['first_name']}" if s["last_name"] and s["first_name"] else sid
        out.append([name, s["lms_user_id"], "", sid, "", *grades])
    return out, unknown


def write_canvas(rows: list[dict[str, Any]], path: str | Path, roster: Roster | None = None) -> Path:
    table, _ = canvas_rows(rows, roster)
    return write_atomic(path, table)


def write_moodle(rows: list[dict[str, Any]], path: str | Path) -> Path:
    assignments, students, _ = _pivot(rows)
    table = [MOODLE_COLUMNS + assignments]
    for sid, s in students.items():
        table.append(
            [s["first_name"], s["last_name"], sid, s["email"], *(_fmt(s["scores"].get(a)) for a in assignments)]
        )
    return write_atomic(path, table)


def write_nbgrader(
    course: str | Path,
    path: str | Path,
    assignments: list[str] | None = None,
    waiting: list[Pending] | None = None,
    lateness: dict[tuple[str, str], str] | None = None,
) -> Path:
    """nbgrader's own export (its CSV plugin, as ``nbgrader export`` runs it), plus the columns
    ``needs_manual_grade`` and ``late`` ("" on time, else how late and the penalty, from ``lateness``);
    a pending submission's ``raw_score`` and ``score`` are left blank."""
    from nbgrader.plugins import CsvExportPlugin

    from framelab.instructor.course import course_config

    path = Path(path).resolve()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        plugin = CsvExportPlugin(config=course_config(Path(course).resolve()))
        plugin.to = tmp
        plugin.assignment = list(assignments or [])
        with open_gradebook(course) as gb:
            plugin.export(gb)
        with open(tmp, newline="", encoding="utf-8") as fh:
            table = list(csv.reader(fh))
    finally:
        Path(tmp).unlink(missing_ok=True)
    blank = {(p.assignment, p.student) for p in waiting or []}
    head = table[0]
    a, s = head.index("assignment"), head.index("student_id")
    out = [[*head, "needs_manual_grade", "late"]]
    for row in table[1:]:
        is_pending = (row[a], row[s]) in blank
        if is_pending:
            row = [("" if col in ("raw_score", "score") else v) for col, v in zip(head, row, strict=True)]
        out.append([*row, str(is_pending), (lateness or {}).get((row[a], row[s]), "")])
    return write_atomic(path, out)


@dataclass
class Exported:
    files: list[Path]
    pending: list[Pending]
    warnings: list[str]


def export_all(
    course: str | Path,
    out: str | Path,
    assignments: list[str] | None = None,
    *,
    formats: Iterable[str] = ("nbgrader", "canvas", "moodle"),
    allow_pending: bool = False,
    roster: Roster | None = None,
) -> Exported:
    """``grades.csv`` (nbgrader's export), ``grades_canvas.csv`` and ``grades_moodle.csv`` in ``out``.

    Raises :class:`PendingGrades` while hand-grading is pending, unless ``allow_pending``."""
    from framelab.instructor.course import pending_message

    waiting = pending(course, assignments)
    if waiting and not allow_pending:
        raise PendingGrades(pending_message(waiting, "export"), waiting)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows = scores(course, assignments)
    formats = set(formats)
    files, warnings = [], []
    if "nbgrader" in formats:
        lateness = {(r["assignment"], r["student_id"]): r["late"] for r in rows}
        files.append(write_nbgrader(course, out / "grades.csv", assignments, waiting, lateness))
    if "canvas" in formats:
        table, unknown = canvas_rows(rows, roster)
        files.append(write_atomic(out / "grades_canvas.csv", table))
        if roster is None:
            warnings.append(
                "grades_canvas.csv: no roster given, so each row carries the nbgrader id as SIS Login ID; Canvas "
                "matches that only if trainees' hub usernames are their SIS login ids (see --roster)."
            )
        for sid in unknown:
            warnings.append(f"grades_canvas.csv: '{sid}' is not in the roster {roster.source}; left out (add them)")
    if "moodle" in formats:
        files.append(write_moodle(rows, out / "grades_moodle.csv"))
    if waiting:
        warnings.append(
            f"{len(waiting)} submission(s) with hand-grading pending were exported with their totals left blank: "
            + ", ".join(f"{p.assignment}/{p.student}" for p in waiting)
        )
    return Exported(files, waiting, warnings)
