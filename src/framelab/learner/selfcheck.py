"""Self-study: check your own graded answers, and see your progress, from your workspace.

``framelab check NOTEBOOK`` scores the graded exercises of one notebook the way ``framelab grade``
makes the score of record: from the saved choices (and any literal answers in the answer cells),
without running the notebook, against the course's answer key in ``modules/``. It shows each item
with the answer and its rationale. A self-study learner has the key in their clone; a course
deployment switches the check off (``c.FrameLab.self_check = False`` in ``nbgrader_config.py``, or
``FRAMELAB_SELF_CHECK=0``), so that it cannot be used as an oracle.

``framelab progress WORKSPACE`` reads the workspace: per module, whether it is started or done,
how many graded items are answered, the role-plays finished, the time spent (``activity.json``,
see :mod:`framelab.learner.activity`) and when it was last worked on. In self-study, where the course's
answer key is beside the workspace and the check is allowed, it also shows the score.
"""

from __future__ import annotations

import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from framelab.core import safejson
from framelab.core.vocabulary import readable
from framelab.learner import activity
from framelab.scoring import answers as store

#: Far larger than any real module notebook (about 100 KB) or content file.
MAX_NOTEBOOK_BYTES = 20_000_000
MAX_CONTENT_BYTES = 5_000_000


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


# --------------------------------------------------------------------------- the course's bank, kept

_BANKS: dict[Path, tuple[tuple[tuple[str, int, int], ...], Any]] = {}
_BANK_LOCK = threading.Lock()


def _stamp(modules: Path) -> tuple[tuple[str, int, int], ...]:
    """What the bank was read from: every file's name, size and modification time (cheap to take)."""
    out = []
    for path in sorted(modules.rglob("*")):
        if path.is_file():
            st = path.stat()
            out.append((str(path.relative_to(modules)), st.st_size, st.st_mtime_ns))
    return tuple(out)


def course_bank(modules: Path) -> Any:
    """The bank in ``modules/``, loaded once per process and again only when a file there changes."""
    from framelab.bank.loader import load_bank

    modules = modules.resolve()
    stamp = _stamp(modules)
    with _BANK_LOCK:
        hit = _BANKS.get(modules)
        if hit is None or hit[0] != stamp:
            _BANKS[modules] = hit = (stamp, load_bank(modules))
        return hit[1]


def warm(folder: Path) -> threading.Thread | None:
    """Load the course's bank in the background, so that the first check or refresh is quick.
    Nothing happens where checking is not possible (no ``modules/``, or switched off)."""
    root = course_root(folder.resolve())
    if root is None or not self_check_allowed(root):
        return None
    thread = threading.Thread(target=course_bank, args=(root / "modules",), name="framelab-bank", daemon=True)
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
                lines.append(f"  right    {i.item}: {_show(i.chosen, i.kind, i.rubric)}")
                continue
            if i.chosen in (None, "", []):
                lines.append(
                    f"  not yet  {i.item}: not answered yet; the answer is {_show(i.answer, i.kind, i.rubric)}."
                )
            else:
                chosen, answer = _show(i.chosen, i.kind, i.rubric), _show(i.answer, i.kind, i.rubric)
                lines.append(f"  not yet  {i.item}: you chose {chosen}; the answer is {answer}.")
            lines.append(f"           Why: {readable(i.rationale)}")
        return "\n".join(lines)


def _show(value: Any, kind: str, rubric: str = "three_moves") -> str:
    from framelab.core.vocabulary import OPTION_SETS

    names = OPTION_SETS[kind][0]
    if rubric == "repair":
        from framelab.detector.repair import menu_options

        names = menu_options(names)
    values = value if isinstance(value, list) else [value]
    return "; ".join(names.get(v, str(v)).split(":")[0] if isinstance(v, str) else str(v) for v in values)


def check_notebook(notebook: Path, modules: Path | None = None, bank: Any = None) -> CheckReport:
    """Score one workspace notebook's graded exercises without running it. ``bank``, when given,
    is the course's bank already loaded from ``modules/`` (loading it takes seconds)."""
    from framelab.bank.loader import gold
    from framelab.grading.audit import score_picks, submission_picks

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
    bank = bank if bank is not None else course_bank(modules or root / "modules")
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
                    ex.rubric,
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

    @property
    def done(self) -> bool:
        return self.items > 0 and self.answered == self.items

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
    if not path.exists():
        return False, None
    try:
        data = safejson.load(path, max_bytes=store.MAX_BYTES * 4)
        return type(data) is dict and data.get("node") == "END", path.stat().st_mtime
    except (safejson.UnsafeJSON, OSError):
        return False, None


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
    module = content.get("module", {})
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
    )


def progress(workspace: Path, scores: bool = True) -> list[ModuleProgress]:
    """Per module folder in the workspace (with its content.json): what has been done. Without
    ``scores`` nothing needs the course's bank, so it answers in milliseconds."""
    key: dict[str, Any] | None = {} if scores else None
    rows = (module_progress(p.parent, key) for p in sorted(workspace.glob("*/content.json")))
    return [r for r in rows if r is not None]


def _score(folder: Path, key: dict[str, Any]) -> int | None:
    """Graded items right, where self-study checking is possible here; otherwise None."""
    root = course_root(folder.resolve())
    if root is None or not self_check_allowed(root):
        return None
    try:
        if "bank" not in key:
            key["bank"] = course_bank(root / "modules")
        return check_notebook(folder / f"{folder.name}.ipynb", bank=key["bank"]).score
    except (SelfCheckError, OSError, ValueError):
        return None


def scoring_possible(workspace: Path) -> bool:
    root = course_root(workspace.resolve())
    return root is not None and self_check_allowed(root)


#: The terminal table's columns: (heading, width); the module column wraps, nothing is cut.
_COLUMNS = (("module", 27), ("status", 11), ("answered", 8), ("score", 7), ("role-plays", 10), ("time spent", 11))


def _cells(r: ModuleProgress) -> list[str]:
    return [
        r.title,
        r.status,
        f"{r.answered}/{r.items}" if r.items else "-",
        "" if r.score is None else f"{r.score}/{r.items}",
        f"{r.roleplays_done}/{r.roleplays}" if r.roleplays else "-",
        activity.describe(r.seconds) if r.seconds else "",
    ]


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
        lines += [line([more] + [""] * 5) for more in title[1:]]
    latest = max((r for r in rows if r.last_activity), key=lambda r: r.last_activity or 0, default=None)
    if latest is not None and latest.last_activity:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(latest.last_activity))
        lines.append(f"Last worked on: {latest.title}, {when}.")
    lines += textwrap.wrap(
        "Role-plays counts the conversations with the client that each module offers. Time spent counts the "
        "stretches in which you saved answers, checked items or replied to the client (pauses over 10 minutes "
        "are not counted). The score appears in self-study only.",
        79,
    )
    return "\n".join(lines)
