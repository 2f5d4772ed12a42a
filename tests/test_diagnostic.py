"""The pre/post diagnostic: its items (matched forms, checked by validate), the forms a notebook shows
(no key anywhere a trainee can reach), which form a trainee takes, and the record of their choices."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from conftest import ROOT

from framelab.bank import diagnostic as bank_dx
from framelab.bank.loader import load_bank
from framelab.learner import diagnostic as dx

MODULES = ROOT / "modules"


@pytest.fixture(scope="module")
def diag() -> bank_dx.Diagnostic:
    return bank_dx.load_diagnostic(MODULES)


def test_the_forms_are_matched_for_coverage_and_difficulty(diag):
    b = bank_dx.balance(diag)
    # each form: one item per label, one per relation, one per boundary kind (18), the same in both
    assert b["A"]["items"] == b["B"]["items"] == 18
    assert b["A"]["answers"] == b["B"]["answers"]
    assert set(b["A"]["answers"]) >= {"validate", "state_boundary", "recenter", "gentle_dodge", "vague_rule"}
    assert set(b["A"]["answers"]) >= {"ignore_redirect", "mixed_message", "collapse_frame"}
    assert set(b["A"]["answers"]) >= {"transference", "countertransference", "neither"}
    assert set(b["A"]["answers"]) >= {"role", "confidentiality", "time_space", "communication"}
    assert set(b["A"]["answers"]) >= {"physical", "financial", "emotional"}
    assert b["A"]["kinds"] == b["B"]["kinds"] == {"boundary": 7, "relation": 3, "single_label": 8}
    # difficulties 1,2,2,1,2,1,3,3 | 2,2,3 | 2,2,1,1,1,2,3 sum to 34 on each form: 34 / 18 = 1.889
    assert b["A"]["mean_difficulty"] == pytest.approx(34 / 18)
    assert b["B"]["mean_difficulty"] == pytest.approx(34 / 18)
    assert b["difficulty_gap"] == 0
    # and every difficulty is used, with hard near-misses on both forms
    for form in "AB":
        assert {it.difficulty for it in diag.form(form)} == {1, 2, 3}


def test_the_items_pass_every_check_and_vary(diag):
    assert diag.problems == []
    assert bank_dx.check_diagnostic(diag, load_bank(MODULES)) == []
    assert len({it.english for it in diag.items}) >= 6
    assert len({it.register for it in diag.items}) == 3
    bank_texts = {it.text for it in load_bank(MODULES).items().values()}
    assert not any(it.text in bank_texts for it in diag.items)


def write_items(tmp_path: Path, text: str) -> Path:
    modules = tmp_path / "modules"
    (modules / "_diagnostic").mkdir(parents=True)
    (modules / "_diagnostic" / "items.yaml").write_text(text, encoding="utf-8")
    return modules


ONE = """- id: dx-a01
  form: A
  kind: single_label
  client: "Fancy a coffee after?"
  text: "{text}"
  answer: {answer}
  rationale: "Why."
  difficulty: {difficulty}
  english: british
  register: casual
