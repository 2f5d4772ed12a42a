"""What the role-play view shows, as HTML built from plain data (the widget in
:class:`framelab.views.roleplay.RolePlayView` only puts these strings on screen).

The conversation reads in order: every turn's client line, the trainee's reply and the client's
reaction, with the reaction above the next thing the client says.
"""

from __future__ import annotations

import html
from typing import Any

from framelab.core.rubrics import rubric
from framelab.roleplay import engine as roleplay
from framelab.roleplay import summary
from framelab.roleplay.reactions import UNCLEAR
from framelab.roleplay.safety import MISSED
from framelab.views.parts import note, quote


def history(session: roleplay.Session) -> str:
    """Every finished turn in order, except the latest reaction (shown in the live region below it)."""
    parts = []
    for n, turn in enumerate(session.turns):
        if n == 0 or session.turns[n - 1].category != UNCLEAR:
            parts.append(quote("Client", turn.client))
        parts.append(quote("You", turn.reply, you=True))
        if n < len(session.turns) - 1:
            parts.append(quote("Client", turn.reaction))
    return "".join(parts)


def reaction(session: roleplay.Session) -> str:
    """The client's latest reaction, announced when it appears (empty before the first reply). The widget
    replaces the whole region on each reply, so it is an alert: a polite region made anew is not reliably read."""
    if not session.turns:
        return ""
    return "<div role='alert' aria-atomic='true'>" + quote("Client", session.turns[-1].reaction) + "</div>"


def prompt(scenario: dict[str, Any], session: roleplay.Session) -> str:
    """What the client says next, above the reply box; nothing when the reaction itself was the question."""
    line = roleplay.client_line(scenario, session)
    if line is None:
        return ""
    if session.turns and session.turns[-1].category == UNCLEAR:
        return ""
    return quote("Client", line)


def turn_note(scenario: dict[str, Any], turn: roleplay.Turn) -> str:
    """After a reply: what you meant beside what your words did (no label when the reading was unsure)."""
    r = roleplay.review(turn, rubric(scenario))
    return note([r.meant, r.words_did, "This is a reading of your words, not a grade."], live=False)


def progress(session: roleplay.Session, debrief_shown: bool) -> str:
    turns = len(session.turns)
    if session.done:
        where = "The debrief is below." if debrief_shown else "Press Debrief to read it."
        return f"<small>The conversation ended after {turns} turn(s). {where}</small>"
    return f"<small>Turn {turns + 1}. Your reply is saved after every turn.</small>"


def debrief(scenario: dict[str, Any], session: roleplay.Session) -> tuple[str, roleplay.Debrief]:
    d = roleplay.debrief(scenario, session)
    rb = d.rubric
    parts = [f"<h4>Debrief: {html.escape(d.title)}</h4>"]
    if d.ending is not None and d.ending.kind == MISSED:  # a missed risk check comes before everything else
        parts.append(note([d.ending.line, d.ending.question], False, live=False))
    for n, r in enumerate(d.reviews, 1):
        parts.append(
            f"<p><b>Turn {n}.</b></p>"
            + quote("Client", r.turn.client)
            + quote("You", r.turn.reply, you=True)
            + note([r.meant, r.words_did, r.reacted_to, *([r.disagreement] if r.disagreement else [])], live=False)
            + quote("Client's reaction", r.turn.reaction)
        )
    if d.repairs:
        parts.append(rupture_table(d.repairs))
    parts.append(_moves_line(f"{rb.heading}, by what your words did", d.moves_seen, rb, d.ending))
    parts.append(_moves_line(f"{rb.heading}, by what you meant (your ticks)", d.moves_meant, rb, d.ending))
    parts.append("<p><b>Model responses</b></p>")
    for m in d.model_responses:
        parts.append(
            quote(f"Level {m['level']}", m["text"])
            + f"<p style='margin-left: 1em'><i>{html.escape(m['commentary'])}</i></p>"
        )
    parts.append(
        "<p><b>To think about</b></p><ul>" + "".join(f"<li>{html.escape(p)}</li>" for p in d.prompts) + "</ul>"
    )
    if d.see:
        parts.append(
            "<p><b>Read again in this module:</b> " + "; ".join(f"<i>{html.escape(s)}</i>" for s in d.see) + ".</p>"
        )
    return "".join(parts), d


def _moves_line(head: str, seen: dict[str, bool], rb: Any, ending: Any = None) -> str:
    return f"<p><b>{html.escape(head)}:</b> {html.escape(summary.moves_line(seen, rb, ending))}</p>"


def rupture_table(pairs: list[tuple[roleplay.TurnReview, roleplay.TurnReview | None]]) -> str:
    """Each rupture beside the reply that answered it: two columns, one row per rupture."""
    rows = []
    for broke, fix in pairs:
        left = quote("You", broke.turn.reply, you=True) + note([broke.words_did], live=False)
        left += quote("Client", broke.turn.reaction)
        if fix is None:
            right = note(["Not yet made: the client is waiting for what you say next."], live=False)
        else:
            landed = (
                "It landed; the conversation went on." if fix.turn.repair == "made" else "It missed; that ended it."
            )
            right = quote("You", fix.turn.reply, you=True) + note([fix.words_did, landed], live=False)
            right += quote("Client", fix.turn.reaction)
        cell = "<td style='vertical-align: top; width: 50%; padding: 0 0.5em'>"
        rows.append(f"<tr>{cell}{left}</td>{cell}{right}</td></tr>")
    head = "<tr><th scope='col'>The reply that backfired</th><th scope='col'>Your repair</th></tr>"
    return (
        "<p><b>Rupture and repair, side by side</b></p><table class='framelab-repairs' style='width: 100%'>"
        f"<caption class='sr-only'>Each rupture beside your repair</caption>{head}{''.join(rows)}</table>"
    )


def tick_options(scenario: dict[str, Any]) -> list[tuple[str, str]]:
    """The tick boxes, in the scenario's own words, each with its gloss: (label, "Name: meaning")."""
    from framelab.core.vocabulary import LABELS, menu_text

    rb = rubric(scenario)
    if rb.name == "three_moves":
        return [(lab, menu_text(lab)) for lab in LABELS]
    return [(lab, rb.menu_text(lab)) for lab in LABELS]
