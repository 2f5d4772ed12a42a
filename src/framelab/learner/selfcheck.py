"""Self-study: check your own graded answers, and see your progress, from your workspace.

``framelab check NOTEBOOK`` scores the graded exercises of one notebook the way ``framelab grade``
makes the score of record: from the saved choices (and any literal answers in the answer cells),
without running the notebook, against the course's answer key in ``modules/``. It shows each item
with the answer and its rationale. A self-study learner has the key in their clone; a course
deployment switches the check off (``c.FrameLab.self_check = False`` in ``nbgrader_config.py``, or
``FRAMELAB_SELF_CHECK=0``), so that it cannot be used as an oracle.

``framelab progress WORKSPACE`` is :mod:`framelab.learner.progress`.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from framelab.bank.loader import cached_bank
from framelab.core import safejson
from framelab.core.settings import course_root, self_check_allowed
from framelab.core.vocabulary import readable
from framelab.scoring import answers as store
from framelab.scoring.display import show

#: Far larger than any real module notebook (about 100 KB) or content file.
MAX_NOTEBOOK_BYTES = 20_000_000
MAX_CONTENT_BYTES = 5_000_000


class SelfCheckError(Exception):
    """The check cannot run here; the message says why and what to do."""


def warm(folder: Path) -> threading.Thread | None:
    """Load the course's bank in the background, so that the first check or refresh is quick.
    Nothing happens where checking is not possible (no ``modules/``, or switched off)."""
    root = course_root(folder.resolve())
    if root is None or not self_check_allowed(root):
        return None
    thread = threading.Thread(target=cached_bank, args=(root / "modules",), name="framelab-bank", daemon=True)
    thread.start()
    return thread


@dataclass
class ItemCheck:
    exercise: str
    kind: str
    item: str
    right: bool
    chosen: Any
    answer: Any
    rationale: str
    rubric: str = "three_moves"  # "repair": the choices are named as the repair rubric names them
    title: str = ""  # the exercise's title, as its notebook shows it
    number: int = 0  # the item's place in its exercise (1, 2, ...), as its notebook shows it


@dataclass
class CheckReport:
    module: str
    items: list[ItemCheck] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    title: str = ""  # "Module 1: The double bind", as the learner knows it

    @property
    def score(self) -> int:
        return sum(i.right for i in self.items)

    @property
    def unanswered(self) -> list[ItemCheck]:
        return [i for i in self.items if _blank(i.chosen)]

    def question(self) -> str:
        """What to ask before showing anything, when some items are not answered yet ("" when all are)."""
        n = len(self.unanswered)
        if not n:
            return ""
        its = "it" if n == 1 else "them"
        return (
            f"You have not answered {n} of the {len(self.items)} graded items yet. Showing the answers to "
            f"{its} now would take away the chance to work {its} out yourself. Check only the items you "
            "have answered, or show every answer?"
        )

    def render(self, show_unanswered: bool = False) -> str:
        """The score and each answered item, with the reason where it is not yet right; the answers to
        unanswered items only when ``show_unanswered`` (the learner asked for them)."""
        answered = [i for i in self.items if not _blank(i.chosen)]
        lines = [f"{self.title or self.module}: {self.score} of {len(self.items)} graded items right."]
        for note in self.notes:
            lines.append(f"  note: {note}")
        heading = None
        for i in self.items:
            if _blank(i.chosen) and not show_unanswered:
                continue
            if i.title and i.title != heading:
                heading = i.title
                lines.append(f"  {heading}")
            where = f"Item {i.number}" if i.number else "Item"
            if i.right:
                lines.append(f"  right    {where}: {show(i.chosen, i.kind, i.rubric)}")
                continue
            answer = f"{ANSWER_IS.get(i.kind, 'the answer is')} {show(i.answer, i.kind, i.rubric)}"
            if _blank(i.chosen):
                lines.append(f"  not yet  {where}: not answered yet; {answer}.")
            else:
                lines.append(f"  not yet  {where}: you chose {show(i.chosen, i.kind, i.rubric)}; {answer}.")
            lines.append(f"           Why: {readable(i.rationale)}")
        hidden = len(self.items) - len(answered)
        if hidden and not show_unanswered:
            lines.append(
                f"  {hidden} item(s) not answered yet: their answers are not shown, so you can still work them out."
            )
        return "\n".join(lines)


#: How the answer is introduced, per exercise kind (the rest: "the answer is").
ANSWER_IS = {
    "missing_move": "the missing move is",
    "relation": "what is going on is",
    "next_action": "what fits best next is",
    "boundary": "the boundary at stake is",
    "severity": "it is",
    "alliance": "for the alliance, it is",
}


def _blank(chosen: Any) -> bool:
    return chosen in (None, "", [])


def check_notebook(notebook: Path, modules: Path | None = None, bank: Any = None) -> CheckReport:
    """Score one workspace notebook's graded exercises without running it. ``bank``, when given,
    is the course's bank already loaded from ``modules/`` (loading it takes seconds)."""
    from framelab.bank.loader import gold
    from framelab.bank.variants import course_setting, places, trainee_id
    from framelab.scoring.record import score_picks, submission_picks

    notebook = Path(os.path.abspath(notebook))  # relative to where the command was run, whatever follows
    if not notebook.is_file():
        raise SelfCheckError(f"{notebook} is not a file: give the path of a module notebook (.ipynb).")
    _readable(notebook)
    folder = notebook.parent
    root = modules.resolve().parent if modules else course_root(folder)
    if root is None or not (root / "modules").is_dir():
        raise SelfCheckError(
            "checking needs the course's answer key (modules/), which a self-study clone has. "
            "Run it inside your clone of the course, or pass --modules."
        )
    if not self_check_allowed(root):
        raise SelfCheckError(
            "Checking graded answers is switched off for this course: your instructor grades them. "
            "Use 'Check' in the practice exercises instead."
        )
    bank = bank if bank is not None else cached_bank(modules or root / "modules")
    name = notebook.stem
    try:
        module = bank.module(name)
    except KeyError:
        raise SelfCheckError(f"{notebook.name} is not a graded module notebook (no module '{name}').") from None
    picks, notes = submission_picks(folder, module)
    student, setting = trainee_id(os.environ), course_setting(root)  # the items this learner's notebook shows
    scores = score_picks(picks, module, bank, student, setting)
    items = bank.items()
    report = CheckReport(module.folder, notes=notes, title=f"Module {module.meta.id[1:]}: {module.meta.title}")
    asked = places(module, bank, student, setting)
    for ex in module.meta.exercises:
        for number, (grade_id, iid) in enumerate(asked[ex.id], 1):
            report.items.append(
                ItemCheck(
                    ex.id,
                    ex.kind,
                    iid,
                    scores[grade_id] == 1.0,
                    picks.get(ex.id, {}).get(iid),
                    gold(items[iid], ex.kind),
                    items[iid].rationale,
                    ex.rubric,
                    ex.title,
                    number,
                )
            )
    return report


