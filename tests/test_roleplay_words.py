"""Reactions that fit the words (issue 30, item 4), on the examples the issue found: a re-centring question
gets an answer to that question, no reaction turns down an offer that was not made, callbacks quote a phrase
with content, and the debrief shows only phrases that carry meaning."""

from __future__ import annotations

import pytest

from framelab.roleplay import engine as roleplay
from framelab.roleplay import words


def by_id(bank, sid):
    return next(s.model_dump() for s in bank.scenarios if s.id == sid)


def recentre(sc, node, reply):
    session = roleplay.Session(sc["id"], sc["title"], node)
    return roleplay.respond(sc, session, reply, [], lambda text, client: ["recenter"])


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("What would help you most when Ben arrives?", "help"),
        ("Tell me more about what the panic feels like.", "feeling"),
        ("I wonder what prompted you to ask today?", "prompted"),
        ("What would a call give you tonight?", "want"),
        ("Has this happened before, with other people?", "past"),
        ("I'd like to understand. No, I won't be coming.", None),
    ],
)
def test_a_question_is_named_by_what_it_asks_about(question, topic):
    assert words.question_topic(question) == topic


def test_a_question_about_help_gets_an_answer_about_help_not_about_a_call(bank):
    """Issue 30: "What would help you most when Ben arrives?" got "What I'd want from a call?"."""
    sc = by_id(bank, "a-bad-night-ahead")
    turn = recentre(sc, "bid", "I can hear tonight is going to be hard. What would help you most when Ben arrives?")
    assert "want from a call" not in turn.reaction
    assert turn.reaction == sc["nodes"]["bid"]["branches"]["recenter"]["topics"]["help"]
    # the question the reaction was written for still gets it
    asked = recentre(sc, "bid", "What would you want from a call tonight, if you rang?")
    assert asked.reaction == sc["nodes"]["bid"]["branches"]["recenter"]["reaction"]


def test_a_question_about_the_panic_is_not_answered_as_one_about_coming_back(bank):
    """Issue 30: "Tell me more about what the panic feels like" got "What it was like to come back? Scary."."""
    sc = by_id(bank, "you-misunderstood-me")
    turn = recentre(sc, "closing", "Before you go, tell me more about what the panic feels like.")
    assert "come back" not in turn.reaction and "panic" in turn.reaction.lower()


def test_a_question_no_line_was_written_for_gets_a_neutral_invitation_to_go_on(bank):
    sc = by_id(bank, "camera-in-the-car")
    node = sc["nodes"]["where"]
    assert words.echoed(node["branches"]["recenter"]["reaction"]) == "What I'm doing here?"
    turn = recentre(sc, "where", "Has it been like this before, on other bad days?")  # asks about the past
    assert turn.reaction == (node.get("neutral") or words.NEUTRAL)
    fits = recentre(sc, "where", "What are you doing up there, do you think?")  # the question it was written for
    assert fits.reaction == node["branches"]["recenter"]["reaction"]


def test_no_reaction_turns_down_an_offer_that_was_not_made(bank):
    """Issue 30: after an over-apology the client said "I don't need your number", though none was offered."""
    sc = by_id(bank, "you-misunderstood-me")
    session = roleplay.start(sc)
    sorry = "I am so, so sorry. I feel awful. I'm a terrible counsellor, I really am."
    turn = roleplay.respond(sc, session, sorry, [], lambda text, client: ["collapse_frame"])
    assert "number" not in turn.reaction and "free sessions" not in turn.reaction
    assert "hear it" in turn.reaction  # what the client did say stays
    offered = words.fit_offers(sc["nodes"]["bid"]["branches"]["collapse_frame"]["reaction"], "Here's my number.")
    assert "I don't need your number" in offered and "free sessions" not in offered
    # the client's own offer is theirs to make, whatever the reply said
    mine = "(laughs) Okay! I'll give you my number at our last session."
    assert words.fit_offers(mine, "Yes, let's be friends.") == mine


@pytest.mark.parametrize("filler", ["I hear you", "going", "like", "in the", "you for", "Thank you"])
def test_filler_carries_no_meaning(filler):
    assert not words.meaningful(filler)


@pytest.mark.parametrize("phrase", ["my Saturdays are full", "not while we're working together", "after the summer"])
def test_a_phrase_with_content_carries_meaning(phrase):
    assert words.meaningful(phrase)


def filler_turn(reply, cues):
    return roleplay.Turn(
        "bid", "client", reply, [], ["state_boundary"], "state_boundary", "r", "next",
        {"state_boundary": {"confidence": 0.9, "cues": cues}},
    )  # fmt: skip


def test_a_callback_quotes_a_phrase_with_content_not_filler():
    """Issue 30: a callback quoted filler ("I kept thinking about what you said: 'I hear you'")."""
    turn = filler_turn(
        "I hear you. My answer stays the same: I won't be meeting you outside our sessions.", ["I hear you"]
    )
    said = roleplay.quoted(turn, "state_boundary")
    assert said != "I hear you" and "won't be meeting you" in said


def test_the_debrief_shows_only_phrases_that_carry_meaning():
    """Issue 30: "the phrases that decided it" showed "going", "like", "in the", "you for"."""
    turn = filler_turn(
        "Thank you for asking. I'm going to say no, like I said, in the end.",
        ["going", "like", "in the", "you for", "say no"],
    )
    shown = roleplay.heard(turn)
    assert "\u201csay no\u201d" in shown
    assert not any(f"\u201c{c}\u201d" in shown for c in ("going", "like", "in the", "you for"))
