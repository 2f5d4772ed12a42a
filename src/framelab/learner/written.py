"""Self-study feedback on written work: what the detector reads in a written reply, move by move, the
mark scheme's points to tick off, and a model answer to compare.

A written answer is a Markdown cell the learner writes in: nbgrader's answer cell (``solution``), or
the cell just below a locked nbgrader task (Module 6's supervision tasks). Its **mark scheme** is the
bold bullet points worth a point each, in the cell just above the answer or in the section heading
cell above it. Its **model answer** is the exemplar in the course's source notebook, which only a
self-study clone has (``source/``). Replies to a client are read by the detector
(:mod:`framelab.roleplay.reading`, the role-play's own reading); reflections are not.

Self-study only: where checking is switched off (:func:`framelab.core.settings.self_check_allowed`),
or there is no answer key beside the workspace, :func:`written_feedback` refuses with one line.
Nothing is written; the notebook is read as saved.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from framelab.core import safejson
from framelab.core.settings import course_root, self_check_allowed
from framelab.learner.selfcheck import MAX_NOTEBOOK_BYTES, SelfCheckError

_POINT = re.compile(r"^\s*[*-]\s+\*\*(.+?)\*\*:?\s*(.*)$")
#: What an answer cell holds before the learner writes (nbgrader's text, as nbgrader_config.py sets it).
_PLACEHOLDER = re.compile(
    r"^\s*(YOUR ANSWER HERE|Write your answer here, in your own words\.|\*Write your answer[^*]*\*)\s*$", re.I | re.M
)
_SOLUTION = re.compile(r"### (BEGIN|END) SOLUTION|\*Exemplar \(instructor copy\)\.\*")
_MOVES = ("validate", "state_boundary", "recenter")


@dataclass
class MoveReading:
    name: str
    found: bool
    cues: list[str] = field(default_factory=list)


@dataclass
class WrittenFeedback:
    """One written answer: its name, the learner's text, the points to tick off, a model to compare."""

    title: str
    text: str
    scheme: list[str]
    model: str = ""
    moves: list[MoveReading] = field(default_factory=list)
    also: list[MoveReading] = field(default_factory=list)  # other patterns the words read as
    note: str = ""

    @property
    def written(self) -> bool:
        return bool(self.text.strip())


def _source(cell: Any) -> str:
    src = cell.get("source", "") if type(cell) is dict else ""
    return "".join(x for x in src if type(x) is str) if type(src) is list else str(src)


def _meta(cell: Any) -> dict[str, Any]:
    meta = cell.get("metadata", {}) if type(cell) is dict else {}
    grader = meta.get("nbgrader", {}) if type(meta) is dict else {}
    return grader if type(grader) is dict else {}


def answer_cells(cells: list[Any]) -> list[int]:
    """Indexes of the Markdown cells a learner writes an answer in."""
    # a written task's criteria are locked task cells; its answer is the open cell after them, unless the
    # criteria belong to a reply that is itself a solution cell (a capstone reply marked per criterion)
    answered = {str(_meta(c).get("grade_id", "")).split("__")[0] for c in cells if _meta(c).get("solution")}
    out = []
    for i, cell in enumerate(cells):
        if type(cell) is not dict or cell.get("cell_type") != "markdown" or _meta(cell).get("locked"):
            continue
        before = _meta(cells[i - 1]) if i else {}
        group = str(before.get("grade_id", "")).split("__")[0]
        if _meta(cell).get("solution") or (before.get("task") and before.get("locked") and group not in answered):
            out.append(i)
    return out


def points(text: str) -> list[str]:
    """The bold bullet points of a mark scheme, as plain sentences."""
    lines, out = text.splitlines(), []
    for n, line in enumerate(lines):
        m = _POINT.match(line)
        if not m:
            continue
        rest = [m[2].strip()]
        for x in lines[n + 1 :]:
            if not x.startswith("  ") or _POINT.match(x):
                break
            rest.append(x.strip())
        head, tail = m[1].rstrip(":"), " ".join(rest).strip()
        out.append(f"{head} {tail}" if tail[:1] in ",;(" else f"{head}: {tail}" if tail else head)
    return out


def _criterion(text: str) -> str:
    """One criterion cell as one point: its italic heading dropped, its bold kept as plain words."""
    text = re.sub(r"^\s*\*[^*]+\*\s*", "", text.strip())
    return " ".join(re.sub(r"\*\*(.+?)\*\*", r"\1", text).split())


