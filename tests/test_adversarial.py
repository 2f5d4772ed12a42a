"""The adversarial corpus (``tests/adversarial.py``) against every graded module.

Under ``framelab grade`` (sandboxed) no cheat scores more than a blank submission, every peer's
score is what their own answers earn, nothing leaks (no key in any graded notebook's output or
graded folder, no file a trainee placed, no process left running), the cohort is graded to the end
with a plain reason for each failure, ``submitted/`` is untouched and a second grading gives the
same scores. Under stock ``nbgrader autograde`` several cheats do win marks; the audit flags every
one of them.

Each module's corpus is graded once (one ``framelab grade`` run, then the two short reruns the
checks need), in a copy of the course the session built and released once; every test below reads
its verdict from that result. A module's tests share one xdist group, so that one worker grades it,
and the seven modules spread over the workers.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from adversarial import (
    BAD_FILES,
    CHEATS,
    ESCAPES,
    HOSTILE_FILES,
    STALLS,
    TREE_BOUNDS,
    auto_scores,
    survivors,
    total_scores,
    write_corpus,
)
from conftest import BIN, ROOT, copy_shared, nbgrader, run
from test_grading import tree_hash

from framelab.bank.loader import gold
from framelab.core.safehtml import clean_notebook
from framelab.core.vocabulary import NONE_OF_THE_MOVES, OPTION_SETS
from framelab.grading import sandbox
from framelab.grading.audit import audit, render

pytestmark = pytest.mark.slow

#: Whether a memory control group bounds a notebook's whole tree here (else only each process is bounded).
TREE_MEMORY = any("memory" in str(parent) for parent, _ in sandbox._cgroup_parents())

GRADED = sorted(p.name for p in (ROOT / "source").iterdir() if p.is_dir() and p.name.startswith("m"))
BY_NAME = {c.name: c for c in CHEATS}

#: Each cell keeps the course's own limit (``Execute.timeout``); a whole notebook gets 60 s here, not 300.
#: The cheats that stall their kernel mostly wait out those limits, so more workers than cores let the
#: rest of the corpus be graded while they wait.
GRADE = ["grade", "--no-progress", "--notebook-timeout", "60", "--jobs", "6"]
RECHECK = ["solution", "blank", "patch_grade_answer", "rewrite_later_cells", "label_stuffing", "rigged_str"]


def in_group(assignment: str) -> pytest.MarkDecorator:
    """One xdist group per module: the worker that grades a module's corpus runs all its tests."""
    return pytest.mark.xdist_group(f"adversarial-{assignment}")


MODULES = [pytest.param(a, marks=in_group(a), id=a) for a in GRADED]
CASES = [pytest.param(a, c.name, marks=in_group(a), id=f"{a}-{c.name}") for a in GRADED for c in CHEATS]


@dataclass(frozen=True)
class Graded:
    """What grading one module's corpus showed, read right after each run (plain data)."""

    assignment: str
    out: str  # the first run's summary
    returncode: int
    lines: dict[str, str]  # trainee -> their summary line
    scores: dict[str, float | None]  # automatic scores of record
    totals: dict[str, float | None]  # total scores of record (manual included)
    solution_max: float
    submitted_kept: bool  # submitted/ byte for byte as before the first run
    survivors: list[str]  # processes of the corpus still alive a few seconds later
    leaks: list[str]
    retry_out: str  # the failed pipeline's trainee graded again (no --force)
    recheck_returncode: int
    recheck_out: str
    recheck_scores: dict[str, float | None]
    submitted_kept_after_all: bool


def framelab_grade(course: Path, assignment: str, *more: str):
    return run([str(BIN / "framelab"), GRADE[0], assignment, *GRADE[1:], *more], cwd=course, check=False)


