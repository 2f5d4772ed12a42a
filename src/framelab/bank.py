"""The content bank: loading and validating everything under ``modules/``.

One folder per module holds ``module.yaml`` (metadata and exercises) and, optionally,
``responses.yaml`` (labelled therapist responses), ``vignettes.yaml`` (transference and
boundary vignettes) and ``scenarios.yaml`` (role-play scenarios).

Loading never stops at the first problem: every problem is collected as a
:class:`Problem` naming the file, line, item and field, with a fix. Plain data and plain
functions only; nothing here touches Jupyter.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .vocabulary import ALLIANCE_EFFECTS, BOUNDARY_KINDS, LABELS, NEXT_ACTIONS, RELATIONS, THREE_MOVES, nearest_label

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

assert set(Relation.__args__) == set(RELATIONS)  # type: ignore[attr-defined]
assert set(NextAction.__args__) == set(NEXT_ACTIONS)  # type: ignore[attr-defined]
assert set(BoundaryKind.__args__) == set(BOUNDARY_KINDS)  # type: ignore[attr-defined]
assert set(AllianceEffect.__args__) == set(ALLIANCE_EFFECTS)  # type: ignore[attr-defined]

#: Two texts whose sets of words overlap this much are templated near-duplicates.
NEAR_DUPLICATE_JACCARD = 0.8
MAX_RATIONALE_CHARS = 450
ID_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"

_LINES = "__lines__"  # per-key line numbers recorded by the loader
_LINE = "__line__"  # line of the mapping itself


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


# --------------------------------------------------------------------------- YAML with lines


class _LineLoader(yaml.SafeLoader):
    """A safe loader that records the (1-based) line of every mapping and of its keys."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping: dict[str, Any] = {}
    lines: dict[str, int] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                None, None, f"the key '{key}' appears twice in one entry", key_node.start_mark
            )
        mapping[key] = loader.construct_object(value_node, deep=True)
        lines[str(key)] = key_node.start_mark.line + 1
    mapping[_LINES] = lines
    mapping[_LINE] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def strip_lines(value: Any) -> Any:
    """A copy of loaded YAML without the loader's line bookkeeping."""
    if isinstance(value, dict):
        return {k: strip_lines(v) for k, v in value.items() if k not in (_LINES, _LINE)}
    if isinstance(value, list):
        return [strip_lines(v) for v in value]
    return value


def _read_yaml(path: Path, rel: str, problems: list[Problem]) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        problems.append(Problem(rel, None, None, None, f"is not UTF-8 text ({exc.reason})", "save it as UTF-8"))
        return None
    try:
        return yaml.load(text, Loader=_LineLoader)
    except yaml.MarkedYAMLError as exc:
        # where the broken construct began (an unclosed quote, say) is more useful than
        # where the parser gave up, which can be the end of the file
        mark = exc.context_mark or exc.problem_mark
        line = mark.line + 1 if mark else None
        reason = "; ".join(x for x in (exc.context, exc.problem) if x) or "invalid YAML"
        problems.append(
            Problem(
                rel,
                line,
                None,
                None,
                f"is not valid YAML ({reason})",
                "check the indentation and quoting on that line; text containing ':' or '#' needs quotes",
            )
        )
        return None


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
        "single_label", "moves", "missing_move", "relation", "next_action", "boundary", "severity", "alliance"
    ]
    title: str
    items: tuple[str, ...] = Field(min_length=1)


class ModuleMeta(_Strict):
    id: str = Field(pattern=r"^m[0-9]+$")
    title: str
    minutes: int = Field(gt=0, le=600)
    content_note: str | None = None
    objectives: tuple[str, ...] = Field(min_length=1)
    key_points: tuple[str, ...] = Field(min_length=1)
    references: tuple[Reference, ...] = Field(min_length=1)
    exercises: tuple[Exercise, ...] = ()


class Branch(_Strict):
    reaction: str = Field(min_length=1)
    next: str


class Node(_Strict):
    client: str = Field(min_length=1)
    branches: dict[str, Branch]
    #: what the client says when they cannot tell what the reply meant (framelab.roleplay has a default)
    unclear: str | None = None
    #: label -> words the client says first if an earlier reply was read that way ("Last time you said maybe...")
    remember: dict[str, str] = Field(default_factory=dict)


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
    #: the moves it practises (framelab.practice.RUBRICS): the three moves, or the three repair moves
    #: (thank, own your part, get curious) for a client who objects to something the therapist did
    rubric: Literal["three_moves", "repair"] = "three_moves"


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


