"""Formative practice, as plain functions: the questions a practice item asks, and checking an answer.

The widgets in :mod:`framelab.views.widgets` only display what these return; how the simulated client
reacts to a reply is :mod:`framelab.roleplay.reactions`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from framelab.core import rubrics
from framelab.core.vocabulary import LABELS, TITLES, menu_text


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
    options = {lab: menu_text(lab) for lab in LABELS}
    return [Question("labels", "Which labels fit this response? Tick every one that applies.", options, True)]


def repair_questions() -> list[Question]:
    """The same eight labels for a reply to a rupture, named and explained as the repair rubric reads them."""
    options = rubrics.get(rubrics.REPAIR).menu(response_questions()[0].options)
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


def risk_question() -> Question:
    """The question asked of a reply to a message that carries a risk cue, beside its labels."""
    from framelab.core.vocabulary import RISK_CHECKS

    return Question("risk_check", "Does this reply check for risk first?", dict(RISK_CHECKS), False)


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
