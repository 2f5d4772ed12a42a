"""The pre/post diagnostic on the instructor's side: reading each trainee's records from a graded
course, scoring them with the key in ``modules/_diagnostic/``, and the cohort's gain overall and per
label (:mod:`framelab.instructor.gain`), plus each item's marks for the item analysis.

A record is read from the graded copy (``autograded/<trainee>/<assignment>/``) or, failing that, from
``submitted/`` (read only, never changed). A record that cannot be read, or that belongs to the other
stage, is a note naming the file, and the rest of the cohort carries on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from framelab.bank.diagnostic import Diagnostic, DiagnosticItem, load_diagnostic
from framelab.core.vocabulary import BOUNDARY_KINDS, LABELS, RELATIONS
from framelab.instructor import gain
from framelab.instructor.itemanalysis import Mark
from framelab.learner import diagnostic as dx

#: the areas a gain is reported on, in teaching order: the eight labels, the relations, the boundary kinds
AREA_ORDER = (*LABELS, *RELATIONS, *BOUNDARY_KINDS)
MAX_TRAINEES = 5000

Records = dict[str, dict[str, dict[str, Any]]]  # trainee -> stage -> record


@dataclass
class DiagnosticResults:
    trainees: list[gain.TraineeGain] = field(default_factory=list)
    overall: gain.CohortGain | None = None
    areas: list[gain.CohortGain] = field(default_factory=list)
    #: trainee -> "pre only" or "post only"
    incomplete: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    #: one mark per trainee and item taken, for the item analysis ("diagnostic form A" / "form B")
    marks: list[Mark] = field(default_factory=list)
    #: how many trainees started on each form
    first_forms: dict[str, int] = field(default_factory=dict)


def area(item: DiagnosticItem) -> str:
    """The label, relation or boundary kind an item measures (its key)."""
    return item.answer


def _proportions(record: dict[str, Any], items: list[DiagnosticItem], key: dict[str, str]) -> dict[str, float]:
    """A record's share right, overall and per area."""
    right = dx.score(record["answers"], key, [it.id for it in items])
    out = {"overall": sum(right.values()) / len(items)}
    for name in {area(it) for it in items}:
        mine = [right[it.id] for it in items if area(it) == name]
        out[name] = sum(mine) / len(mine)
    return out


def results(records: Records, diag: Diagnostic, notes: list[str] | None = None) -> DiagnosticResults:
    """Each trainee's gain and the cohort's, overall and per area, from the records."""
    out = DiagnosticResults(notes=list(notes or []))
    key = diag.key()
    per: dict[str, list[tuple[float, float]]] = {}
    for trainee in sorted(records):
        stages = records[trainee]
        props: dict[str, dict[str, float]] = {}
        for stage, record in stages.items():
            items = diag.form(record["form"])
            props[stage] = _proportions(record, items, key)
            right = dx.score(record["answers"], key, [it.id for it in items])
            label = f"diagnostic form {record['form']}"
            out.marks += [Mark(trainee, label, iid, float(v), 1.0) for iid, v in right.items()]
        if set(stages) != set(dx.STAGES):
            out.incomplete[trainee] = "pre only" if "pre" in stages else "post only"
            continue
        pre_form, post_form = stages["pre"]["form"], stages["post"]["form"]
        out.first_forms[pre_form] = out.first_forms.get(pre_form, 0) + 1
        pre, post = props["pre"], props["post"]
        out.trainees.append(gain.trainee_gain(trainee, pre_form, post_form, pre["overall"], post["overall"]))
        for name in set(pre) & set(post):
            per.setdefault(name, []).append((pre[name], post[name]))
    out.overall = gain.cohort_gain("overall", per.get("overall", []))
    out.areas = [gain.cohort_gain(a, per[a]) for a in AREA_ORDER if a in per]
    return out


def load_records(course: Path, diag: Diagnostic) -> tuple[Records, list[str]]:
    """Every trainee's records in a course (graded copy first, else the submission), with a note for each
    record that could not be used."""
    records: Records = {}
    notes: list[str] = []
    if not diag.items:
        return records, notes
    for stage, assignment in dx.STAGE_ASSIGNMENT.items():
        for trainee in _trainees(course):
            path = _record_path(course, trainee, assignment)
            if path is None:
                continue
            try:
                record = dx.read_record(path)
            except dx.DiagnosticError as exc:
                notes.append(f"{exc}; left out of the gain.")
                continue
            if not record["answers"]:
                continue
            if record["stage"] != stage:
                notes.append(f"{path}: holds the {record['stage']} answers but sits in {assignment}; left out.")
                continue
            records.setdefault(trainee, {})[stage] = record
    return records, notes


def _trainees(course: Path) -> list[str]:
    names: set[str] = set()
    for top in ("autograded", "submitted"):
        folder = course / top
        if folder.is_dir():
            for n, entry in enumerate(folder.iterdir()):
                if n >= MAX_TRAINEES:
                    break
                if entry.is_dir() and not entry.is_symlink():
                    names.add(entry.name)
    return sorted(names)


def _record_path(course: Path, trainee: str, assignment: str) -> Path | None:
    for top in ("autograded", "submitted"):
        path = course / top / trainee / assignment / dx.RECORD_FILE
        if path.is_file() and not path.is_symlink():
            return path
    return None


def course_results(course: Path, modules: Path | None = None) -> DiagnosticResults | None:
    """The diagnostic's results for a graded course; None when the course has no diagnostic."""
    diag = load_diagnostic(modules or course / "modules")
    if not diag.items or diag.problems:
        return None
    records, notes = load_records(course, diag)
    return results(records, diag, notes)
