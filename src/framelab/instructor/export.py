"""Grades out of nbgrader's gradebook: nbgrader's own CSV, and CSVs that Canvas and Moodle import.

Scores are nbgrader's: automatic plus manual points, minus any late penalty (the ``score``
column of ``nbgrader export``). A trainee with no submission for an assignment (one the roster
added, :mod:`framelab.instructor.roster`) gets an empty cell in the LMS files (so an import leaves
that grade alone), or 0 with ``missing="zero"``, and 0 in nbgrader's own export with ``submitted``
False. Each assignment's pass mark (``c.FrameLab.pass_marks``, a percentage) goes into nbgrader's
export as ``pass_mark`` and ``passed``; the LMS files carry grades only (an extra Canvas column
would become a new assignment).

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
  ``SIS User ID`` blank: that matches only when hub usernames are SIS login ids. An assignment's
  column takes the header of an existing Canvas assignment when the roster has one whose name,
  without Canvas's ``(id)``, is the assignment's (``M1 double bind (4051)``), or the header given in
  ``canvas_columns``; Canvas then fills that assignment instead of making a new one.
* **Moodle** (Grades > Import > CSV file): ``First name, Last name, ID number, Email address``
  and one column per assignment. At import, under "Identify user by", map ``ID number`` to the
  user field "ID number" (when the Moodle profiles' ID number is the nbgrader id) or
  ``Email address`` to "Email address" (when nbgrader has the trainees' emails), and each
  assignment column to a grade item. With a Moodle roster (Moodle's grade export, with a column
  ``nbgrader_id`` or ``match`` naming the column holding the hub username, e.g. ``Username``), each
  row carries Moodle's own names, ``ID number`` and email, so either mapping matches.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
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


#: what an LMS file holds for a trainee with no submission: an empty cell (the LMS leaves the grade
#: alone) or 0 (``--missing zero``)
MISSING = ("blank", "zero")


def _final(row: dict[str, Any], missing: str = "blank") -> float | None:
    """The score to put in a file: None (blank) when hand-grading is pending, or when not submitted
    unless ``missing`` is ``"zero"``."""
    if not row["submitted"]:
        return 0.0 if missing == "zero" else None
    return None if row["pending"] else row["score"]


def _pivot(
    rows: list[dict[str, Any]], missing: str = "blank"
) -> tuple[list[str], dict[str, dict[str, Any]], dict[str, float]]:
    assignments = list(dict.fromkeys(r["assignment"] for r in rows))
    students: dict[str, dict[str, Any]] = {}
    maxima: dict[str, float] = {}
    for r in rows:
        s = students.setdefault(r["student_id"], {**r, "scores": {}})
        s["scores"][r["assignment"]] = _final(r, missing)
        maxima[r["assignment"]] = r["max_score"]
    return assignments, dict(sorted(students.items())), maxima


def write_atomic(path: str | Path, rows: Iterable[list[Any]]) -> Path:
    """Write CSV rows to a temporary file beside ``path``, then rename it into place."""
    path = Path(path)
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    write_text_atomically(path, buf.getvalue(), newline="")
    return path


# --------------------------------------------------------------------------- rosters


@dataclass
class Roster:
    """The LMS's identities for nbgrader ids, read from the LMS's own gradebook export: Canvas's
    (Grades > Export) or Moodle's (Grades > Export > Plain text file)."""

    people: dict[str, dict[str, str]]  # nbgrader id -> the LMS's identity columns
    source: Path
    kind: str = "canvas"  # or "moodle"
    #: the file's other columns: in a Canvas export, its assignments ("Module 1 (4051)")
    headers: tuple[str, ...] = ()


def _roster_kind(header: list[str]) -> tuple[str, list[str]] | None:
    if all(c in header for c in CANVAS_COLUMNS):
        return "canvas", CANVAS_COLUMNS
    if all(c in header for c in MOODLE_COLUMNS):
        return "moodle", MOODLE_COLUMNS
    return None


