"""Progress through the course, read from a workspace: per module, whether it is started or done, how
many graded items are answered, the role-plays finished, the time spent (``activity.json``, see
:mod:`framelab.learner.activity`) and when it was last worked on. In self-study, where the course's answer
key is beside the workspace and the check is allowed, it also shows the score (:mod:`framelab.learner.selfcheck`).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from framelab.bank.loader import cached_bank
from framelab.core import safejson
from framelab.core.settings import course_root, self_check_allowed
from framelab.learner import activity
from framelab.learner.selfcheck import MAX_CONTENT_BYTES, MAX_NOTEBOOK_BYTES, SelfCheckError, check_notebook
from framelab.scoring import answers as store

#: The calls in a module notebook that offer a conversation with the simulated client.
_OFFERS = re.compile(r"""lesson\.(roleplay|try_reply)\(\s*["']([\w-]+)["']""")


@dataclass
class ModuleProgress:
    """One module's row. ``roleplays`` counts the conversations its notebook offers (role-plays and
    one-turn reply exercises); ``roleplays_done`` those finished (a role-play to its end, a reply said)."""

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
    minutes: int = 0  # the module's estimated time (content.json), 0 when it gives none

    @property
    def done(self) -> bool:
        return self.items > 0 and self.answered == self.items

    @property
    def left(self) -> float | None:
        """Seconds of the module's estimated time not yet spent: 0 when done, None with no estimate."""
        if self.done:
            return 0.0
        if not self.minutes:
            return None
        return max(0.0, self.minutes * 60 - self.seconds)

    @property
    def time_left(self) -> str:
        """'about 40 min left', for people; "" when done or with no estimate."""
        left = self.left
        if not left:
            return ""
        return f"about {activity.describe(max(left, 5 * 60))} left"

    @property
    def status(self) -> str:
        return "done" if self.done else "started" if self.started else "not started"


def offered(folder: Path, content: dict[str, Any]) -> list[tuple[str, str]]:
    """(kind, scenario id) of each conversation the module's notebook offers, in its order:
    kind is "roleplay" or "try_reply". Read from the notebook's code cells, never run."""
    known = {s.get("id") for s in content.get("scenarios", []) if type(s) is dict}
    try:
        nb = safejson.load(folder / f"{folder.name}.ipynb", max_bytes=MAX_NOTEBOOK_BYTES)
    except safejson.UnsafeJSON:
        return []
    out: list[tuple[str, str]] = []
    for cell in nb.get("cells", []) if type(nb) is dict else []:
        if type(cell) is not dict or cell.get("cell_type") != "code":
            continue
        src = cell.get("source", "")
        src = "".join(x for x in src if type(x) is str) if type(src) is list else str(src)
        out += [(kind, sid) for kind, sid in _OFFERS.findall(src) if sid in known and (kind, sid) not in out]
    return out


def _finished(folder: Path, kind: str, sid: str, said: set[str]) -> tuple[bool, float | None]:
    """Whether one offered conversation is finished, and when it was last saved (if ever)."""
    if kind == "try_reply":
        return activity.reply_key(sid) in said, None
    path = folder / f"roleplay-{sid}.json"
    counted = activity.roleplay_key(sid) in said  # finished once, and started again since
    if not path.exists():
        return counted, None
    try:
        data = safejson.load(path, max_bytes=store.MAX_BYTES * 4)
        return counted or (type(data) is dict and data.get("node") == "END"), path.stat().st_mtime
    except (safejson.UnsafeJSON, OSError):
        return counted, None


def module_progress(folder: Path, key: dict[str, Any] | None = None) -> ModuleProgress | None:
    """One module folder's progress; None when it has no readable content.json. The score is
    filled in only when ``key`` is given (it keeps the course's bank between calls)."""
    try:
        content = safejson.load(folder / "content.json", max_bytes=MAX_CONTENT_BYTES)
        if type(content) is not dict:
            return None
    except safejson.UnsafeJSON:
        return None
    try:
        saved = store.read(folder / store.FILENAME)
    except (store.AnswerFileError, ValueError, RecursionError):
        saved = {}
    items = answered = 0
    for ex_id, ex in content.get("exercises", {}).items():
        ids = [row["id"] for row in ex.get("items", [])]
        items += len(ids)
        answered += sum(1 for i in ids if saved.get(ex_id, {}).get(i) not in (None, "", []))
    answers = folder / store.FILENAME
    stamps = [answers.stat().st_mtime] if answers.exists() else []
    said = activity.finished(folder)
    conversations = offered(folder, content)
    done = 0
    for kind, sid in conversations:
        ok, when = _finished(folder, kind, sid, said)
        done += ok
        stamps += [when] if when else []
    spans = activity.read(folder)
    stamps += [spans[-1][1]] if spans else []
    module = content.get("module") if type(content.get("module")) is dict else {}
    return ModuleProgress(
        folder.name,
        module.get("title", folder.name),
        bool(stamps or spans or said),
        answered,
        items,
        done,
        len(conversations),
        max(stamps) if stamps else None,
        activity.total(spans),
        _score(folder, key) if key is not None and items and answered else None,
        module.get("minutes", 0) if type(module.get("minutes")) is int else 0,
    )


def progress(workspace: Path, scores: bool = True) -> list[ModuleProgress]:
    """Per module folder in the workspace (with its content.json): what has been done. Without
    ``scores`` nothing needs the course's bank, so it answers in milliseconds."""
    key: dict[str, Any] | None = {} if scores else None
    rows = (module_progress(p.parent, key) for p in sorted(workspace.glob("*/content.json")))
    return [r for r in rows if r is not None]


def next_step(rows: list[ModuleProgress]) -> ModuleProgress | None:
    """Where to continue: the module last worked on if it is not done, else the first not done."""
    if not rows:
        return None
    latest = max(rows, key=lambda r: r.last_activity or 0.0)
    if latest.last_activity and not latest.done:
        return latest
    return next((r for r in rows if not r.done), None)


def next_step_text(rows: list[ModuleProgress]) -> str:
    """One sentence: where to continue, or that every module is done."""
    if not rows:
        return ""
    step = next_step(rows)
    if step is None:
        return "You have finished every module. Well done: 'framelab record' writes a record of your work."
    name = f"Module {step.folder[1:].split('_')[0]}, {step.title}"
    verb = "Continue with" if step.started else "Next: start"
    extra = f" ({step.time_left})" if step.time_left else ""
    return f"{verb} {name}{extra}: open {step.folder}/{step.folder}.ipynb."


def _score(folder: Path, key: dict[str, Any]) -> int | None:
    """Graded items right, where self-study checking is possible here; otherwise None."""
    root = course_root(folder.resolve())
    if root is None or not self_check_allowed(root):
        return None
    try:
        if "bank" not in key:
            key["bank"] = cached_bank(root / "modules")
        return check_notebook(folder / f"{folder.name}.ipynb", bank=key["bank"]).score
    except (SelfCheckError, OSError, ValueError):
        return None


def scoring_possible(workspace: Path) -> bool:
    root = course_root(workspace.resolve())
    return root is not None and self_check_allowed(root)


#: The terminal table's columns: (heading, width); the module column wraps, nothing is cut.
_COLUMNS = (
    ("module", 23),
    ("status", 11),
    ("answered", 8),
    ("score", 5),
    ("role-plays", 10),
    ("spent", 7),
    ("left", 7),
)


def _cells(r: ModuleProgress) -> list[str]:
    return [
        r.title,
        r.status,
        f"{r.answered}/{r.items}" if r.items else "-",
        "" if r.score is None else f"{r.score}/{r.items}",
        f"{r.roleplays_done}/{r.roleplays}" if r.roleplays else "-",
        _short(r.seconds) if r.seconds else "",
        _short(max(r.left, 300)) if r.left else "",
    ]


def _short(secs: float) -> str:
    """'58 min', '1h 20m': a time that fits the terminal table's column."""
    minutes = max(1, int(secs // 60))
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60}h {minutes % 60:02d}m"


def render_progress(rows: list[ModuleProgress]) -> str:
    """The progress table for a terminal: fits in 80 columns, long module names wrap."""
    import textwrap

    if not rows:
        return "No modules in this workspace yet: run 'make lab' to create it."

    def line(cells: list[str]) -> str:
        out = [f"{cells[0]:<{_COLUMNS[0][1]}}", f"{cells[1]:<{_COLUMNS[1][1]}}"]
        out += [f"{c:>{w}}" for c, (_, w) in zip(cells[2:], _COLUMNS[2:], strict=True)]
        return " ".join(out).rstrip()

    lines = [line([h for h, _ in _COLUMNS])]
    for r in rows:
        cells = _cells(r)
        title = textwrap.wrap(f"{r.folder[1:].split('_')[0]}. {r.title}", _COLUMNS[0][1]) or [""]
        lines.append(line([title[0], *cells[1:]]))
        lines += [line([more] + [""] * (len(_COLUMNS) - 1)) for more in title[1:]]
    latest = max((r for r in rows if r.last_activity), key=lambda r: r.last_activity or 0, default=None)
    if latest is not None and latest.last_activity:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(latest.last_activity))
        lines.append(f"Last worked on: {latest.title}, {when}.")
    lines += textwrap.wrap(next_step_text(rows), 79)
    lines += textwrap.wrap(
        "Role-plays counts the conversations with the client that each module offers. Spent counts the "
        "stretches in which you saved answers, checked items or replied to the client (pauses over 10 minutes "
        "are not counted); left is the module's estimated time less what you have spent. The score appears "
        "in self-study only.",
        79,
    )
    return "\n".join(lines)