def grade_corpus(course: Path, assignment: str) -> Graded:
    """The whole corpus graded in one run; then the failed pipeline's trainee again, then a regrade."""
    before = tree_hash(course / "submitted")
    proc = framelab_grade(course, assignment)
    ended = time.monotonic()
    kept = tree_hash(course / "submitted") == before
    scores = auto_scores(course, assignment)
    totals = total_scores(course, assignment)
    leaks = leaks_in(course, assignment)
    best = solution_max(course, assignment)
    retry = framelab_grade(course, assignment, "--student", "cheat_and_bomb")
    # a few seconds after the run (the retry took some of them): what reaches out of the kernel would still run
    time.sleep(max(0.0, ended + 3 - time.monotonic()))
    alive = survivors(course)
    recheck = framelab_grade(course, assignment, "--force", *(a for who in RECHECK for a in ("--student", who)))
    return Graded(
        assignment=assignment,
        out=proc.stdout,
        returncode=proc.returncode,
        lines={line.split()[0]: line for line in proc.stdout.splitlines() if line.strip()},
        scores=scores,
        totals=totals,
        solution_max=best,
        submitted_kept=kept,
        survivors=alive,
        leaks=leaks,
        retry_out=retry.stdout,
        recheck_returncode=recheck.returncode,
        recheck_out=recheck.stdout + recheck.stderr,
        recheck_scores=auto_scores(course, assignment),
        submitted_kept_after_all=tree_hash(course / "submitted") == before,
    )


@pytest.fixture(scope="session")
def graded(released_course, bank, tmp_path_factory):
    """``graded(assignment)``: that module's corpus, written into a copy of the released course and
    graded, once per worker (each module's tests are in one xdist group, so once in all)."""
    done: dict[str, Graded] = {}
    broken: dict[str, str] = {}

    def get(assignment: str) -> Graded:
        if assignment in broken:  # graded once, whatever happened: the first test shows the whole error
            pytest.fail(f"grading {assignment}'s corpus failed (see its first test): {broken[assignment]}")
        if assignment not in done:
            try:
                course = copy_shared(released_course, tmp_path_factory.mktemp("adversarial") / assignment)
                write_corpus(course, assignment, bank)
                done[assignment] = grade_corpus(course, assignment)
            except Exception as exc:
                broken[assignment] = f"{type(exc).__name__}: {str(exc)[:300]}"
                raise
        return done[assignment]

    return get


def stuffing_ceiling(bank, assignment: str, asked: dict[str, list[str]] | None = None) -> int:
    """Items whose right answer is every option ticked: there, 'tick everything' is simply right. Counted
    over the items each exercise asks (``asked``: the cheat's own variant; by default the fixed forms)."""
    items = bank.items()
    ceiling = 0
    for ex in bank.module(assignment).meta.exercises:
        every = sorted(v for v in OPTION_SETS[ex.kind][0] if v != NONE_OF_THE_MOVES)
        if OPTION_SETS[ex.kind][1]:
            ceiling += sum(sorted(gold(items[i], ex.kind)) == every for i in (asked or {}).get(ex.id, ex.items))
    return ceiling


# The verdicts below are plain functions of one module's :class:`Graded`, so that a course graded with
# variants on (``test_pipeline.py``) asks exactly what this harness asks of the fixed forms.


def assert_graded_in_one_run(g: Graded, everyone: set[str]) -> None:
    assignment = g.assignment
    assert not everyone - set(g.lines), f"{assignment}: no line for {sorted(everyone - set(g.lines))}:\n{g.out}"
    counts = re.search(rf"{assignment}: (\d+) graded, (\d+) failed, 0 already graded", g.out)
    assert counts and int(counts[1]) + int(counts[2]) == len(everyone), g.out


def assert_honest_graded_exactly(g: Graded) -> None:
    assignment = g.assignment
    # the honest submissions are graded exactly, and the out-of-kernel check leaves them alone
    for honest in ("blank", "wrong", "solution"):
        line = g.lines.get(honest, "")
        assert " graded " in line and "out-of-kernel" not in line, f"{assignment}: {honest}\n{g.out}"
    assert g.scores["blank"] == 0 and g.scores["wrong"] == 0 and (g.scores["solution"] or 0) > 0, g.scores
    assert g.totals["solution"] == g.solution_max == g.scores["solution"], (g.totals, g.scores)


