"""The role-play's arcs, walked through roleplay's plain functions: the best path runs five to six turns and
the client tests again after trust is earned; the client quotes earlier replies back; and a conversation can
end in several ways, each of them reachable in every scenario."""

from __future__ import annotations

import dataclasses
import json
import typing

import pytest
from conftest import ROOT

from framelab.cli import main
from framelab.core.rubrics import rubric
from framelab.core.vocabulary import LABELS
from framelab.roleplay import engine as roleplay

FULL = ("validate", "state_boundary", "recenter")  # a reply that makes all three moves (read as recenter)
#: what a trainee says at a risk cue on a good path: the client answers it (roleplay.safety); without it, a
#: conversation that passes a risk cue ends as a missed check (tests/test_roleplay_safety.py)
ASK = "Before anything else, I need to ask: are you having thoughts of ending your life?"


def words(*labels):
    """A stand-in detector that reads every reply as these labels (sure of it)."""
    return lambda text, client: list(labels)


def scenarios(bank):
    return [s.model_dump() for s in bank.scenarios]


def by_id(bank, sid):
    return next(s for s in scenarios(bank) if s["id"] == sid)


def play(sc, readings, reply="A reply."):
    """Play ``sc`` to its end with these readings, one per turn (the last one repeats); at a risk cue the
    reply asks about risk first, as every good reply does."""
    session = roleplay.start(sc)
    while not session.done and len(session.turns) < roleplay.MAX_TURN_COUNT:
        labels = readings[min(len(session.turns), len(readings) - 1)]
        text = ASK if sc["nodes"][session.node].get("risk") else reply
        roleplay.respond(sc, session, text, [], words(*labels))
    return session


def ending_kind(sc, session):
    end = roleplay.ending(sc, session)
    return end.kind if end else None


def test_the_bank_has_the_twelve_scenarios(bank):
    assert len(bank.scenarios) >= 12


def test_the_best_path_runs_five_to_six_turns_with_a_retest_after_trust_is_earned(bank):
    for sc in scenarios(bank):
        session = play(sc, [FULL])
        turns = session.turns
        assert 5 <= len(turns) <= 6, (sc["id"], len(turns))
        good = set(rubric(sc).moves)
        retests = [n for n, t in enumerate(turns) if sc["nodes"][t.node].get("retest")]
        assert retests, f"{sc['id']}: the client never tests the boundary again on the best path"
        assert any(turns[k].category in good for k in range(retests[0])), f"{sc['id']}: the re-test comes first"
        assert ending_kind(sc, session) == "opened", sc["id"]
        # each turn of the arc is a different moment: the client does not say the same thing twice
        assert len({t.client for t in turns}) == len(turns), sc["id"]


def test_a_retest_is_a_moment_where_every_backfire_still_costs(bank):
    """A re-test is real only if the good moves and the backfires lead to different places there."""
    for sc in scenarios(bank):
        for name, node in sc["nodes"].items():
            if not node.get("retest"):
                continue
            good = {(node["branches"][m]["next"], node["branches"][m]["reaction"]) for m in rubric(sc).moves}
            for lab in ("gentle_dodge", "vague_rule", "ignore_redirect", "mixed_message", "collapse_frame"):
                branch = node["branches"][lab]
                assert (branch["next"], branch["reaction"]) not in good, (sc["id"], name, lab)
                assert branch["next"] == roleplay.END, (sc["id"], name, lab)


def test_a_deferral_is_quoted_back_later_in_the_trainees_own_words(bank):
    reply = "I'm swamped at the moment, maybe after the summer."
    for sc in scenarios(bank):
        session = roleplay.start(sc)
        roleplay.respond(sc, session, reply, [], words("gentle_dodge"))
        assert not session.done, f"{sc['id']}: a first 'not now' ends the conversation, so it is never recalled"
        while not session.done:
            roleplay.respond(sc, session, "A full reply.", [], words(*FULL))
        later = [t.client for t in session.turns[1:]]
        assert any("swamped at the moment, maybe after the summer" in line for line in later), sc["id"]
        assert all("{said}" not in t.client for t in session.turns), sc["id"]


def test_the_quote_comes_from_the_phrases_the_reading_found():
    """With the cue rules (no detector), the quote is the sentence that holds the deferral, not the whole reply."""
    sc_turn = roleplay.Turn(
        "bid",
        "Coffee?",
        "You're very kind to ask. Honestly my diary is completely packed for the next few months with all the "
        "training courses I have booked. Thank you though.",
        [],
        ["gentle_dodge"],
        "gentle_dodge",
        "...",
        "retry",
        {"gentle_dodge": {"confidence": None, "cues": ["diary", "packed"]}},
    )
    said = roleplay.quoted(sc_turn, "gentle_dodge")
    assert "diary is completely packed" in said and "kind to ask" not in said and "Thank you" not in said
    assert said.startswith("\u2026") and said.endswith("\u2026")
    assert len(said.strip("\u2026").split()) <= roleplay.QUOTE_WORDS
    # the clause that holds the phrase, not the words around it; a clause of a few words takes the one before
    for reply, cue, expected in [
        ("honestly Im slammed with the end of semester right now, maybe once things calm down we can see?",
         "maybe once", "maybe once things calm down we can see"),
        ("Sorry, not now, but thank you.", "not now", "Sorry, not now"),
    ]:  # fmt: skip
        turn = roleplay.Turn("bid", "c", reply, [], ["gentle_dodge"], "gentle_dodge", "r", "retry",
                             {"gentle_dodge": {"confidence": 0.9, "cues": [cue]}})  # fmt: skip
        assert roleplay.quoted(turn, "gentle_dodge") == expected
    # no phrase found: the first sentence, as it was said
    plain = roleplay.Turn("bid", "c", "Maybe after we finish! Ask me then.", [], None, "gentle_dodge", "r", "retry")
    assert roleplay.quoted(plain, "gentle_dodge") == "Maybe after we finish"


