"""Self-study: check your own graded answers, and see your progress, from your workspace.

``framelab check NOTEBOOK`` scores the graded exercises of one notebook the way ``framelab grade``
makes the score of record: from the saved choices (and any literal answers in the answer cells),
without running the notebook, against the course's answer key in ``modules/``. It shows each item
with the answer and its rationale. A self-study learner has the key in their clone; a course
deployment switches the check off (``c.FrameLab.self_check = False`` in ``nbgrader_config.py``, or
``FRAMELAB_SELF_CHECK=0``), so that it cannot be used as an oracle.

``framelab progress WORKSPACE`` reads the workspace: per module, whether it is started or done,
how many graded items are answered, the role-plays finished, the time spent (``activity.json``,
see :mod:`framelab.activity`) and when it was last worked on. In self-study, where the course's
answer key is beside the workspace and the check is allowed, it also shows the score.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import activity
from . import answers as store


class SelfCheckError(Exception):
    """The check cannot run here; the message says why and what to do."""


def course_root(start: Path) -> Path | None:
    """The nearest folder at or above ``start`` holding ``modules/`` and ``nbgrader_config.py``."""
    for folder in [start, *start.parents]:
        if (folder / "modules").is_dir() and (folder / "nbgrader_config.py").is_file():
            return folder
    return None


def self_check_allowed(root: Path) -> bool:
    """False when the deployment has switched the check off (environment, or nbgrader_config.py)."""
    if os.environ.get("FRAMELAB_SELF_CHECK", "").strip().lower() in ("0", "false", "no", "off"):
        return False
    from traitlets.config.loader import PyFileConfigLoader

    try:
        config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    except Exception:
        return True  # a config nbgrader itself cannot read is nbgrader's problem to report
    return bool(config.get("FrameLab", {}).get("self_check", True))


@dataclass
class ItemCheck:
    exercise: str
    kind: str
    item: str
    right: bool
    chosen: Any
    answer: Any
    rationale: str


@dataclass
class CheckReport:
    module: str
    items: list[ItemCheck] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def score(self) -> int:
        return sum(i.right for i in self.items)

    def render(self) -> str:
        lines = [f"{self.module}: {self.score} of {len(self.items)} graded items right."]
        for note in self.notes:
            lines.append(f"  note: {note}")
        for i in self.items:
            if i.right:
                lines.append(f"  right    {i.item}: {_show(i.chosen, i.kind)}")
                continue
            if i.chosen in (None, "", []):
                lines.append(f"  not yet  {i.item}: not answered yet; the answer is {_show(i.answer, i.kind)}.")
            else:
                chosen, answer = _show(i.chosen, i.kind), _show(i.answer, i.kind)
                lines.append(f"  not yet  {i.item}: you chose {chosen}; the answer is {answer}.")
            lines.append(f"           Why: {i.rationale}")
        return "\n".join(lines)


def _show(value: Any, kind: str) -> str:
    from .vocabulary import OPTION_SETS

    names = OPTION_SETS[kind][0]
    values = value if isinstance(value, list) else [value]
    return "; ".join(names.get(v, str(v)).split(":")[0] if isinstance(v, str) else str(v) for v in values)


def check_notebook(notebook: Path, modules: Path | None = None, bank: Any = None) -> CheckReport:
    """Score one workspace notebook's graded exercises without running it. ``bank``, when given,
    is the course's bank already loaded from ``modules/`` (loading it takes seconds)."""
    from .audit import score_picks, submission_picks
    from .bank import gold, load_bank

    notebook = notebook.resolve()
    if not notebook.is_file():
        raise SelfCheckError(f"{notebook} is not a file: give the path of a module notebook (.ipynb).")
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
    bank = bank if bank is not None else load_bank(modules or root / "modules")
    name = notebook.stem
    try:
        module = bank.module(name)
    except KeyError:
        raise SelfCheckError(f"{notebook.name} is not a graded module notebook (no module '{name}').") from None
    picks, notes = submission_picks(folder, module)
    scores = score_picks(picks, module, bank)
    items = bank.items()
    report = CheckReport(module.folder, notes=notes)
    for ex in module.meta.exercises:
        for iid in ex.items:
            report.items.append(
                ItemCheck(
                    ex.id,
                    ex.kind,
                    iid,
                    scores[f"{ex.id}__{iid}"] == 1.0,
                    picks.get(ex.id, {}).get(iid),
                    gold(items[iid], ex.kind),
                    items[iid].rationale,
                )
            )
    return report