def assert_cheat_held(g: Graded, cheat: str, ceiling: int) -> None:
    """``cheat`` scored no more than a blank (``label_stuffing``: no more than ``ceiling``), or was refused
    with a plain reason; what reaches out of the kernel raised no total."""
    assignment = g.assignment
    what = BY_NAME[cheat].what
    # the cohort was graded to the end: every trainee has a line
    assert cheat in g.lines, f"{assignment}: {cheat} ({what}) has no line in the summary:\n{g.out}"
    line = g.lines[cheat]
    assert g.scores.get("blank") is not None, f"{assignment}: the blank submission was not graded:\n{g.out}"
    # graded at no more than blank, or reported failed with a plain reason. The one exception is
    # honest: ticking every move earns exactly the items whose key *is* every move
    got = g.scores.get(cheat)
    allowed = ceiling if cheat == "label_stuffing" else g.scores["blank"]
    assert (got or 0) <= allowed, f"{assignment}: {cheat} ({what}) scored {got}:\n{g.out}"
    if BY_NAME[cheat].fails or " failed " in line:
        assert " failed " in line, f"{assignment}: {cheat} ({what}) was graded, not refused: {line}"
        reason = line.split(" failed ", 1)[1].strip()
        assert re.search(r"[a-z]{4,} [a-z]{2,} [a-z]{2,}", reason), f"{assignment}: {cheat}: no plain reason: {line}"
    # what reaches out of the kernel, or is refused before any code runs, raises no total (manual scores too)
    if cheat in ESCAPES | BAD_FILES:
        assert (g.totals.get(cheat) or 0) <= g.scores["blank"], f"{assignment}: {cheat}: total {g.totals.get(cheat)}"
    if cheat in BAD_FILES | HOSTILE_FILES - {"odd_name"}:
        refused = r"symbolic link|nested more than|not a regular file|files and folders"
        assert re.search(refused, line), f"{assignment}: {cheat}: {line}"
    if cheat in HOSTILE_FILES | TREE_BOUNDS:
        assert (g.totals.get(cheat) or 0) <= g.scores["blank"], f"{assignment}: {cheat}: total {g.totals.get(cheat)}"
    if cheat == "many_outputs":
        assert " failed " in line and "MB in size" in line, f"{assignment}: {cheat}: {line}"
    if cheat == "memory_hog" and TREE_MEMORY:  # the whole tree stopped, and its line says why
        assert " failed " in line and "memory bound" in line, f"{assignment}: {cheat}: {line}"


def assert_no_trace(g: Graded) -> None:
    assignment = g.assignment
    assert g.returncode == 1, g.out  # some submissions failed, and the command says so
    assert g.submitted_kept, f"{assignment}: submitted/ was modified"
    # a second later, no process of theirs is left; no graded folder holds what the course did not make
    assert not g.survivors, f"{assignment}: a process started by a graded notebook outlived it: {g.survivors}"
    assert not g.leaks, f"{assignment}: " + "; ".join(g.leaks)


def assert_failed_pipeline_retried(g: Graded) -> None:
    # a cheat whose pipeline failed was recorded nowhere, so the next run (no --force) tries it again
    assert "cheat_and_bomb" not in g.scores, g.scores
    assert "0 graded, 1 failed, 0 already graded" in g.retry_out, g.retry_out


def assert_regraded_the_same(g: Graded) -> None:
    assert g.recheck_returncode == 0, g.recheck_out
    assert {w: g.recheck_scores[w] for w in RECHECK} == {w: g.scores[w] for w in RECHECK}
    assert g.submitted_kept_after_all, f"{g.assignment}: submitted/ was modified by the second grading"


@pytest.mark.parametrize("assignment", MODULES)
def test_the_whole_corpus_is_graded_in_one_run(graded, assignment):
    """First of each module's tests, so that the time its grading takes shows here."""
    assert_graded_in_one_run(graded(assignment), {"blank", "wrong", "solution", *BY_NAME})


