"""The content bank's shapes: problems, the item models (validated with pydantic), modules and the bank,
and the plain functions over them (text comparison, the right answer to an item, the bank's counts).

Reading the files is :mod:`framelab.bank.loader`; checking the content, :mod:`framelab.bank.checks`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from framelab.core.vocabulary import (
    ALLIANCE_EFFECTS,
    BOUNDARY_KINDS,
    LABELS,
    NEXT_ACTIONS,
    RELATIONS,
    RISK_CHECKS,
    THREE_MOVES,
)

Split = Literal["practice", "assessment"]
Difficulty = Literal[1, 2, 3]
English = Literal["british", "american", "neutral"]
Register = Literal["formal", "neutral", "casual"]
Relation = Literal["transference", "countertransference", "neither"]
NextAction = Literal["explore_in_session", "reflect_and_supervise", "repair_directly", "respond_practically"]
BoundaryKind = Literal[
    "role",
    "confidentiality",
    "time_space",
    "communication",
    "physical",
    "financial",
    "emotional",
]
Severity = Literal["crossing", "violation"]
AllianceEffect = Literal["strengthens", "strains"]
#: Does a reply check for risk first? (the codebook's rule "checking for risk"; core.vocabulary.RISK_CHECKS)
RiskCheck = Literal["yes", "partly", "no"]
#: What a labelled response, an exercise or a scenario practises (framelab.core.rubrics.RUBRICS): replies to a
#: boundary bid (the three moves), or replies to a client who objects to something the therapist did (repair).
RubricName = Literal["three_moves", "repair"]

assert set(Relation.__args__) == set(RELATIONS)  # type: ignore[attr-defined]
assert set(NextAction.__args__) == set(NEXT_ACTIONS)  # type: ignore[attr-defined]
assert set(BoundaryKind.__args__) == set(BOUNDARY_KINDS)  # type: ignore[attr-defined]
assert set(AllianceEffect.__args__) == set(ALLIANCE_EFFECTS)  # type: ignore[attr-defined]
assert set(RiskCheck.__args__) == set(RISK_CHECKS)  # type: ignore[attr-defined]

#: Two texts whose sets of words overlap this much are templated near-duplicates.
NEAR_DUPLICATE_JACCARD = 0.8
MAX_RATIONALE_CHARS = 450
ID_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"

# --------------------------------------------------------------------------- problems


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the content, and how to fix it."""

    file: str
    line: int | None
    item: str | None
    field: str | None
    message: str
    fix: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        what = []
        if self.item:
            what.append(f"item {self.item}")
        if self.field:
            what.append(f"field '{self.field}'")
        head = f"{where}: " + (", ".join(what) + ": " if what else "")
        return f"{head}{self.message}. Fix: {self.fix}"


class BankError(Exception):
    """Raised when content is loaded strictly and has problems."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        listing = "\n".join(f"  - {p}" for p in problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(f"{len(problems)} problem(s) in the content bank:\n{listing}{more}")


# --------------------------------------------------------------------------- models


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Response(_Strict):
    """A labelled therapist response to a client's line."""

    id: str = Field(pattern=ID_PATTERN)
    situation: str = Field(pattern=ID_PATTERN)
    client: str = Field(min_length=1)
    text: str = Field(min_length=1)
    labels: tuple[str, ...]
    rationale: str = Field(min_length=1, max_length=MAX_RATIONALE_CHARS)
    difficulty: Difficulty
    split: Split
    english: English
    tone: Register = Field(alias="register")  # named 'register' in the files
    #: "repair" for a reply to a rupture: the eight labels read as the repair rubric names them; the
    #: boundary-bid detector never learns from these, the repair detector does (framelab.detector.repair)
    rubric: RubricName = "three_moves"
    #: for a reply to a message or bid that carries a risk cue: does it check for risk first? (yes, partly, no).
    #: A skill of its own beside the labels, asked by exercises of kind ``risk_check`` and in the practice deck
    risk_check: RiskCheck | None = None

    @field_validator("labels")
    @classmethod
    def _labels(cls, labels: tuple[str, ...]) -> tuple[str, ...]:
        if not labels:
            raise ValueError("the label set is empty")
        for label in labels:
            if label not in LABELS:
                raise ValueError(f"unknown label '{label}'")
        if len(set(labels)) != len(labels):
            raise ValueError("a label is listed twice")
        return labels

    @field_validator("client", "text", "rationale")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("is blank")
        return value


