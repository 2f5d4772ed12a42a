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
import math
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


def pooled_modules() -> list[str]:
    """Every graded module with an exercise that asks variants when they are on, read from the bank (so a
    module that gains a pool is covered, and no pool's size is written here)."""
    from framelab.bank.loader import load_bank
    from framelab.bank.variants import has_variants, source_of

    bank = load_bank(ROOT / "modules")
    graded = set(assignment_names())
    return sorted(
        m.folder
        for m in bank.modules.values()
        if m.folder in graded and any(has_variants(source_of(ex, m)) for ex in m.meta.exercises)
    )


def variant_course(tmp_path: Path, assignment: str):
    """A private course with ``c.FrameLab.variants = True``, built and the assignment generated; checks that
    the release holds no hidden test and the exercises' pools no key. Returns the course and its setting."""
    from conftest import BIN, run

    from framelab.bank import variants as v

    course = copy_course(tmp_path / "course")
    with (course / "nbgrader_config.py").open("a", encoding="utf-8") as fh:
        fh.write("\nc.FrameLab.variants = True\n")
    setting = v.course_setting(course)
    assert setting.on
    run([str(BIN / "framelab"), "build"], cwd=course)
    nbgrader("generate_assignment", assignment, "--force", cwd=course)
    released = (course / "release" / assignment / f"{assignment}.ipynb").read_text(encoding="utf-8")
    assert "grade_answer(" not in released and "HIDDEN TESTS" not in released
    content = json.loads((course / "release" / assignment / "content.json").read_text(encoding="utf-8"))
    assert '"labels"' not in json.dumps(content["exercises"])  # the exercises' pools carry no key
    assert any(spec.get("variant") for spec in content["exercises"].values()), "no exercise draws a variant"
    return course, setting


def cell_scores(course: Path, assignment: str, who: str) -> dict[str, float | None]:
    """grade id -> automatic score of one trainee's test cells, from nbgrader's gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        sub = gb.find_submission_notebook(assignment, assignment, who)
        return {g.name: g.auto_score for g in sub.grades if g.cell_type == "code"}


def assert_adversarial_corpus_held(g, bank, module, salt: str) -> None:
    """The adversarial corpus graded beside the variant trainees, asked exactly what ``test_adversarial.py``
    asks of the fixed forms; tick-everything's ceiling is counted over its own variant."""
    from adversarial import VARIANT_TRAINEES
    from test_adversarial import (
        BY_NAME,
        assert_cheat_held,
        assert_failed_pipeline_retried,
        assert_graded_in_one_run,
        assert_honest_graded_exactly,
        assert_no_trace,
        assert_regraded_the_same,
        stuffing_ceiling,
    )

    from framelab.bank.variants import variant

    assert_graded_in_one_run(g, {"blank", "wrong", "solution", *BY_NAME, *VARIANT_TRAINEES})
    assert_honest_graded_exactly(g)
    for cheat in BY_NAME:
        assert_cheat_held(g, cheat, stuffing_ceiling(bank, module.folder, variant(module, bank, cheat, salt)))
    assert_no_trace(g)
    assert_failed_pipeline_retried(g)
    assert_regraded_the_same(g)


def assert_graded_on_own_items(course: Path, bank, module, setting, claimed, g) -> None:
    """Each variant trainee's every test cell scored 1 exactly when the item at that place of *their own*
    variant (from the gradebook's id) is one their answers named (all of them answered right)."""
    from adversarial import VARIANT_TRAINEES

    from framelab.bank import variants as v

    assignment = module.folder
    full = sum(len(ex.items) for ex in module.meta.exercises)
    for who in VARIANT_TRAINEES:
        where = v.place_index(module, bank, who, setting)
        expected = {gid: float(iid in claimed[who].get(ex.id, {})) for gid, (ex, _, iid) in where.items()}
        assert cell_scores(course, assignment, who) == expected, who
        assert g.scores[who] == sum(expected.values()), (who, g.scores[who])
        if who in ("ana", "ben"):
            assert g.scores[who] == full, (who, g.scores[who], full)
        elif v.variant(module, bank, who, setting.salt) != {ex: list(c) for ex, c in claimed[who].items()}:
            assert g.scores[who] < full, (who, g.scores[who])  # claims beyond their variant were set back
    assert v.variant(module, bank, "ana", setting.salt) != v.variant(module, bank, "ben", setting.salt)
    assert len({g.solution_max, *(cell_total(course, assignment, w) for w in VARIANT_TRAINEES)}) == 1
    # the kernel ran each honest notebook as its trainee, so its own tests agreed with the score of record;
    # the forged id fooled the kernel, and the score of record set its claims back
    assert "out-of-kernel check" not in g.lines["ana"] + g.lines["ben"], g.out
    assert "out-of-kernel check" in g.lines["forged_id"], g.out


