"""Self-study: ``framelab check`` on a workspace notebook, the switch that turns it off,
``framelab progress`` on a scripted workspace, and a release merged into a workspace."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from conftest import BIN, ROOT, copy_course, run

from framelab.bank.loader import gold
from framelab.core.vocabulary import TITLES
from framelab.learner import activity, progress
from framelab.learner import selfcheck as selfstudy
from framelab.learner.workspace import populate
from framelab.scoring import answers as store

ASSIGNMENT = "m1_double_bind"


@pytest.fixture
def course(tmp_path) -> Path:
    """A self-study clone: the course with a workspace made from its release."""
    root = copy_course(tmp_path / "course")
    populate(root / "release", root / "workspace")
    return root


def answer_some(course: Path, bank) -> tuple[str, str, str]:
    """Answer item 1 right and item 2 wrong; return their ids and the right answer to item 2."""
    ex = bank.module(ASSIGNMENT).meta.exercises[0]
    items = bank.items()
    first, second = ex.items[0], ex.items[1]
    right2 = gold(items[second], ex.kind)
    wrong2 = next(v for v in ("validate", "collapse_frame") if v != right2)
    folder = course / "workspace" / ASSIGNMENT
    store.write(folder / store.FILENAME, ex.id, {first: gold(items[first], ex.kind), second: wrong2})
    return first, second, right2


def test_check_scores_each_item_with_its_reason(course, bank):
    first, second, right2 = answer_some(course, bank)
    report = selfstudy.check_notebook(course / "workspace" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    assert report.score == 1 and len(report.items) == 16
    assert "14 of the 16" in report.question()  # asked before any unanswered item's answer is shown
    text = report.render()
    assert text.startswith("Module 1: The double bind: 1 of 16 graded items right.")
    assert "right    Item 1:" in text and first not in text  # items named as the notebook names them
    line = next(line for line in text.splitlines() if "not yet  Item 2:" in line)
    assert "you chose" in line and f"the answer is {TITLES[right2]}." in line
    assert bank.items()[second].rationale in text
    assert "not answered yet;" not in text and "14 item(s) not answered yet" in text  # the other 14 stay hidden
    every = report.render(show_unanswered=True)
    assert every.count("not answered yet;") == 14  # shown only when asked for


@pytest.mark.slow  # runs nbgrader validate (a kernel) on a module notebook: about 7 s
def test_check_command_validates_and_scores_a_workspace_notebook(course, bank):
    answer_some(course, bank)
    # the README's form: a path relative to the course root, as validate runs in the notebook's folder
    proc = run([str(BIN / "framelab"), "check", f"workspace/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"], cwd=course)
    # it really validated the notebook: the reflection is not written yet, and only that is said
    assert "nbgrader validate: problems found:\nVALIDATION FAILED ON 1 CELL(S)" in proc.stdout, proc.stdout
    assert "You did not provide a response." in proc.stdout and "WARNING" not in proc.stdout
    assert "Module 1: The double bind: 1 of 16 graded items right." in proc.stdout
    absolute = run(
        [str(BIN / "framelab"), "check", str(course / "workspace" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")],
        cwd=course / "workspace",
    )
    assert absolute.stdout == proc.stdout


def test_a_deeply_nested_answers_file_gets_one_plain_line(course):
    folder = course / "workspace" / ASSIGNMENT
    (folder / store.FILENAME).write_text("[" * 100_000 + "]" * 100_000)
    proc = run(
        [str(BIN / "framelab"), "check", f"{folder}/{ASSIGNMENT}.ipynb", "--no-validate"], cwd=course, check=False
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "answers.json" in proc.stderr, proc.stderr
    rows = progress.progress(course / "workspace", scores=False)  # the rest of the workspace still reads
    assert next(r for r in rows if r.folder == ASSIGNMENT).answered == 0


def test_a_deployment_can_switch_the_check_off(course, bank, monkeypatch):
    notebook = course / "workspace" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    monkeypatch.setenv("FRAMELAB_SELF_CHECK", "0")
    with pytest.raises(selfstudy.SelfCheckError, match="switched off"):
        selfstudy.check_notebook(notebook)
    monkeypatch.delenv("FRAMELAB_SELF_CHECK")
    selfstudy.check_notebook(notebook)  # allowed again
    with (course / "nbgrader_config.py").open("a", encoding="utf-8") as fh:
        fh.write("\nc.FrameLab.self_check = False\n")
    proc = run([str(BIN / "framelab"), "check", str(notebook), "--no-validate"], cwd=course, check=False)
    assert proc.returncode == 2 and "switched off" in proc.stderr


def test_without_the_answer_key_the_check_says_why(tmp_path):
    populate(ROOT / "release", tmp_path / "workspace")
    with pytest.raises(selfstudy.SelfCheckError, match="answer key"):
        selfstudy.check_notebook(tmp_path / "workspace" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")


def test_progress_of_a_scripted_workspace(course, bank, monkeypatch):
    answer_some(course, bank)
    folder = course / "workspace" / ASSIGNMENT
    # Module 1 offers one reply exercise and one role-play (its content has a third scenario, not offered)
    (folder / "roleplay-friends-when-we-finish.json").write_text(json.dumps({"node": "END"}), encoding="utf-8")
    (folder / "roleplay-follow-request.json").write_text(json.dumps({"node": "END"}), encoding="utf-8")
    t0 = 1_800_000_000
    for minute in (0, 4, 9, 15, 60, 62):  # two stretches: 15 minutes, then 2 (the 45-minute pause is not counted)
        activity.touch(folder, now=t0 + 60 * minute)
    activity.touch(course / "workspace" / "m3_three_moves", now=t0)  # opened a practice item, nothing saved
    rows = {r.folder: r for r in progress.progress(course / "workspace")}
    m1 = rows[ASSIGNMENT]
    assert (m1.started, m1.answered, m1.items, m1.roleplays_done, m1.roleplays) == (True, 2, 16, 1, 2)
    assert rows["m3_three_moves"].roleplays == 1 and rows["m5_alliance"].roleplays == 3
    assert not m1.done and m1.last_activity is not None
    assert m1.seconds == 17 * 60 and m1.score == 1  # item 1 right, item 2 wrong
    m2 = rows["m2_transference"]
    assert (m2.started, m2.answered, m2.items, m2.seconds, m2.score) == (False, 0, 24, 0, None)
    assert rows["m3_three_moves"].status == "started"
    proc = run([str(BIN / "framelab"), "progress", str(course / "workspace")], cwd=course)
    assert max(len(x) for x in proc.stdout.splitlines()) <= 80, proc.stdout
    lines = proc.stdout.splitlines()
    assert any(x.startswith("2. Transference and") for x in lines)  # a long name wraps; nothing is cut
    assert any(x.startswith("countertransference") for x in lines)
    line = next(x for x in proc.stdout.splitlines() if x.startswith("1. The double bind"))
    assert "started" in line and "2/16" in line and "1/16" in line and "17 min" in line and "1/2" in line
    assert line.endswith("58 min")  # Module 1's 75 minutes, less the 17 spent
    assert "Continue with Module 1, The double bind (about 58 min left)" in proc.stdout  # where to carry on

    # the notebook cell shows the same figures; with checking switched off, no score
    from framelab.views.progress import ProgressView

    monkeypatch.setenv("FRAMELAB_SELF_CHECK", "0")
    view = ProgressView(course / "workspace")
    cells = re.sub(r"<td[^>]*>", "<td>", view.table.value)
    assert (
        "<td>The double bind</td><td>started</td><td>2 of 16</td><td></td><td>1 of 2</td><td>17 min</td>"
        "<td>about 58 min</td>" in cells
    )
    monkeypatch.delenv("FRAMELAB_SELF_CHECK")
    store.write(folder / store.FILENAME, "backfires", {})
    view.button.click()
    assert "<td>0 of 16</td><td></td>" in re.sub(
        r"<td[^>]*>", "<td>", view.table.value
    )  # refreshed: nothing answered, no score

    # saying a reply in the one-turn exercise finishes it
    from framelab.views.widgets import ReplyPicker

    content = json.loads((folder / "content.json").read_text())
    picker = ReplyPicker(next(s for s in content["scenarios"] if s["id"] == "coffee-at-the-door"), folder)
    picker.choice.value = picker.order[0]
    picker.on_say()
    m1 = next(r for r in progress.progress(course / "workspace", scores=False) if r.folder == ASSIGNMENT)
    assert (m1.roleplays_done, m1.roleplays, m1.seconds) == (2, 2, 17 * 60)  # and the time records are kept


def test_a_new_release_merges_without_touching_the_learners_answers(course, bank):
    answer_some(course, bank)
    folder = course / "workspace" / ASSIGNMENT
    saved = (folder / store.FILENAME).read_bytes()
    notebook = (folder / f"{ASSIGNMENT}.ipynb").read_bytes()
    (folder / f"{ASSIGNMENT}.ipynb").write_bytes(notebook + b"\n")  # the learner's own edit
    shutil.rmtree(course / "workspace" / "m2_transference")  # a module new in this release
    report = populate(course / "release", course / "workspace")
    assert (folder / store.FILENAME).read_bytes() == saved
    assert (folder / f"{ASSIGNMENT}.ipynb").read_bytes() == notebook + b"\n"
    assert any(str(p).startswith("m2_transference") for p in report.copied)
    assert [str(p) for p in report.differ] == [f"{ASSIGNMENT}/{ASSIGNMENT}.ipynb"]
    assert "kept as yours" in "\n".join(report.lines())


def test_the_notebook_button_shows_the_same_check(course, bank, monkeypatch):
    from framelab.views.lesson import Lesson

    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    answer_some(course, bank)
    lesson = Lesson.here(course / "workspace" / ASSIGNMENT)
    assert lesson.self_check() is None  # nothing for the notebook to print
    view = lesson.view
    assert "graded items right" not in view.result.value  # nothing is scored until the learner asks
    report = view.on_check()
    # asked first: 14 items are unanswered, and nothing is scored or shown until the learner chooses
    assert report.score == 1 and "14 of the 16" in view.result.value and "items right" not in view.result.value
    assert view.choice.layout.display == "flex"
    view.answered_only.click()
    assert "1 of 16 graded items right." in view.result.value and "not answered yet;" not in view.result.value
    assert view.choice.layout.display == "none"
    view.on_check()
    view.show_all.click()
    assert view.result.value.count("not answered yet;") == 14
    monkeypatch.setenv("FRAMELAB_SELF_CHECK", "0")
    assert view.on_check() is None and "switched off" in view.result.value
