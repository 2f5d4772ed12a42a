"""The pre/post diagnostic's items (``modules/_diagnostic/items.yaml``): reading, checking, and the
public forms a notebook shows (text and menu, never the key).

Two parallel forms, A and B. Items pair across the forms by number (``dx-a07`` with ``dx-b07``): the
same kind and key, the same difficulty, so that the forms match in what they cover and in mean
difficulty (:func:`balance` says how well; ``framelab validate`` refuses forms that drift apart).
The diagnostic is recorded, never graded: its key lives only here, beside the modules, and the folder's
leading underscore keeps the module loader (and so the detector's data and the release) away from it.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from framelab.bank.loader import _read_yaml, strip_lines
from framelab.bank.models import MAX_RATIONALE_CHARS, Bank, Problem, near_duplicate, tokens
from framelab.core.vocabulary import OPTION_SETS

FOLDER = "_diagnostic"
ITEMS_FILE = "items.yaml"
#: what the notebooks read: both forms' text and menus, never an answer
PUBLIC_FILE = "diagnostic-items.json"
FORMS = ("A", "B")
KINDS = ("single_label", "relation", "boundary")
ENGLISHES = ("british", "american", "neutral", "irish", "scottish", "australian", "canadian", "indian", "south_african")
REGISTERS = ("formal", "neutral", "casual")
#: the two forms' mean difficulties may differ by at most this much
MAX_DIFFICULTY_GAP = 0.25
_FIELDS = ("id", "form", "kind", "client", "text", "answer", "rationale", "difficulty", "english", "register")


@dataclass(frozen=True)
class DiagnosticItem:
    id: str
    form: str
    kind: str
    text: str
    answer: str
    rationale: str
    difficulty: int
    english: str
    register: str
    client: str = ""
    line: int | None = None


@dataclass
class Diagnostic:
    items: list[DiagnosticItem] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    file: str = f"modules/{FOLDER}/{ITEMS_FILE}"

    def form(self, name: str) -> list[DiagnosticItem]:
        return [it for it in self.items if it.form == name]

    def key(self) -> dict[str, str]:
        return {it.id: it.answer for it in self.items}

    def by_id(self) -> dict[str, DiagnosticItem]:
        return {it.id: it for it in self.items}


def load_diagnostic(modules: str | Path = "modules") -> Diagnostic:
    """The diagnostic under ``modules/_diagnostic/`` (empty, with no problem, when a course has none)."""
    path = Path(modules) / FOLDER / ITEMS_FILE
    diag = Diagnostic(file=str(Path(Path(modules).name) / FOLDER / ITEMS_FILE))
    if not path.exists():
        return diag
    raw = _read_yaml(path, diag.file, diag.problems)
    if raw is None:
        return diag
    if not isinstance(raw, list):
        diag.problems.append(
            Problem(diag.file, None, None, None, "is not a list of items", "start each item with '- id:'")
        )
        return diag
    for entry in raw:
        item = _item(entry, diag.file, diag.problems)
        if item is not None:
            diag.items.append(item)
    return diag


def _item(entry: Any, file: str, problems: list[Problem]) -> DiagnosticItem | None:
    """One entry, checked field by field; None (with its problems noted) when it cannot be used."""
    if not isinstance(entry, dict):
        problems.append(
            Problem(file, None, None, None, "has an entry that is not a mapping", "give each item its fields")
        )
        return None
    line = entry.get("__line__")
    data = strip_lines(entry)
    iid = str(data.get("id", ""))
    before = len(problems)

    def bad(name: str, message: str, fix: str) -> None:
        problems.append(Problem(file, line, iid or None, name, message, fix))

    for name in sorted(set(data) - set(_FIELDS)):
        bad(name, "is not a field of a diagnostic item", f"use only {', '.join(_FIELDS)}")
    if not iid.startswith("dx-"):
        bad("id", f"'{iid}' does not start with 'dx-'", "name items dx-a01 ... (form A) and dx-b01 ... (form B)")
    kind = data.get("kind")
    if kind not in KINDS:
        bad("kind", f"'{kind}' is not a diagnostic kind", f"use one of {', '.join(KINDS)}")
    elif not isinstance(data.get("answer"), str) or data["answer"] not in OPTION_SETS[kind][0]:
        bad(
            "answer",
            f"'{data.get('answer')}' is not an answer to a {kind} item",
            f"use one of {', '.join(OPTION_SETS[kind][0])}",
        )
    if kind == "single_label" and not str(data.get("client", "")).strip():
        bad("client", "is missing", "give the client's line the response answers")
    checks = (
        ("form", data.get("form") in FORMS, f"use one of {', '.join(FORMS)}"),
        ("text", bool(str(data.get("text", "")).strip()), "give the response or the vignette"),
        (
            "rationale",
            0 < len(str(data.get("rationale", ""))) <= MAX_RATIONALE_CHARS,
            f"one or two sentences, at most {MAX_RATIONALE_CHARS} characters",
        ),
        (
            "difficulty",
            data.get("difficulty") in (1, 2, 3),
            "1 beginner, 2 intermediate, 3 advanced (a hard near-miss)",
        ),
        ("english", data.get("english") in ENGLISHES, f"use one of {', '.join(ENGLISHES)}"),
        ("register", data.get("register") in REGISTERS, f"use one of {', '.join(REGISTERS)}"),
    )
    for name, ok, fix in checks:
        if not ok:
            bad(name, f"{data.get(name)!r} is missing or not allowed", fix)
    if len(problems) > before:
        return None
    fields = {k: data[k] for k in _FIELDS if k in data}
    return DiagnosticItem(**{k: (str(v) if k != "difficulty" else v) for k, v in fields.items()}, line=line)


def check_diagnostic(diag: Diagnostic, bank: Bank | None = None) -> list[Problem]:
    """The checks of the whole diagnostic, for ``framelab validate``: unique ids, items that pair across
    the forms, forms matched for coverage and difficulty, and no near-duplicate of another diagnostic
    item or of any item in the bank (the diagnostic must not be practised, nor graded elsewhere)."""
    out: list[Problem] = []
    if not diag.items:
        return out
    seen: Counter[str] = Counter(it.id for it in diag.items)
    for it in diag.items:
        if seen[it.id] > 1:
            out.append(Problem(diag.file, it.line, it.id, "id", "is used more than once", "give each item its own id"))
    out += _pair_problems(diag)
    gap = balance(diag)
    if abs(gap["difficulty_gap"]) > MAX_DIFFICULTY_GAP:
        out.append(
            Problem(
                diag.file,
                None,
                None,
                "difficulty",
                f"the forms' mean difficulties differ by {gap['difficulty_gap']:.2f}",
                f"match each form A item's difficulty with its form B pair (at most {MAX_DIFFICULTY_GAP} apart)",
            )
        )
    out += _duplicate_problems(diag, bank)
    return out


def _pair_problems(diag: Diagnostic) -> list[Problem]:
    by_id = diag.by_id()
    out = []
    for it in diag.form("A"):
        other = by_id.get("dx-b" + it.id[len("dx-a") :])
        if other is None or other.form != "B":
            out.append(
                Problem(
                    diag.file, it.line, it.id, "id", "has no form B pair", "write its pair with the same number, dx-b.."
                )
            )
        elif (other.kind, other.answer) != (it.kind, it.answer):
            out.append(
                Problem(
                    diag.file,
                    other.line,
                    other.id,
                    "answer",
                    f"does not match its pair {it.id} ({it.kind}: {it.answer})",
                    "pair items with the same kind and the same answer, so the forms cover the same labels",
                )
            )
    return out


def _duplicate_problems(diag: Diagnostic, bank: Bank | None) -> list[Problem]:
    out = []
    others = [(iid, tokens(it.text)) for iid, it in (bank.items().items() if bank else [])]
    mine = [(it, tokens(it.text)) for it in diag.items]
    for n, (it, toks) in enumerate(mine):
        near = [iid for iid, t in others if near_duplicate(toks, t)]
        near += [o.id for o, t in mine[:n] if near_duplicate(toks, t)]
        if near:
            out.append(
                Problem(
                    diag.file,
                    it.line,
                    it.id,
                    "text",
                    f"is a near-duplicate of {', '.join(near)}",
                    "rewrite it in new words: a diagnostic item must not be practised or graded elsewhere",
                )
            )
    return out


def balance(diag: Diagnostic) -> dict[str, Any]:
    """How well the forms match: each form's count per answer and kind, its mean difficulty, and the gap
    between the mean difficulties (A minus B)."""
    out: dict[str, Any] = {}
    for name in FORMS:
        items = diag.form(name)
        out[name] = {
            "items": len(items),
            "answers": dict(sorted(Counter(it.answer for it in items).items())),
            "kinds": dict(sorted(Counter(it.kind for it in items).items())),
            "mean_difficulty": sum(it.difficulty for it in items) / len(items) if items else 0.0,
        }
    out["difficulty_gap"] = out["A"]["mean_difficulty"] - out["B"]["mean_difficulty"]
    return out


QUESTIONS = {
    "single_label": "Which one label fits the therapist's response best?",
    "relation": "What is going on here?",
    "boundary": "Which kind of boundary is this about?",
}


def public_item(it: DiagnosticItem) -> dict[str, Any]:
    """What a trainee sees of an item: its id, kind, question, client line, text and menu. No answer."""
    return {
        "id": it.id,
        "kind": it.kind,
        "question": QUESTIONS[it.kind],
        "client": it.client,
        "text": it.text,
        "menu": dict(OPTION_SETS[it.kind][0]),
    }


def public_forms(diag: Diagnostic, *, counterbalance: bool = False, seed: str = "") -> dict[str, Any]:
    """``diagnostic-items.json``: both forms for the notebooks (which form a trainee takes first is
    decided there, by :func:`framelab.learner.diagnostic.form_for`)."""
    return {
        "format": 1,
        "counterbalance": counterbalance,
        "seed": seed,
        "forms": {name: [public_item(it) for it in diag.form(name)] for name in FORMS},
    }


def as_rated(it: DiagnosticItem) -> tuple[str, str]:
    """What a rater is shown of an item: the client's line and the response, or the vignette and its question."""
    if it.kind == "single_label":
        return it.client, it.text
    return it.text, QUESTIONS[it.kind]


