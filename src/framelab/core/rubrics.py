"""The rubrics: what each of the eight labels is called, and means, where a reply is read.

A reply to a client's boundary bid is read with the **three moves** rubric (the vocabulary's own
titles and meanings). A reply to a client who objects to something the therapist did (rupture and
repair: Safran & Muran; Eubanks, Muran & Safran 2018) is read with the **repair** rubric: the same
eight labels, named for what they do there (thank them for saying it, own your part, get curious;
against dismissing it for later, defending yourself, dismissing it and moving on, apologising then
justifying, and over-apologising). Every menu, verdict, debrief, feedback page and report names a
label through :func:`get` and :meth:`Rubric.title`, so a trainee meets one set of names per exercise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from framelab.core.vocabulary import LABELS, MEANINGS, NONE_OF_THE_MOVES, OPTION_SETS, THREE_MOVES, TITLES

THREE_MOVES_RUBRIC = "three_moves"
REPAIR = "repair"


@dataclass(frozen=True)
class Rubric:
    """What a reply practises: the three moves a good reply makes, and what each label is called there."""

    name: str
    heading: str  # "The three moves", "The three repair moves"
    moves: tuple[str, ...]  # the labels that are good moves here
    titles: Mapping[str, str]  # label -> what it is called in this rubric
    meanings: Mapping[str, str]  # label -> one line on what it does, for menus
    none_text: str  # the menu text of "none of the three moves"

    def title(self, label: str) -> str:
        return self.titles.get(label, TITLES.get(label, label))

    def menu_text(self, label: str) -> str:
        """How a label appears in this rubric's menus: its title and meaning."""
        return f"{self.title(label)}: {self.meanings[label]}"

    def menu(self, options: Mapping[str, str]) -> dict[str, str]:
        """An exercise's menu read with this rubric: each label by its name and meaning here; other
        values (the other answer sets) as they are."""
        out = {}
        for value, text in options.items():
            if value in self.meanings:
                out[value] = self.menu_text(value)
            elif value == NONE_OF_THE_MOVES:
                out[value] = self.none_text
            else:
                out[value] = text
        return out


#: One-line meanings of the eight labels under the repair rubric, for menus.
REPAIR_MEANINGS: dict[str, str] = {
    "validate": "welcomes what they said, or names and affirms how it felt for them",
    "state_boundary": "names what you did and takes responsibility for it, with no excuse",
    "recenter": "asks about their side of what happened (what it was like, what it meant)",
    "gentle_dodge": "puts their objection off until later",
    "vague_rule": "explains or justifies why you were not at fault, with no apology",
    "ignore_redirect": "waves it away or changes the subject",
    "mixed_message": "an apology taken back by a 'but' and a reason",
    "collapse_frame": "an apology about your own feelings, a plea for forgiveness, or something outside the frame",
}

RUBRICS: dict[str, Rubric] = {
    THREE_MOVES_RUBRIC: Rubric(
        THREE_MOVES_RUBRIC,
        "The three moves",
        tuple(THREE_MOVES),
        dict(TITLES),
        dict(MEANINGS),
        "None of the three moves",
    ),
    REPAIR: Rubric(
        REPAIR,
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
        REPAIR_MEANINGS,
        "None of the three repair moves",
    ),
}
assert all(set(r.titles) == set(r.meanings) == set(LABELS) for r in RUBRICS.values())


def get(name: str | None) -> Rubric:
    """The rubric called ``name``; the three moves for none or an unknown name."""
    return RUBRICS.get(str(name or THREE_MOVES_RUBRIC), RUBRICS[THREE_MOVES_RUBRIC])


def rubric(scenario: Mapping[str, Any]) -> Rubric:
    """The rubric a scenario (or any mapping with a ``rubric`` field) is read with."""
    return get(scenario.get("rubric"))


def options(kind: str, name: str | None = None) -> tuple[dict[str, str], bool]:
    """An exercise kind's menu (value -> text) as the rubric ``name`` reads it, and whether an answer
    is a set of values (tick boxes) rather than one (a menu)."""
    values, multi = OPTION_SETS[kind]
    return get(name).menu(values), multi
