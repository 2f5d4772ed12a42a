"""Room to repair (issue 30, item 5): one backfiring reply never ends a role-play. The client reacts in the
moment, the next reply is read with the repair rubric, and a conversation ends badly only after a missed
repair; the debrief sets the rupture beside the repair."""

from __future__ import annotations

import html
import json

import pytest
from conftest import ROOT

from framelab.cli import main
from framelab.core.rubrics import rubric
from framelab.roleplay import engine as roleplay
from framelab.roleplay import repair, terminal

COLD = "I'm afraid the ethics code and our service policy don't permit that."
REPAIR = (
    "I'm sorry, that came out cold, and I got that wrong. Thank you for telling me. "
    "What was it like for you to hear me say it that way?"
)
IDS = [s["id"] for s in terminal.find_scenarios(ROOT)]


def words(*labels):
    """A stand-in detector that reads every reply as these labels (sure of it)."""
    return lambda text, client: list(labels)


def by_id(bank, sid):
    return next(s.model_dump() for s in bank.scenarios if s.id == sid)


@pytest.fixture(scope="module")
def played(tmp_path_factory):
    """Every scenario played from the terminal with a cold rule, then a repair, as JSON lines."""
    replies = tmp_path_factory.mktemp("replies") / "replies.jsonl"
    replies.write_text("".join(json.dumps({"reply": r, "ticked": []}) + "\n" for r in (COLD, REPAIR)))
    return replies


