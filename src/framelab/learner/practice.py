"""Formative practice, as plain functions: checking a label set, and a client's reaction.

The widgets in :mod:`framelab.views.widgets` only display what these return.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from framelab.core.vocabulary import LABELS, THREE_MOVES, TITLES

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


@dataclass(frozen=True)
class Verdict:
    """How a trainee's label set compares with the bank's."""

    chosen: frozenset[str]
    gold: frozenset[str]

    @property
    def found(self) -> list[str]:
        return [lab for lab in LABELS if lab in self.chosen and lab in self.gold]

    @property
    def missed(self) -> list[str]:
        return [lab for lab in LABELS if lab in self.gold and lab not in self.chosen]

    @property
    def extra(self) -> list[str]:
        return [lab for lab in LABELS if lab in self.chosen and lab not in self.gold]

    @property
    def exact(self) -> bool:
        return self.chosen == self.gold

    #: what each label is called where the item is read (the repair rubric names them for ruptures)
    titles: Mapping[str, str] = field(default_factory=lambda: TITLES, compare=False)

    def lines(self) -> list[str]:
        """The verdict in plain words, one point per line."""
        if not self.chosen:
            return ["Choose at least one label first."]
        out = ["Exactly right." if self.exact else "Not quite."]
        if self.found:
            out.append("You spotted: " + ", ".join(self.titles[x] for x in self.found) + ".")
        if self.missed:
            out.append("Also there: " + ", ".join(self.titles[x] for x in self.missed) + ".")
        if self.extra:
            out.append("Not in this response: " + ", ".join(self.titles[x] for x in self.extra) + ".")
        return out


def assess(chosen: Iterable[str], gold: Iterable[str], titles: Mapping[str, str] = TITLES) -> Verdict:
    return Verdict(frozenset(chosen), frozenset(gold), titles)


@dataclass(frozen=True)
class Question:
    """One thing a practice item asks: which field of the item it checks, and the choices."""

    field: str
    prompt: str
    options: dict[str, str]  # value -> text
    multi: bool


def response_questions() -> list[Question]:
    from framelab.core.vocabulary import MEANINGS

    options = {lab: f"{TITLES[lab]}: {MEANINGS[lab]}" for lab in LABELS}
    return [Question("labels", "Which labels fit this response? Tick every one that applies.", options, True)]


def repair_questions() -> list[Question]:
    """The same eight labels for a reply to a rupture, named and explained as the repair rubric reads them."""
    from framelab.detector.repair import menu_options

    options = menu_options(response_questions()[0].options)
    return [Question("labels", "What does this reply do? Tick every one that applies.", options, True)]


def vignette_questions() -> list[Question]:
    from framelab.core.vocabulary import NEXT_ACTIONS, RELATIONS

    return [
        Question("relation", "What is going on here?", dict(RELATIONS), False),
        Question("next_action", "What fits best next?", dict(NEXT_ACTIONS), False),
    ]


def boundary_questions() -> list[Question]:
    from framelab.core.vocabulary import BOUNDARY_KINDS, SEVERITIES

    return [
        Question("boundary_kind", "Which kind of boundary is at stake?", dict(BOUNDARY_KINDS), False),
        Question("crossing_or_violation", "A crossing or a violation?", dict(SEVERITIES), False),
    ]


def alliance_questions() -> list[Question]:
    from framelab.core.vocabulary import ALLIANCE_EFFECTS

    return [Question("alliance_effect", "Does this strengthen or strain the alliance?", dict(ALLIANCE_EFFECTS), False)]


#: The practice questions for each family of vignette (see ``bank.Vignette.family``).
VIGNETTE_QUESTIONS = {
    "relation": vignette_questions,
    "boundary": boundary_questions,
    "alliance": alliance_questions,
}


def check_single(chosen: str | None, gold: str, options: Mapping[str, str]) -> tuple[bool, str]:
    """Feedback on one single-choice question."""
    if not chosen:
        return False, "Choose an answer first."
    if chosen == gold:
        return True, f"Right: {options[gold]}."
    return False, f"Not quite. You chose: {options[chosen]}. The answer is: {options[gold]}."


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


# --------------------------------------------------------------------------- reading a reply

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


@dataclass(frozen=True)
class Rubric:
    """What a scenario practises: the three moves a good reply makes, and what each label is called there."""

    name: str
    heading: str  # "The three moves", "The three repair moves"
    moves: tuple[str, ...]  # the labels that are good moves here
    titles: Mapping[str, str]  # label -> what it is called in this rubric

    def title(self, label: str) -> str:
        return self.titles.get(label, TITLES.get(label, label))


RUBRICS: dict[str, Rubric] = {
    "three_moves": Rubric("three_moves", "The three moves", tuple(THREE_MOVES), dict(TITLES)),
    # Rupture and repair: the same eight readings, named for what they do when a client objects.
    "repair": Rubric(
        "repair",
        "The three repair moves",
        ("validate", "state_boundary", "recenter"),
        {
            "validate": "Thank them for saying it",
            "state_boundary": "Own your part",
            "recenter": "Get curious about it",
            "gentle_dodge": "Dismiss it for later",
            "vague_rule": "Defend yourself",
            "ignore_redirect": "Dismiss it and move on",
            "mixed_message": "Apologise, then justify",
            "collapse_frame": "Over-apologise",
        },
    ),
}


def rubric(scenario: Mapping[str, Any]) -> Rubric:
    return RUBRICS.get(str(scenario.get("rubric") or "three_moves"), RUBRICS["three_moves"])
