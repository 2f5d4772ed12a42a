"""The whole nbgrader cycle on every graded module, in a private course and exchange.

Three simulated trainees: one submits the solutions, one the untouched release, one a
scripted set of answers with known mistakes. Release, fetch, submit, collect, autograde,
manual grading, feedback and export all run through nbgrader itself: its own applications with
the command line's arguments and the course's config, in this process (as nbgrader's own tests run
them), which spares a dozen starts of Python and nbgrader per module. The command line itself is
driven by the exchange, release, audit and hub tests.
"""

from __future__ import annotations

import csv
import html
import json
import re
import shutil
from pathlib import Path

import pytest
from conftest import ROOT, copy_course
from conftest import nbgrader_in_process as nbgrader

from framelab.bank.loader import gold
from framelab.core.vocabulary import OPTION_SETS, THREE_MOVES
from framelab.scoring import answers as store

pytestmark = pytest.mark.slow

COURSE = "framelab"


def exchange_args(tmp: Path, who: str) -> list[str]:
    return [f"--Exchange.root={tmp / 'exchange'}", f"--Exchange.cache={tmp / 'cache' / who}"]


def wrong(answer: str | list[str], kind: str) -> str | list[str]:
    """A well-formed answer that is not the right one."""
    if isinstance(answer, list):
        return ["validate"] if answer == list(THREE_MOVES) else list(THREE_MOVES)
    return next(value for value in OPTION_SETS[kind][0] if value != answer)


def partial_answers(bank, module) -> tuple[dict[str, dict[str, str | list[str]]], int]:
    """Right on some items, wrong on some, blank on the rest; returns the picks and the expected score."""
    picks: dict[str, dict[str, str | list[str]]] = {}
    expected = 0
    items = bank.items()
    for ex in module.meta.exercises:
        chosen: dict[str, str | list[str]] = {}
        for n, iid in enumerate(ex.items):
            right = gold(items[iid], ex.kind)
            if n % 3 == 2:
                continue  # left blank
            if n % 4 == 1:
                chosen[iid] = wrong(right, ex.kind)  # a known mistake
            else:
                chosen[iid] = right
                expected += 1
        picks[ex.id] = chosen
    return picks, expected


def scores(course: Path, assignment: str) -> dict[str, dict[str, float]]:
    """Per trainee: the automatic score, the manual score and the maximum, from nbgrader's gradebook."""
    from nbgrader.api import Gradebook

    out: dict[str, dict[str, float]] = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for sub in gb.assignment_submissions(assignment):
            grades = [g for nb in sub.notebooks for g in nb.grades]
            out[sub.student.id] = {
                "auto": sum(g.auto_score or 0 for g in grades),
                "manual": sum(g.manual_score or 0 for g in grades),
                "max": sum(g.max_score for g in grades),
            }
    return out


def assignment_names() -> list[str]:
    return sorted(p.name for p in (ROOT / "source").iterdir() if p.is_dir() and p.name.startswith("m"))


