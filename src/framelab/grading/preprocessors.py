"""The course's own nbgrader preprocessors (configured in ``nbgrader_config.py``).

:class:`LimitOutputChars` bounds what a graded notebook may print: nbgrader's ``LimitOutput``
counts lines, so one 10 MB line passes it.

:class:`TeachingFeedback` gives feedback that teaches without showing a line of the hidden
tests. It runs in ``nbgrader generate_feedback``
(``GenerateFeedback.preprocessors`` in ``nbgrader_config.py``). nbgrader keeps its feedback page
(scores per cell, the total, comments), but every classification test cell, whose source holds
the hidden test, is replaced by a verdict written for the trainee: the response, what they
chose, the answer, the points, and the bank's rationale. The trainee's choices are read from
their graded folder as data (never by running it), the same way the score of record is made.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

from nbconvert.preprocessors import Preprocessor as PlainPreprocessor
from nbgrader.preprocessors.base import NbGraderPreprocessor as Preprocessor
from traitlets import Bool, Integer, Unicode

from framelab.scoring.display import show

#: grade id of a classification test cell: ``<exercise>__<item>``
_TEST_ID = re.compile(r"^(?P<exercise>[a-z][a-z0-9_]*)__(?P<item>[a-z0-9-]+)$")


def verdict(item: Any, ex: Any, picked: Any, right: Any, score: float | None, points: float, n: int, total: int) -> str:
    """The markdown that replaces one test cell in the feedback: the choices named as the exercise's
    menu named them (its kind, and its rubric: a reply to a rupture in the repair rubric's words)."""

    def _shown(value: Any) -> str:
        return show(value, ex.kind, ex.rubric, meaning=True)

    text = getattr(item, "text", "")
    client = getattr(item, "client", None)
    lines = [f"**Item {n} of {total}** ({score if score is not None else 0:g} of {points:g} point)"]
    if client:
        lines.append(f"> *Client:* {html.escape(client)}  \n> *Response:* {html.escape(text)}")
    else:
        lines.append(f"> {html.escape(text)}")
    answered = picked not in (None, "", [])
    answer = html.escape(_shown(right))
    if score and score >= points:
        lines.append(f"You chose **{html.escape(_shown(picked))}**: right.")
    elif not answered:
        lines.append(f"You did not answer this item. The answer is **{answer}**.")
    else:
        lines.append(f"You chose **{html.escape(_shown(picked))}**. The answer is **{answer}**.")
    lines.append(f"*Why:* {html.escape(item.rationale)}")
    return "\n\n".join(lines)


class LimitOutputChars(Preprocessor):
    """Cut any one text output longer than ``max_chars`` (after nbgrader's ``LimitOutput``)."""

    max_chars = Integer(20_000, help="characters kept of any one output (-1: no limit)").tag(config=True)

    def preprocess_cell(self, cell: Any, resources: dict[str, Any], index: int) -> tuple[Any, dict[str, Any]]:
        if self.max_chars < 0 or cell.cell_type != "code":
            return cell, resources
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                output["text"] = self._cut(output.get("text", ""))
            for key, value in (output.get("data") or {}).items():
                if isinstance(value, str):
                    output["data"][key] = self._cut(value)
        return cell, resources

    def _cut(self, text: Any) -> Any:
        text = "".join(text) if isinstance(text, list) else text
        if len(text) <= self.max_chars:
            return text
        return text[: self.max_chars] + f"\n... output cut: {len(text):,} characters, {self.max_chars:,} kept ..."


class SanitizeUntrusted(PlainPreprocessor):
    """Clean every markdown cell, output, attachment and raw cell of a trainee's notebook (see the module);
    logs one line naming the notebook and what was removed."""

    # on by default, as nbgrader's own steps are: nbgrader lists its steps without enabling them
    enabled = Bool(True).tag(config=True)

    def preprocess(self, nb: Any, resources: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        from framelab.core.safehtml import clean_notebook

        changed = clean_notebook(nb)
        if changed:
            info = resources.get("nbgrader") or {}
            where = "/".join(str(info[k]) for k in ("student", "assignment", "notebook") if info.get(k))
            name = where or (resources.get("metadata") or {}).get("name", "notebook")
            self.log.warning("%s: made safe to show (nothing here can run): %s", name, "; ".join(changed))
        return nb, resources


class FeedbackRefused(Exception):
    """Feedback for a trainee whose hand-grading is pending, without ``allow_pending``."""


def _pending_grades(resources: dict[str, Any]) -> dict[str, float]:
    """grade id -> points, for this notebook's grades that still need a human (nbgrader's
    ``needs_manual_grade``), read from the gradebook named in ``resources``."""
    from nbgrader.api import Gradebook, MissingEntry

    info = resources.get("nbgrader", {})
    if not info.get("db_url"):
        return {}
    with Gradebook(info["db_url"]) as gb:
        try:
            nb = gb.find_submission_notebook(info["notebook"], info["assignment"], info["student"])
        except MissingEntry:
            return {}
        return {g.name: float(g.max_score or 0) for g in nb.grades if g.needs_manual_grade}


def _title(item: Any, n: int, total: int, limit: int = 70) -> str:
    """How the feedback's contents name an item: its number and the start of the response."""
    text = " ".join(getattr(item, "text", "").split())
    short = text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"
    return f"Item {n} of {total}: \u201c{short}\u201d"


PENDING_NOTE = (
    "**Not marked yet.** Your instructor has not marked this answer; its {points:g} point(s) are not in "
    "the score above, and a new copy of this feedback will follow when it is marked."
)


class TeachingFeedback(Preprocessor):
    """Replace classification test cells with a friendly verdict and the rationale; refuse (or,
    with ``allow_pending``, mark clearly) a notebook whose hand-grading is not done."""

    modules = Unicode("modules", help="the content bank, relative to the course root").tag(config=True)
    autograded = Unicode("autograded", help="nbgrader's autograded folder, relative to the course root").tag(
        config=True
    )
    allow_pending = Bool(
        False,
        help="make feedback even where hand-grading is pending (those answers are shown as not marked yet)",
    ).tag(config=True)

    def preprocess(self, nb: Any, resources: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        from framelab.grading.formgrade import clear_object_reprs, drop_instructor_outputs

        waiting = self._check_pending(resources)
        where, items, picks = self._context(resources.get("nbgrader", {}))
        for index, cell in enumerate(nb.cells):
            drop_instructor_outputs(cell)
            clear_object_reprs(cell)
            meta = cell.metadata.get("nbgrader", {})
            gid = str(meta.get("grade_id", ""))
            if gid in waiting:
                cell.metadata["framelab"] = {"pending": waiting[gid]}
                meta["grade"] = False  # no "Score: 0 / 4" heading for an answer nobody has marked
                cell.source = PENDING_NOTE.format(points=waiting[gid]) + "\n\n" + cell.source
                continue
            match = _TEST_ID.match(gid)
            if meta.get("grade") and not meta.get("solution") and match is not None:
                nb.cells[index] = _verdict_cell(cell, meta, where.get(gid), match["item"], items, picks)
        return nb, resources

    def _check_pending(self, resources: dict[str, Any]) -> dict[str, float]:
        """This notebook's grades waiting for a human; refuses unless ``allow_pending``."""
        info = resources.get("nbgrader", {})
        waiting = _pending_grades(resources)
        if waiting and not self.allow_pending:
            raise FeedbackRefused(
                f"{info.get('student')}: {sum(waiting.values()):g} point(s) still to hand-grade "
                f"({', '.join(waiting)}); grade them in formgrader first, or make feedback anyway with "
                "--TeachingFeedback.allow_pending=True (framelab feedback --allow-pending)"
            )
        if waiting:
            resources.setdefault("nbgrader", {})["framelab_pending"] = sum(waiting.values())
        return waiting

    def _context(self, info: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, dict[str, Any]]]:
        """Each test cell's (exercise, place, item) for this trainee (their variant, from the gradebook's
        id, when the course asks variants), the bank's items and the trainee's picks (read as data)."""
        from framelab.bank.loader import cached_bank
        from framelab.bank.variants import course_setting, place_index
        from framelab.scoring.record import submission_picks

        modules = Path(self.modules)
        if not modules.is_dir():
            self.log.warning("framelab feedback: no bank at %s; hidden tests are blanked without a verdict", modules)
            return {}, {}, {}
        bank = cached_bank(modules)
        try:
            module = bank.module(info.get("assignment", ""))
        except KeyError:
            return {}, bank.items(), {}
        student = str(info.get("student", ""))
        folder = Path(self.autograded) / student / info.get("assignment", "")
        picks, _ = submission_picks(folder, module)
        where = place_index(module, bank, student, course_setting(modules.resolve().parent))
        return where, bank.items(), picks


def _verdict_cell(cell: Any, meta: dict[str, Any], place: Any, token: str, items: dict[str, Any], picks: Any) -> Any:
    """The markdown cell that replaces one test cell: the verdict, and the item's name for the contents.
    ``place`` is the cell's (exercise, place, item) for this trainee, or None when the bank has no such cell."""
    from framelab.bank.loader import gold

    title = f"Item {token}"
    if place is not None and place[2] in items:
        ex, n, iid = place
        total = len(ex.items)
        title = _title(items[iid], n, total)
        points = float(meta.get("points", 1))
        picked, right = picks.get(ex.id, {}).get(iid), gold(items[iid], ex.kind)
        source = verdict(items[iid], ex, picked, right, meta.get("score"), points, n, total)
    else:
        source = f"Item {token}: {meta.get('score', 0)} of {meta.get('points', 1)} point."
    new = cell.copy()
    new.cell_type = "markdown"
    new.source = source
    new.metadata["framelab"] = {"title": title}
    new.pop("outputs", None)
    new.pop("execution_count", None)
    return new
