"""Build the course from the bank: public content files and generated exercise cells.

The bank in ``modules/`` is the one source of truth. For each module that has a source
notebook, ``framelab build``:

1. writes ``source/<module>/content.json``: everything a trainee's notebook needs to show
   (exercise item texts, practice items with their labels and rationales, scenarios) and
   *no* assessment gold label or rationale; nbgrader copies it into the release;
2. regenerates, in ``source/<module>/<module>.ipynb``, the cells that belong to each graded
   exercise: the answer cell (with the key inside nbgrader's solution delimiters) and one
   one-point test cell per item (the gold label inside the hidden-test delimiters).

Everything else in a notebook (its narrative) is left exactly as written.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from framelab.bank import variants
from framelab.bank.diagnostic import load_diagnostic, public_outputs
from framelab.bank.loader import Bank, Exercise, Module, Response, gold
from framelab.core import rubrics

CONTENT_FORMAT = "framelab-content/1"
CONTENT_FILE = "content.json"
#: The variable the notebooks bind the lesson to (see ``framelab.views.lesson``).
LESSON_VAR = "lesson"


def _row(it: Any, with_level: bool) -> dict[str, Any]:
    """An assessment item as a notebook shows it: its text (and client line), with its difficulty when a
    variant is drawn from it (a public fact), never its key."""
    row: dict[str, Any] = {"id": it.id, "text": it.text}
    if isinstance(it, Response):
        row["client"] = it.client
    if with_level:
        row["difficulty"] = it.difficulty
    return row


def public_content(bank: Bank, mod: Module, setting: variants.Setting = variants.OFF) -> dict[str, Any]:
    """What a trainee's notebook may see. Assessment items carry their text only (and, for an exercise
    asking variants, every pool item with its difficulty, so the kernel can draw its trainee's items)."""
    items = bank.items()
    exercises: dict[str, Any] = {}
    for ex in mod.meta.exercises:
        how = variants.public_spec(mod, ex, setting)
        ids = variants.pool(variants.source_of(ex, mod)) if how else ex.items
        options, multi = rubrics.options(ex.kind, ex.rubric)
        exercises[ex.id] = {
            "kind": ex.kind,
            "title": ex.title,
            "multi": multi,
            "options": [[value, text] for value, text in options.items()],
            "items": [_row(items[iid], how is not None) for iid in ids],
            **({"variant": how} if how else {}),
        }
    practice = [
        {
            "id": r.id,
            "situation": r.situation,
            "client": r.client,
            "text": r.text,
            "labels": list(r.labels),
            "rationale": r.rationale,
            "difficulty": r.difficulty,
            "rubric": r.rubric,
            **({"risk_check": r.risk_check} if r.risk_check else {}),
        }
        for r in mod.responses
        if r.split == "practice"
    ]
    practice_vignettes = [
        {k: v for k, v in vig.model_dump().items() if v is not None and k not in ("split", "english")}
        for vig in mod.vignettes
        if vig.split == "practice"
    ]
    return {
        "format": CONTENT_FORMAT,
        "module": {"id": mod.meta.id, "folder": mod.folder, "title": mod.meta.title, "minutes": mod.meta.minutes},
        "exercises": exercises,
        "practice": practice,
        "practice_vignettes": practice_vignettes,
        "scenarios": [_scenario_json(s) for s in mod.scenarios],
    }


def _scenario_json(sc: Any) -> dict[str, Any]:
    """A scenario as the notebook reads it; a node with no risk cue carries no ``risk`` key."""
    data = sc.model_dump()
    if data.get("repair") is None:
        data.pop("repair", None)
    for node in data["nodes"].values():
        for key in ("risk", "neutral"):
            if node.get(key) is None:
                node.pop(key, None)
        for branch in node["branches"].values():
            if not branch.get("topics"):
                branch.pop("topics", None)
    return data