def hand_graded_points(notebook: Path) -> int:
    """Points of the cells an instructor marks by hand: written answers (markdown) and tasks."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    total = 0
    for cell in nb["cells"]:
        meta = cell["metadata"].get("nbgrader", {})
        if meta.get("task") or (meta.get("grade") and cell["cell_type"] == "markdown"):
            total += meta["points"]
    return total


@pytest.mark.parametrize("assignment", assignment_names())
def test_full_cycle(tmp_path, bank, assignment):
    course = copy_course(tmp_path / "course")
    module = bank.module(assignment)
    auto_max = sum(len(ex.items) for ex in module.meta.exercises)
    picks, expected_partial = partial_answers(bank, module)
    assert 0 < expected_partial < auto_max

    nbgrader("generate_assignment", assignment, "--force", cwd=course)
    nbgrader("release_assignment", assignment, "--force", *exchange_args(tmp_path, "instructor"), cwd=course)

    for trainee in ("solution", "blank", "partial"):
        home = tmp_path / "home" / trainee
        home.mkdir(parents=True, exist_ok=True)
        args = [f"--course={COURSE}", *exchange_args(tmp_path, trainee), f"--Exchange.assignment_dir={home}"]
        nbgrader("fetch_assignment", assignment, *args, cwd=home)
        work = home / assignment
        assert (work / f"{assignment}.ipynb").exists() and (work / "content.json").exists()
        if trainee == "solution":
            shutil.copy(ROOT / "source" / assignment / f"{assignment}.ipynb", work / f"{assignment}.ipynb")
        elif trainee == "partial":
            for ex_id, chosen in picks.items():
                store.write(work / store.FILENAME, ex_id, chosen)  # exactly what the menus write
        nbgrader("submit", assignment, f"--student={trainee}", *args, cwd=home)

    nbgrader("collect", assignment, *exchange_args(tmp_path, "instructor"), cwd=course)
    submitted = sorted(p.name for p in (course / "submitted").iterdir())
    assert submitted == ["blank", "partial", "solution"]
    nbgrader("autograde", assignment, "--create", cwd=course)

    got = scores(course, assignment)
    assert got["solution"]["auto"] == auto_max, got
    assert got["blank"]["auto"] == 0, got
    assert got["partial"]["auto"] == expected_partial, got
    manual_max = got["solution"]["max"] - auto_max
    assert manual_max == hand_graded_points(ROOT / "source" / assignment / f"{assignment}.ipynb")

    # the instructor hand-grades the written work (what formgrader does, through nbgrader's API)
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        sub = gb.find_submission_notebook(assignment, assignment, "solution")
        manual_cells = [g for g in sub.grades if g.auto_score is None]
        assert sum(g.max_score for g in manual_cells) == manual_max
        for g in manual_cells:
            g.manual_score = g.max_score
            g.needs_manual_grade = False  # as formgrader does when a score is saved
        # the others' tasks (a task cell always waits for a person, answered or not) get 0, so that
        # feedback is not held back for hand-grading still to do
        for trainee in ("blank", "partial"):
            other = gb.find_submission_notebook(assignment, assignment, trainee)
            for g in other.grades:
                if g.needs_manual_grade:
                    g.manual_score, g.needs_manual_grade = 0.0, False
        gb.db.commit()
    assert scores(course, assignment)["solution"]["manual"] == manual_max

    nbgrader("generate_feedback", assignment, cwd=course)
    items = bank.items()
    for trainee in ("solution", "blank", "partial"):
        raw = (course / "feedback" / trainee / assignment / f"{assignment}.html").read_text()
        page = html.unescape(re.sub(r"<[^>]+>", "", raw))  # the text a trainee reads
        assert "Item 1 of" in page
        # feedback that teaches: no hidden test source, but the answer and the rationale
        for ex in module.meta.exercises:
            assert f"grade_answer({ex.id}" not in page, f"{trainee}: the hidden tests are in the feedback"
            assert f"check_answer({ex.id}" not in page
        for ex in module.meta.exercises:
            for iid in ex.items:
                assert items[iid].rationale[:60] in page, f"{trainee}: no rationale for {iid}"
        if trainee == "solution":
            assert "The answer is" not in page
        else:
            assert "The answer is" in page

    nbgrader("export", f"--to={tmp_path / 'grades.csv'}", cwd=course)
    with (tmp_path / "grades.csv").open() as fh:
        rows = {(r["assignment"], r["student_id"]): r for r in csv.DictReader(fh)}
    assert float(rows[(assignment, "solution")]["score"]) == auto_max + manual_max
    assert float(rows[(assignment, "solution")]["max_score"]) == auto_max + manual_max
    assert float(rows[(assignment, "blank")]["score"]) == 0
    assert float(rows[(assignment, "partial")]["score"]) == expected_partial

    # the submitted answers file is exactly what was graded
    saved = json.loads((course / "submitted" / "partial" / assignment / store.FILENAME).read_text())
    assert saved["exercises"] == picks


def test_variants_m3_each_trainee_graded_on_their_own_items_end_to_end(tmp_path, bank):
    """With ``c.FrameLab.variants = True``, Module 3 built, released, graded with ``framelab grade``, audited,
    given feedback and exported: two trainees with different variants both get full marks; answers claiming
    another variant's items, a forged id in the kernel and a notebook edited to show other items earn only
    what the trainee's own variant (from the gradebook's id) was answered right."""
    from adversarial import VARIANT_TRAINEES, write_variant_corpus
    from conftest import BIN, run

    from framelab.bank import variants as v
    from framelab.grading.audit import audit

    assignment = "m3_three_moves"
    course = copy_course(tmp_path / "course")
    with (course / "nbgrader_config.py").open("a", encoding="utf-8") as fh:
        fh.write("\nc.FrameLab.variants = True\n")
    setting = v.course_setting(course)
    assert setting.on
    run([str(BIN / "framelab"), "build"], cwd=course)
    nbgrader("generate_assignment", assignment, "--force", cwd=course)
    released = (course / "release" / assignment / f"{assignment}.ipynb").read_text(encoding="utf-8")
    assert "grade_answer(" not in released and "HIDDEN TESTS" not in released
    assert (
        '"labels"'
        not in (course / "release" / assignment / "content.json").read_text(encoding="utf-8").split('"practice"')[0]
    )  # the exercises' pool carries no key

    module = bank.module(assignment)
    claimed = write_variant_corpus(course, assignment, bank, setting.salt)
    proc = run([str(BIN / "framelab"), "grade", assignment, "--no-progress", "--jobs", "2"], cwd=course, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = {line.split()[0]: line for line in proc.stdout.splitlines() if line.strip()}
    # the kernel ran each honest notebook as its trainee, so its own tests agreed with the score of record;
    # the forged id fooled the kernel, and the score of record set its claims back
    assert "out-of-kernel check" not in lines["ana"] + lines["ben"], proc.stdout
    assert "out-of-kernel check" in lines["forged_id"], proc.stdout

    full = sum(len(ex.items) for ex in module.meta.exercises)
    got = scores(course, assignment)
    for who in VARIANT_TRAINEES:
        own = v.variant(module, bank, who, setting.salt)
        expected = sum(len(set(claimed[who][ex]) & set(own[ex])) for ex in own)
        assert got[who]["auto"] == expected, (who, got[who], expected)
    assert got["ana"]["auto"] == got["ben"]["auto"] == full
    assert v.variant(module, bank, "ana", setting.salt) != v.variant(module, bank, "ben", setting.salt)
    assert {got[w]["max"] for w in VARIANT_TRAINEES} == {got["ana"]["max"]}  # every variant worth the same
    for who in ("claims_other", "forged_id", "edited_notebook"):
        assert got[who]["auto"] < full / 2, (who, got[who])

    report = audit(course, assignment, bank)
    assert report.ok, [t.mismatches for t in report.trainees]

    # formgrader's view names each trainee's own items, place by place
    for who in ("ana", "ben"):
        graded = json.loads((course / "autograded" / who / assignment / f"{assignment}.ipynb").read_text())
        shown = "".join(
            "".join(o.get("data", {}).get("text/plain", "")) for c in graded["cells"] for o in c.get("outputs", [])
        )
        own = v.variant(module, bank, who, setting.salt)
        for ex, ids in own.items():
            assert all(f"{n}. {iid}: chose" in shown for n, iid in enumerate(ids, 1)), (who, ex)

    # the cohort report reads each trainee's own items, and item statistics gather each item across variants
    from framelab.instructor.report import load_course

    data = load_course(course, [assignment])
    for who in ("ana", "ben"):
        rows = data.responses[data.responses["trainee"] == who]
        own = v.variant(module, bank, who, setting.salt)
        assert sorted(rows["item"]) == sorted(i for ids in own.values() for i in ids)
        assert rows["correct"].sum() == full
    graded_items = {m.item for m in data.marks if m.trainee == "ana" and not m.manual}
    assert graded_items == {
        f"{ex}__{i}" for ex, ids in v.variant(module, bank, "ana", setting.salt).items() for i in ids
    }

    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for who in VARIANT_TRAINEES:
            for g in gb.find_submission_notebook(assignment, assignment, who).grades:
                if g.needs_manual_grade:
                    g.manual_score, g.needs_manual_grade = 0.0, False
        gb.db.commit()
    nbgrader("generate_feedback", assignment, cwd=course)
    items = bank.items()
    for who in ("ana", "ben"):
        raw = (course / "feedback" / who / assignment / f"{assignment}.html").read_text(encoding="utf-8")
        page = html.unescape(re.sub(r"<[^>]+>", "", raw))
        own = v.variant(module, bank, who, setting.salt)["moves"]
        other = set(v.variant(module, bank, "ben" if who == "ana" else "ana", setting.salt)["moves"]) - set(own)
        assert "Item 12 of 12" in page and "The answer is" not in page
        assert "grade_answer(" not in page and "lesson.item(" not in page  # no hidden test, so no pool key
        assert all(items[i].rationale[:60] in page for i in own), who
        assert not any(items[i].rationale[:60] in page for i in other), who

    nbgrader("export", f"--to={tmp_path / 'grades.csv'}", cwd=course)
    with (tmp_path / "grades.csv").open() as fh:
        exported = {r["student_id"]: float(r["score"]) for r in csv.DictReader(fh) if r["assignment"] == assignment}
    assert {who: exported[who] for who in VARIANT_TRAINEES} == {who: got[who]["auto"] for who in VARIANT_TRAINEES}