class Vignette(_Strict):
    """A short case vignette of one of three families: a relation (transference etc.) with the
    next action; a kind of boundary with crossing or violation; or a therapist's behaviour that
    strengthens or strains the working alliance."""

    id: str = Field(pattern=ID_PATTERN)
    situation: str = Field(pattern=ID_PATTERN)
    text: str = Field(min_length=1)
    relation: Relation | None = None
    next_action: NextAction | None = None
    boundary_kind: BoundaryKind | None = None
    crossing_or_violation: Severity | None = None
    alliance_effect: AllianceEffect | None = None
    rationale: str = Field(min_length=1, max_length=MAX_RATIONALE_CHARS)
    difficulty: Difficulty
    split: Split
    english: English

    @property
    def family(self) -> str:
        if self.relation or self.next_action:
            return "relation"
        return "alliance" if self.alliance_effect else "boundary"


class Reference(_Strict):
    key: str = Field(pattern=ID_PATTERN)
    text: str = Field(min_length=1)


class Exercise(_Strict):
    """A graded exercise: which bank items it asks about, and how."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    kind: Literal[
        "single_label",
        "moves",
        "missing_move",
        "relation",
        "next_action",
        "boundary",
        "severity",
        "alliance",
        "risk_check",
    ]
    title: str
    items: tuple[str, ...] = Field(min_length=1)
    #: "repair": a response exercise on replies to ruptures; its menus use the repair rubric's names
    rubric: RubricName = "three_moves"
    #: more assessment items of this kind that a trainee's variant may draw on, beside ``items``
    #: (framelab.bank.variants); empty for a fixed form
    pool: tuple[str, ...] = ()
    #: how many items each trainee is asked (equal to the length of ``items``, so every variant is
    #: worth the same points); None for a fixed form
    draw: int | None = Field(default=None, ge=1)
    #: another exercise of this module whose draw this one shares (the same vignettes asked two ways)
    same_draw_as: str | None = None


class ModuleMeta(_Strict):
    id: str = Field(pattern=r"^m[0-9]+$")
    title: str
    minutes: int = Field(gt=0, le=600)
    content_note: str | None = None
    objectives: tuple[str, ...] = Field(min_length=1)
    key_points: tuple[str, ...] = Field(min_length=1)
    references: tuple[Reference, ...] = Field(min_length=1)
    exercises: tuple[Exercise, ...] = ()


#: how a role-play can end (framelab.roleplay.engine.ENDING_KINDS): the request became part of the work, the
#: boundary held, the door was left ajar, the client pulled back, or the frame gave way
EndingKind = Literal["opened", "held", "hoping", "withdrawn", "collapsed"]


#: what a re-centring question can ask about (framelab.roleplay.words.TOPICS names the words that say so)
Topic = Literal["help", "feeling", "prompted", "want", "past", "experience"]
TOPICS: tuple[str, ...] = Topic.__args__  # type: ignore[attr-defined]


class Branch(_Strict):
    reaction: str = Field(min_length=1)
    next: str
    #: on a branch that ends the conversation: how it ended, where the reply's kind would not say it rightly
    ending: EndingKind | None = None
    #: on a recenter branch: the client's answer by what the question asked about (framelab.roleplay.words.TOPICS)
    topics: dict[Topic, str] = Field(default_factory=dict)


#: what a client says to a direct question about risk (framelab.roleplay.safety)
RiskAnswer = Literal["yes", "no", "unsure"]
RISK_ANSWERS: tuple[str, ...] = RiskAnswer.__args__  # type: ignore[attr-defined]


class RiskCue(_Strict):
    """A node whose client line carries a risk cue: a reply must check for risk (framelab.roleplay.safety).
    A direct question gets the client's ``answer``; a vague check gets ``unsure``; no check follows the
    label branches, and the conversation cannot end as held or opened."""

    #: the words that carry the risk, as the debrief names them ("I took all my tablets")
    cue: str = Field(min_length=1)
    #: what this client says when asked directly (yes, no or unsure)
    answer: RiskAnswer
    #: the client's reply and the next node, for the direct answer and for "unsure" (at least those two)
    answers: dict[str, Branch]


class Node(_Strict):
    client: str = Field(min_length=1)
    branches: dict[str, Branch]
    #: what the client says when they cannot tell what the reply meant (framelab.roleplay.engine has a default)
    unclear: str | None = None
    #: label -> words the client says first if an earlier reply was read that way ("Last time you said maybe...")
    remember: dict[str, str] = Field(default_factory=dict)
    #: True where the client tests the boundary again (a new form of the request, after trust was earned)
    retest: bool = False
    #: set where the client's line carries a risk cue (framelab.roleplay.safety)
    risk: RiskCue | None = None
    #: what the client says to a re-centring question the scenario wrote no answer for (framelab.roleplay.words)
    neutral: str | None = None


class RepairLines(_Strict):
    """The client at a rupture (framelab.roleplay.repair): waiting for a repair, and after one that lands or not."""

    pause: str = Field(min_length=1)
    repaired: str = Field(min_length=1)
    missed: str = Field(min_length=1)


class SampleReply(_Strict):
    text: str = Field(min_length=1)
    labels: tuple[str, ...] = Field(min_length=1)
    note: str = Field(min_length=1)


class ModelResponse(_Strict):
    level: Difficulty
    text: str = Field(min_length=1)
    commentary: str = Field(min_length=1)


class Context(_Strict):
    stage: str
    background: str


class Scenario(_Strict):
    id: str = Field(pattern=ID_PATTERN)
    module: str = Field(pattern=r"^m[0-9]+$")
    title: str
    situation: str = Field(pattern=ID_PATTERN)
    context: Context
    start: str
    nodes: dict[str, Node]
    sample_replies: tuple[SampleReply, ...] = ()
    model_responses: tuple[ModelResponse, ...] = Field(min_length=1)
    #: headings of the module notebook's sections that this scenario practises ("3. Four responses
    #: that backfire"); the debrief points the trainee back to them
    see: tuple[str, ...] = ()
    #: the moves it practises (framelab.core.rubrics.RUBRICS): the three moves, or the three repair moves
    #: (thank, own your part, get curious) for a client who objects to something the therapist did
    rubric: RubricName = "three_moves"
    #: the client's lines at a rupture, in the scenario's own voice (framelab.roleplay.repair has plain defaults)
    repair: RepairLines | None = None


END = "END"


# --------------------------------------------------------------------------- the bank


@dataclass
class Module:
    folder: str  # e.g. "m1_double_bind": also the nbgrader assignment name
    meta: ModuleMeta
    responses: list[Response] = field(default_factory=list)
    vignettes: list[Vignette] = field(default_factory=list)
    scenarios: list[Scenario] = field(default_factory=list)


@dataclass
class Bank:
    root: Path
    modules: dict[str, Module]  # keyed by module id ("m1")
    problems: list[Problem]

    @property
    def responses(self) -> list[Response]:
        return [r for m in self.modules.values() for r in m.responses]

    @property
    def vignettes(self) -> list[Vignette]:
        return [v for m in self.modules.values() for v in m.vignettes]

    @property
    def scenarios(self) -> list[Scenario]:
        return [s for m in self.modules.values() for s in m.scenarios]

    def items(self) -> dict[str, Response | Vignette]:
        return {i.id: i for i in [*self.responses, *self.vignettes]}

    def module(self, key: str) -> Module:
        """A module by id (``m1``) or folder name (``m1_double_bind``)."""
        for mod in self.modules.values():
            if key in (mod.meta.id, mod.folder):
                return mod
        raise KeyError(f"no module '{key}' in {self.root}")


def normalise(text: str) -> str:
    """Lower-case words only: the form used to compare texts."""
    return " ".join(re.findall(r"[a-z0-9']+", text.lower().replace("\u2019", "'")))


def tokens(text: str) -> frozenset[str]:
    return frozenset(normalise(text).split())


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def near_duplicate(a: frozenset[str], b: frozenset[str]) -> bool:
    """Templated pairs: most words shared, or (in short texts) one word swapped for another."""
    if not a or not b:
        return False
    return jaccard(a, b) >= NEAR_DUPLICATE_JACCARD or (min(len(a), len(b)) >= 4 and len(a ^ b) <= 2)


def unsuitable(it: Response | Vignette, kind: str) -> tuple[str, str] | None:
    """Why an item cannot be used in an exercise of this kind (message, fix), or None."""
    if kind in ("single_label", "moves", "missing_move", "risk_check") and not isinstance(it, Response):
        return "is not a labelled response", "use a response item"
    if kind == "single_label" and isinstance(it, Response) and len(it.labels) != 1:
        return f"has {len(it.labels)} labels but this exercise is single-label", "use an item with exactly one label"
    if kind == "missing_move" and isinstance(it, Response):
        moves = [m for m in THREE_MOVES if m in it.labels]
        if len(moves) != 2 or len(it.labels) != 2:
            return (
                "a 'which move is missing' item must make exactly two of the three moves and nothing else",
                "use an item labelled with two of validate, state_boundary and recenter",
            )
    if kind == "risk_check" and isinstance(it, Response) and it.risk_check is None:
        return "says nothing about whether it checks for risk", "give the item a 'risk_check:' line (yes, partly or no)"
    if kind in ("relation", "next_action") and not (isinstance(it, Vignette) and it.relation):
        return "is not a transference / countertransference vignette", "use one"
    if kind in ("boundary", "severity") and not (isinstance(it, Vignette) and it.boundary_kind):
        return "is not a boundary vignette", "use one"
    if kind == "alliance" and not (isinstance(it, Vignette) and it.alliance_effect):
        return "is not an alliance vignette", "use one"
    return None


def gold(it: Response | Vignette, kind: str) -> str | list[str]:
    """The right answer to an item in an exercise of this kind."""
    if isinstance(it, Response):
        if kind == "single_label":
            return it.labels[0]
        moves = [m for m in THREE_MOVES if m in it.labels]
        if kind == "moves":
            return moves or ["none"]
        if kind == "missing_move":
            return next(m for m in THREE_MOVES if m not in moves)
        if kind == "risk_check" and it.risk_check:
            return it.risk_check
    elif kind == "relation" and it.relation:
        return it.relation
    elif kind == "next_action" and it.next_action:
        return it.next_action
    elif kind == "boundary" and it.boundary_kind:
        return it.boundary_kind
    elif kind == "severity" and it.crossing_or_violation:
        return it.crossing_or_violation
    elif kind == "alliance" and it.alliance_effect:
        return it.alliance_effect
    raise ValueError(f"item {it.id} has no answer for an exercise of kind '{kind}'")


def counts(bank: Bank) -> dict[str, Any]:
    """The bank's figures, shaped for ``framelab bank --json``."""
    responses = bank.responses
    by_label = {lab: sum(lab in r.labels for r in responses) for lab in LABELS}
    by_split = {s: sum(r.split == s for r in responses) for s in ("practice", "assessment")}
    split_of: dict[str, set[str]] = {}
    for it in [*responses, *bank.vignettes]:
        split_of.setdefault(normalise(it.text), set()).add(it.split)
    overlap = sum(len(s) > 1 for s in split_of.values())
    vign = bank.vignettes
    return {
        "responses": {"total": len(responses), "by_label": by_label, "by_split": by_split, "overlap": overlap},
        "vignettes": {
            "transference": sum(v.relation == "transference" for v in vign),
            "countertransference": sum(v.relation == "countertransference" for v in vign),
            "neither": sum(v.relation == "neither" for v in vign),
            "boundary_kind": sum(v.boundary_kind is not None for v in vign),
            "alliance": sum(v.alliance_effect is not None for v in vign),
        },
    }