def _hint_for(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    loc = [str(p) for p in error.get("loc", ())]
    name = loc[0] if loc else ""
    if kind == "missing":
        return f"add a '{name}:' line to this item"
    if kind == "extra_forbidden":
        return f"remove '{name}' or correct its spelling (allowed keys are in modules/README.md)"
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        return f"use one of {expected}"
    if kind == "string_pattern_mismatch":
        return "use lower-case letters, digits and single hyphens, e.g. 'm1-r001'"
    if kind == "string_too_long":
        return "shorten it to one or two sentences"
    if name == "labels":
        msg = str(error.get("msg", ""))
        bad = re.search(r"unknown label '([^']*)'", msg)
        if bad:
            guess = nearest_label(bad.group(1))
            near = f"did you mean '{guess}'? " if guess else ""
            return f"{near}labels must come from: {', '.join(LABELS)}"
        if "empty" in msg:
            return "give at least one label from the vocabulary"
        return "list each label once"
    return "correct the value"


def _validate_entry(model: type[BaseModel], raw: Any, rel: str, problems: list[Problem], what: str) -> BaseModel | None:
    if not isinstance(raw, dict):
        problems.append(Problem(rel, None, None, None, f"a {what} must be a mapping of keys to values", ""))
        return None
    lines: dict[str, int] = raw.get(_LINES, {})
    item = raw.get("id") if isinstance(raw.get("id"), str) else None
    try:
        return model.model_validate(strip_lines(raw))
    except ValidationError as exc:
        for err in exc.errors():
            loc = [str(p) for p in err["loc"]]
            name = loc[0] if loc else None
            message = err["msg"].removeprefix("Value error, ")
            if err["type"] == "missing":
                message = "is missing"
            problems.append(
                Problem(
                    rel,
                    lines.get(name or "", raw.get(_LINE)),
                    item,
                    ".".join(loc) if loc else None,
                    message,
                    _hint_for(err),
                )
            )
        return None


def _load_list(path: Path, rel: str, model: type[BaseModel], problems: list[Problem]) -> list[tuple[Any, int | None]]:
    data = _read_yaml(path, rel, problems)
    if data is None:
        return []
    if not isinstance(data, list):
        problems.append(Problem(rel, 1, None, None, "must be a YAML list of items", "start each item with '- '"))
        return []
    out = []
    for raw in data:
        obj = _validate_entry(model, raw, rel, problems, "list item")
        if obj is not None:
            out.append((obj, raw.get(_LINE)))
    return out


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


def load_bank(root: str | Path = "modules") -> Bank:
    """Load every module under ``root``, collecting problems rather than stopping."""
    root = Path(root)
    problems: list[Problem] = []
    modules: dict[str, Module] = {}
    where: dict[str, tuple[str, int | None]] = {}  # item id -> (file, line)

    if not root.is_dir():
        problems.append(Problem(str(root), None, None, None, "is not a folder", "run from the course root"))
        return Bank(root, modules, problems)

    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
        meta_path = folder / "module.yaml"
        rel = _rel(meta_path, root)
        if not meta_path.exists():
            problems.append(Problem(rel, None, None, None, "is missing", "every module folder needs a module.yaml"))
            continue
        raw = _read_yaml(meta_path, rel, problems)
        if raw is None:
            continue
        meta = _validate_entry(ModuleMeta, raw, rel, problems, "module")
        if meta is None:
            continue
        assert isinstance(meta, ModuleMeta)
        if not folder.name.startswith(meta.id + "_"):
            problems.append(
                Problem(
                    rel,
                    raw[_LINES].get("id"),
                    None,
                    "id",
                    f"id '{meta.id}' does not match the folder '{folder.name}'",
                    f"name the folder '{meta.id}_<topic>'",
                )
            )
        if meta.id in modules:
            problems.append(
                Problem(rel, None, None, "id", f"module id '{meta.id}' is used twice", "give each module its own id")
            )
            continue
        mod = Module(folder.name, meta)
        modules[meta.id] = mod
        for name, model, bucket in (
            ("responses.yaml", Response, mod.responses),
            ("vignettes.yaml", Vignette, mod.vignettes),
            ("scenarios.yaml", Scenario, mod.scenarios),
        ):
            path = folder / name
            if not path.exists():
                continue
            frel = _rel(path, root)
            for obj, line in _load_list(path, frel, model, problems):
                oid = obj.id  # type: ignore[attr-defined]
                if oid in where:
                    first = where[oid]
                    problems.append(
                        Problem(
                            frel,
                            line,
                            oid,
                            "id",
                            f"duplicate id: already used at {first[0]}:{first[1]}",
                            "give this item a new, unused id",
                        )
                    )
                    continue
                where[oid] = (frel, line)
                bucket.append(obj)  # type: ignore[arg-type]
                problems.extend(_check_item(obj, meta.id, frel, line))

    bank = Bank(root, modules, problems)
    unreadable = any("not valid YAML" in p.message or "not UTF-8" in p.message for p in problems)
    problems.extend(_cross_checks(bank, where, root, check_references=not unreadable))
    return bank


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root.parent)) if root.parent != Path() else str(path)
    except ValueError:
        return str(path)


