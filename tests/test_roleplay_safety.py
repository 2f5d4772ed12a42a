"""Safety role-plays that respond (issue 29, items 3 and 4): a direct question about risk is answered (yes, no
or unsure, each with its next turn); a conversation that passes a risk cue without one never ends as held or
opened, but as a missed check that the debrief names first; after a yes the model replies let the end time go;
a written ask says when the answer will be read; each turn's JSON carries ``checks_safety``."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest
from conftest import ROOT

from framelab.cli import main
from framelab.core.vocabulary import LABELS
from framelab.roleplay import engine as roleplay
from framelab.roleplay import safety

ASK = "Before anything else, I need to ask: are you having thoughts of ending your life?"
VAGUE = "Are you okay?"
NEW = ("a-message-on-sunday", "at-the-door", "camera-in-the-car")


def words(*labels):
    """A stand-in detector that reads every reply as these labels (sure of it)."""
    return lambda text, client: list(labels)


def risk_scenarios(bank):
    return [s.model_dump() for s in bank.scenarios if any(n.risk for n in s.nodes.values())]


def by_id(bank, sid):
    return next(s.model_dump() for s in bank.scenarios if s.id == sid)


def replay(sc, steps):
    """Play (text, label) steps; returns the session."""
    session = roleplay.start(sc)
    for text, label in steps:
        roleplay.respond(sc, session, text, [], words(label))
    if session.rupture is not None:  # the last reply backfired: the repair turn is missed the same way
        roleplay.respond(sc, session, text, [], words(label))
    return session


def terminal_paths(sc):
    """For every branch that ends the conversation, one path of label-only replies (no risk question) to it."""
    found, seen = [], set()

    def walk(node, path):
        if node in seen and len(path) > 1:
            return
        for lab in LABELS:
            nxt = sc["nodes"][node]["branches"][lab]["next"]
            if nxt == roleplay.END:
                found.append([*path, lab])
            else:
                walk(nxt, [*path, lab])
        seen.add(node)

    walk(sc["start"], [])
    return found


def test_the_three_new_settings_are_there_and_the_answers_cover_yes_no_and_unsure(bank):
    scs = {sc["id"]: sc for sc in risk_scenarios(bank)}
    assert set(NEW) | {"a-bad-night-ahead"} <= set(scs)
    assert "text" in scs["a-message-on-sunday"]["context"]["stage"].lower()  # between sessions, in writing
    assert "door" in scs["at-the-door"]["context"]["stage"]  # at the end of a session
    assert "video" in scs["camera-in-the-car"]["context"]["stage"] and "car" in scs["camera-in-the-car"]["id"]
    answers = {n["risk"]["answer"] for sc in scs.values() for n in sc["nodes"].values() if n.get("risk")}
    assert answers == {"yes", "no", "unsure"}


def test_a_direct_question_is_answered_and_a_vague_one_gets_unsure_at_every_risk_cue(bank):
    for sc in risk_scenarios(bank):
        for name, node in sc["nodes"].items():
            if not node.get("risk"):
                continue
            for text, said in ((ASK, node["risk"]["answer"]), (VAGUE, "unsure")):
                session = roleplay.Session(sc["id"], sc["title"], name)
                turn = roleplay.respond(sc, session, text, [], words("validate"))  # the labels do not decide it
                branch = node["risk"]["answers"][said]
                assert (turn.risk_answer, turn.reaction, turn.next) == (said, branch["reaction"], branch["next"])
                assert turn.checks_safety is (text == ASK)
                assert branch["next"] in sc["nodes"] or branch.get("ending"), (sc["id"], name, said)


def test_the_question_is_answered_even_where_the_words_read_as_nothing_clear(bank):
    """Issue 29, S2: a plain question about suicide at the bid got 'Sorry, is that a yes?'."""
    sc = by_id(bank, "a-bad-night-ahead")
    session = roleplay.start(sc)
    turn = roleplay.respond(sc, session, "Are you having thoughts of ending your life?", [], None)  # cue rules
    assert turn.category != "unclear" and turn.risk_answer == "unsure" and "midnight" in turn.reaction


@pytest.mark.parametrize("sid", ["a-bad-night-ahead", *NEW])
def test_a_path_that_never_asks_never_ends_held_or_opened_and_the_debrief_says_so_first(bank, sid):
    sc = by_id(bank, sid)
    paths = terminal_paths(sc)
    assert len(paths) >= 8
    kinds_without = set()
    for path in paths:
        session = replay(sc, [("A warm, clear reply.", lab) for lab in path])
        assert session.done, (sid, path)
        end = roleplay.ending(sc, session)
        assert end.kind == safety.MISSED, (sid, path, end.kind)
        kinds_without.add(roleplay.ending_kind(sc, session.turns[-1].node, path[-1]))
        d = roleplay.debrief(sc, session)
        assert d.prompts[0].startswith("How it ended: the risk check was missed. A risk cue went unasked about")
        assert "*How it ended: the risk check was missed." in roleplay.transcript_markdown(session, sc)
    assert {"held", "opened"} <= kinds_without  # those paths would have been credited before


def test_asking_once_is_not_enough_after_a_yes(bank):
    """At the door: the trainee asks, hears yes, then ends on time. That is a missed check, not 'withdrawn'."""
    sc = by_id(bank, "at-the-door")
    session = replay(
        sc, [(ASK, "validate"), ("We do need to stop now; let's pick this up next week.", "state_boundary")]
    )
    assert session.done and roleplay.ending(sc, session).kind == safety.MISSED
    cue = sc["nodes"]["after-yes"]["risk"]["cue"]
    assert cue in roleplay.ending(sc, session).note and "would otherwise have ended with the client pulled back" in (
        roleplay.ending(sc, session).note
    )


def test_a_good_path_asks_at_each_cue_and_can_end_held_or_opened(bank):
    for sc in risk_scenarios(bank):
        for label, kind in (("state_boundary", "held"), ("recenter", "opened")):
            session = roleplay.start(sc)
            while not session.done:
                text = ASK if sc["nodes"][session.node].get("risk") else "A reply."
                roleplay.respond(sc, session, text, [], words(label))
            assert roleplay.ending(sc, session).kind == kind, (sc["id"], label)
            assert safety.missed_cue(sc, session.turns) is None


def test_after_a_yes_no_model_reply_holds_the_end_time(bank):
    gives_way = re.compile(
        r"not stopping|can wait|take the time|not watch the clock|staying on|as long as it needs", re.I
    )
    holds = re.compile(r"five minutes|end on time|need to stop|out of time", re.I)
    for sc in risk_scenarios(bank):
        said = {n["risk"]["answer"] for n in sc["nodes"].values() if n.get("risk")}
        for model in sc["model_responses"]:
            assert safety.level(model["text"]) == "yes", (sc["id"], model["level"])
            assert not holds.search(model["text"]), (sc["id"], model["level"])
            if said & {"yes", "unsure"}:
                assert gives_way.search(model["text"]), (sc["id"], model["level"])


def test_a_written_ask_says_when_the_answer_is_read_and_what_to_do_meanwhile(bank):
    sc = by_id(bank, "a-message-on-sunday")
    for model in sc["model_responses"]:
        text = model["text"]
        assert re.search(r"\b(by ten|until five|within the hour|as soon as I see)\b", text), model["level"]
        assert re.search(r"116 123|999", text), model["level"]


def test_each_turn_carries_checks_safety_in_the_transcript_and_the_terminal(bank, tmp_path, capsys):
    sc = by_id(bank, "a-message-on-sunday")
    session = replay(sc, [(ASK, "validate")])
    path = tmp_path / "t.json"
    roleplay.save(session, path)
    again = roleplay.load(path, sc)
    assert (again.turns[0].checks_safety, again.turns[0].risk_answer) == (True, "no")
    damaged = json.loads(path.read_text())
    damaged["turns"][0]["checks_safety"] = "yes"
    path.write_text(json.dumps(damaged))
    with pytest.raises(roleplay.RolePlayError, match="damaged"):
        roleplay.load(path, sc)
    older = session.to_json()
    older["turns"] = [{k: v for k, v in dataclasses.asdict(t).items() if k not in ("checks_safety", "risk_answer")}
                      for t in session.turns]  # fmt: skip
    path.write_text(json.dumps(older))
    assert roleplay.load(path, sc).turns[0].checks_safety is None  # a transcript from before still loads

    replies = tmp_path / "replies.jsonl"
    lines = ["Sorry you had such a night. I don't do calls between sessions; see you Thursday."] * 6
    replies.write_text("".join(json.dumps({"reply": r, "ticked": []}) + "\n" for r in lines))
    code = main(["roleplay", "a-message-on-sunday", "--from", str(ROOT), "--replies", str(replies), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    turns = [json.loads(line) for line in out.splitlines()]
    assert all(t["checks_safety"] is False for t in turns)
    assert turns[-1]["ending"] == safety.MISSED and all(t["ending"] is None for t in turns[:-1])


def test_the_missed_check_comes_first_in_every_debrief_a_trainee_reads(bank):
    from framelab.roleplay.terminal import debrief_text

    sc = by_id(bank, "camera-in-the-car")
    session = replay(
        sc, [("Sure, let's do it from the car today.", "validate"), ("Ten past, as usual.", "state_boundary")]
    )
    end = roleplay.ending(sc, session)
    assert end.kind == safety.MISSED
    text = debrief_text(sc, session)
    assert text.index(end.line) < text.index("Turn 1.")
    markdown = roleplay.transcript_markdown(session, sc)
    assert markdown.index(end.line) < markdown.index("## Turn 1")
    pytest.importorskip("ipywidgets")
    from framelab.views.roleplay_html import debrief as debrief_html

    page, _ = debrief_html(sc, session)
    assert page.index("the risk check was missed") < page.index("Turn 1.")
    good = replay(sc, [(ASK, "validate"), (ASK, "validate"), ("A reply.", "recenter"), ("A reply.", "recenter")])
    assert "the risk check was missed" not in debrief_text(sc, good)