def validate(notebook: Path) -> str:
    """``nbgrader validate`` on the learner's copy: "" when it passes, else what it printed."""
    import subprocess
    import sys

    exe = Path(sys.executable).parent / "nbgrader"
    env = {**os.environ, "PATH": f"{exe.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    proc = subprocess.run(
        [str(exe), "validate", str(notebook)], cwd=notebook.parent, capture_output=True, text=True, env=env
    )
    out = (proc.stdout + proc.stderr).strip()
    return "" if proc.returncode == 0 and "Success!" in out else out


# --------------------------------------------------------------------------- progress


@dataclass
class ModuleProgress:
    folder: str
    title: str
    started: bool
    answered: int
    items: int
    roleplays_done: int
    roleplays: int
    last_activity: float | None
    seconds: float = 0.0
    score: int | None = None

    @property
    def done(self) -> bool:
        return self.items > 0 and self.answered == self.items

    @property
    def status(self) -> str:
        return "done" if self.done else "started" if self.started else "not started"


def progress(workspace: Path) -> list[ModuleProgress]:
    """Per module folder in the workspace (with its content.json): what has been done."""
    out = []
    key: dict[str, Any] = {}  # the course's bank, loaded once for every module's score
    for content_path in sorted(workspace.glob("*/content.json")):
        folder = content_path.parent
        try:
            content = json.loads(content_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        try:
            saved = store.read(folder / store.FILENAME)
        except store.AnswerFileError:
            saved = {}
        items = answered = 0
        for ex_id, ex in content.get("exercises", {}).items():
            ids = [row["id"] for row in ex.get("items", [])]
            items += len(ids)
            answered += sum(1 for i in ids if saved.get(ex_id, {}).get(i) not in (None, "", []))
        scenarios = [s["id"] for s in content.get("scenarios", [])]
        done = 0
        stamps = [p.stat().st_mtime for p in (folder / store.FILENAME,) if p.exists()]
        for sid in scenarios:
            path = folder / f"roleplay-{sid}.json"
            if path.exists():
                stamps.append(path.stat().st_mtime)
                with contextlib.suppress(OSError, ValueError, AttributeError):
                    done += json.loads(path.read_text(encoding="utf-8")).get("node") == "END"
        spans = activity.read(folder)
        module = content.get("module", {})
        out.append(
            ModuleProgress(
                folder.name,
                module.get("title", folder.name),
                bool(stamps or spans),
                answered,
                items,
                done,
                len(scenarios),
                max(stamps) if stamps else None,
                activity.total(spans),
                _score(folder, key) if items and answered else None,
            )
        )
    return out


def _score(folder: Path, key: dict[str, Any]) -> int | None:
    """Graded items right, where self-study checking is possible here; otherwise None. ``key``
    keeps the course's bank between calls."""
    root = course_root(folder)
    if root is None or not self_check_allowed(root):
        return None
    try:
        if "bank" not in key:
            from .bank import load_bank

            key["bank"] = load_bank(root / "modules")
        return check_notebook(folder / f"{folder.name}.ipynb", bank=key["bank"]).score
    except (SelfCheckError, OSError, ValueError):
        return None


def render_progress(rows: list[ModuleProgress]) -> str:
    if not rows:
        return "No modules in this workspace yet: run 'make lab' to create it."
    lines = [
        f"{'module':34} {'status':12} {'answered':>9} {'score':>7} {'role-plays':>11} {'time spent':>15}"
        "  last worked on"
    ]
    for r in rows:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(r.last_activity)) if r.last_activity else ""
        score = "" if r.score is None else f"{r.score}/{r.items}"
        spent = activity.describe(r.seconds) if r.seconds else ""
        lines.append(
            f"{r.title[:34]:34} {r.status:12} {f'{r.answered}/{r.items}':>9} {score:>7} "
            f"{f'{r.roleplays_done}/{r.roleplays}':>11} {spent:>15}  {when}"
        )
    lines.append(
        "Time spent counts the stretches in which you saved answers, checked items or replied in a role-play "
        "(pauses over 10 minutes are not counted). The score appears in self-study only."
    )
    return "\n".join(lines)