def _readable(notebook: Path) -> None:
    """Refuse, in one plain sentence, a notebook or answers file too large or too deeply nested to read."""
    try:
        safejson.load(notebook, max_bytes=MAX_NOTEBOOK_BYTES, what=notebook.name)
        answers = notebook.parent / store.FILENAME
        if answers.exists():
            safejson.load(answers, max_bytes=store.MAX_BYTES, what=answers.name)
    except safejson.UnsafeJSON as exc:
        raise SelfCheckError(f"{exc} Copy the file again from the course release, or rename it.") from None


def validate(notebook: Path) -> str:
    """``nbgrader validate`` on the learner's copy: "" when it passes, else what it printed."""
    import subprocess
    import sys

    notebook = Path(os.path.abspath(notebook))  # it runs in the notebook's folder
    exe = Path(sys.executable).parent / "nbgrader"
    env = {**os.environ, "PATH": f"{exe.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    proc = subprocess.run(
        [str(exe), "validate", notebook.name], cwd=notebook.parent, capture_output=True, text=True, env=env
    )
    if proc.returncode == 0 and "Success!" in proc.stdout:
        return ""
    # its findings are on stdout; stderr has only its log (config and kernel notices), unless it failed
    return proc.stdout.strip() or proc.stderr.strip()


# --------------------------------------------------------------------------- progress