def scheme_for(cells: list[Any], index: int) -> tuple[list[str], str]:
    """(the mark scheme's points, the title) for the answer at ``index``. A written task marked per
    criterion has its criteria as locked task cells just above the answer, below the task's prompt."""
    start = index - 1
    while start > 0 and _meta(cells[start]).get("task") and _meta(cells[start]).get("locked"):
        start -= 1
    if start < index - 1:
        prompt = _source(cells[start])
        first = prompt.strip().splitlines()[0] if prompt.strip() else ""
        title = re.sub(r"[*#]", "", first).strip().rstrip(".")
        return [_criterion(_source(cells[j])) for j in range(start + 1, index)], title
    prompt = _source(cells[index - 1]) if index else ""
    bold = re.search(r"\*\*(.+?)\*\*", prompt)
    first = prompt.strip().splitlines()[0] if prompt.strip() else ""
    title = (bold[1] if bold and not first.startswith("#") else re.sub(r"[*#]", "", first)).strip().rstrip(".")
    if points(prompt):
        return points(prompt), title
    for i in range(index - 1, -1, -1):
        text = _source(cells[i])
        if cells[i].get("cell_type") == "markdown" and text.lstrip().startswith("#") and points(text):
            return points(text), title
    return [], title


def model_answer(root: Path, module: str, grade_id: str) -> str:
    """The exemplar for an answer cell, from the course's source notebook ("" if none)."""
    path = root / "source" / module / f"{module}.ipynb"
    try:
        nb = safejson.load(path, max_bytes=MAX_NOTEBOOK_BYTES)
    except (OSError, safejson.UnsafeJSON):
        return ""
    for cell in nb.get("cells", []) if type(nb) is dict else []:
        if grade_id and _meta(cell).get("grade_id") == grade_id and _meta(cell).get("solution"):
            return _SOLUTION.sub("", _source(cell)).strip()
    return ""


def read_moves(text: str, client: str, rubric: str, detector: Any) -> tuple[list[MoveReading], list[MoveReading]]:
    """The detector's reading of a reply: the three moves (or the repair moves), then anything else it reads."""
    from framelab.core.rubrics import RUBRICS
    from framelab.roleplay.reading import read

    titles = RUBRICS[rubric].titles
    found = read(text, client, detector, rubric)
    moves = [MoveReading(titles[m], m in found.labels, list(found.cues.get(m, []))[:3]) for m in _MOVES]
    also = [MoveReading(titles[x], True, list(found.cues.get(x, []))[:3]) for x in found.labels if x not in _MOVES]
    return moves, also


def _rubric(scheme: list[str]) -> str | None:
    """Which reading fits the scheme: the three moves, the repair moves, or none (a reflection)."""
    heads = " ".join(p.split(":")[0].lower() for p in scheme)
    if "own" in heads and "thank" in heads:
        return "repair"
    return "three_moves" if "validate" in heads and "boundary" in heads else None


def written_feedback(notebook: Path, detector: Any = None) -> list[WrittenFeedback]:
    """Feedback on each written answer in a saved module notebook (self-study only)."""
    notebook = Path(notebook).resolve()
    root = course_root(notebook.parent)
    if root is None or not (root / "source").is_dir():
        raise SelfCheckError("feedback on written work needs the course's model answers, which a self-study clone has.")
    if not self_check_allowed(root):
        raise SelfCheckError("feedback on written work is switched off for this course: your instructor marks it.")
    try:
        nb = safejson.load(notebook, max_bytes=MAX_NOTEBOOK_BYTES, what=notebook.name)
    except (OSError, safejson.UnsafeJSON) as exc:
        raise SelfCheckError(f"{notebook.name} could not be read ({exc}); save it and try again.") from None
    cells = nb.get("cells", []) if type(nb) is dict else []
    out = []
    for i in answer_cells(cells):
        scheme, title = scheme_for(cells, i)
        text = _PLACEHOLDER.sub("", _source(cells[i])).strip()
        grade_id = _meta(cells[i]).get("grade_id") or ""
        item = WrittenFeedback(title, text, scheme, model_answer(root, notebook.stem, str(grade_id)))
        rubric = _rubric(scheme)
        if item.written and rubric is not None:
            try:
                item.moves, item.also = read_moves(text, _source(cells[i - 1]), rubric, detector)
            except ValueError as exc:  # the detector refuses a copy of a graded item
                item.note = str(exc)
        out.append(item)
    return out
