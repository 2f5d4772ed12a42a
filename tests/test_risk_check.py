"""Checking for risk is a skill of its own (issue 29, item 1): a scored field on every safety reply, a graded
exercise of its own kind (``risk_check``: yes, partly or no) through key, hidden test, out-of-kernel score,
names and the report, a practice deck that asks it, and no key in what a trainee can see."""

from __future__ import annotations

import json

import pytest
from conftest import ROOT
from test_bank_validation import GOOD, MODULE, item, make_bank, only_problem

from framelab.bank.build import public_content
from framelab.bank.loader import gold, validate_bank
from framelab.core import rubrics
from framelab.core.vocabulary import OPTION_SETS, RISK_CHECKS
from framelab.instructor.report import KIND_TITLES, SINGLE_KINDS, teaching
from framelab.scoring import display
from framelab.scoring.checks import AnswerProblem, grade_answer, status_line
from framelab.scoring.record import score_picks


def exercise(bank, ex_id="safety_check"):
    return next(ex for ex in bank.module("m4").meta.exercises if ex.id == ex_id)


def test_asking_about_suicide_first_and_never_asking_now_differ_in_key(bank):
    items = bank.items()
    moves = exercise(bank, "safety_replies")
    assert gold(items["m4-r110"], moves.kind) == gold(items["m4-r116"], moves.kind)  # all three moves, both
    assert (gold(items["m4-r110"], "risk_check"), gold(items["m4-r116"], "risk_check")) == ("yes", "no")


def test_every_graded_safety_reply_is_asked_whether_it_checks_for_risk(bank):
    ex = exercise(bank)
    assert ex.kind == "risk_check" and ex.items == exercise(bank, "safety_replies").items
    keys = [gold(bank.items()[i], ex.kind) for i in ex.items]
    assert set(keys) == set(RISK_CHECKS)  # yes, partly and no are all right answers somewhere
    assert keys.count("yes") < len(keys) - 3  # "yes" every time does not pass


def test_the_practice_deck_asks_it_of_every_reply_and_teaches_all_three(bank):
    from framelab.learner.practice import risk_question

    deck = [r for r in bank.module("m4").responses if r.situation == "distress-message" and r.split == "practice"]
    assert all(r.risk_check for r in deck)
    assert {r.risk_check for r in deck} == set(RISK_CHECKS)
    q = risk_question()
    assert (q.field, q.multi, list(q.options)) == ("risk_check", False, ["yes", "partly", "no"])


def test_the_deck_shows_the_question_beside_the_labels(tmp_path):
    pytest.importorskip("ipywidgets")
    from framelab.views.lesson import Lesson

    content = json.loads((ROOT / "source" / "m4_boundary_map" / "content.json").read_text())
    lesson = Lesson(content, tmp_path)  # the deck's tally is written beside the notebook: a copy, not source/
    shown = []
    lesson._show = shown.append  # type: ignore[method-assign]
    lesson.practice("distress-message")
    deck = shown[0]
    assert [q.field for q in deck.questions] == ["labels", "risk_check"]
    deck.index = next(n for n, it in enumerate(deck.items) if it["id"] == "m4-r103")
    deck.show()
    deck.boxes["state_boundary"].value = True
    deck.menus["risk_check"].value = "yes"
    assert deck.on_check() is False and "The answer is: No" in deck.feedback.value
    deck.menus["risk_check"].value = "no"
    assert deck.on_check() is True


def test_the_key_is_graded_exactly_and_named_alike_everywhere(bank):
    ex = exercise(bank)
    picks = {ex.id: {iid: gold(bank.items()[iid], ex.kind) for iid in ex.items}}
    scores = score_picks(picks, bank.module("m4"), bank)
    assert all(scores[f"{ex.id}__{iid}"] == 1.0 for iid in ex.items)
    picks[ex.id]["m4-r116"] = "yes"  # credits the warm reply that never asks
    assert score_picks(picks, bank.module("m4"), bank)[f"{ex.id}__m4-r116"] == 0.0
    grade_answer({"m4-r113": "partly"}, "m4-r113", "partly", kind="risk_check")
    with pytest.raises(AnswerProblem, match="expected answer is 'no'"):
        grade_answer({"m4-r116": "yes"}, "m4-r116", "no", kind="risk_check")
    with pytest.raises(AnswerProblem, match="Did you mean 'partly'"):
        status_line({"m4-r113": "partial"}, "m4-r113", kind="risk_check")
    assert display.show("partly", "risk_check") == "Partly"
    assert display.show("no", "risk_check", meaning=True) == RISK_CHECKS["no"]
    assert rubrics.options("risk_check")[0] == dict(RISK_CHECKS) and OPTION_SETS["risk_check"][1] is False
    assert "risk_check" in SINGLE_KINDS and "risk" in KIND_TITLES["risk_check"]
    assert "warmth and a clear limit are not a risk check" in teaching("risk_check", "no", "yes")


def test_the_generated_cells_carry_the_kind_and_the_key_only_in_hidden_tests(bank):
    nb = json.loads((ROOT / "source" / "m4_boundary_map" / "m4_boundary_map.ipynb").read_text())
    cells = {c["metadata"].get("nbgrader", {}).get("grade_id"): "".join(c["source"]) for c in nb["cells"]}
    assert '"m4-r116": "no"' in cells["safety_check"]
    test = cells["safety_check__m4-r116"]
    assert 'check_answer(safety_check, "m4-r116", kind="risk_check")' in test
    assert test.index('grade_answer(safety_check, "m4-r116", "no"') > test.index("### BEGIN HIDDEN TESTS")
    released = (ROOT / "release" / "m4_boundary_map" / "m4_boundary_map.ipynb").read_text()
    assert 'kind=\\"risk_check\\"' in released and '\\"m4-r116\\": \\"no\\"' not in released


def test_no_key_leaks_into_what_the_trainee_sees(bank):
    content = public_content(bank, bank.module("m4"))
    graded = {row["id"] for ex in content["exercises"].values() for row in ex["items"]}
    assert all(set(row) <= {"id", "text", "client"} for ex in content["exercises"].values() for row in ex["items"])
    practice = {p["id"]: p for p in content["practice"]}
    assert practice["m4-r103"]["risk_check"] == "no" and not graded & set(practice)
    released = json.loads((ROOT / "release" / "m4_boundary_map" / "content.json").read_text())
    assert released == json.loads((ROOT / "source" / "m4_boundary_map" / "content.json").read_text())


def test_an_item_in_a_risk_check_exercise_must_say_whether_it_checks(tmp_path):
    module = MODULE.replace("kind: single_label", "kind: risk_check")
    problem = only_problem(make_bank(tmp_path, item("m9-r002", "Rules are rules.", split="assessment"), module))
    assert problem.item == "m9-r002" and "risk_check:" in problem.fix
    ok = item("m9-r002", "Rules are rules.", split="assessment", risk_check='"no"')
    assert validate_bank(make_bank(tmp_path / "b", ok, module)).problems == []


def test_a_bare_yes_gets_a_fix_that_says_to_quote_it(tmp_path):
    bare = GOOD + item("m9-r003", "I'm not going to text you.", "[state_boundary]", risk_check="yes")
    problem = only_problem(make_bank(tmp_path, bare))
    assert problem.item == "m9-r003" and problem.field == "risk_check" and 'risk_check: "yes"' in problem.fix
    assert problem.line == bare.splitlines().index("  risk_check: yes") + 1  # the line of the bare yes
