"""How the simulated client reacts to a reply: the one label that dominates it, and how sure that is.

Plain functions over plain data; the reading of the words is :mod:`framelab.roleplay.reading`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from framelab.core.vocabulary import LABELS, THREE_MOVES

#: When a reply carries several labels, the client reacts to the one that dominates it:
#: a backfire outweighs a good move (a warm dodge is still a dodge); among the good moves,
#: the fullest one leads.
CATEGORY_ORDER: tuple[str, ...] = (
    "collapse_frame",
    "mixed_message",
    "gentle_dodge",
    "vague_rule",
    "ignore_redirect",
    "recenter",
    "state_boundary",
    "validate",
)
assert sorted(CATEGORY_ORDER) == sorted(LABELS)


def moves_made(labels: Iterable[str]) -> list[str]:
    """Which of the three moves a label set contains, in order."""
    got = set(labels)
    return [m for m in THREE_MOVES if m in got]


def category(labels: Iterable[str]) -> str:
    """The one label that decides how the client reacts to a reply."""
    got = set(labels)
    for lab in CATEGORY_ORDER:
        if lab in got:
            return lab
    raise ValueError("a reply needs at least one label to be categorised")


@dataclass(frozen=True)
class Reaction:
    category: str
    reaction: str
    next: str  # a node id, or "END"


def react(scenario: Mapping[str, Any], node: str, labels: Iterable[str]) -> Reaction:
    """How the client in ``scenario`` reacts, at ``node``, to a reply with these labels."""
    cat = category(labels)
    branch = scenario["nodes"][node]["branches"][cat]
    return Reaction(cat, branch["reaction"], branch["next"])


#: What the client reacts to when it cannot tell what the reply meant: it asks, as a person would.
UNCLEAR = "unclear"
#: The client is unsure when the chance that the dominant label is the right one falls below this.
#: Chosen by measurement (``tests/benchmarks/bench_roleplay.py``, 5-fold out of fold on the practice
#: split): about one reply in six falls below it, and there the dominant label is right only about 40%
#: of the time; at or above it, about 80%. A higher bar would leave the client confused by one reply in three.
UNSURE_BELOW = 0.4


def category_confidence(scores: Mapping[str, float], cat: str) -> float:
    """How likely it is that ``cat`` really is the dominant label: the label is present and no label
    that outranks it (:data:`CATEGORY_ORDER`) is, treating the per-label probabilities as independent."""
    p = float(scores.get(cat, 0.0))
    for lab in CATEGORY_ORDER[: CATEGORY_ORDER.index(cat)]:
        p *= 1.0 - float(scores.get(lab, 0.0))
    return p
