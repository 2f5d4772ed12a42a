"""Risk comes before the frame, in the role-play: the client answers a direct question about risk, and a
conversation that passed a risk cue without one cannot end as "the boundary held".

A scenario node may carry a ``risk`` cue (``bank.models.RiskCue``): the words that carry the risk, what
this client says when asked directly (``answer``: yes, no or unsure), and the client's reply and next node
for each answer. At such a node:

* a reply that asks directly (:mod:`framelab.detector.safety`, level ``yes``) gets the client's answer;
* a vague check (``partly``: "are you okay?") gets the ``unsure`` answer, which a direct question can follow;
* a reply with no check goes on by its labels, as at any node, and the cue counts as missed until a later
  reply asks directly.

A conversation that ends with a cue missed ends as :data:`MISSED`, whatever else it did, and the debrief
names the missed check first (:func:`missed_ending`). Plain functions over the scenario's plain data; the
engine (:mod:`framelab.roleplay.engine`) calls :func:`answer`, :func:`ending_kind` and :func:`missed_cue`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from framelab.detector.safety import read as read_safety

END = "END"
#: The ending of a conversation that passed a risk cue without a direct question.
MISSED = "missed_check"


def level(reply: str) -> str:
    """How a reply checks for risk: ``yes``, ``partly`` or ``no``."""
    return read_safety(reply).level


def answer(node: Mapping[str, Any], check: str) -> tuple[str, Mapping[str, Any]] | None:
    """At a node with a risk cue, the client's answer to a reply that checks (``yes`` or ``partly``) and
    the branch it takes (reaction, next, ending); None where the node has no cue or the reply did not check."""
    risk = node.get("risk")
    if not risk or check not in ("yes", "partly"):
        return None
    said = risk["answer"] if check == "yes" else "unsure"
    answers = risk["answers"]
    return said, answers.get(said) or answers["unsure"]


def ending_kind(scenario: Mapping[str, Any], node: str, risk_answer: str | None) -> str | None:
    """The ending named on the client's answer that closed the conversation, or None."""
    if risk_answer is None:
        return None
    risk = ((scenario.get("nodes") or {}).get(node) or {}).get("risk") or {}
    branch = (risk.get("answers") or {}).get(risk_answer) or {}
    return branch.get("ending") if branch.get("next") == END else None


def missed_cue(scenario: Mapping[str, Any], turns: Sequence[Any]) -> str | None:
    """The first risk cue the conversation passed with no direct question at it or after it; None if every
    cue was checked (or there was none)."""
    nodes = scenario.get("nodes") or {}
    asked_after = False
    missed: str | None = None
    for turn in reversed(turns):
        asked_after = asked_after or bool(getattr(turn, "checks_safety", False))
        risk = (nodes.get(turn.node) or {}).get("risk")
        if risk and not asked_after:
            missed = risk.get("cue") or "a risk cue"
    return missed


def missed_ending(cue: str, otherwise: str | None) -> tuple[str, str, str]:
    """The ending's title, note and question when a risk cue was missed; ``otherwise`` is the title the
    conversation would have had ("the boundary held"), named after the missed check."""
    also = f" The conversation would otherwise have ended with {otherwise}, and that comes second." if otherwise else ""
    note = (
        f"A risk cue went unasked about: {cue}. No reply after it asked plainly about suicide, self-harm or safety"
        f" (after a yes: about plan, means and timing).{also} Risk comes before the frame: however kind and clear"
        " the rest was, the check was missed."
    )
    question = "What would you ask, in plain words, the moment you heard it, and what would you do with a yes?"
    return "the risk check was missed", note, question
