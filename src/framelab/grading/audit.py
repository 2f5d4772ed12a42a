"""An out-of-kernel audit of nbgrader's scores for the classification exercises.

nbgrader scores a submission by running the trainee's notebook, so anything the trainee's code
can reach (a redefined ``grade_answer``, a patched builtin, a rigged object) can reach the score.
The audit is the backstop: it re-scores every classification item from what the trainee
*submitted*, in this process, without running a line of the trainee's code:

* the answer cell's ``.pick(...)`` argument is read with :func:`ast.literal_eval` (a literal
  dict of plain strings, as the instructor's solution is) or, when it is empty, the saved
  ``answers.json`` beside the notebook (what the menus write);
* an answer cell that computes its answer, or was replaced by other code, cannot be trusted,
  so it is audited as giving no answers;
* each item is scored by the same pure function the hidden tests call, against the bank's key.

It reads the snapshot ``framelab grade`` took before running any of the trainee's code
(:mod:`framelab.grading.snapshot`), never the live ``submitted/`` folder, and says when ``submitted/`` no
longer matches it; a submission graded by stock ``nbgrader autograde`` has no snapshot, and is
audited from ``submitted/`` with a note saying so. Every JSON file is read with bounds on size and
nesting (:mod:`framelab.core.safejson`). It then compares item by item with the gradebook and lists every
mismatch. ``submitted/`` is only read.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from framelab.bank.loader import Bank, Module, gold
from framelab.core import safejson
from framelab.grading import snapshot as snapshots
from framelab.scoring import answers as store
from framelab.scoring.checks import AnswerProblem, grade_answer

#: How long a notebook may be before it is not read at all (a real one is well under 1 MB).
MAX_NOTEBOOK_BYTES = 20_000_000


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


def _pick_argument(source: str) -> tuple[str, Any]:
    """What an answer cell hands to ``.pick(...)``: ("saved", None), ("literal", value) or ("code", why)."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        return "code", f"the answer cell is not valid Python (line {exc.lineno})"
    calls = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "pick"
    ]
    others = [n for n in tree.body if not (isinstance(n, ast.Assign | ast.Expr) and isinstance(n.value, ast.Call))]
    if len(calls) != 1 or others or len(tree.body) != 1:
        return "code", "the answer cell was changed to run other code"
    call = calls[0]
    if call.keywords or len(call.args) > 1:
        return "code", "the answer cell passes something unexpected to pick()"
    if not call.args or (isinstance(call.args[0], ast.Constant) and call.args[0].value is None):
        return "saved", None
    try:
        value = ast.literal_eval(call.args[0])
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return "code", "the answer cell computes its answers instead of listing them"
    if type(value) is not dict:
        return "code", "the answer cell's answers are not a plain mapping of items to choices"
    return "literal", value


def _cells(notebook: Path) -> dict[str, str]:
    """grade id -> source of every nbgrader cell, read as data (never executed)."""
    data = safejson.load(notebook, max_bytes=MAX_NOTEBOOK_BYTES, what=notebook.name)
    out: dict[str, str] = {}
    for cell in data.get("cells", []) if type(data) is dict else []:
        meta = ((cell.get("metadata") or {}).get("nbgrader") or {}) if type(cell) is dict else {}
        gid = meta.get("grade_id") if type(meta) is dict else None
        if type(gid) is str and cell.get("cell_type") == "code":
            src = cell.get("source", "")
            out[gid] = "".join(src) if type(src) is list else str(src)
    return out


def audit_submission(folder: Path, module: Module, bank: Bank) -> tuple[dict[str, float], list[str]]:
    """Score one trainee's submitted folder, item by item, without running it. Returns (scores, notes)."""
    picks, notes = submission_picks(folder, module)
    return score_picks(picks, module, bank), notes


def score_picks(picks: dict[str, dict[str, Any]], module: Module, bank: Bank) -> dict[str, float]:
    """grade id (``<exercise>__<item>``) -> 1.0 or 0.0, by the same function the hidden tests call."""
    items = bank.items()
    scores: dict[str, float] = {}
    for ex in module.meta.exercises:
        chosen = picks.get(ex.id, {})
        for iid in ex.items:
            try:
                grade_answer(chosen, iid, gold(items[iid], ex.kind), kind=ex.kind)
                scores[f"{ex.id}__{iid}"] = 1.0
            except AnswerProblem:
                scores[f"{ex.id}__{iid}"] = 0.0
    return scores


