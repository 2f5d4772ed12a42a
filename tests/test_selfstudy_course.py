"""The self-study learner's course, without a browser: mastery practice (tally, stopping, confusions),
finding the workspace and the module from any folder, the completion record, feedback on written work,
and the Resume note a saved notebook keeps where each widget was."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import BIN, ROOT, copy_course, run

from framelab.learner import activity, mastery, where, written
from framelab.learner.record import MARK, record_path, write_record
from framelab.learner.selfcheck import SelfCheckError
from framelab.learner.workspace import populate
from framelab.views import resume

M3 = "m3_three_moves"


@pytest.fixture
def course(tmp_path) -> Path:
    root = copy_course(tmp_path / "course")
    populate(root / "release", root / "workspace")
    return root


# --------------------------------------------------------------------------- mastery


def test_a_run_on_every_label_suggests_stopping():
    tally = mastery.Tally()
    every = {"validate", "state_boundary"}
    for _ in range(2):
        mastery.record(tally, {"validate", "state_boundary"}, {"validate", "state_boundary"})
    assert not mastery.ready_to_stop(tally, every) and tally.right == 2
    mastery.record(tally, {"validate"}, {"validate", "state_boundary"})  # a false alarm starts its run again
    assert tally.runs == {"validate": 3, "state_boundary": 0}
    assert mastery.still_to_master(tally, every) == ["state_boundary"]
    for _ in range(3):
        mastery.record(tally, {"state_boundary"}, {"state_boundary"})
    assert mastery.ready_to_stop(tally, every)
    assert "a good place to stop" in mastery.summary(tally, every, str)
    assert (tally.checked, tally.right) == (6, 5)


def test_confusions_are_the_pairs_mixed_up_and_pick_their_items():
    tally = mastery.Tally()
    mastery.record(tally, {"state_boundary"}, {"vague_rule"})
    mastery.record(tally, {"state_boundary"}, {"vague_rule"})
    mastery.record(tally, {"recenter"}, set())
    assert mastery.top_confusions(tally) == [("state_boundary", "vague_rule", 2), ("recenter", "", 1)]
    items = [{"labels": ["validate"]}, {"labels": ["vague_rule"]}, {"labels": ["recenter", "validate"]}]
    assert mastery.confusion_items(items, tally, [("labels", True)]) == [1, 2]
    assert mastery.confusion_items(items, mastery.Tally(), [("labels", True)]) == []


def test_single_choice_questions_are_tallied_by_answer():
    item = {"relation": "transference"}
    gold, chosen = mastery.keys(item, "relation", False, "countertransference")
    assert gold == {"relation:transference"} and chosen == {"relation:countertransference"}
    tally = mastery.record(mastery.Tally(), gold, chosen)
    assert mastery.top_confusions(tally) == [("relation:transference", "relation:countertransference", 1)]


def test_the_tally_is_kept_per_deck_and_a_foreign_file_is_set_aside(tmp_path):
    (tmp_path / mastery.FILENAME).write_text('{"something": "else"}')
    tally = mastery.record(mastery.Tally(), {"validate"}, {"validate"})
    mastery.save(tmp_path, "labels", tally)
    assert list(tmp_path.glob("practice.broken-*.json"))  # kept, not overwritten
    mastery.save(tmp_path, "repair", mastery.Tally())
    assert mastery.load(tmp_path, "labels").right == 1 and mastery.load(tmp_path, "repair").checked == 0
    assert mastery.Tally.from_json({"checked": 1, "right": 5}).checked == 0  # impossible: a fresh tally


def test_the_deck_tallies_first_checks_and_practises_confusions(tmp_path):
    from framelab.views.widgets import PracticeDeck

    items = [
        {"id": "a", "client": "c", "text": "t", "labels": ["validate"], "rationale": "r"},
        {"id": "b", "client": "c", "text": "t", "labels": ["vague_rule"], "rationale": "r"},
        {"id": "c", "client": "c", "text": "t", "labels": ["recenter"], "rationale": "r"},
    ]
    deck = PracticeDeck(items, tally=(tmp_path, "labels"))
    deck.boxes["state_boundary"].value = True  # item a: validate missed, state_boundary instead
    deck.on_check()
    deck.on_check()  # checking again after reading the answer does not count twice
    assert (deck.tally.checked, deck.tally.right) == (1, 0)
    assert "0 of 1 checked items exactly right" in deck.tally_line.value
    assert "Validate the feeling (you chose State the boundary)" in deck.tally_line.value
    deck.confusions.click()
    assert [it["id"] for it in deck.items] == ["a"] and "your confusions" in deck.position.value
    deck.whole.click()
    assert len(deck.items) == 3
    again = PracticeDeck(items, tally=(tmp_path, "labels"))  # the tally is kept between sessions
    assert again.tally.checked == 1


# --------------------------------------------------------------------------- where


def test_the_workspace_and_module_are_found_from_any_folder_inside(course):
    ws = course / "workspace"
    inner = ws / M3 / "notes"
    inner.mkdir()
    assert where.module_folder(inner) == ws / M3 and where.workspace_folder(inner) == ws
    assert where.module_folder(ws) is None and where.workspace_folder(ws) == ws
    assert where.workspace_folder(course) == ws  # the clone's own folder
    assert where.workspace_folder(course.parent) is None


def test_check_and_progress_work_in_the_terminal_from_inside_the_workspace(course):
    folder = course / "workspace" / M3
    checked = run([str(BIN / "framelab"), "check", "--no-validate"], cwd=folder)
    assert checked.stdout.startswith("Module 3: The three moves: 0 of 19 graded items right.")
    assert "not answered yet: their answers are not shown" in checked.stdout
    shown = run([str(BIN / "framelab"), "check", "--no-validate", "--all"], cwd=folder)
    assert "the missing move is" in shown.stdout  # worded for the "which move is missing" items
    for cwd in (course / "workspace", folder, course):
        assert "The three moves" in run([str(BIN / "framelab"), "progress"], cwd=cwd).stdout
    lost = run([str(BIN / "framelab"), "check"], cwd=course, check=False)
    assert lost.returncode == 2 and len(lost.stderr.strip().splitlines()) == 1 and "module" in lost.stderr


# --------------------------------------------------------------------------- the record


def test_the_record_lists_modules_time_practice_and_roleplays(course):
    ws = course / "workspace"
    activity.touch(ws / M3, now=1_800_000_000)
    activity.touch(ws / M3, now=1_800_000_000 + 600)
    mastery.save(ws / M3, "labels", mastery.record(mastery.Tally(), {"validate"}, {"validate"}))
    (ws / M3 / "roleplay-graduation-day.json").write_text(json.dumps({"node": "END"}))
    path = write_record(ws, now=1_800_000_000)
    assert path.name == "completion-record-2027-01-15.html"
    page = path.read_text()
    assert "15 January 2027" in page and "Modules finished: 0 of 7" in page
    assert "10 min" in page and "1 of 1 items exactly right (100%)" in page
    assert "Role-plays with the simulated client finished: 1" in page
    assert "<script" not in page and "@media print" in page
    assert write_record(ws, now=1_800_000_000) == path  # the same day's record is replaced
    path.write_text("my own notes")  # not a record: kept, and the next name is used
    assert record_path(ws, now=1_800_000_000).name == "completion-record-2027-01-15-2.html"
    with pytest.raises(FileExistsError):
        write_record(ws, out=path)
    assert path.read_text() == "my own notes"


def test_the_record_command(course):
    proc = run([str(BIN / "framelab"), "record", "--name", "Sam Example"], cwd=course / "workspace" / M3)
    written_to = Path(re.search(r"record: (\S+\.html)", proc.stdout)[1])
    assert written_to.parent == course / "workspace" and MARK in written_to.read_text()
    assert "for Sam Example" in written_to.read_text()


# --------------------------------------------------------------------------- written work


def _write(notebook: Path, index: int, text: str) -> None:
    nb = json.loads(notebook.read_text())
    nb["cells"][index]["source"] = text
    notebook.write_text(json.dumps(nb))


def test_written_feedback_reads_the_moves_lists_the_scheme_and_a_model(course):
    notebook = course / "workspace" / M3 / f"{M3}.ipynb"
    first = written.answer_cells(json.loads(notebook.read_text())["cells"])[0]
    reply = (
        "I can hear how much it would mean to you to have someone at the finish. I won't be coming, "
        "because keeping our work to these sessions protects it. What would it mean to you to see me there?"
    )
    _write(notebook, first, reply)
    found = written.written_feedback(notebook)
    assert [f.title for f in found] == ["Client line 1", "Client line 2", "Client line 3"]
    one = found[0]
    assert one.text == reply and [m.name for m in one.moves][:1] == ["Validate the feeling"]
    assert [m.found for m in one.moves] == [True, True, True], one.moves
    assert [p.split(" (")[0] for p in one.scheme] == ["Validate", "State the boundary", "Re-center"]
    assert one.model.startswith('"I can hear how much it would mean') and "BEGIN SOLUTION" not in one.model
    assert not found[1].written and not found[1].moves  # nothing written: nothing read


def test_written_feedback_reads_a_rupture_as_repair_and_a_reflection_not_at_all(course):
    notebook = course / "workspace" / "m6_capstone" / "m6_capstone.ipynb"
    cells = json.loads(notebook.read_text())["cells"]
    answers = written.answer_cells(cells)
    assert len(answers) == 7  # five replies and the two supervision tasks
    _write(
        notebook, answers[3], "Thank you for telling me. You're right, I missed it, and I'm sorry. What was it like?"
    )
    _write(notebook, answers[5], "The voucher would pull me to accept, because I hate to disappoint.")
    found = written.written_feedback(notebook)
    tears, pulls = found[3], found[5]
    assert tears.title == "Moment 4. The tears" and tears.scheme[0].startswith("Thank (1 point)")
    assert tears.moves and tears.moves[0].name != "Validate the feeling"  # named as the repair rubric names it
    assert pulls.title.startswith("Task C1") and len(pulls.scheme) == 3 and not pulls.moves and not pulls.model


def test_written_feedback_is_for_self_study_only(course, monkeypatch, tmp_path):
    notebook = course / "workspace" / M3 / f"{M3}.ipynb"
    monkeypatch.setenv("FRAMELAB_SELF_CHECK", "0")
    with pytest.raises(SelfCheckError, match="switched off"):
        written.written_feedback(notebook)
    monkeypatch.delenv("FRAMELAB_SELF_CHECK")
    populate(ROOT / "release", tmp_path / "alone")  # a workspace with no clone around it: no model answers
    with pytest.raises(SelfCheckError, match="self-study clone"):
        written.written_feedback(tmp_path / "alone" / M3 / f"{M3}.ipynb")


# --------------------------------------------------------------------------- coming back


def test_a_saved_notebook_keeps_a_resume_note_where_each_widget_was():
    view = {"output_type": "display_data", "data": {resume.WIDGET_VIEW: {"model_id": "abc"}, "text/plain": "VBox()"}}
    printed = {"output_type": "stream", "name": "stdout", "text": "Module 3: The three moves. Ready.\n"}
    nb = {
        "metadata": {"widgets": {"state": {}}},
        "cells": [
            {"cell_type": "code", "source": "lesson.practice()", "outputs": [printed, view]},
            {"cell_type": "code", "source": "1 + 1", "outputs": [printed]},
            {"cell_type": "markdown", "source": "I wrote this."},
        ],
    }
    model = {"type": "notebook", "content": nb}
    resume.pre_save(model=model, path="m3.ipynb", contents_manager=None)
    first = nb["cells"][0]["outputs"]
    assert first[0] == printed and len(first) == 2 and "Resume" in first[1]["data"]["text/html"]
    assert nb["cells"][1]["outputs"] == [printed] and nb["cells"][2]["source"] == "I wrote this."
    assert "widgets" not in nb["metadata"]
    assert resume.resume_notes(nb) == 0  # saved again: nothing more to change
    resume.pre_save(model={"type": "notebook", "content": {"cells": "not a list"}})  # never stops a save


def test_the_trainee_lab_saves_with_the_resume_hook(monkeypatch):
    from traitlets.config.loader import PyFileConfigLoader

    folder = ROOT / "src" / "framelab" / "data" / "trainee-jupyter"
    monkeypatch.setenv("FRAMELAB_BIN", "")
    config = PyFileConfigLoader("jupyter_server_config.py", path=str(folder)).load_config()
    assert config.ContentsManager.pre_save_hook is resume.pre_save
    assert config.KernelManager.transport == "ipc"
    assert str(folder / "terminal.bashrc") in config.ServerApp.terminado_settings["shell_command"]


# --------------------------------------------------------------------------- the course home


def test_the_course_home_shows_progress_and_the_next_step_and_keeps_a_changed_home(course):
    from framelab.views.home import FILENAME, write_home

    ws = course / "workspace"
    assert write_home(ws, now=1_800_000_000) == f"course home: {FILENAME}"
    nb = json.loads((ws / FILENAME).read_text())
    intro = nb["cells"][0]["source"]
    assert "[Module 0: Orientation](m0_orientation/m0_orientation.ipynb)" in intro
    page = nb["cells"][1]["outputs"][0]["data"]["text/html"]
    assert "Next: start Module 0, Orientation" in page and "href='m0_orientation/m0_orientation.ipynb'" in page
    assert "Time left" in page
    activity.touch(ws / M3, now=1_800_000_000)
    write_home(ws)  # unchanged by the learner: brought up to date
    page = json.loads((ws / FILENAME).read_text())["cells"][1]["outputs"][0]["data"]["text/html"]
    assert "Continue with Module 3, The three moves" in page
    nb = json.loads((ws / FILENAME).read_text())
    nb["cells"][0]["source"] += "\n\nMy own note."  # the learner's own words are never overwritten
    (ws / FILENAME).write_text(json.dumps(nb))
    assert write_home(ws).startswith("kept")
    assert "My own note." in (ws / FILENAME).read_text()


def test_the_trainee_terminal_puts_framelab_first_on_the_path(tmp_path):
    import subprocess

    rc = ROOT / "src" / "framelab" / "data" / "trainee-jupyter" / "terminal.bashrc"
    proc = subprocess.run(
        ["bash", "--rcfile", str(rc), "-i", "-c", "command -v framelab"],
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "FRAMELAB_BIN": str(BIN)},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.stdout.strip() == str(BIN / "framelab"), proc.stderr


def test_the_notebook_buttons_for_writing_the_record_and_saved_choices(course, monkeypatch, capsys):
    from framelab.views.lesson import Lesson

    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    folder = course / "workspace" / M3
    notebook = folder / f"{M3}.ipynb"
    first = written.answer_cells(json.loads(notebook.read_text())["cells"])[0]
    _write(notebook, first, "I can hear how much it means. I won't come, to keep this space yours. What made you ask?")
    lesson = Lesson.here(folder)
    lesson.written_feedback()
    lesson.view.button.click()
    page = lesson.view.result.value
    assert "What the detector reads, move by move" in page and "tick off each point" in page
    assert "A model answer to compare" in page and "Nothing written here yet" in page  # lines 2 and 3
    monkeypatch.setenv("FRAMELAB_SELF_CHECK", "0")
    lesson.view.button.click()
    assert "switched off" in lesson.view.result.value and "model answer" not in lesson.view.result.value
    monkeypatch.delenv("FRAMELAB_SELF_CHECK")

    lesson.record()
    lesson.view.button.click()
    assert lesson.view.path is not None and lesson.view.path.parent == course / "workspace"
    assert lesson.view.path.name in lesson.view.result.value

    capsys.readouterr()
    lesson.saved()
    assert capsys.readouterr().out.startswith("Nothing saved yet")
    from framelab.scoring import answers as store

    ex = next(iter(lesson.content["exercises"]))
    item = lesson.content["exercises"][ex]["items"][0]["id"]
    store.write(folder / store.FILENAME, ex, {item: ["validate"]})
    lesson.saved()
    assert "item 1: Validate the feeling" in capsys.readouterr().out