def cell_total(course: Path, assignment: str, who: str) -> float:
    """The points a trainee's test cells are worth (every variant is worth the same)."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        sub = gb.find_submission_notebook(assignment, assignment, who)
        return float(sum(g.max_score for g in sub.grades if g.cell_type == "code"))


def assert_views_follow_variants(course: Path, bank, module, setting) -> None:
    """Formgrader's view names each trainee's own items place by place, and the cohort report reads them
    (item statistics gather each item across variants)."""
    from framelab.bank import variants as v
    from framelab.instructor.itemanalysis import OVER_PLACES, reliability
    from framelab.instructor.report import load_course

    assignment = module.folder
    full = sum(len(ex.items) for ex in module.meta.exercises)
    data = load_course(course, [assignment])
    for who in ("ana", "ben", "solution"):
        graded = json.loads((course / "autograded" / who / assignment / f"{assignment}.ipynb").read_text())
        shown = "".join(
            "".join(o.get("data", {}).get("text/plain", "")) for c in graded["cells"] for o in c.get("outputs", [])
        )
        own = v.variant(module, bank, who, setting.salt)
        for ex, ids in own.items():
            assert all(f"{n}. {iid}: chose" in shown for n, iid in enumerate(ids, 1)), (who, ex)
        rows = data.responses[data.responses["trainee"] == who]
        assert sorted(rows["item"]) == sorted(i for ids in own.values() for i in ids), who
        assert rows["correct"].sum() == full, who
        graded_items = {m.item for m in data.marks if m.trainee == who and not m.manual}
        assert graded_items == {f"{ex}__{i}" for ex, ids in own.items() for i in ids}, who
    # no trainee has every item, so the report's reliability is over places, and says so
    (rel,) = reliability(data.marks)
    assert OVER_PLACES in rel.words and not math.isnan(rel.value), rel
    assert rel.k >= full and rel.n > len(("ana", "ben", "solution")), rel


def assert_feedback_follows_variants(course: Path, bank, module, setting, who: str, others: list[str]) -> None:
    """One trainee's feedback: every exercise's items numbered 1..M in its own count, each of their own
    items with its rationale, none of another variant's, and no hidden test."""
    from framelab.bank import variants as v

    assignment = module.folder
    items = bank.items()
    raw = (course / "feedback" / who / assignment / f"{assignment}.html").read_text(encoding="utf-8")
    page = html.unescape(re.sub(r"<[^>]+>", "", raw))
    own = v.variant(module, bank, who, setting.salt)
    for ex, ids in own.items():
        assert all(f"Item {n} of {len(ids)}" in page for n in range(1, len(ids) + 1)), (who, ex)
        assert all(items[i].rationale[:60] in page for i in ids), (who, ex)
    mine = {i for ids in own.values() for i in ids}
    other = {i for o in others for ids in v.variant(module, bank, o, setting.salt).values() for i in ids} - mine
    assert not any(items[i].rationale[:60] in page for i in other), who
    assert "grade_answer(" not in page and "lesson.item(" not in page  # no hidden test, so no pool key


@pytest.mark.parametrize("assignment", pooled_modules())
def test_variants_each_trainee_graded_on_their_own_items_end_to_end(tmp_path, bank, assignment):
    """With ``c.FrameLab.variants = True``, a module with a pool built, released, graded with ``framelab grade``
    (once: the variant trainees and the whole adversarial corpus in one course), audited, given feedback and
    exported: two trainees with different variants both get full marks; answers claiming another variant's
    items, a forged id in the kernel and a notebook edited to show other items earn only what the trainee's
    own variant (from the gradebook's id) was answered right; no cheat beats a blank, nothing is lost."""
    from adversarial import VARIANT_TRAINEES, write_corpus, write_variant_corpus
    from test_adversarial import grade_corpus

    from framelab.grading.audit import audit

    course, setting = variant_course(tmp_path, assignment)
    module = bank.module(assignment)
    claimed = write_variant_corpus(course, assignment, bank, setting.salt)
    write_corpus(course, assignment, bank, salt=setting.salt)
    g = grade_corpus(course, assignment)

    assert_adversarial_corpus_held(g, bank, module, setting.salt)
    assert_graded_on_own_items(course, bank, module, setting, claimed, g)
    report = audit(course, assignment, bank)
    honest = {"solution", "blank", "wrong", *VARIANT_TRAINEES}
    assert not [t.mismatches for t in report.trainees if t.student in honest and t.mismatches]
    assert_views_follow_variants(course, bank, module, setting)

    from nbgrader.api import Gradebook

    readers = ["solution", "blank", *VARIANT_TRAINEES]
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for who in readers:
            for grade in gb.find_submission_notebook(assignment, assignment, who).grades:
                if grade.needs_manual_grade:
                    grade.manual_score, grade.needs_manual_grade = 0.0, False
        gb.db.commit()
    for who in readers:
        nbgrader("generate_feedback", assignment, f"--student={who}", cwd=course)
    for who in ("ana", "ben", "solution"):
        assert_feedback_follows_variants(course, bank, module, setting, who, [w for w in ("ana", "ben") if w != who])
        assert "The answer is" not in (course / "feedback" / who / assignment / f"{assignment}.html").read_text()
    if g.scores["claims_other"] < g.solution_max:  # set back, so its feedback gives the answers it missed
        assert "The answer is" in (course / "feedback" / "claims_other" / assignment / f"{assignment}.html").read_text()

    nbgrader("export", f"--to={tmp_path / 'grades.csv'}", cwd=course)
    with (tmp_path / "grades.csv").open() as fh:
        exported = {r["student_id"]: float(r["score"]) for r in csv.DictReader(fh) if r["assignment"] == assignment}
    # every graded trainee exported with their score of record; none lost, none invented
    assert {w: exported[w] for w in g.totals if g.totals[w] is not None} == {
        w: t for w, t in g.totals.items() if t is not None
    }
    assert {w: exported[w] for w in VARIANT_TRAINEES} == {w: g.scores[w] for w in VARIANT_TRAINEES}
