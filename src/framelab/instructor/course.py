"""A graded course as the instructor's tools read it: its nbgrader config, its gradebook, and
which trainees still wait for hand-grading.

The instructor modules build on this one and never on each other in a circle:
``course`` <- ``export``, ``report``, ``feedback`` <- ``cohort`` (the demo).

Hand-grading pending: nbgrader marks a grade ``needs_manual_grade`` when the autograder could
not score it (a written reflection with an answer in it) and clears the mark when someone
scores it in formgrader. Until then the grade counts as 0 in every total nbgrader reports, so a
trainee's total is not a real number yet. :func:`pending` lists those trainees, and
``framelab export``, ``framelab report`` and feedback use it to refuse or to mark them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from framelab.core import settings


class CourseError(Exception):
    """The course cannot be read as it stands; the message says why and what to do."""


def course_config(course: Path, exchange: Path | None = None) -> Any:
    """The course's nbgrader config, read from its ``nbgrader_config.py``, pointed at ``course``."""
    cfg = settings.read_config(course)
    cfg.CourseDirectory.root = str(course)
    if exchange is not None:
        cfg.Exchange.root = str(exchange)
        cfg.Exchange.cache = str(exchange.parent / "cache" / "instructor")
        # simulated trainees are all this one user: nothing to learn from file owners
        cfg.ExchangeCollect.check_owner = False
    return cfg


def require_course(course: Path) -> None:
    """Raise :class:`CourseError` with one plain line unless ``course`` is a course root."""
    if (why := settings.course_root_problem(course)) is not None:
        raise CourseError(why)


def gradebook_args(course: str | Path) -> tuple[str, str]:
    """The course's gradebook URL and course id, as its ``nbgrader_config.py`` sets them."""
    from nbgrader.coursedir import CourseDirectory

    course = Path(course).resolve()
    require_course(course)
    cd = CourseDirectory(config=course_config(course))
    return cd.db_url, cd.course_id


def open_gradebook(course: str | Path) -> Any:
    """nbgrader's :class:`~nbgrader.api.Gradebook` for the course (a context manager)."""
    from nbgrader.api import Gradebook

    url, course_id = gradebook_args(course)
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        raise CourseError(f"no gradebook at {url.removeprefix('sqlite:///')}: nothing has been graded yet")
    return Gradebook(url, course_id)


@dataclass(frozen=True)
class Pending:
    """One submission with hand-grading still to do."""

    assignment: str
    student: str
    cells: tuple[str, ...]  # grade ids waiting for a human
    points: float  # their maximum points: what the total is missing

    def line(self) -> str:
        return f"{self.assignment}/{self.student}: {self.points:g} point(s) to hand-grade ({', '.join(self.cells)})"


def pending_in(gb: Any, assignment: str) -> list[Pending]:
    """Submissions of ``assignment`` in an open gradebook with grades that need a human."""
    out = []
    for sub in gb.assignment_submissions(assignment):
        waiting = [g for nb in sub.notebooks for g in nb.grades if g.needs_manual_grade]
        if waiting:
            cells = tuple(g.name for g in waiting)
            out.append(Pending(assignment, sub.student.id, cells, float(sum(g.max_score or 0 for g in waiting))))
    return sorted(out, key=lambda p: p.student)


def pending(course: str | Path, assignments: list[str] | None = None) -> list[Pending]:
    """Every submission in the course (or in ``assignments``) with hand-grading pending."""
    with open_gradebook(course) as gb:
        names = [a.name for a in gb.assignments]
        return [p for a in names if not assignments or a in assignments for p in pending_in(gb, a)]


def pending_message(items: list[Pending], what: str, limit: int = 12) -> str:
    """One paragraph for the instructor: who waits, and the two ways on."""
    lines = [p.line() for p in items[:limit]]
    if len(items) > limit:
        lines.append(f"... and {len(items) - limit} more")
    points = sum(p.points for p in items)
    return (
        f"{len(items)} submission(s) still have {points:g} point(s) of hand-grading pending, so their totals "
        f"are not final:\n  " + "\n  ".join(lines) + "\nGrade them in formgrader (JupyterLab: Nbgrader > "
        f"Formgrader, then Manual Grading), or pass --allow-pending to {what} now with those totals left blank."
    )