def read_roster(path: str | Path, match: str | None = None) -> Roster:
    """Read a roster CSV: Canvas's or Moodle's gradebook export with a ``nbgrader_id`` column added,
    or with ``match`` naming the column that holds the nbgrader id."""
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
    kind, columns = _roster_kind(header) or ("canvas", CANVAS_COLUMNS)
    missing = [c for c in [key, *columns] if c not in header]
    if missing:
        raise CourseError(
            f"{path} line 1: the roster has no column {', '.join(repr(c) for c in missing)} (it has: "
            f"{', '.join(header) or 'nothing'}). Use Canvas's or Moodle's gradebook export and add a column "
            f"'{ROSTER_ID}' with each trainee's nbgrader id, or pass --roster-match with the column "
            "that already holds it."
        )
    people: dict[str, dict[str, str]] = {}
    for line, row in enumerate(reader, start=2):
        nid = (row.get(key) or "").strip()
        if not nid or (row.get("Student") or "").strip() == CANVAS_POINTS_ROW.strip():
            continue
        if nid in people:
            raise CourseError(f"{path} line {line}: '{nid}' appears twice in column '{key}'; keep one row per trainee")
        people[nid] = {c: (row.get(c) or "").strip() for c in columns}
    extra = tuple(h for h in header if h not in columns and h != key)
    return Roster(people, path, kind, extra)


def _bare(header: str) -> str:
    """A Canvas column without its id: ``"M1 double bind (4051)"`` -> ``"m1 double bind"``."""
    head = header.strip()
    if head.endswith(")") and " (" in head:
        head = head[: head.rindex(" (")]
    return " ".join(head.replace("_", " ").split()).lower()


def canvas_headers(
    assignments: list[str], mapping: dict[str, str] | None = None, roster: Roster | None = None
) -> tuple[dict[str, str], list[str]]:
    """Each assignment's column in the Canvas file, and notes on those left as new columns.

    ``mapping`` (assignment -> an existing Canvas column header) wins; else a column of the Canvas
    roster whose name, without its ``(id)``, is the assignment's name or its module name
    (``m1_double_bind`` or ``M1 double bind``); else the assignment's name, which Canvas makes into a
    new assignment."""
    from framelab.instructor.plots import module_name

    mapping = mapping or {}
    headers = roster.headers if roster is not None and roster.kind == "canvas" else ()
    out, notes = {}, []
    for a in assignments:
        wanted = {_bare(a), _bare(module_name(a))}
        found = [h for h in headers if _bare(h) in wanted]
        out[a] = mapping.get(a) or (found[0] if len(found) == 1 else a)
        if a not in mapping and len(found) != 1 and roster is not None and roster.kind == "canvas":
            notes.append(
                f"grades_canvas.csv: no single column of {roster.source.name} is '{a}' "
                f"({len(found)} match); Canvas will make it a new assignment unless you pass "
                f"--canvas-column '{a}=<the column header in Canvas>'"
            )
    return out, notes


# --------------------------------------------------------------------------- writers


def canvas_rows(
    rows: list[dict[str, Any]],
    roster: Roster | None = None,
    headers: dict[str, str] | None = None,
    missing: str = "blank",
) -> tuple[list[list[str]], list[str]]:
    """The Canvas file's rows, and the nbgrader ids left out because the roster does not know them."""
    assignments, students, maxima = _pivot(rows, missing)
    names = [(headers or {}).get(a, a) for a in assignments]
    out = [CANVAS_COLUMNS + names, [CANVAS_POINTS_ROW, "", "", "", "", *(_fmt(maxima[a]) for a in assignments)]]

    def own(sid: str, s: dict[str, Any]) -> list[str]:
        name = f"{s['last_name']}, {s['first_name']}" if s["last_name"] and s["first_name"] else sid
        return [name, s["lms_user_id"], "", sid, ""]

    rows_, unknown = _people_rows(students, assignments, roster, CANVAS_COLUMNS, own)
    return out + rows_, unknown