def dumps(data: Any) -> str:
    return json.dumps(data, indent=1, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------- notebook cells


def answer_cell_id(ex: Exercise) -> str:
    return ex.id


def test_cell_id(ex: Exercise, item: str) -> str:
    return f"{ex.id}__{item}"


def answer_source(ex: Exercise, key: dict[str, str | list[str]]) -> str:
    lines = [
        "# Run this cell to show the menus. Your choices are saved as you make them.",
        f'{ex.id} = {LESSON_VAR}.exercise("{ex.id}").pick(',
        "    ### BEGIN SOLUTION",
        "    {",
        *[f"        {json.dumps(k)}: {json.dumps(v)}," for k, v in key.items()],
        "    }",
        "    ### END SOLUTION",
        ")",
    ]
    return "\n".join(lines)


def test_source(ex: Exercise, n: int, total: int, item: str, answer: str | list[str]) -> str:
    kind = "" if ex.kind == "single_label" else f', kind="{ex.kind}"'
    return "\n".join(
        [
            f"# Item {n} of {total} (1 point). Run this cell to check the item is answered.",
            f'check_answer({ex.id}, "{item}"{kind})',
            "### BEGIN HIDDEN TESTS",
            f'grade_answer({ex.id}, "{item}", {json.dumps(answer)}{kind})',
            "### END HIDDEN TESTS",
        ]
    )


def _nbgrader_meta(grade_id: str, *, grade: bool, solution: bool, points: int | None) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": not solution,
        "schema_version": 3,
        "solution": solution,
        "task": False,
    }
    if points is not None:
        meta["points"] = points
    return meta


def place_source(ex: Exercise, n: int, total: int, key: dict[str, str | list[str]]) -> str:
    """A test cell for place n of an exercise asking variants: the kernel names the item its trainee was
    shown there; the hidden test holds the key of every pool item (nbgrader strips it from the release)."""
    kind = "" if ex.kind == "single_label" else f', kind="{ex.kind}"'
    item = f'{LESSON_VAR}.item("{ex.id}", {n})'
    return "\n".join(
        [
            f"# Item {n} of {total} (1 point). Run this cell to check the item is answered.",
            f"check_answer({ex.id}, {item}{kind})",
            "### BEGIN HIDDEN TESTS",
            f"grade_answer({ex.id}, {item}, {json.dumps(key)}[{item}]{kind})",
            "### END HIDDEN TESTS",
        ]
    )


def exercise_cells(
    bank: Bank, ex: Exercise, module: Module | None = None, setting: variants.Setting = variants.OFF
) -> list[nbformat.NotebookNode]:
    items = bank.items()
    by_place = module is not None and variants.by_place(module, ex, setting)
    asked = variants.pool(variants.source_of(ex, module)) if module is not None and by_place else ex.items
    key = {iid: gold(items[iid], ex.kind) for iid in asked}
    answer = nbformat.v4.new_code_cell(answer_source(ex, key))
    answer.id = f"{ex.id}-answers".replace("_", "-")
    answer.metadata = {"nbgrader": _nbgrader_meta(answer_cell_id(ex), grade=False, solution=True, points=None)}
    cells = [answer]
    grade_ids = (
        variants.grade_ids(module, ex, setting) if module is not None else [test_cell_id(ex, i) for i in ex.items]
    )
    for n, (iid, grade_id) in enumerate(zip(ex.items, grade_ids, strict=True), 1):
        text = place_source(ex, n, len(ex.items), key) if by_place else test_source(ex, n, len(ex.items), iid, key[iid])
        cell = nbformat.v4.new_code_cell(text)
        cell.id = (f"{ex.id}-{n}" if by_place else f"{ex.id}-{iid}").replace("_", "-")
        cell.metadata = {
            "deletable": False,
            "editable": False,
            "nbgrader": _nbgrader_meta(grade_id, grade=True, solution=False, points=1),
        }
        cells.append(cell)
    return cells


