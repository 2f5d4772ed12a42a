"""The score of record: what a trainee answered, read as data from their folder, and how each item scores.

``framelab grade`` (from the snapshot it took before any of the trainee's code ran), the audit,
self-study's check, progress, formgrader and feedback all read a submission through
:func:`submission_picks` and score it with :func:`score_picks`:

* the answer cell's ``.pick(...)`` argument is read with :func:`ast.literal_eval` (a literal
  dict of plain strings, as the instructor's solution is) or, when it is empty, the saved
  ``answers.json`` beside the notebook (what the menus write);
* an answer cell that computes its answer, or was replaced by other code, cannot be trusted,
  so it counts as giving no answers;
* each item is scored by the same pure function the hidden tests call, against the bank's key;
* with variants on (:mod:`framelab.bank.variants`), place n of a pooled exercise is scored against the
  n-th item of the variant drawn from the trainee's gradebook id: answers to other items score nothing.

Every JSON file is read with bounds on size and nesting (:mod:`framelab.core.safejson`); nothing is
ever run, and the folder is only read.
"""

from __future__ import annotations

import ast
import hashlib
import json
from pathlib import Path
from typing import Any

from framelab.bank.loader import Bank, Module, gold
from framelab.bank.variants import OFF, Setting, places
from framelab.core import safejson
from framelab.scoring import answers as store
from framelab.scoring.checks import AnswerProblem, grade_answer

#: How long a notebook may be before it is not read at all (a real one is well under 1 MB).
MAX_NOTEBOOK_BYTES = 20_000_000


def _pick_argument(source: str) -> tuple[str, Any]:
    """What an answer cell hands to ``.pick(...)``: ("saved", None), ("literal", value) or ("code", why)."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        return "code", f"the answer cell is not valid Python (line {exc.lineno})"
    calls = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "pick"
    ]
    others = [n for n in tree.body if not (isinstance(n, ast.Assign | ast.Expr) and isinstance(n.value, ast.Call))]
    if len(calls) != 1 or others or len(tree.body) != 1:
        return "code", "the answer cell was changed to run other code"
    call = calls[0]
    if call.keywords or len(call.args) > 1:
        return "code", "the answer cell passes something unexpected to pick()"
    if not call.args or (isinstance(call.args[0], ast.Constant) and call.args[0].value is None):
        return "saved", None
    try:
        value = ast.literal_eval(call.args[0])
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return "code", "the answer cell computes its answers instead of listing them"
    if type(value) is not dict:
        return "code", "the answer cell's answers are not a plain mapping of items to choices"
    return "literal", value


def _cells(notebook: Path) -> dict[str, str]:
    """grade id -> source of every nbgrader cell, read as data (never executed)."""
    data = safejson.load(notebook, max_bytes=MAX_NOTEBOOK_BYTES, what=notebook.name)
    out: dict[str, str] = {}
    for cell in data.get("cells", []) if type(data) is dict else []:
        meta = ((cell.get("metadata") or {}).get("nbgrader") or {}) if type(cell) is dict else {}
        gid = meta.get("grade_id") if type(meta) is dict else None
        if type(gid) is str and cell.get("cell_type") == "code":
            src = cell.get("source", "")
            out[gid] = "".join(src) if type(src) is list else str(src)
    return out


def score_picks(
    picks: dict[str, dict[str, Any]], module: Module, bank: Bank, student: str = "", setting: Setting = OFF
) -> dict[str, float]:
    """grade id -> 1.0 or 0.0, by the same function the hidden tests call. With variants on, the items are
    the variant of ``student`` (the gradebook's id, never one read from the submission): an answer to an
    item outside it is never read, so it scores nothing."""
    items = bank.items()
    asked = places(module, bank, student, setting)
    scores: dict[str, float] = {}
    for ex in module.meta.exercises:
        chosen = picks.get(ex.id, {})
        for grade_id, iid in asked[ex.id]:
            try:
                grade_answer(chosen, iid, gold(items[iid], ex.kind), kind=ex.kind)
                scores[grade_id] = 1.0
            except AnswerProblem:
                scores[grade_id] = 0.0
    return scores


def submission_picks(folder: Path, module: Module) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """What a trainee answered, per exercise, read as data from their folder (notebook and
    saved answers) without running any of it. Returns (exercise id -> picks, notes)."""
    notes: list[str] = []
    notebook = folder / f"{module.folder}.ipynb"
    cells: dict[str, str] = {}
    if notebook.is_symlink():
        notes.append(f"{notebook.name} is a symbolic link: never followed; audited from {store.FILENAME} alone")
    elif not notebook.exists():
        notes.append(f"{notebook.name} is missing: audited from {store.FILENAME} alone")
    else:
        try:
            cells = _cells(notebook)
        except (ValueError, UnicodeDecodeError) as exc:
            notes.append(f"{notebook.name} could not be read ({exc}): audited from {store.FILENAME} alone")
    saved = _saved(folder / store.FILENAME, notes)
    out: dict[str, dict[str, Any]] = {}
    for ex in module.meta.exercises:
        source = cells.get(ex.id)
        how, value = ("saved", None) if source is None else _pick_argument(source)
        if how == "saved":
            out[ex.id] = saved.get(ex.id, {})
        elif how == "literal":
            out[ex.id] = value
        else:
            notes.append(f"exercise '{ex.id}': {value}; audited as unanswered")
            out[ex.id] = {}
    return out, notes


def _saved(path: Path, notes: list[str]) -> dict[str, Any]:
    """The saved answers, or none (with a note) when the file is a link, a JSON bomb or not an answers file."""
    if path.is_symlink():
        notes.append(f"{store.FILENAME} is a symbolic link: never followed; audited as unanswered")
        return {}
    if path.exists():
        try:
            safejson.load(path, max_bytes=store.MAX_BYTES, what=store.FILENAME)
        except safejson.UnsafeJSON as exc:
            notes.append(f"{exc} Audited as unanswered")
            return {}
    try:
        return store.read(path)
    except store.AnswerFileError as exc:
        notes.append(str(exc).split(". ")[0])
        return {}


def score_submission(
    folder: Path, module: Module, bank: Bank, student: str = "", setting: Setting = OFF
) -> tuple[dict[str, float], list[str]]:
    """Score one trainee's submitted folder, item by item, without running it. Returns (scores, notes)."""
    picks, notes = submission_picks(folder, module)
    return score_picks(picks, module, bank, student, setting), notes


def key_hashes(module: Module, bank: Bank, student: str = "", setting: Setting = OFF) -> dict[str, str]:
    """grade id -> a short SHA-256 of what that item is scored against (its exercise's kind, the item and
    the bank's key), so that a score can say which key it was made with, and a corrected key shows. With
    variants on, a place's hash is of the item that place asks ``student``."""
    items = bank.items()
    asked = places(module, bank, student, setting)
    out: dict[str, str] = {}
    for ex in module.meta.exercises:
        for grade_id, iid in asked[ex.id]:
            right = gold(items[iid], ex.kind)
            key = sorted(right) if isinstance(right, list) else right
            text = json.dumps({"kind": ex.kind, "item": iid, "key": key}, sort_keys=True)
            out[grade_id] = hashlib.sha256(text.encode()).hexdigest()[:16]
    return out
