"""The pre/post diagnostic as a trainee takes it, as plain functions: which form, saving each choice
to a record file beside the notebook, and reading a record back (the instructor's side scores it).

The diagnostic is recorded, never graded: the record (``diagnostic-answers.json``) travels with the
submission, and no grade cell reads it. In a course the trainee sees no answer in the notebook; the key
stays in ``modules/_diagnostic/`` on the instructor's side. A self-study learner (whose clone holds the key)
sees both scores and the answers once every question of both forms is answered (:func:`self_study_results`).

Which form comes first: Form A before Module 0 and Form B after Module 6, unless the instructor
switches counterbalancing on (``c.FrameLab.counterbalance_diagnostic = True``); then a seeded hash
of the trainee's id gives about half the cohort Form B first, always the same for a trainee.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from framelab.core import safejson
from framelab.core.files import write_text_atomically
from framelab.scoring import display

RECORD_FILE = "diagnostic-answers.json"
RECORD_FORMAT = "framelab-diagnostic/1"
PUBLIC_FILE = "diagnostic-items.json"  # written by framelab build (bank.diagnostic.PUBLIC_FILE)
MAX_BYTES = 64 * 1024
STAGES = ("pre", "post")
#: the assignment that carries each stage's form
STAGE_ASSIGNMENT = {"pre": "m0_orientation", "post": "m6_capstone"}
_WHY = {
    "pre": (
        "Before you start: a short check of {n} questions, about ten minutes. It is here so that you, and the "
        "course, can see what you learn: you answer a similar set at the end of Module 6. It does not count "
        "towards any grade and nobody is judged on it. Give your best guess; there is nothing to look up. You "
        "will not see the answers now, because similar questions come again at the end."
    ),
    "post": (
        "A last short check of {n} questions, like the one at the start of Module 0 (not the same questions). "
        "Comparing the two shows what the course taught, and where it could teach better. It does not count "
        "towards any grade. Give your best answer; your instructor can go through the answers with you "
        "once the course has finished."
    ),
}


def why(stage: str, n: int = 18) -> str:
    """What the trainee is told about the check at this stage: why it is there, and that it does not count."""
    return _WHY[stage].format(n=n)


class DiagnosticError(ValueError):
    """A record or item file that cannot be used; the message names the file and the fix."""


def form_for(trainee: str, stage: str, *, counterbalance: bool = False, seed: str = "") -> str:
    """The form (``"A"`` or ``"B"``) a trainee takes at a stage. Without counterbalancing, A is the
    pre-test; with it, a seeded hash of the id decides which form comes first (the same every time)."""
    if stage not in STAGES:
        raise ValueError(f"stage must be one of {STAGES}, not {stage!r}")
    first = "A"
    if counterbalance:
        digest = hashlib.sha256(f"{seed}\0{trainee}".encode()).digest()
        first = "A" if digest[0] % 2 == 0 else "B"
    return first if stage == "pre" else ("B" if first == "A" else "A")


def trainee_id(env: dict[str, str] | None = None) -> str:
    """Who is taking the diagnostic: the hub's user name, else the account's, else ``""``."""
    env = dict(os.environ) if env is None else env
    return env.get("JUPYTERHUB_USER") or env.get("NB_USER") or env.get("USER") or ""


_REFETCH = (
    "Fix: it comes with the notebook, so copy it back from the course release (or ask your instructor); "
    "an instructor's 'framelab build' writes it"
)


def load_public(folder: Path) -> dict[str, Any]:
    """The forms beside a notebook (``diagnostic-items.json``, text and menus only)."""
    path = folder / PUBLIC_FILE
    try:
        data = safejson.load(path, max_bytes=1024 * 1024, what=PUBLIC_FILE)
    except (OSError, ValueError) as exc:
        raise DiagnosticError(f"{path}: cannot be read ({exc}). {_REFETCH}") from exc
    forms = data.get("forms") if isinstance(data, dict) else None
    if not isinstance(forms, dict) or not all(_form_ok(forms.get(name)) for name in ("A", "B")):
        raise DiagnosticError(f"{path}: is not a diagnostic item file. {_REFETCH}")
    return data


def _form_ok(items: Any) -> bool:
    """A form as the notebook needs it: items, each with its id, kind, question, text and a menu."""
    needed = {"id": str, "kind": str, "question": str, "text": str, "menu": dict}
    return (
        isinstance(items, list)
        and bool(items)
        and all(isinstance(it, dict) and all(isinstance(it.get(k), t) for k, t in needed.items()) for it in items)
    )


def read_record(path: Path) -> dict[str, Any]:
    """A record, checked: ``{"format", "stage", "form", "answers": {item: choice}}``. A missing file
    is an empty record; anything else unusable raises :class:`DiagnosticError` naming the file."""
    if not path.exists():
        return {"format": RECORD_FORMAT, "stage": "", "form": "", "answers": {}}
    try:
        data = safejson.load(path, max_bytes=MAX_BYTES, what=RECORD_FILE)
    except (OSError, ValueError) as exc:
        raise DiagnosticError(f"{path}: cannot be read ({exc}); it was left as it is") from exc
    answers = data.get("answers") if isinstance(data, dict) else None
    if (
        not isinstance(answers, dict)
        or data.get("format") != RECORD_FORMAT
        or not all(type(k) is str and type(v) is str for k, v in answers.items())
        or data.get("form") not in ("A", "B")
        or data.get("stage") not in STAGES
    ):
        raise DiagnosticError(f"{path}: is not a diagnostic record this version can read; it was left as it is")
    return data


def save_choice(folder: Path, stage: str, form: str, item: str, choice: str, menu: dict[str, str]) -> Path:
    """Save one choice (atomically, keeping every other choice). A choice outside the item's menu, or a
    record that belongs to another stage or form, is refused, and the file is left untouched."""
    if choice not in menu:
        raise DiagnosticError(f"{item}: {choice!r} is not one of the choices; pick one from the menu")
    path = folder / RECORD_FILE
    record = read_record(path)
    if record["answers"] and (record["stage"], record["form"]) != (stage, form):
        raise DiagnosticError(
            f"{path}: already holds the {record['stage']} answers on form {record['form']}; it was left as it is"
        )
    record.update(stage=stage, form=form)
    record["answers"] = {**record["answers"], item: choice}
    write_text_atomically(path, json.dumps(record, indent=1, sort_keys=True) + "\n")
    return path


def score(answers: dict[str, str], key: dict[str, str], items: list[str]) -> dict[str, int]:
    """1 for each of ``items`` answered as the key says, 0 otherwise (a blank counts as wrong)."""
    return {iid: int(answers.get(iid) == key[iid]) for iid in items}


def both_done(workspace: Path, public: dict[str, Any]) -> dict[str, dict[str, Any]] | None:
    """The pre and post records when every question of both forms is answered, else None."""
    records = {}
    for stage, folder in STAGE_ASSIGNMENT.items():
        try:
            record = read_record(workspace / folder / RECORD_FILE)
        except DiagnosticError:
            return None
        items = [it["id"] for it in public["forms"].get(record["form"], [])]
        if record["stage"] != stage or not items or any(i not in record["answers"] for i in items):
            return None
        records[stage] = record
    return records


def self_study_results(module: Path) -> str | None:
    """For a self-study learner (checking allowed, the key in the clone's ``modules/``) who has answered
    every question of both forms: the two scores and, item by item, their answer, the key and why. None
    anywhere else: in a course, or before both forms are done, nothing is shown."""
    from framelab.bank.diagnostic import load_diagnostic
    from framelab.core.settings import course_root, self_check_allowed

    root = course_root(module.resolve())
    if root is None or not self_check_allowed(root):
        return None
    try:
        records = both_done(module.parent, load_public(module))
    except DiagnosticError:
        return None
    diag = load_diagnostic(root / "modules")
    if records is None or not diag.items or diag.problems:
        return None
    items = diag.by_id()
    lines, scores = [], {}
    for stage, record in records.items():
        form = [it for it in diag.items if it.form == record["form"]]
        right = score(record["answers"], diag.key(), [it.id for it in form])
        scores[stage] = sum(right.values()), len(form)
        for iid, ok in right.items():
            it = items[iid]
            mark = "right" if ok else f"you chose {display.name(record['answers'][iid], it.kind)}"
            lines.append(
                f"{stage}, form {record['form']}, {iid}: {display.name(it.answer, it.kind)} ({mark}). {it.rationale}"
            )
    (a, n), (b, m) = scores["pre"], scores["post"]
    head = f"Both checks are done. At the start you had {a} of {n} right; at the end, {b} of {m}."
    return "\n".join([head, *lines])
