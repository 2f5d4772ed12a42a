"""``framelab grade ASSIGNMENT --rescore``: score every graded trainee again after a key is corrected,
from their snapshot of record, without running a notebook.

After an answer key in ``modules/`` is fixed, the gradebook still holds scores made with the old key
(``framelab grade`` names those trainees, from the keys recorded with each score:
:mod:`framelab.grading.keys`). A rescore sets each classification item's ``auto_score`` again with the
same out-of-kernel function that made the score of record (:func:`framelab.grading.audit.rescore`,
over the snapshot ``framelab grade`` took before any trainee code ran), then records the new keys.
It never touches a hand-graded mark: only the ``auto_score`` of classification test cells changes, so
every reflection's score and its "needs manual grade" state stay as formgrader left them. Each
trainee is written in one transaction; ``submitted/`` and ``autograded/`` are only read.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from framelab.grading import keys
from framelab.grading import snapshot as snapshots
from framelab.grading.command import GradingError, out_of_kernel_check, setup
from framelab.grading.gradebook import LOCK_WAIT, tally


@dataclass
class Rescored:
    """One trainee's autograded points before and after, the items that changed, or why they were not rescored."""

    student: str
    before: float | None = None
    after: float | None = None
    changed: list[str] = field(default_factory=list)
    reason: str = ""


@dataclass
class RescoreRun:
    assignment: str
    rows: list[Rescored] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        """A plain-text table (autograded points before and after), then the totals."""
        width = max([len("trainee"), *(len(r.student) for r in self.rows)])
        lines = [f"{'trainee':<{width}}  {'before':>7}  {'after':>7}  items changed"]
        for r in self.rows:
            if r.reason:
                lines.append(f"{r.student:<{width}}  {'':>7}  {'':>7}  not rescored: {r.reason}")
                continue
            what = ", ".join(r.changed) if r.changed else "none"
            lines.append(f"{r.student:<{width}}  {r.before:>7g}  {r.after:>7g}  {what}")
        moved = sum(1 for r in self.rows if r.changed)
        done = sum(1 for r in self.rows if not r.reason)
        lines.append(
            f"{self.assignment}: {done} trainee(s) rescored from their snapshots, {moved} with a changed score, "
            f"in {self.seconds:.1f} s; hand-graded marks untouched, no notebook run."
        )
        return "\n".join(lines)


def rescore_all(
    course: str | Path, assignment: str, *, students: Sequence[str] | None = None, lock_wait: float = LOCK_WAIT
) -> RescoreRun:
    """Rescore every graded trainee of ``assignment`` (or ``students``) from their snapshot of record."""
    started = time.perf_counter()
    ctx = setup(course, assignment, sandbox=False, lock_wait=lock_wait)
    check = out_of_kernel_check(ctx.root, assignment)
    if check is None:
        raise GradingError(
            f"'{assignment}' has no classification exercises in modules/ here, so nothing can be rescored "
            "(run from the course root)"
        )
    run = RescoreRun(assignment)
    with ctx.gradebook() as gb:
        graded = sorted(sub.student.id for sub in gb.assignment_submissions(assignment))
        for s in list(dict.fromkeys(students)) if students else graded:
            run.rows.append(_one(ctx, gb, check, s, s in graded))
    run.seconds = time.perf_counter() - started
    return run


def _one(ctx: Any, gb: Any, check: Any, student: str, graded: bool) -> Rescored:
    """Rescore one trainee in one transaction, then record the keys used."""
    snap = snapshots.of_record(ctx.root, ctx.assignment, student)
    if not graded:
        return Rescored(student, reason="not graded yet: run 'framelab grade' first")
    if not snap.is_dir():
        return Rescored(student, reason="no snapshot of record (graded by stock nbgrader?): grade again with --force")

    def write() -> tuple[float, float, list[str]]:
        before = tally(gb, ctx.assignment, student)[0]
        changed = check(gb, student, snap)
        after = tally(gb, ctx.assignment, student)[0]
        gb.db.commit()
        return before, after, changed

    before, after, changed = ctx.patiently(write, undo=gb.db.rollback)
    keys.write(ctx.root, ctx.assignment, student, check.keys(student))
    return Rescored(student, before, after, [c.split(":", 1)[0] for c in changed])