def test_with_the_cue_rules_a_deferral_is_recalled_by_its_words(bank):
    sc = by_id(bank, "coffee-at-the-door")
    session = roleplay.start(sc)
    first = roleplay.respond(sc, session, "Ah, my diary is packed this month, sorry.", [], None)
    assert first.source == "cue rules" and first.category == "gentle_dodge"
    line = roleplay.client_line(sc, session)
    assert "\u201cmy diary is packed this month\u201d" in line  # the clause that carried the deferral


def test_a_poor_path_a_mixed_path_and_the_best_path_end_differently(bank):
    for sc in scenarios(bank):
        best = ending_kind(sc, play(sc, [FULL]))
        poor = {ending_kind(sc, play(sc, [(lab,)])) for lab in ("vague_rule", "ignore_redirect")}
        mixed = ending_kind(sc, play(sc, [FULL, ("gentle_dodge",)]))  # a good start, then a 'not now'
        collapsed = ending_kind(sc, play(sc, [FULL, FULL, ("collapse_frame",)]))
        assert (best, poor, mixed, collapsed) == ("opened", {"withdrawn"}, "hoping", "collapsed"), sc["id"]


def paths_to(sc, kind):
    """One list of readings (one label per turn) that ends ``sc`` with ``kind``, or None."""

    def walk(node, path):
        risk = sc["nodes"][node].get("risk")
        if risk:  # the reply asks (see play): the client's answer decides where it goes
            branch = risk["answers"][risk["answer"]]
            if branch["next"] == roleplay.END:
                return [*path, "validate"] if branch.get("ending") == kind else None
            return walk(branch["next"], [*path, "validate"]) if len(path) < 6 else None
        for lab in LABELS:
            nxt = sc["nodes"][node]["branches"][lab]["next"]
            if nxt == roleplay.END:
                if roleplay.ending_kind(sc, node, lab) == kind:
                    return [*path, lab]
            elif len(path) < 6:
                found = walk(nxt, [*path, lab])
                if found:
                    return found
        return None

    return walk(sc["start"], [])


@pytest.mark.parametrize("kind", roleplay.ENDING_KINDS)
def test_every_kind_of_ending_is_reachable_in_every_scenario(bank, kind):
    for sc in scenarios(bank):
        path = paths_to(sc, kind)
        assert path, f"{sc['id']}: no way to end '{kind}'"
        session = play(sc, [(lab,) for lab in path])  # a last backfire is a rupture; its repair is missed
        assert [t.category for t in session.turns if not t.repair] == path and session.done
        assert [t.repair for t in session.turns if t.repair] == (["missed"] if session.turns[-2].rupture else [])
        end = roleplay.ending(sc, session)
        title, note, question = roleplay.ENDINGS[rubric(sc).name][kind]
        assert (end.kind, end.title, end.note) == (kind, title, note)
        d = roleplay.debrief(sc, session)
        assert d.ending == end and d.prompts[0] == f"How it ended: {title}. {note} {question}"
        assert f"*How it ended: {title}." in roleplay.transcript_markdown(session, sc)


def test_a_conversation_still_going_has_no_ending(bank):
    sc = scenarios(bank)[0]
    session = roleplay.start(sc)
    roleplay.respond(sc, session, "A full reply.", [], words(*FULL))
    assert roleplay.ending(sc, session) is None and roleplay.debrief(sc, session).ending is None
    assert "*The conversation was still going.*" in roleplay.transcript_markdown(session, sc)


def test_the_ending_kinds_are_the_banks():
    from framelab.bank.models import EndingKind

    assert typing.get_args(EndingKind) == roleplay.ENDING_KINDS
    assert set(roleplay.DEFAULT_ENDING) == set(LABELS) and set(roleplay.DEFAULT_ENDING.values()) <= set(
        roleplay.ENDING_KINDS
    )
    for table in roleplay.ENDINGS.values():
        assert set(table) == set(roleplay.ENDING_KINDS)