def write_canvas(rows: list[dict[str, Any]], path: str | Path, roster: Roster | None = None) -> Path:
    table, _ = canvas_rows(rows, roster)
    return write_atomic(path, table)


def moodle_rows(
    rows: list[dict[str, Any]], roster: Roster | None = None, missing: str = "blank"
) -> tuple[list[list[str]], list[str]]:
    """The Moodle file's rows, and the nbgrader ids a Moodle roster does not know (left out).
    With a Moodle roster each row carries Moodle's own names, ID number and email."""
    assignments, students, _ = _pivot(rows, missing)
    rows_, unknown = _people_rows(
        students, assignments, roster, MOODLE_COLUMNS, lambda sid, s: [s["first_name"], s["last_name"], sid, s["email"]]
    )
    return [MOODLE_COLUMNS + assignments, *rows_], unknown


def _people_rows(
    students: dict[str, dict[str, Any]],
    assignments: list[str],
    roster: Roster | None,
    columns: list[str],
    own: Callable[[str, dict[str, Any]], list[str]],
) -> tuple[list[list[str]], list[str]]:
    """One row per trainee: their identity columns (from the LMS roster where one is given, else ``own``)
    and a grade per assignment; and the nbgrader ids the roster does not know (left out)."""
    rows, unknown = [], []
    for sid, s in students.items():
        grades = [_fmt(s["scores"].get(a)) for a in assignments]
        if roster is None:
            rows.append([*own(sid, s), *grades])
        elif (person := roster.people.get(sid)) is None:
            unknown.append(sid)
        else:
            rows.append([person[c] for c in columns] + grades)
    return rows, unknown


def write_moodle(rows: list[dict[str, Any]], path: str | Path, roster: Roster | None = None) -> Path:
    table, _ = moodle_rows(rows, roster)
    return write_atomic(path, table)


def write_nbgrader(
    course: str | Path,
    path: str | Path,
    assignments: list[str] | None = None,
    waiting: list[Pending] | None = None,
    lateness: dict[tuple[str, str], str] | None = None,
    pass_marks: dict[str, float] | None = None,
) -> Path:
    """nbgrader's own export (its CSV plugin, as ``nbgrader export`` runs it), plus the columns
    ``needs_manual_grade``, ``late`` ("" on time, else how late and the penalty, from ``lateness``),
    ``submitted``, ``pass_mark`` and ``passed``; a pending submission's ``raw_score`` and ``score`` are
    left blank."""
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
    return write_atomic(path, _marked(table, waiting or [], lateness or {}, pass_marks or {}))


def _marked(
    table: list[list[str]], waiting: list[Pending], lateness: dict[tuple[str, str], str], pass_marks: dict[str, float]
) -> list[list[str]]:
    """nbgrader's table with ``needs_manual_grade``, ``late``, ``submitted``, ``pass_mark`` (a percentage) and
    ``passed`` added; a pending total blank, and ``passed`` blank where it is not known."""
    blank = {(p.assignment, p.student) for p in waiting}
    head = table[0]
    a, s, when = head.index("assignment"), head.index("student_id"), head.index("timestamp")
    score, top = head.index("score"), head.index("max_score")
    out = [[*head, "needs_manual_grade", "late", "submitted", "pass_mark", "passed"]]
    for row in table[1:]:
        is_pending = (row[a], row[s]) in blank
        if is_pending:
            row = [("" if col in ("raw_score", "score") else v) for col, v in zip(head, row, strict=True)]
        submitted = bool(row[when].strip()) and row[when].strip() != "None"
        mark = pass_marks.get(row[a])
        passed = ""
        if mark is not None and not is_pending:
            passed = str(submitted and _percent(row[score], row[top]) >= mark)
        late = lateness.get((row[a], row[s]), "")
        out.append([*row, str(is_pending), late, str(submitted), "" if mark is None else f"{mark:g}", passed])
    return out


def _percent(score: str, top: str) -> float:
    return 100 * float(score) / float(top) if float(top or 0) else 0.0


