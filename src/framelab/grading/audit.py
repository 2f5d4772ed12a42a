"""An out-of-kernel audit of nbgrader's scores for the classification exercises.

nbgrader scores a submission by running the trainee's notebook, so anything the trainee's code
can reach (a redefined ``grade_answer``, a patched builtin, a rigged object) can reach the score.
The audit is the backstop: it re-scores every classification item from what the trainee
*submitted*, in this process, without running a line of the trainee's code:

the score of record (:mod:`framelab.scoring.record`): the answer cell's literal ``.pick(...)`` or the
saved ``answers.json``, each item scored by the same pure function the hidden tests call.

It reads the snapshot ``framelab grade`` took before running any of the trainee's code
(:mod:`framelab.grading.snapshot`), never the live ``submitted/`` folder, and says when ``submitted/`` no
longer matches it; a submission graded by stock ``nbgrader autograde`` has no snapshot, and is
audited from ``submitted/`` with a note saying so. Every JSON file is read with bounds on size and
nesting (:mod:`framelab.core.safejson`). It then compares item by item with the gradebook and lists every
mismatch. ``submitted/`` is only read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from framelab.bank.loader import Bank, Module
from framelab.bank.variants import OFF, Setting, course_setting
from framelab.grading import keys
from framelab.grading import snapshot as snapshots
from framelab.scoring.record import key_hashes, score_submission


@dataclass
class TraineeAudit:
    student: str
    audited: dict[str, float]  # grade id -> score the audit gives
    graded: dict[str, float | None]  # grade id -> score in the gradebook (None: not graded)
    notes: list[str] = field(default_factory=list)

    @property
    def mismatches(self) -> list[str]:
        return sorted(g for g, s in self.audited.items() if self.graded.get(g) != s)

    @property
    def audited_total(self) -> float:
        return sum(self.audited.values())

    @property
    def graded_total(self) -> float:
        return sum(s or 0 for s in self.graded.values())


@dataclass
class AuditReport:
    assignment: str
    trainees: list[TraineeAudit]

    @property
    def ok(self) -> bool:
        return all(not t.mismatches for t in self.trainees)


def rescore(
    gb: Any, assignment: str, student: str, folder: Path, module: Module, bank: Bank, setting: Setting = OFF
) -> list[str]:
    """Make the out-of-kernel score the score of record: set each classification test cell's
    ``auto_score`` in an open gradebook to what :func:`audit_submission` gives, uncommitted (the
    caller commits it with the rest of the trainee's rows). ``folder`` is the snapshot taken before
    grading. Returns one plain line per item changed (empty when nbgrader's own run agreed, as it does
    for honest work)."""
    from nbgrader.api import MissingEntry

    scores, _ = score_submission(folder, module, bank, student, setting)
    changed = []
    try:
        sub = gb.find_submission_notebook(module.folder, assignment, student)
    except MissingEntry:
        return changed
    for grade in sub.grades:
        if grade.name in scores and grade.auto_score != scores[grade.name]:
            changed.append(
                f"{grade.name}: the notebook's run gave {grade.auto_score}, the check {scores[grade.name]:g}"
            )
            grade.auto_score = scores[grade.name]
    return changed


def _gradebook_scores(db_url: str, assignment: str, notebook: str) -> dict[str, dict[str, float | None]]:
    from nbgrader.api import Gradebook, MissingEntry

    out: dict[str, dict[str, float | None]] = {}
    with Gradebook(db_url) as gb:
        for student in gb.students:
            try:
                sub = gb.find_submission_notebook(notebook, assignment, student.id)
            except MissingEntry:
                continue
            out[student.id] = {g.name: g.score for g in sub.grades}
    return out


def audit(course: Path, assignment: str, bank: Bank, db_url: str | None = None) -> AuditReport:
    """Audit every submission of an assignment in a course folder against its gradebook."""
    module = next((m for m in bank.modules.values() if m.folder == assignment), None)
    if module is None:
        known = ", ".join(sorted(m.folder for m in bank.modules.values() if m.meta.exercises))
        raise ValueError(f"no module '{assignment}' in the bank (graded modules: {known})")
    if not module.meta.exercises:
        raise ValueError(f"module '{assignment}' has no classification exercises to audit")
    db_url = db_url or f"sqlite:///{course / 'gradebook.db'}"
    setting = course_setting(course)  # with variants on, each trainee's items from their id
    graded = _gradebook_scores(db_url, assignment, module.folder)
    submitted = course / "submitted"
    students = sorted(
        {p.parent.name for p in submitted.glob(f"*/{assignment}") if p.is_dir()} | set(graded),
    )
    trainees = []
    for student in students:
        scores, notes = _audit_one(course, assignment, student, module, bank, setting)
        book = graded.get(student, {})
        if student not in graded:
            notes.append("submitted, but not in the gradebook: run autograde")
        trainees.append(TraineeAudit(student, scores, {g: book.get(g) for g in scores}, notes))
    return AuditReport(assignment, trainees)


def _audit_one(
    course: Path, assignment: str, student: str, module: Module, bank: Bank, setting: Setting = OFF
) -> tuple[dict[str, float], list[str]]:
    """Audit one trainee from the snapshot of record (or, graded by stock nbgrader, from ``submitted/``)."""
    live = course / "submitted" / student / assignment
    snap = snapshots.of_record(course, assignment, student)
    if snap.is_dir():
        scores, notes = score_submission(snap, module, bank, student, setting)
        if old := keys.stale(course, assignment, student, key_hashes(module, bank, student, setting)):
            notes.append(
                f"{keys.STALE} for {len(old)} item(s) ({', '.join(old)}): the audit column is the score with the "
                f"current key; 'framelab grade {assignment} --rescore' makes it the score of record"
            )
        if live.is_dir() and snapshots.digest(live) != snapshots.recorded_digest(course, assignment, student):
            notes.append("submitted/ has changed since it was graded: audited from the snapshot graded")
        return scores, notes
    if live.is_dir():
        scores, notes = score_submission(live, module, bank, student, setting)
        notes.append("no snapshot from 'framelab grade' (graded by stock nbgrader?): audited from submitted/")
        return scores, notes
    return {}, ["in the gradebook, but nothing is in submitted/"]


def render(report: AuditReport) -> str:
    """A plain-text table, one trainee per line, then each mismatch."""
    lines = [f"Audit of {report.assignment}: {len(report.trainees)} trainee(s), re-scored without running their code."]
    lines.append(f"{'trainee':24} {'audit':>7} {'nbgrader':>9}  result")
    for t in report.trainees:
        result = "ok" if not t.mismatches else f"{len(t.mismatches)} item(s) differ"
        lines.append(f"{t.student:24} {t.audited_total:7g} {t.graded_total:9g}  {result}")
    for t in report.trainees:
        for gid in t.mismatches:
            lines.append(f"  {t.student}: {gid}: audit {t.audited[gid]:g}, gradebook {t.graded.get(gid)}")
        for note in t.notes:
            lines.append(f"  {t.student}: note: {note}")
    lines.append("No mismatches." if report.ok else "MISMATCHES FOUND: check these submissions by hand.")
    return "\n".join(lines)