def test_an_ending_on_a_branch_that_goes_on_is_a_bank_problem(bank):
    from framelab.bank.checks import check_item
    from framelab.bank.models import Scenario

    raw = by_id(bank, "coffee-at-the-door")
    raw["nodes"]["bid"]["branches"]["recenter"]["ending"] = "opened"  # but it goes on to 'explore'
    problems = check_item(Scenario.model_validate(raw), "m1", "modules/m1_double_bind/scenarios.yaml", 6)
    assert [p.field for p in problems] == ["nodes.bid.branches.recenter.ending"]
    assert "does not end the conversation" in str(problems[0])
    raw["nodes"]["bid"]["branches"]["recenter"]["ending"] = "fine"
    with pytest.raises(ValueError, match="opened"):
        Scenario.model_validate(raw)


def test_the_terminal_names_how_it_ended_on_the_last_line(tmp_path, capsys):
    replies = tmp_path / "replies.jsonl"
    lines = ["Sure, Saturday at ten sounds lovely, count me in!", "Anyway, how was your week?"]
    replies.write_text("".join(json.dumps({"reply": r, "ticked": []}) + "\n" for r in lines))
    code = main(["roleplay", "coffee-at-the-door", "--from", str(ROOT), "--replies", str(replies), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    turns = [json.loads(line) for line in out.splitlines()]
    # the yes is a rupture the client waits on; the reply that moves on misses the repair, and that ends it
    assert [(t["category"], t["next"], t["ending"], t["rupture"]) for t in turns] == [
        ("collapse_frame", "bid", None, True),
        ("ignore_redirect", "END", "collapsed", False),
    ]


def test_the_client_remembers_a_good_move_too_and_says_it_after_the_stage_direction(bank):
    sc = by_id(bank, "coffee-at-the-door")
    session = roleplay.start(sc)
    replies = ["It matters. No coffee. What was behind it?", "Say more?", "I'm curious what the café stands for."]
    for reply in replies:
        roleplay.respond(sc, session, reply, [], words(*FULL))
    assert session.node == "tuesday"
    line = roleplay.client_line(sc, session)
    stage, rest = sc["nodes"]["tuesday"]["client"].split(") ", 1)
    memory = sc["nodes"]["tuesday"]["remember"]["recenter"].replace("{said}", "I'm curious what the café stands for")
    assert line == f"{stage}) {memory} {rest}"


def test_a_transcript_saved_before_the_arc_grew_still_ends_plainly(bank, tmp_path):
    """An older transcript ended where the scenario now goes on: it loads, and says only that it ended."""
    sc = by_id(bank, "coffee-at-the-door")
    session = play(sc, [FULL])
    old = session.to_json() | {"node": roleplay.END, "turns": [dataclasses.asdict(t) for t in session.turns[:3]]}
    old["turns"][-1]["next"] = roleplay.END
    path = tmp_path / "roleplay-coffee-at-the-door.json"
    path.write_text(json.dumps(old))
    again = roleplay.load(path, sc)
    assert again.done and roleplay.ending(sc, again) is None and roleplay.debrief(sc, again).ending is None
    assert "*The conversation ended.*" in roleplay.transcript_markdown(again, sc)


def test_the_model_responses_read_by_the_real_reader_walk_the_best_path(bank):
    """Not a stand-in: the scenario's own model responses, read as the role-play reads them (the detector,
    or for a rupture the repair reader), earn the full arc and its best ending in every scenario."""
    from framelab.detector.boundary import load_detector

    reader = load_detector()
    for sc in scenarios(bank):
        replies = [m["text"] for m in sorted(sc["model_responses"], key=lambda m: m["level"])]
        session = roleplay.start(sc)
        while not session.done and len(session.turns) < 8:
            roleplay.respond(sc, session, replies[len(session.turns) % len(replies)], [], reader)
        assert 5 <= len(session.turns) <= 6 and ending_kind(sc, session) == "opened", (
            sc["id"],
            [t.category for t in session.turns],
        )


#: the scenarios whose best path has grown to five turns or more, with a second test after trust is earned (all
#: sixteen: in the risk role-plays the second test comes once the risk question is answered)
LONGER = (
    "coffee-at-the-door",
    "friends-when-we-finish",
    "follow-request",
    "graduation-day",
    "evening-texts",
    "supermarket-meeting",
    "you-misunderstood-me",
    "your-private-life",
    "wanting-to-stop",
    "questions-about-you",
    "attraction-disclosure",
    "after-the-final-session",
    "a-bad-night-ahead",
    "a-message-on-sunday",
    "at-the-door",
    "camera-in-the-car",
)


@pytest.mark.parametrize("sid", LONGER)
def test_a_longer_arc_tests_the_boundary_a_second_time_after_trust_is_earned(bank, sid):
    sc = by_id(bank, sid)
    session = play(sc, [FULL])
    turns = session.turns
    assert 5 <= len(turns) <= 6, (sid, len(turns))
    retests = [n for n, t in enumerate(turns) if sc["nodes"][t.node].get("retest")]
    assert len(retests) >= 2, f"{sid}: the client tests the boundary only once on the best path"
    # the first test was met with a good move (trust earned), and the client tests again later in the arc
    assert turns[retests[0]].category in rubric(sc).moves and retests[-1] >= 3, (sid, retests)
    assert ending_kind(sc, session) == "opened"
