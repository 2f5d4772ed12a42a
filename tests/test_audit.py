"""`framelab audit`: nbgrader's scores re-checked without running any trainee code.

A real autograde of an honest trainee and of one who redefines the hidden test's function in
their answer cell (a trick that reaches nbgrader's score, because nbgrader runs the notebook).
The audit passes the honest one, flags the cheat, and flags a tampered gradebook.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from conftest import ROOT, copy_course, nbgrader

from framelab.bank.loader import gold
from framelab.cli import main
from framelab.scoring import answers as store
from framelab.scoring.record import _pick_argument, score_submission

pytestmark = pytest.mark.slow

ASSIGNMENT = "m1_double_bind"


def tree_hash(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(folder)).encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def submit(course: Path, student: str, notebook: dict, picks: dict[str, str] | None) -> Path:
    folder = course / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True)
    (folder / f"{ASSIGNMENT}.ipynb").write_text(json.dumps(notebook))
    shutil.copy(ROOT / "release" / ASSIGNMENT / "content.json", folder / "content.json")
    if picks is not None:
        store.write(folder / store.FILENAME, "backfires", picks)
    return folder


def test_pick_argument_reads_literals_and_refuses_code():
    assert _pick_argument('x = lesson.exercise("e").pick(\n    # choose in the menus\n)') == ("saved", None)
    assert _pick_argument('x = lesson.exercise("e").pick({"a": "validate"})') == ("literal", {"a": "validate"})
    for cheat in (
        'grade_answer = print\nx = lesson.exercise("e").pick()',
        'x = lesson.exercise("e").pick(make_answers())',
        'x = lesson.exercise("e").pick({"a": "v" * 3})',
        "x = {}",
        "def (",
    ):
        assert _pick_argument(cheat)[0] == "code", cheat


def test_the_audit_passes_honest_grading_and_flags_a_cheat_and_a_tampered_gradebook(tmp_path, bank, capsys):
    course = copy_course(tmp_path / "course")
    nbgrader("generate_assignment", ASSIGNMENT, "--force", cwd=course)  # registers it in the gradebook
    module = bank.module(ASSIGNMENT)
    (ex,) = [e for e in module.meta.exercises if e.id == "backfires"]
    items = bank.items()
    keys = {iid: gold(items[iid], ex.kind) for iid in ex.items}
    release = json.loads((ROOT / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text())

    # honest: the first half right, the rest blank
    honest = {iid: keys[iid] for iid in ex.items[: len(ex.items) // 2]}
    submit(course, "honest", release, honest)
    nbgrader("autograde", ASSIGNMENT, "--create", "--student=honest", cwd=course)
    assert main(["audit", ASSIGNMENT, "--course", str(course), "--modules", str(course / "modules")]) == 0
    assert "No mismatches." in capsys.readouterr().out

    # the cheat: a blank submission whose answer cell redefines the function the hidden tests call
    cheat = json.loads(json.dumps(release))
    for cell in cheat["cells"]:
        if (cell["metadata"].get("nbgrader") or {}).get("grade_id") == "backfires":
            cell["source"] = "grade_answer = lambda *args, **kwargs: None\nbackfires = {}\n"
    submit(course, "cheat", cheat, None)
    nbgrader("autograde", ASSIGNMENT, "--create", "--student=cheat", cwd=course)

    before = tree_hash(course / "submitted")
    assert main(["audit", ASSIGNMENT, "--course", str(course), "--modules", str(course / "modules")]) == 1
    out = capsys.readouterr().out
    assert tree_hash(course / "submitted") == before  # the audit only reads
    cheat_line = next(line for line in out.splitlines() if line.startswith("cheat "))
    assert cheat_line.split()[1] == "0"  # the audit's score for the cheat
    assert float(cheat_line.split()[2]) > 0 and "differ" in cheat_line  # nbgrader was fooled; the audit says so
    assert "the answer cell was changed to run other code" in out
    honest_line = next(line for line in out.splitlines() if line.startswith("honest "))
    assert honest_line.split()[1:3] == [str(len(honest)), str(len(honest))] and honest_line.endswith("ok")

    # a tampered gradebook: someone gives the honest trainee a point they did not earn
    from nbgrader.api import Gradebook

    blank_item = ex.items[-1]
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        sub = gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, "honest")
        (grade,) = [g for g in sub.grades if g.name == f"backfires__{blank_item}"]
        grade.manual_score = 1
        gb.db.commit()
    assert main(["audit", ASSIGNMENT, "--course", str(course), "--modules", str(course / "modules")]) == 1
    out = capsys.readouterr().out
    assert f"honest: backfires__{blank_item}: audit 0, gradebook 1" in out


def test_a_missing_or_broken_notebook_is_audited_from_the_saved_answers(tmp_path, bank):
    module = bank.module(ASSIGNMENT)
    (ex,) = [e for e in module.meta.exercises if e.id == "backfires"]
    first = ex.items[0]
    folder = tmp_path / "sub"
    folder.mkdir()
    store.write(folder / store.FILENAME, "backfires", {first: gold(bank.items()[first], ex.kind)})
    scores, notes = score_submission(folder, module, bank)
    assert scores[f"backfires__{first}"] == 1 and sum(scores.values()) == 1
    assert "is missing" in notes[0]
    (folder / f"{ASSIGNMENT}.ipynb").write_text('{"cells": [')  # truncated
    scores, notes = score_submission(folder, module, bank)
    assert sum(scores.values()) == 1 and "could not be read" in notes[0]


def test_the_audit_reads_the_snapshot_graded_and_says_when_submitted_changed(tmp_path, bank):
    from framelab.grading import snapshot
    from framelab.grading.audit import _audit_one

    module = bank.module(ASSIGNMENT)
    (ex,) = [e for e in module.meta.exercises if e.id == "backfires"]
    first = ex.items[0]
    right = {first: gold(bank.items()[first], ex.kind)}
    release = json.loads((ROOT / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text())
    course = tmp_path / "course"
    live = submit(course, "ana", release, {})  # what was graded: nothing answered
    snap = snapshot.take(live, tmp_path / "snap", "ana", [ASSIGNMENT])
    snapshot.keep(snap, course, ASSIGNMENT)
    scores, notes = _audit_one(course, ASSIGNMENT, "ana", module, bank)
    assert sum(scores.values()) == 0 and notes == []

    # the live folder is changed afterwards (by a process left running, say): the audit keeps to the snapshot
    store.write(live / store.FILENAME, "backfires", right)
    scores, notes = _audit_one(course, ASSIGNMENT, "ana", module, bank)
    assert sum(scores.values()) == 0 and "submitted/ has changed since it was graded" in notes[-1]

    # graded by stock nbgrader (no snapshot): audited from submitted/, and it says so
    scores, notes = _audit_one(course, ASSIGNMENT, "ben", module, bank)
    assert scores == {} and "nothing is in submitted/" in notes[0]
    submit(course, "ben", release, right)
    scores, notes = _audit_one(course, ASSIGNMENT, "ben", module, bank)
    assert sum(scores.values()) == 1 and "no snapshot" in notes[-1]


def test_bombs_and_links_in_a_submission_are_audited_as_unanswered_with_a_note(tmp_path, bank):
    module = bank.module(ASSIGNMENT)
    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / store.FILENAME).write_text(
        '{"format": "framelab-answers/1", "exercises": ' + "[" * 50_000 + "]" * 50_000 + "}"
    )
    (folder / f"{ASSIGNMENT}.ipynb").write_text('{"cells": ' + "[" * 50_000 + "]" * 50_000 + "}")
    scores, notes = score_submission(folder, module, bank)
    assert sum(scores.values()) == 0
    assert any("nested more than" in n and ASSIGNMENT in n for n in notes), notes
    assert any("nested more than" in n and store.FILENAME in n for n in notes), notes
    (folder / store.FILENAME).unlink()
    (folder / store.FILENAME).symlink_to("/etc/passwd")
    scores, notes = score_submission(folder, module, bank)
    assert sum(scores.values()) == 0 and any("symbolic link" in n for n in notes), notes