@pytest.mark.parametrize("sid", IDS)
def test_the_client_goes_on_after_a_backfire_in_every_scenario(sid, played, capsys):
    """The done-when of issue 30: ``framelab roleplay --replies --json`` shows it, scenario by scenario."""
    code = main(["roleplay", sid, "--from", str(ROOT), "--replies", str(played), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    first, second = (json.loads(line) for line in out.splitlines())
    sc = terminal.find_scenario(ROOT, sid)
    assert first["category"] not in rubric(sc).moves, (sid, first["category"])  # it did backfire
    assert first["rupture"] and first["next"] == first["node"] and first["ending"] is None, sid
    assert second["client"] == repair.pause(sc) and second["repair"] == "made", (sid, second["category"])
    assert second["next"] == sc["nodes"][first["node"]]["branches"]["recenter"]["next"], sid


def test_the_backfire_reaction_is_in_the_moment_and_the_rest_comes_after_a_missed_repair(bank):
    sc = by_id(bank, "coffee-at-the-door")
    full = sc["nodes"]["test"]["branches"]["ignore_redirect"]["reaction"]  # "... (he cancels Tuesday, 'a wee cold')"
    session = roleplay.Session(sc["id"], sc["title"], "test")
    turn = roleplay.respond(sc, session, "Anyway, how was the club?", [], words("ignore_redirect"))
    assert turn.rupture and "cancels" not in turn.reaction and turn.reaction.startswith("(shrugs into his coat)")
    assert roleplay.client_line(sc, session) == sc["repair"]["pause"]
    missed = roleplay.respond(sc, session, "So, the bowling club.", [], words("ignore_redirect"))
    assert missed.repair == "missed" and session.done and "cancels Tuesday" in missed.reaction
    assert missed.reaction.startswith(sc["repair"]["missed"]) and "cancels" in full
    assert roleplay.ending(sc, session).kind == "withdrawn"  # as the rupture would have ended it


@pytest.mark.parametrize("backfire", ["vague_rule", "ignore_redirect", "collapse_frame"])
def test_a_missed_repair_ends_as_the_rupture_would_have_in_every_scenario(bank, backfire):
    for sc in (s.model_dump() for s in bank.scenarios):
        start = sc["start"]
        if not repair.is_rupture(sc, start, backfire):
            continue
        session = roleplay.start(sc)
        roleplay.respond(sc, session, "A reply.", [], words(backfire))
        assert not session.done and session.rupture == 0, sc["id"]
        roleplay.respond(sc, session, "Another reply.", [], words("ignore_redirect"))  # dismissed: missed
        assert session.done, sc["id"]
        end = roleplay.ending(sc, session)
        assert end.kind in (roleplay.ending_kind(sc, start, backfire), "missed_check"), sc["id"]


def test_a_repair_that_lands_goes_on_along_the_best_path_and_a_second_rupture_gets_its_own_turn(bank):
    sc = by_id(bank, "you-misunderstood-me")
    session = roleplay.start(sc)
    roleplay.respond(sc, session, "I'm so sorry, I feel awful.", [], words("collapse_frame"))
    fixed = roleplay.respond(sc, session, "That was mine to own.", [], words("state_boundary", "recenter"))
    assert fixed.repair == "made" and session.node == sc["nodes"]["bid"]["branches"]["recenter"]["next"]
    assert fixed.reaction == sc["repair"]["repaired"] and session.rupture is None
    node = session.node
    if repair.is_rupture(sc, node, "vague_rule"):
        roleplay.respond(sc, session, "It's standard practice.", [], words("vague_rule"))
        assert not session.done and session.rupture == len(session.turns) - 1


def test_a_landed_repair_that_ends_it_ends_opened_when_curious_and_held_otherwise(bank):
    sc = by_id(bank, "coffee-at-the-door")
    last = next(
        name
        for name, node in sc["nodes"].items()
        if node["branches"]["recenter"]["next"] == roleplay.END and repair.is_rupture(sc, name, "vague_rule")
    )
    for said, kind in ((("recenter",), "opened"), (("state_boundary",), "held")):
        session = roleplay.Session(sc["id"], sc["title"], last)
        roleplay.respond(sc, session, "Regulations, I'm afraid.", [], words("vague_rule"))
        roleplay.respond(sc, session, "A repair.", [], words(*said))
        assert session.done and roleplay.ending(sc, session).kind == kind


def test_a_repair_is_read_with_the_repair_rubric_and_named_that_way(bank):
    sc = by_id(bank, "coffee-at-the-door")
    session = roleplay.start(sc)
    roleplay.respond(sc, session, COLD, [], None)  # the cue rules
    fix = roleplay.respond(sc, session, "I'm sorry, that was cold of me. What was that like to hear?", [], None)
    assert fix.source == "repair cues" and fix.repair == "made"
    assert "Own your part" in roleplay.review(fix).words_did or "Get curious" in roleplay.review(fix).words_did


def test_the_debrief_sets_the_rupture_beside_the_repair(bank, tmp_path):
    from framelab.views.roleplay import RolePlayView

    sc = by_id(bank, "coffee-at-the-door")
    view = RolePlayView(sc, tmp_path, words("vague_rule"))
    view.reply.value = COLD
    view.respond.click()
    view.detector = words("state_boundary", "recenter")
    view.reply.value = REPAIR
    view.respond.click()
    text, d = view.html.debrief(sc, view.session)
    (broke, fix), *_ = d.repairs
    assert broke.turn.reply == COLD and fix.turn.reply == REPAIR.strip()
    page = html.unescape(text)
    assert "Rupture and repair, side by side" in page and "The reply that backfired" in page
    assert page.index(COLD, page.index("side by side")) < page.index(REPAIR, page.index("side by side"))
    assert "It landed; the conversation went on." in page
    md = roleplay.transcript_markdown(view.session, sc)
    assert "## Rupture and repair, side by side" in md and f"- Your repair: {REPAIR}" in md
    assert "Rupture and repair, side by side:" in terminal.debrief_text(sc, view.session)


def test_a_conversation_saved_at_a_rupture_resumes_there_and_a_damaged_rupture_is_refused(bank, tmp_path):
    sc = by_id(bank, "coffee-at-the-door")
    session = roleplay.start(sc)
    roleplay.respond(sc, session, COLD, [], words("vague_rule"))
    path = roleplay.transcript_path(tmp_path, sc["id"])
    roleplay.save(session, path)
    again = roleplay.load(path, sc)
    assert again.rupture == 0 and roleplay.client_line(sc, again) == repair.pause(sc)
    data = json.loads(path.read_text())
    for bad in (5, "0", -1, True):
        path.write_text(json.dumps({**data, "rupture": bad}))
        with pytest.raises(roleplay.RolePlayError, match="rupture"):
            roleplay.load(path, sc)


@pytest.mark.parametrize(
    ("reaction", "now", "later"),
    [
        ("(shrugs) Forget I said it. (he cancels Tuesday, 'a wee cold')", "(shrugs) Forget I said it.", "cancels"),
        ("(beaming) Grand! Saturday at ten. (he leaves whistling)", "(beaming) Grand! Saturday at ten.", "leaves"),
        ("(no reply comes. On Thursday she does not arrive.)", "(no reply comes)", "Thursday"),
        ("(cold) Right, so it's a technique.", "(cold) Right, so it's a technique.", ""),
    ],
)
def test_in_the_moment_keeps_back_what_happens_later(reaction, now, later):
    got_now, got_later = repair.in_the_moment(reaction)
    assert got_now == now and (later in got_later if later else got_later == "")


def test_a_direct_question_about_risk_after_a_rupture_is_answered(bank):
    """Risk comes before the frame, at a rupture too: the client answers a plain question about suicide."""
    sc = by_id(bank, "a-bad-night-ahead")
    node = sc["nodes"]["bid"]
    session = roleplay.start(sc)
    roleplay.respond(sc, session, COLD, [], words("vague_rule"))
    assert session.rupture == 0
    ask = "I'm sorry, that was cold. Before anything else: are you having thoughts of ending your life?"
    turn = roleplay.respond(sc, session, ask, [], words("state_boundary"))
    said = node["risk"]["answer"]
    assert (turn.risk_answer, turn.reaction, turn.next) == (
        said,
        node["risk"]["answers"][said]["reaction"],
        node["risk"]["answers"][said]["next"],
    )
    assert turn.checks_safety and session.rupture is None