def rating_packet(diag: Diagnostic, seed: int = 32) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A blind packet for two raters (no id, no key, both forms shuffled together) and its key."""
    order = list(diag.items)
    random.Random(seed).shuffle(order)
    packet, key = [], []
    for n, it in enumerate(order, start=1):
        shown, text = as_rated(it)
        packet.append(
            {"n": n, "kind": it.kind, "client_or_vignette": shown, "text": text, "menu": dict(OPTION_SETS[it.kind][0])}
        )
        key.append({"n": n, "id": it.id, "labels": [it.answer]})
    return packet, key


def counterbalance_setting(course: Path) -> tuple[bool, str]:
    """Whether the instructor counterbalances the forms (``c.FrameLab.counterbalance_diagnostic = True``
    in ``nbgrader_config.py``), and the seed that splits the cohort (``c.FrameLab.diagnostic_seed``)."""
    from framelab.core.settings import CONFIG, read_config

    if not (course / CONFIG).is_file():
        return False, ""
    try:
        config = read_config(course).get("FrameLab", {})
    except Exception:
        return False, ""  # a config nbgrader cannot read is nbgrader's to report
    return bool(config.get("counterbalance_diagnostic", False)), str(config.get("diagnostic_seed", ""))


def public_outputs(modules: Path, source: Path) -> dict[Path, str]:
    """The file each diagnostic stage's notebook reads (both forms, no key): what ``framelab build``
    writes beside Module 0's and Module 6's notebooks. Nothing when the course has no diagnostic."""
    import json

    diag = load_diagnostic(modules)
    if not diag.items or diag.problems:
        return {}
    counter, seed = counterbalance_setting(source.parent)
    text = json.dumps(public_forms(diag, counterbalance=counter, seed=seed), indent=1, ensure_ascii=False) + "\n"
    return {source / folder / PUBLIC_FILE: text for folder in STAGE_FOLDERS if (source / folder).is_dir()}


#: the assignments whose notebooks carry the diagnostic (Form A's stage first)
STAGE_FOLDERS = ("m0_orientation", "m6_capstone")