"""


def test_validate_names_the_line_item_field_and_fix(tmp_path):
    modules = write_items(tmp_path, ONE.format(text="Sure, let's.", answer="colapse_frame", difficulty=5))
    diag = bank_dx.load_diagnostic(modules)
    lines = [str(p) for p in diag.problems]
    assert any("_diagnostic/items.yaml:1: item dx-a01, field 'answer'" in x and "Fix: use one of" in x for x in lines)
    assert any("field 'difficulty'" in x for x in lines)
    assert diag.items == []


def test_an_answer_that_is_not_a_word_is_a_problem_not_a_crash(tmp_path):
    modules = write_items(tmp_path, ONE.format(text="Sure.", answer="[validate, recenter]", difficulty=1))
    (problem,) = bank_dx.load_diagnostic(modules).problems
    assert problem.field == "answer" and "is not an answer to a single_label item" in problem.message


def test_validate_refuses_a_near_duplicate_of_a_bank_item_and_an_unpaired_item(tmp_path):
    bank = load_bank(MODULES)
    copied = next(it for it in bank.responses if it.split == "practice" and len(it.text.split()) > 8)
    modules = write_items(tmp_path, ONE.format(text=copied.text.replace('"', "'"), answer="validate", difficulty=1))
    diag = bank_dx.load_diagnostic(modules)
    found = [str(p) for p in bank_dx.check_diagnostic(diag, bank)]
    assert any(f"near-duplicate of {copied.id}" in x for x in found)
    assert any("has no form B pair" in x for x in found)
    assert any("mean difficulties differ" in x for x in found)  # form B is empty: 1.0 against 0


def test_validate_runs_the_diagnostic_checks(tmp_path):
    from framelab.cli.main import main

    modules = tmp_path / "course" / "modules"
    shutil.copytree(MODULES, modules)
    path = modules / "_diagnostic" / "items.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("answer: neither", "answer: nether", 1), encoding="utf-8")
    assert main(["validate", "--modules", str(modules)]) == 1


def test_the_public_forms_and_the_release_hold_no_key(diag):
    public = bank_dx.public_forms(diag)
    assert [it["id"] for it in public["forms"]["A"]] == [it.id for it in diag.form("A")]
    assert all(
        set(it) == {"id", "kind", "question", "client", "text", "menu"} for f in "AB" for it in public["forms"][f]
    )
    for folder in bank_dx.STAGE_FOLDERS:
        shipped = json.loads((ROOT / "release" / folder / bank_dx.PUBLIC_FILE).read_text(encoding="utf-8"))
        assert shipped["forms"] == public["forms"]
    # no rationale, and no item id beside its key, anywhere in release/
    released = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "release").rglob("*") if p.is_file())
    for it in diag.items:
        assert it.rationale not in released
        assert not re.search(rf'"{it.id}"\s*:\s*"{it.answer}"', released)
    assert "modules/_diagnostic" not in released


def test_the_rating_packet_is_blind(diag):
    packet, key = bank_dx.rating_packet(diag)
    assert [p["n"] for p in packet] == [k["n"] for k in key] == list(range(1, 37))
    text = json.dumps(packet)
    assert "dx-" not in text and not any(it.rationale in text for it in diag.items)
    assert all(set(p) == {"n", "kind", "client_or_vignette", "text", "menu"} for p in packet)
    assert [k["id"] for k in key] != [it.id for it in diag.items]  # shuffled, so order gives nothing away


def test_form_for_is_stable_and_counterbalanced():
    ids = [f"trainee{i:03d}" for i in range(200)]
    assert {dx.form_for(t, "pre") for t in ids} == {"A"}
    assert {dx.form_for(t, "post") for t in ids} == {"B"}
    firsts = [dx.form_for(t, "pre", counterbalance=True, seed="2026") for t in ids]
    assert firsts == [dx.form_for(t, "pre", counterbalance=True, seed="2026") for t in ids]
    assert 70 <= firsts.count("B") <= 130  # about half start on B
    for t in ids:
        pre = dx.form_for(t, "pre", counterbalance=True, seed="2026")
        assert {pre, dx.form_for(t, "post", counterbalance=True, seed="2026")} == {"A", "B"}
    with pytest.raises(ValueError):
        dx.form_for("x", "middle")


def test_choices_are_saved_kept_and_never_overwrite_another_stage(tmp_path):
    menu = {"validate": "v", "recenter": "r"}
    dx.save_choice(tmp_path, "pre", "A", "dx-a01", "validate", menu)
    dx.save_choice(tmp_path, "pre", "A", "dx-a03", "recenter", menu)
    record = dx.read_record(tmp_path / dx.RECORD_FILE)
    assert record["answers"] == {"dx-a01": "validate", "dx-a03": "recenter"}
    before = (tmp_path / dx.RECORD_FILE).read_bytes()
    with pytest.raises(dx.DiagnosticError, match="already holds the pre answers on form A"):
        dx.save_choice(tmp_path, "post", "B", "dx-b01", "validate", menu)
    with pytest.raises(dx.DiagnosticError, match="not one of the choices"):
        dx.save_choice(tmp_path, "pre", "A", "dx-a01", "collapse", menu)
    assert (tmp_path / dx.RECORD_FILE).read_bytes() == before
    (tmp_path / dx.RECORD_FILE).write_text("{not json", encoding="utf-8")
    with pytest.raises(dx.DiagnosticError, match=r"diagnostic-answers\.json: cannot be read"):
        dx.read_record(tmp_path / dx.RECORD_FILE)


def test_score_counts_a_blank_as_wrong():
    key = {"a": "x", "b": "y", "c": "z"}
    assert dx.score({"a": "x", "b": "n"}, key, ["a", "b", "c"]) == {"a": 1, "b": 0, "c": 0}


def test_the_notebook_view_saves_choices_and_shows_no_answer(tmp_path, monkeypatch):
    from framelab.views.lesson import Lesson

    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    folder = tmp_path / "m0_orientation"
    shutil.copytree(ROOT / "release" / "m0_orientation", folder)
    lesson = Lesson.here(folder)
    lesson.diagnostic("pre")
    view = lesson.view
    assert view.form == "A" and len(view.menus) == 18
    shown = view.widget.children[0].value
    assert "does not count towards any grade" in shown
    first = next(iter(view.menus.values()))
    first.value = "recenter"
    assert dx.read_record(folder / dx.RECORD_FILE)["answers"] == {"dx-a01": "recenter"}
    assert "1 of 18" in view.status.value
    # nothing the view shows says which answer is right
    html = " ".join(getattr(c, "value", "") for c in view.widget.children if isinstance(getattr(c, "value", None), str))
    assert "correct" not in html.lower() and "rationale" not in html.lower()
    lesson.diagnostic("pre")  # run again: the saved choice comes back
    assert next(iter(lesson.view.menus.values())).value == "recenter"


def test_the_diagnostic_is_in_the_published_agreement_and_an_edit_needs_rating_again(tmp_path):
    from framelab.bank import agreement

    rows, split, stale = agreement.diagnostic_agreement(MODULES)
    assert split == []  # both raters agreed with the key on every item
    assert [r.what for r in rows] == ["diagnostic: single_label", "diagnostic: relation", "diagnostic: boundary"]
    assert sum(r.n for r in rows) == 36 and stale == []
    modules = tmp_path / "modules"
    shutil.copytree(MODULES, modules)
    path = modules / "_diagnostic" / "items.yaml"
    text = path.read_text(encoding="utf-8").replace("so I'll pass for now.", "so I'll pass for the moment.")
    path.write_text(text, encoding="utf-8")
    rows, _, stale = agreement.diagnostic_agreement(modules)
    assert stale == ["diagnostic:dx-a04"] and sum(r.n for r in rows) == 35


def self_study_clone(tmp_path: Path, config: str = "") -> Path:
    root = tmp_path / "clone"
    shutil.copytree(MODULES, root / "modules")
    (root / "nbgrader_config.py").write_text("c = get_config()\n" + config, encoding="utf-8")
    for folder in bank_dx.STAGE_FOLDERS:
        shutil.copytree(ROOT / "release" / folder, root / "workspace" / folder)
    return root / "workspace"


def answer_all(workspace: Path, diag: bank_dx.Diagnostic, stage: str, form: str, wrong: set[str]) -> None:
    folder = workspace / dx.STAGE_ASSIGNMENT[stage]
    menu = {v: v for v in ("validate", "recenter", "transference", "neither", "role", "physical")}
    for it in diag.form(form):
        choice = "recenter" if it.id in wrong else it.answer
        dx.save_choice(folder, stage, form, it.id, choice, {**menu, it.answer: ""})


def test_self_study_shows_the_answers_only_once_both_forms_are_done(tmp_path, diag):
    workspace = self_study_clone(tmp_path)
    answer_all(workspace, diag, "pre", "A", wrong={"dx-a01", "dx-a02", "dx-a05"})
    assert dx.self_study_results(workspace / "m0_orientation") is None  # post not taken yet
    answer_all(workspace, diag, "post", "B", wrong={"dx-b02"})
    shown = dx.self_study_results(workspace / "m6_capstone")
    assert shown.startswith("Both checks are done. At the start you had 15 of 18 right; at the end, 17 of 18.")
    assert "pre, form A, dx-a01: Validate the feeling (you chose Re-center on the work)." in shown
    assert "post, form B, dx-b03: Re-center on the work (right)." in shown


def test_a_course_never_shows_the_diagnostic_answers(tmp_path, diag):
    workspace = self_study_clone(tmp_path, "c.FrameLab.self_check = False\n")
    answer_all(workspace, diag, "pre", "A", wrong=set())
    answer_all(workspace, diag, "post", "B", wrong=set())
    assert dx.self_study_results(workspace / "m6_capstone") is None


def test_the_instructor_switches_counterbalancing_on_in_the_course_config(tmp_path):
    course = tmp_path / "course"
    shutil.copytree(MODULES, course / "modules")
    for folder in bank_dx.STAGE_FOLDERS:
        (course / "source" / folder).mkdir(parents=True)
    assert bank_dx.counterbalance_setting(course) == (False, "")  # no nbgrader_config.py: off
    config = 'c = get_config()\nc.FrameLab.counterbalance_diagnostic = True\nc.FrameLab.diagnostic_seed = "2027"\n'
    (course / "nbgrader_config.py").write_text(config, encoding="utf-8")
    outputs = bank_dx.public_outputs(course / "modules", course / "source")
    assert sorted(p.parent.name for p in outputs) == sorted(bank_dx.STAGE_FOLDERS)
    public = json.loads(next(iter(outputs.values())))
    assert public["counterbalance"] is True and public["seed"] == "2027"


def test_a_missing_item_file_is_one_line_naming_it_and_the_fix(tmp_path, capsys, monkeypatch):
    from framelab.views.lesson import Lesson

    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    folder = tmp_path / "m0_orientation"
    shutil.copytree(ROOT / "release" / "m0_orientation", folder)
    (folder / dx.PUBLIC_FILE).unlink()
    Lesson.here(folder).diagnostic("pre")
    out = capsys.readouterr().out.strip().splitlines()[-1]
    assert "diagnostic-items.json: cannot be read" in out and "copy it back from the course release" in out
    (folder / dx.PUBLIC_FILE).write_text('{"forms": {"A": [{"id": "dx-a01"}], "B": []}}', encoding="utf-8")
    Lesson.here(folder).diagnostic("pre")
    assert "is not a diagnostic item file" in capsys.readouterr().out