def _check_item(obj: BaseModel, module_id: str, rel: str, line: int | None) -> list[Problem]:
    out: list[Problem] = []
    oid = obj.id
    if isinstance(obj, (Response, Vignette)) and not oid.startswith(module_id + "-"):
        out.append(
            Problem(
                rel,
                line,
                oid,
                "id",
                f"id does not start with the module id '{module_id}-'",
                f"rename it '{module_id}-...'",
            )
        )
    if isinstance(obj, Vignette):
        rel_set = obj.relation is not None or obj.next_action is not None
        kind_set = obj.boundary_kind is not None or obj.crossing_or_violation is not None
        if rel_set + kind_set + (obj.alliance_effect is not None) != 1:
            out.append(
                Problem(
                    rel,
                    line,
                    oid,
                    "relation",
                    "a vignette needs exactly one of: relation and next_action; boundary_kind and "
                    "crossing_or_violation; or alliance_effect",
                    "give exactly one of the three",
                )
            )
        elif rel_set and (obj.relation is None or obj.next_action is None):
            out.append(
                Problem(
                    rel,
                    line,
                    oid,
                    "next_action" if obj.relation else "relation",
                    "relation and next_action go together",
                    "give both",
                )
            )
        elif kind_set and (obj.boundary_kind is None or obj.crossing_or_violation is None):
            out.append(
                Problem(
                    rel,
                    line,
                    oid,
                    "crossing_or_violation" if obj.boundary_kind else "boundary_kind",
                    "boundary_kind and crossing_or_violation go together",
                    "give both",
                )
            )
    if isinstance(obj, Scenario):
        out.extend(_check_scenario(obj, rel, line))
    return out


def _check_scenario(sc: Scenario, rel: str, line: int | None) -> list[Problem]:
    out: list[Problem] = []
    if sc.start not in sc.nodes:
        out.append(
            Problem(
                rel,
                line,
                sc.id,
                "start",
                f"start node '{sc.start}' does not exist",
                f"use one of: {', '.join(sc.nodes)}",
            )
        )
        return out
    for name, node in sc.nodes.items():
        if any(lab not in LABELS for lab in node.remember):
            out.append(Problem(rel, line, sc.id, f"nodes.{name}.remember", "an unknown label", "key it by labels"))
        missing = [lab for lab in LABELS if lab not in node.branches]
        extra = [lab for lab in node.branches if lab not in LABELS]
        if missing:
            out.append(
                Problem(
                    rel,
                    line,
                    sc.id,
                    f"nodes.{name}.branches",
                    f"no branch for {', '.join(missing)}",
                    "define a reaction for every one of the eight labels",
                )
            )
        if extra:
            out.append(
                Problem(
                    rel,
                    line,
                    sc.id,
                    f"nodes.{name}.branches",
                    f"unknown label(s) {', '.join(extra)}",
                    f"branches must be keyed by: {', '.join(LABELS)}",
                )
            )
        for lab, br in node.branches.items():
            if br.next != END and br.next not in sc.nodes:
                out.append(
                    Problem(
                        rel,
                        line,
                        sc.id,
                        f"nodes.{name}.branches.{lab}.next",
                        f"leads to '{br.next}', which is not a node",
                        f"use END or one of: {', '.join(sc.nodes)}",
                    )
                )
    # reachability and guaranteed ending (no cycle reachable from start)
    seen: set[str] = set()
    stack = [sc.start]
    while stack:
        n = stack.pop()
        if n in seen or n not in sc.nodes:
            continue
        seen.add(n)
        stack.extend(b.next for b in sc.nodes[n].branches.values() if b.next != END)
    for name in sc.nodes:
        if name not in seen:
            out.append(
                Problem(
                    rel,
                    line,
                    sc.id,
                    f"nodes.{name}",
                    "is never reached from the start node",
                    "point a branch at it, or remove it",
                )
            )
    if _has_cycle(sc):
        out.append(
            Problem(
                rel,
                line,
                sc.id,
                "nodes",
                "a path can loop for ever without reaching the debrief",
                "make every path end with next: END",
            )
        )
    for i, reply in enumerate(sc.sample_replies):
        bad = [lab for lab in reply.labels if lab not in LABELS]
        if bad:
            out.append(
                Problem(
                    rel,
                    line,
                    sc.id,
                    f"sample_replies.{i}.labels",
                    f"unknown label(s) {', '.join(bad)}",
                    f"use labels from: {', '.join(LABELS)}",
                )
            )
    return out