def submission_picks(folder: Path, module: Module) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """What a trainee answered, per exercise, read as data from their folder (notebook and
    saved answers) without running any of it. Returns (exercise id -> picks, notes)."""
    notes: list[str] = []
    notebook = folder / f"{module.folder}.ipynb"
    cells: dict[str, str] = {}
    if notebook.is_symlink():
        notes.append(f"{notebook.name} is a symbolic link: never followed; audited from {store.FILENAME} alone")
    elif not notebook.exists():
        notes.append(f"{notebook.name} is missing: audited from {store.FILENAME} alone")
    else:
        try:
            cells = _cells(notebook)
        except (ValueError, UnicodeDecodeError) as exc:
            notes.append(f"{notebook.name} could not be read ({exc}): audited from {store.FILENAME} alone")
    saved = _saved(folder / store.FILENAME, notes)
    out: dict[str, dict[str, Any]] = {}
    for ex in module.meta.exercises:
        source = cells.get(ex.id)
        how, value = ("saved", None) if source is None else _pick_argument(source)
        if how == "saved":
            out[ex.id] = saved.get(ex.id, {})
        elif how == "literal":
            out[ex.id] = value
        else:
            notes.append(f"exercise '{ex.id}': {value}; audited as unanswered")
            out[ex.id] = {}
    return out, notes


def _saved(path: Path, notes: list[str]) -> dict[str, Any]:
    """The saved answers, or none (with a note) when the file is a link, a JSON bomb or not an answers file."""
    if path.is_symlink():
        notes.append(f"{store.FILENAME} is a symbolic link: never followed; audited as unanswered")
        return {}
    if path.exists():
        try:
            safejson.load(path, max_bytes=store.MAX_BYTES, what=store.FILENAME)
        except safejson.UnsafeJSON as exc:
            notes.append(f"{exc} Audited as unanswered")
            return {}
    try:
        return store.read(path)
    except store.AnswerFileError as exc:
        notes.append(str(exc).split(". ")[0])
        return {}


def rescore(gb: Any, assignment: str, student: str, folder: Path, module: Module, bank: Bank) -> list[str]:
    """Make the out-of-kernel score the score of record: set each classification test cell's
    ``auto_score`` in an open gradebook to what :func:`audit_submission` gives, uncommitted (the
    caller commits it with the rest of the trainee's rows). ``folder`` is the snapshot taken before
    grading. Returns one plain line per item changed (empty when nbgrader's own run agreed, as it does
    for honest work)."""
    from nbgrader.api import MissingEntry

    scores, _ = audit_submission(folder, module, bank)
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
    graded = _gradebook_scores(db_url, assignment, module.folder)
    submitted = course / "submitted"
    students = sorted(
        {p.parent.name for p in submitted.glob(f"*/{assignment}") if p.is_dir()} | set(graded),
    )
    trainees = []
    for student in students:
        scores, notes = _audit_one(course, assignment, student, module, bank)
        book = graded.get(student, {})
        if student not in graded:
            notes.append("submitted, but not in the gradebook: run autograde")
        trainees.append(TraineeAudit(student, scores, {g: book.get(g) for g in scores}, notes))
    return AuditReport(assignment, trainees)


def _audit_one(
    course: Path, assignment: str, student: str, module: Module, bank: Bank
) -> tuple[dict[str, float], list[str]]:
    """Audit one trainee from the snapshot of record (or, graded by stock nbgrader, from ``submitted/``)."""
    live = course / "submitted" / student / assignment
    snap = snapshots.of_record(course, assignment, student)
    if snap.is_dir():
        scores, notes = audit_submission(snap, module, bank)
        if live.is_dir() and snapshots.digest(live) != snapshots.recorded_digest(course, assignment, student):
            notes.append("submitted/ has changed since it was graded: audited from the snapshot graded")
        return scores, notes
    if live.is_dir():
        scores, notes = audit_submission(live, module, bank)
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