@dataclass
class Exported:
    files: list[Path]
    pending: list[Pending]
    warnings: list[str]
    #: per assignment: its pass mark (a percentage) and how many of the final totals reach it
    passes: list[str] = field(default_factory=list)


def export_all(
    course: str | Path,
    out: str | Path,
    assignments: list[str] | None = None,
    *,
    formats: Iterable[str] = ("nbgrader", "canvas", "moodle"),
    allow_pending: bool = False,
    roster: Roster | None = None,
    moodle_roster: Roster | None = None,
    canvas_columns: dict[str, str] | None = None,
    missing: str = "blank",
) -> Exported:
    """``grades.csv`` (nbgrader's export), ``grades_canvas.csv`` and ``grades_moodle.csv`` in ``out``,
    for ``assignments`` (default: all). A trainee with no submission is blank in the LMS files, or 0
    with ``missing="zero"``.

    Raises :class:`PendingGrades` while hand-grading is pending, unless ``allow_pending``."""
    from framelab.core.settings import pass_marks
    from framelab.instructor.course import pending_message

    waiting = pending(course, assignments)
    if waiting and not allow_pending:
        raise PendingGrades(pending_message(waiting, "export"), waiting)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows = scores(course, assignments)
    marks = pass_marks(Path(course))
    formats = set(formats)
    done = Exported([], waiting, [], pass_lines(rows, marks))
    if "nbgrader" in formats:
        lateness = {(r["assignment"], r["student_id"]): r.get("late", "") for r in rows}
        done.files.append(write_nbgrader(course, out / "grades.csv", assignments, waiting, lateness, marks))
    if "canvas" in formats:
        _canvas(done, rows, out, roster, canvas_columns, missing)
    if "moodle" in formats:
        table, unknown = moodle_rows(rows, moodle_roster, missing)
        done.files.append(write_atomic(out / "grades_moodle.csv", table))
        done.warnings += [
            f"grades_moodle.csv: '{sid}' is not in the roster {moodle_roster.source}; left out (add them)"
            for sid in unknown
            if moodle_roster is not None
        ]
    if waiting:
        done.warnings.append(
            f"{len(waiting)} submission(s) with hand-grading pending were exported with their totals left blank: "
            + ", ".join(f"{p.assignment}/{p.student}" for p in waiting)
        )
    return done


def _canvas(
    done: Exported,
    rows: list[dict[str, Any]],
    out: Path,
    roster: Roster | None,
    canvas_columns: dict[str, str] | None,
    missing: str,
) -> None:
    assignments = list(dict.fromkeys(r["assignment"] for r in rows))
    headers, notes = canvas_headers(assignments, canvas_columns, roster)
    table, unknown = canvas_rows(rows, roster, headers, missing)
    done.files.append(write_atomic(out / "grades_canvas.csv", table))
    done.warnings += notes
    if roster is None:
        done.warnings.append(
            "grades_canvas.csv: no roster given, so each row carries the nbgrader id as SIS Login ID; Canvas "
            "matches that only if trainees' hub usernames are their SIS login ids (see --roster)."
        )
    for sid in unknown:
        done.warnings.append(f"grades_canvas.csv: '{sid}' is not in the roster {roster.source}; left out (add them)")


def pass_lines(rows: list[dict[str, Any]], marks: dict[str, float]) -> list[str]:
    """One line per assignment with a pass mark: the mark, its points, and who reaches it."""
    lines = []
    for a in dict.fromkeys(r["assignment"] for r in rows):
        if a not in marks:
            continue
        mine = [r for r in rows if r["assignment"] == a]
        final = [r for r in mine if r["submitted"] and not r["pending"]]
        top = mine[0]["max_score"]
        passed = sum(1 for r in final if top and 100 * r["score"] / top >= marks[a])
        absent = sum(1 for r in mine if not r["submitted"])
        lines.append(
            f"{a}: pass mark {marks[a]:g}% ({marks[a] * top / 100:g} of {top:g} points); {passed} of "
            f"{len(final)} final totals reach it" + (f"; {absent} not submitted" if absent else "")
        )
    return lines