@pytest.mark.parametrize("assignment", MODULES)
def test_honest_submissions_are_graded_exactly(graded, assignment):
    assert_honest_graded_exactly(graded(assignment))


@pytest.mark.parametrize("assignment,cheat", CASES)
def test_no_cheat_beats_a_blank_submission(graded, bank, assignment, cheat):
    assert_cheat_held(graded(assignment), cheat, stuffing_ceiling(bank, assignment))


@pytest.mark.parametrize("assignment", MODULES)
def test_grading_the_corpus_leaves_no_trace(graded, assignment):
    assert_no_trace(graded(assignment))


@pytest.mark.parametrize("assignment", MODULES)
def test_a_failed_pipeline_is_recorded_nowhere_and_tried_again(graded, assignment):
    assert_failed_pipeline_retried(graded(assignment))


@pytest.mark.parametrize("assignment", MODULES)
def test_grading_again_gives_the_same_scores(graded, assignment):
    assert_regraded_the_same(graded(assignment))


def solution_max(course: Path, assignment: str) -> float:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "framelab") as gb:
        sub = gb.find_submission(assignment, "solution")
        # the autograded points (test cells); a reflection is hand-graded, and blank in these submissions
        return float(sum(g.max_score for nb in sub.notebooks for g in nb.grades if g.cell_type == "code"))


def leaks_in(course: Path, assignment: str) -> list[str]:
    """What a graded folder holds that the course did not make: a file, the key, or /etc/passwd."""
    found = []
    allowed = {f"{assignment}.ipynb", "answers.json", "timestamp.txt", "submission_secret.txt"} | {
        p.name for p in (course / "release" / assignment).iterdir()
    }
    for folder in (course / "autograded").glob(f"*/{assignment}"):
        names = {p.name for p in folder.iterdir()}
        if names - allowed:
            found.append(f"{folder.parent.name}: {sorted(names - allowed)}")
        nb = json.loads((folder / f"{assignment}.ipynb").read_text())
        # a failed hidden test's traceback quotes its own cell (as under stock nbgrader); feedback replaces
        # those cells with a verdict, so what counts is every other cell, where trainee code prints
        tests = [c for c in nb["cells"] if (c["metadata"].get("nbgrader") or {}).get("grade")]
        shown = json.dumps([c.get("outputs", []) for c in nb["cells"] if c not in tests])
        for secret in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS", "root:x:0:0", "rationale:"):
            if secret in shown:
                found.append(f"{folder.parent.name}: '{secret}' in the graded outputs")
        # what a trainee wrote or printed is stored already cleaned: cleaning it again changes nothing
        if unclean := clean_notebook(nb):
            found.append(f"{folder.parent.name}: markup that could run in autograded/: {unclean}")
    return found


def test_stock_nbgrader_is_fooled_and_the_audit_flags_every_case(released_course, bank, tmp_path):
    assignment = GRADED[0]
    course = copy_shared(released_course, tmp_path / "stock")
    # stalls take minutes each under stock; what reaches out of the kernel would lock or rewrite this very
    # gradebook and the peers' files (stock nbgrader does not stop them: that is the sandbox's job)
    skip = STALLS | ESCAPES | HOSTILE_FILES | TREE_BOUNDS
    write_corpus(course, assignment, bank, [c for c in CHEATS if c.name not in skip])
    nbgrader("autograde", assignment, cwd=course, check=False)
    scores = auto_scores(course, assignment)
    winners = sorted(c.name for c in CHEATS if (scores.get(c.name) or 0) > scores["blank"])
    # the corpus is worth having only if stock grading really falls for some of it
    assert {"patch_grade_answer", "rewrite_later_cells", "builtin_sorted"} <= set(winners), scores

    report = audit(course, assignment, bank)
    flagged = {t.student for t in report.trainees if t.mismatches}
    assert set(winners) <= flagged, render(report)
    assert "solution" not in flagged and "blank" not in flagged
