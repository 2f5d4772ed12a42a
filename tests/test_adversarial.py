"""The adversarial corpus (``tests/adversarial.py``) against every graded module.

Under ``framelab grade`` (sandboxed) no cheat scores more than a blank submission, every peer's
score is what their own answers earn, nothing leaks (no key in any graded notebook's output or
graded folder, no file a trainee placed, no process left running), the cohort is graded to the end
with a plain reason for each failure, ``submitted/`` is untouched and a second grading gives the
same scores. Under stock ``nbgrader autograde`` several cheats do win marks; the audit flags every
one of them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path

import pytest
from adversarial import BAD_FILES, CHEATS, ESCAPES, STALLS, auto_scores, survivors, total_scores, write_corpus
from conftest import BIN, ROOT, nbgrader, run
from test_grading import tree_hash

from framelab.audit import audit, render
from framelab.bank import gold
from framelab.cohort import prepare_course
from framelab.vocabulary import NONE_OF_THE_MOVES, OPTION_SETS

pytestmark = pytest.mark.slow

GRADED = sorted(p.name for p in (ROOT / "source").iterdir() if p.is_dir() and p.name.startswith("m"))


@pytest.fixture(scope="module")
def corpus_courses(tmp_path_factory, bank) -> dict[str, Path]:
    """One built and released course; per assignment, a copy holding the whole corpus."""
    os.environ["PATH"] = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"  # nbgrader runs `alembic`
    base = tmp_path_factory.mktemp("adversarial") / "base"
    prepared = prepare_course(base, root=ROOT, trainees=1, say=lambda *_: None)
    shutil.rmtree(base / "submitted")
    courses = {}
    for assignment in prepared.assignments:
        course = base.parent / assignment
        shutil.copytree(base, course)
        write_corpus(course, assignment, prepared.bank)
        courses[assignment] = course
    return courses


GRADE = ["grade", "--no-progress", "--notebook-timeout", "60"]
RECHECK = ["solution", "blank", "patch_grade_answer", "rewrite_later_cells", "label_stuffing", "rigged_str"]


def stuffing_ceiling(bank, assignment: str) -> int:
    """Items whose right answer is every option ticked: there, 'tick everything' is simply right."""
    items = bank.items()
    ceiling = 0
    for ex in bank.module(assignment).meta.exercises:
        every = sorted(v for v in OPTION_SETS[ex.kind][0] if v != NONE_OF_THE_MOVES)
        if OPTION_SETS[ex.kind][1]:
            ceiling += sum(sorted(gold(items[i], ex.kind)) == every for i in ex.items)
    return ceiling


@pytest.mark.xdist_group("adversarial")
@pytest.mark.parametrize("assignment", GRADED)
def test_no_cheat_beats_a_blank_submission(corpus_courses, bank, assignment):
    course = corpus_courses[assignment]
    before = tree_hash(course / "submitted")
    proc = run([str(BIN / "framelab"), GRADE[0], assignment, *GRADE[1:]], cwd=course, check=False)
    out = proc.stdout
    assert tree_hash(course / "submitted") == before, "submitted/ was modified"
    lines = {line.split()[0]: line for line in out.splitlines() if line.strip()}
    scores = auto_scores(course, assignment)

    # the honest submissions are graded exactly, and the out-of-kernel check leaves them alone
    for honest in ("blank", "wrong", "solution"):
        assert " graded " in lines[honest] and "out-of-kernel" not in lines[honest], out
    assert scores["blank"] == 0 and scores["wrong"] == 0 and scores["solution"] > 0
    # every cheat: graded at no more than blank, or reported failed with a plain reason. The one
    # exception is honest: ticking every move earns exactly the items whose key *is* every move
    for cheat in CHEATS:
        line = lines[cheat.name]  # the cohort was graded to the end: every trainee has a line
        got = scores.get(cheat.name)
        allowed = stuffing_ceiling(bank, assignment) if cheat.name == "label_stuffing" else scores["blank"]
        assert (got or 0) <= allowed, f"{cheat.name} ({cheat.what}) scored {got}:\n{out}"
        if cheat.fails or " failed " in line:
            reason = line.split(" failed ", 1)[1].strip()
            assert " failed " in line and re.search(r"[a-z]{4,} [a-z]{2,} [a-z]{2,}", reason), (
                f"{cheat.name}: no plain reason:\n{out}"
            )
    assert proc.returncode == 1  # some submissions failed, and the command says so

    # what reaches out of the kernel holds nothing: a second later, no process of theirs is left,
    # no total (manual scores included) rose, the peers whose files they went for score in full
    time.sleep(3)
    assert not survivors(), "a process started by a graded notebook outlived it"
    totals = total_scores(course, assignment)
    for cheat in ESCAPES | BAD_FILES:
        assert (totals.get(cheat) or 0) <= scores["blank"], f"{cheat}: total {totals.get(cheat)}\n{out}"
    assert totals["solution"] == solution_max(course, assignment) == scores["solution"]
    for cheat in BAD_FILES:
        assert re.search(r"symbolic link|nested more than", lines[cheat]), f"{cheat}: {lines[cheat]}"
    assert_nothing_leaks(course, assignment)
    # a cheat whose pipeline failed was recorded nowhere, so the next run (no --force) tries it again
    assert "cheat_and_bomb" not in scores
    again = run(
        [str(BIN / "framelab"), GRADE[0], assignment, *GRADE[1:], "--student", "cheat_and_bomb"],
        cwd=course,
        check=False,
    )
    assert "0 graded, 1 failed, 0 already graded" in again.stdout, again.stdout

    # grading again gives the same scores
    again = [a for who in RECHECK for a in ("--student", who)]
    run([str(BIN / "framelab"), GRADE[0], assignment, *GRADE[1:], "--force", *again], cwd=course)
    assert {w: auto_scores(course, assignment)[w] for w in RECHECK} == {w: scores[w] for w in RECHECK}
    assert tree_hash(course / "submitted") == before


def solution_max(course: Path, assignment: str) -> float:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "framelab") as gb:
        sub = gb.find_submission(assignment, "solution")
        # the autograded points (test cells); a reflection is hand-graded, and blank in these submissions
        return float(sum(g.max_score for nb in sub.notebooks for g in nb.grades if g.cell_type == "code"))


def assert_nothing_leaks(course: Path, assignment: str) -> None:
    """No graded folder holds a file the course did not make, the key, or /etc/passwd."""
    allowed = {f"{assignment}.ipynb", "answers.json", "timestamp.txt"} | {
        p.name for p in (course / "release" / assignment).iterdir()
    }
    for folder in (course / "autograded").glob(f"*/{assignment}"):
        names = {p.name for p in folder.iterdir()}
        assert names <= allowed, f"{folder}: {sorted(names - allowed)}"
        nb = json.loads((folder / f"{assignment}.ipynb").read_text())
        # a failed hidden test's traceback quotes its own cell (as under stock nbgrader); feedback replaces
        # those cells with a verdict, so what counts is every other cell, where trainee code prints
        tests = [c for c in nb["cells"] if (c["metadata"].get("nbgrader") or {}).get("grade")]
        shown = json.dumps([c.get("outputs", []) for c in nb["cells"] if c not in tests])
        for secret in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS", "root:x:0:0", "rationale:"):
            assert secret not in shown, f"{folder.parent.name}: '{secret}' in the graded outputs"


@pytest.mark.xdist_group("adversarial")
def test_stock_nbgrader_is_fooled_and_the_audit_flags_every_case(corpus_courses, bank, tmp_path):
    assignment = GRADED[0]
    course = shutil.copytree(corpus_courses[assignment], tmp_path / "stock", symlinks=True)  # links stay links
    shutil.rmtree(course / "autograded", ignore_errors=True)
    (course / "gradebook.db").unlink(missing_ok=True)
    # stalls take minutes each under stock; what reaches out of the kernel would lock or rewrite this very
    # gradebook and the peers' files (stock nbgrader does not stop them: that is the sandbox's job)
    for name in STALLS | ESCAPES:
        shutil.rmtree(course / "submitted" / name)
    nbgrader("generate_assignment", assignment, "--force", cwd=course)
    nbgrader("autograde", assignment, cwd=course, check=False)
    scores = auto_scores(course, assignment)
    winners = sorted(c.name for c in CHEATS if (scores.get(c.name) or 0) > scores["blank"])
    # the corpus is worth having only if stock grading really falls for some of it
    assert {"patch_grade_answer", "rewrite_later_cells", "builtin_sorted"} <= set(winners), scores

    report = audit(course, assignment, bank)
    flagged = {t.student for t in report.trainees if t.mismatches}
    assert set(winners) <= flagged, render(report)
    assert "solution" not in flagged and "blank" not in flagged