def _grade_id(cell: Any) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def sync_notebook(
    nb: nbformat.NotebookNode, bank: Bank, mod: Module, setting: variants.Setting = variants.OFF
) -> list[str]:
    """Regenerate each exercise's cells in place. Returns problems (empty when fine)."""
    problems = []
    for ex in mod.meta.exercises:
        ids = {answer_cell_id(ex)} | set(variants.grade_ids(mod, ex, setting))
        prefix = f"{ex.id}__"
        positions = [
            i for i, c in enumerate(nb.cells) if _grade_id(c) in ids or (_grade_id(c) or "").startswith(prefix)
        ]
        if not positions:
            problems.append(
                f"{mod.folder}: the notebook has no cell for exercise '{ex.id}'. Add a code cell whose "
                f"nbgrader grade_id is '{ex.id}' (an autograded answer cell) where the exercise goes."
            )
            continue
        at = positions[0]
        nb.cells = [c for i, c in enumerate(nb.cells) if i not in positions]
        nb.cells[at:at] = exercise_cells(bank, ex, mod, setting)
    return problems


_ABOUT = re.compile(r"\*About \d+ minutes\.")
_TIME_ROW = re.compile(r"^(\| (\d)\. [^\n]*\| )\d+( min \|)$", re.M)


def sync_times(nb: nbformat.NotebookNode, bank: Bank, mod: Module) -> None:
    """Write each module's time estimate (``minutes`` in its module.yaml, the one source) into the
    notebook: the "*About N minutes." line at its top, and any course table's "| N. title | ... | N min |"."""
    minutes = {m.meta.id[1:]: m.meta.minutes for m in bank.modules.values()}
    markdown = [c for c in nb.cells if c.cell_type == "markdown"]
    if markdown:
        markdown[0].source = _ABOUT.sub(f"*About {mod.meta.minutes} minutes.", markdown[0].source, count=1)
    for cell in markdown:
        cell.source = _TIME_ROW.sub(lambda m: f"{m[1]}{minutes.get(m[2], '?')}{m[3]}", cell.source)


@dataclass
class BuildResult:
    changed: list[Path]
    problems: list[str]


def build(
    bank: Bank,
    source: Path,
    *,
    check: bool = False,
    detect_data: Path | None = None,
    setting: variants.Setting = variants.OFF,
) -> BuildResult:
    """Write (or, with ``check``, only compare) every module's generated files, and the
    detector's training data (practice items; assessment texts without labels) when asked. With
    variants on (``setting``), each pooled exercise's test cells are per place and its content lists
    the pool."""
    changed: list[Path] = []
    problems: list[str] = []
    if detect_data is not None:
        from framelab.bank.corpus import load_corpus
        from framelab.detector.data import data_from_bank

        corpus = load_corpus(bank.root)  # training-only replies agreed by a blind rater (modules/_corpus/)
        diagnostic = load_diagnostic(bank.root).items  # their texts and client lines only: the guard refuses them
        _write_if_changed(detect_data, dumps(data_from_bank(bank, corpus, diagnostic)), changed, check)
    for mod in bank.modules.values():
        folder = source / mod.folder
        notebook = folder / f"{mod.folder}.ipynb"
        if not notebook.exists():
            continue  # a module whose notebook is not written yet
        outputs = {folder / CONTENT_FILE: dumps(public_content(bank, mod, setting))}
        nb = nbformat.read(notebook, as_version=4)
        problems += sync_notebook(nb, bank, mod, setting)
        sync_times(nb, bank, mod)
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs = []
                cell.execution_count = None
        outputs[notebook] = nbformat.writes(nb) + "\n"
        for path, text in outputs.items():
            _write_if_changed(path, text, changed, check)
    for path, text in public_outputs(bank.root, source).items():  # the pre/post diagnostic's forms, no key
        _write_if_changed(path, text, changed, check)
    return BuildResult(changed, problems)


def _write_if_changed(path: Path, text: str, changed: list[Path], check: bool) -> None:
    old = path.read_text(encoding="utf-8") if path.exists() else None
    if old != text:
        changed.append(path)
        if not check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
