"""Module 4's safety content (issue 22): the graded replies to requests that come with distress, their
practice deck, and the role-play for a bid that comes with distress."""

from __future__ import annotations

import re

from framelab.core.vocabulary import LABELS, THREE_MOVES
from framelab.roleplay import engine as roleplay

SCENARIO = "a-bad-night-ahead"
#: words a rationale uses when it says whether a reply checks safety
SAFETY_WORDS = re.compile(r"\b(safety|safe|risk|suicide|self-harm|crisis)\b", re.I)


def words(*labels):
    """A stand-in detector that reads every reply as these labels (sure of it)."""
    return lambda text, client: list(labels)


def safety_exercise(bank):
    return next(ex for ex in bank.module("m4").meta.exercises if ex.id == "safety_replies")


def test_the_safety_exercise_is_graded_varied_and_says_whether_each_reply_checks_safety(bank):
    ex = safety_exercise(bank)
    items = [bank.items()[i] for i in ex.items]
    assert ex.kind == "moves" and 8 <= len(items) <= 12
    assert all(it.split == "assessment" for it in items)
    answers = {tuple(m for m in THREE_MOVES if m in it.labels) for it in items}
    assert len(answers) >= 5, answers  # not one pattern over and over: full, partial and "none" answers
    assert () in answers and tuple(THREE_MOVES) in answers
    backfires = {lab for it in items for lab in it.labels if lab not in THREE_MOVES}
    assert len(backfires) >= 4, backfires
    assert len({it.english for it in items}) == 3 and len({it.tone for it in items}) == 3
    for it in items:
        assert SAFETY_WORDS.search(it.rationale), f"{it.id}: the rationale does not say whether it checks safety"


def test_the_practice_deck_has_every_label_and_enough_items(bank):
    practice = [r for r in bank.module("m4").responses if r.situation == "distress-message" and r.split == "practice"]
    assert 10 <= len(practice) <= 25  # a deck a trainee can finish in a sitting (issue 29 added five)
    assert {lab for r in practice for lab in r.labels} == set(LABELS)


def scenario(bank):
    return next(s.model_dump() for s in bank.scenarios if s.id == SCENARIO)


def test_the_distress_role_play_tests_again_after_good_moves_and_has_many_endings(bank):
    sc = scenario(bank)
    session = roleplay.start(sc)
    while not session.done:
        roleplay.respond(sc, session, "A full reply.", [], words("validate", "state_boundary", "recenter"))
    assert 4 <= len(session.turns) <= 6
    assert session.turns[-1].node == "test"  # she asks once more after the good replies
    endings = {b["reaction"] for n in sc["nodes"].values() for b in n["branches"].values() if b["next"] == "END"}
    assert len(endings) >= 8


def test_the_distress_role_play_remembers_an_earlier_no(bank):
    sc = scenario(bank)
    session = roleplay.start(sc)
    while not session.done and session.node != "test":
        roleplay.respond(sc, session, "No, and here is why.", [], words("state_boundary"))
    assert session.node == "test"
    line = roleplay.client_line(sc, session)
    # the memory comes after the opening stage direction, before the new request
    assert sc["nodes"]["test"]["remember"]["state_boundary"] in line
    assert line.index(sc["nodes"]["test"]["remember"]["state_boundary"]) < line.index("full stop")


def test_the_distress_role_play_models_a_safety_question_first(bank):
    sc = scenario(bank)
    for model in sc["model_responses"]:
        text = model["text"]
        asks = re.search(r"(thoughts of (harming|suicide|ending)|suicide)", text)
        limit = re.search(r"I'm not going to", text)
        assert asks and limit and asks.start() < limit.start(), model["level"]
