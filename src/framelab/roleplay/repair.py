"""Room to repair: one backfiring reply never ends a role-play on its own.

A reply that backfires where the scenario would end the conversation (a cold rule at the door, an
over-apology) is a *rupture* (Safran & Muran; Eubanks, Muran & Safran 2018). The client reacts honestly, in
the moment (the branch's reaction, without what it says happens later), and waits; the trainee's next
reply is read with the repair rubric (:data:`framelab.core.rubrics.RUBRICS` ``"repair"``: thank them, own
your part, get curious). A repair that lands takes the conversation on where a full reply would have
gone; a missed one ends it as the rupture would have, and only then.

Plain functions over the scenario's plain data; :mod:`framelab.roleplay.engine` calls them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from framelab.core.rubrics import REPAIR, RUBRICS, rubric

END = "END"
#: What the client does while waiting for a repair, where the scenario's ``repair`` block does not say.
PAUSE = "(a silence. The client is still there, and waits to see what you say next.)"
#: The client's reaction to a repair that lands, where the scenario does not say.
REPAIRED = "(something eases; the client stays, and goes on)"
#: The client's reaction to a missed repair, where the scenario does not say.
MISSED = "(the client nods, but the moment has closed)"
#: A stage direction that tells what happens after the moment (leaving, next week, the rest of the hour):
#: kept back while a repair is still possible, and told when it is missed.
_LATER = re.compile(
    r"\b(leaves?|leaving|goes|gone|out of the door|door clicks|cancels?|next (?:week|session|time|sessions)|"
    r"the following|rest of the|by the end|later|weeks?|sessions|months?|doesn't come back|does not come back|"
    r"never|won't come|stays for the hour|for the hour|(?:does not|doesn't|never) arrive\w*|"
    r"on (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday))\b",
    re.IGNORECASE,
)
_PAREN = re.compile(r"\s*\([^()]*\)")


def is_rupture(scenario: Mapping[str, Any], node: str, category: str) -> bool:
    """Whether a reply read as ``category`` at ``node`` backfires where the scenario would end the
    conversation: then the client reacts and the trainee gets a turn to repair."""
    if category in rubric(scenario).moves:
        return False
    branch = ((scenario.get("nodes") or {}).get(node) or {}).get("branches", {}).get(category)
    return isinstance(branch, Mapping) and branch.get("next") == END


def in_the_moment(reaction: str) -> tuple[str, str]:
    """A reaction split into what the client does now and what it says happens later: the stage
    directions after the first words that tell of leaving, next week or the rest of the hour. The
    first thing the client does always stays; ``later`` is "" when nothing is told of later."""
    now, told, cut = [], [], 0
    for m in _PAREN.finditer(reaction):
        inner = m.group(0).strip()[1:-1]
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", inner) if s]
        keep = [s for s in sentences if not _LATER.search(s)]
        if len(keep) == len(sentences):
            continue
        if m.start() == 0 and not keep:  # the first thing the client does always stays
            keep = sentences[:1]
        now.append(reaction[cut : m.start()] + (f" ({' '.join(keep).rstrip('.')})" if keep else ""))
        told.append(f"({' '.join(s for s in sentences if s not in keep).rstrip('.')})")
        cut = m.end()
    if not told:
        return reaction, ""
    now.append(reaction[cut:])
    return re.sub(r"\s+", " ", "".join(now)).strip(), " ".join(told)


def _lines(scenario: Mapping[str, Any]) -> Mapping[str, Any]:
    return scenario.get("repair") or {}


def pause(scenario: Mapping[str, Any]) -> str:
    """What the client does while the trainee has a turn to repair."""
    return str(_lines(scenario).get("pause") or PAUSE)


def landed(category: str) -> bool:
    """Whether a reply to a rupture, read with the repair rubric, repairs it: its dominant label is one
    of the three repair moves (no defending, dismissing, half-apology or over-apology outweighs it)."""
    return category in RUBRICS[REPAIR].moves


def repaired(scenario: Mapping[str, Any], node: str) -> tuple[str, str]:
    """The client's reaction to a repair that lands at ``node``, and where the conversation goes: on
    along the path a full reply would have taken from there (its ``recenter`` branch)."""
    branch = scenario["nodes"][node]["branches"]["recenter"]
    return str(_lines(scenario).get("repaired") or REPAIRED), branch["next"]


def missed(scenario: Mapping[str, Any], rupture_reaction: str) -> str:
    """The client's reaction to a missed repair, followed by what the rupture's reaction said happens later."""
    later = in_the_moment(rupture_reaction)[1]
    return f"{_lines(scenario).get('missed') or MISSED} {later}".strip()


def repaired_ending(category: str) -> str:
    """How a conversation ends where a landed repair was the last turn: opened when it got curious, held otherwise."""
    return "opened" if category == "recenter" else "held"