def _has_cycle(sc: Scenario) -> bool:
    state: dict[str, int] = {}

    def visit(n: str) -> bool:
        state[n] = 1
        for b in sc.nodes[n].branches.values():
            if b.next == END or b.next not in sc.nodes:
                continue
            if state.get(b.next) == 1 or (b.next not in state and visit(b.next)):
                return True
        state[n] = 2
        return False

    return sc.start in sc.nodes and visit(sc.start)


def _cross_checks(
    bank: Bank, where: dict[str, tuple[str, int | None]], root: Path, *, check_references: bool = True
) -> list[Problem]:
    out: list[Problem] = []
    items = bank.items()
    # the same text in both splits would let practice reveal an assessment answer
    texts: dict[str, list[Response | Vignette]] = {}
    for it in items.values():
        texts.setdefault(normalise(it.text), []).append(it)
    for group in texts.values():
        if len({i.split for i in group}) > 1:
            for it in group:
                if it.split == "assessment":
                    others = ", ".join(o.id for o in group if o.split == "practice")
                    f, line = where[it.id]
                    out.append(
                        Problem(
                            f,
                            line,
                            it.id,
                            "text",
                            f"the same text is also a practice item ({others})",
                            "rewrite one of them, or move both to one split",
                        )
                    )
    # templated near-duplicates
    toks = [(i, tokens(i.text)) for i in items.values()]
    for (a, ta), (b, tb) in itertools.combinations(toks, 2):
        if normalise(a.text) == normalise(b.text) and a.split != b.split:
            continue  # already reported above
        if near_duplicate(ta, tb):
            score = jaccard(ta, tb)
            f, line = where[b.id]
            out.append(
                Problem(
                    f,
                    line,
                    b.id,
                    "text",
                    f"is a near-duplicate of {a.id} ({score:.0%} of words shared)",
                    "rewrite it so it differs in more than a word or two",
                )
            )
    # exercises point at suitable items
    for mod in bank.modules.values():
        rel = f"{root.name}/{mod.folder}/module.yaml"
        for ex in mod.meta.exercises:
            for iid in ex.items:
                it = items.get(iid)
                if it is None and not check_references:
                    continue  # the item may be in the file that could not be read
                if it is None:
                    out.append(
                        Problem(
                            rel,
                            None,
                            iid,
                            f"exercises.{ex.id}.items",
                            "no such item in the bank",
                            "check the id, or add the item",
                        )
                    )
                    continue
                if it.split != "assessment":
                    out.append(
                        Problem(
                            rel,
                            None,
                            iid,
                            f"exercises.{ex.id}.items",
                            "graded exercises may use only assessment items",
                            "use an assessment item, or change this item's split",
                        )
                    )
                problem = _unsuitable(it, ex.kind)
                if problem:
                    out.append(Problem(rel, None, iid, f"exercises.{ex.id}.items", problem[0], problem[1]))
            dup = [k for k, n in Counter(ex.items).items() if n > 1]
            if dup:
                out.append(Problem(rel, None, dup[0], f"exercises.{ex.id}.items", "is listed twice", "list it once"))
    return out


def _unsuitable(it: Response | Vignette, kind: str) -> tuple[str, str] | None:
    """Why an item cannot be used in an exercise of this kind (message, fix), or None."""
    if kind in ("single_label", "moves", "missing_move") and not isinstance(it, Response):
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
