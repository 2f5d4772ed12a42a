"""A role-play is kept (issue 30, items 6 and 7): the terminal saves it as the notebook does (a transcript,
counted in progress, exportable); the view gives focus back to the reply box after Respond, asks before
Restart, and a finished role-play stays counted after a restart; the summary line agrees with the ending."""

from __future__ import annotations

import json

import pytest
from conftest import ROOT

from framelab.cli import main
from framelab.cli.commands import record_roleplay
from framelab.core.rubrics import rubric
from framelab.learner import progress
from framelab.learner.workspace import populate
from framelab.roleplay import engine as roleplay
from framelab.roleplay import summary, terminal

MODULE = "m1_double_bind"
FULL = "I'm glad you asked, and it's a no from me: this room keeps the work safe for you. What prompted it?"


def words(*labels):
    return lambda text, client: list(labels)


@pytest.fixture
def folder(tmp_path):
    """A workspace module folder, as a trainee has it, and the role-play its notebook offers."""
    populate(ROOT / "release", tmp_path / "workspace")
    where = tmp_path / "workspace" / MODULE
    content = json.loads((where / "content.json").read_text())
    sid = next(sid for kind, sid in progress.offered(where, content) if kind == "roleplay")
    return where, next(s for s in content["scenarios"] if s["id"] == sid)


def done_count(where):
    return progress.module_progress(where).roleplays_done


def asking(*answers):
    it = iter(answers)

    def ask(prompt):
        try:
            return next(it)
        except StopIteration:
            raise EOFError from None

    return ask


def test_a_terminal_role_play_is_saved_counted_and_exportable(folder, monkeypatch, capsys):
    where, sc = folder
    monkeypatch.setattr(terminal, "_detector", lambda: words("validate", "state_boundary", "recenter"))
    assert done_count(where) == 0
    code = terminal.play_interactive(sc, asking(FULL, "", FULL, ""), __import__("sys").stdout, where, record_roleplay)
    assert code == 0
    path = roleplay.transcript_path(where, sc["id"])
    saved = roleplay.load(path, sc)
    assert len(saved.turns) == 2 and not saved.done  # stopped after two replies: saved as it was
    # the next run goes on where it was, and finishing it counts
    replies = [x for _ in range(8) for x in (FULL, "")]
    terminal.play_interactive(sc, asking(*replies), __import__("sys").stdout, where, record_roleplay)
    assert "Going on from your saved conversation (2 turn(s) so far)" in capsys.readouterr().out
    assert roleplay.load(path, sc).done and done_count(where) == 1
    assert main(["transcript", "export", str(path)]) == 0
    assert f"# Role-play: {sc['title']}" in capsys.readouterr().out


def test_starting_a_finished_terminal_role_play_again_asks_keeps_it_and_it_stays_counted(folder, monkeypatch, capsys):
    where, sc = folder
    monkeypatch.setattr(terminal, "_detector", lambda: words("validate", "state_boundary", "recenter"))
    replies = [x for _ in range(8) for x in (FULL, "")]
    terminal.play_interactive(sc, asking(*replies), __import__("sys").stdout, where, record_roleplay)
    path = roleplay.transcript_path(where, sc["id"])
    finished = path.read_text()
    terminal.play_interactive(
        sc, asking("n"), __import__("sys").stdout, where, record_roleplay
    )  # no: the debrief again
    assert path.read_text() == finished and "Debrief:" in capsys.readouterr().out
    terminal.play_interactive(sc, asking("y", "q"), __import__("sys").stdout, where, record_roleplay)
    kept = list(where.glob(f"roleplay-{sc['id']}.finished-*.json"))
    assert len(kept) == 1 and kept[0].read_text() == finished
    assert not roleplay.load(path, sc).done and done_count(where) == 1


def test_from_the_course_folder_the_terminal_says_it_does_not_save(monkeypatch, tmp_path, capsys):
    sc = terminal.find_scenario(ROOT, "coffee-at-the-door")
    monkeypatch.chdir(tmp_path)
    terminal.play_interactive(sc, asking("q"), __import__("sys").stdout)
    assert "not saved" in capsys.readouterr().out and not list(tmp_path.iterdir())


def test_focus_goes_back_to_the_reply_box_after_respond(folder):
    from framelab.views.roleplay import RolePlayView

    where, sc = folder
    view = RolePlayView(sc, where, words("validate", "state_boundary", "recenter"))
    focused = []
    for name in ("reply", "respond", "restart", "show_debrief", "confirm_no"):
        getattr(view, name).focus = lambda name=name: focused.append(name)
    view.reply.value = FULL
    view.respond.click()
    assert focused == ["reply"]
    view.reply.value = ""
    view.respond.click()  # an empty reply: a plain reason, and the keyboard stays in the box
    assert focused == ["reply", "reply"]
    while not view.session.done:
        view.reply.value = FULL
        view.respond.click()
    assert focused[-1] == "restart"  # the reply box is closed; Restart asks before it clears anything


def test_restart_asks_first_and_a_finished_role_play_stays_counted(folder):
    from framelab.views.roleplay import RolePlayView

    where, sc = folder
    view = RolePlayView(sc, where, words("validate", "state_boundary", "recenter"))
    focused = []
    view.confirm_no.focus = lambda: focused.append("keep")
    view.reply.focus = lambda: focused.append("reply")
    view.reply.value = FULL
    view.respond.click()
    view.restart.click()
    assert view.confirm.layout.display != "none" and len(view.session.turns) == 1  # nothing cleared yet
    assert "Start this conversation again?" in view.confirm_text.value and focused[-1] == "keep"
    view.confirm_no.click()
    assert view.confirm.layout.display == "none" and len(view.session.turns) == 1
    while not view.session.done:
        view.reply.value = FULL
        view.respond.click()
    assert done_count(where) == 1
    view.restart.click()
    assert "stays counted" in view.confirm_text.value
    view.confirm_yes.click()
    assert view.session.turns == [] and focused[-1] == "reply"
    assert done_count(where) == 1  # started again, still counted
    assert len(list(where.glob(f"roleplay-{sc['id']}.finished-*.json"))) == 1


def test_all_three_moves_never_read_as_success_when_the_client_pulled_back(bank):
    sc = next(s.model_dump() for s in bank.scenarios if s.id == "coffee-at-the-door")
    session = roleplay.start(sc)
    roleplay.respond(sc, session, FULL, [], words("validate", "state_boundary", "recenter"))
    roleplay.respond(sc, session, "Rules are rules.", [], words("vague_rule"))
    roleplay.respond(sc, session, "As I said, policy.", [], words("vague_rule"))  # the repair is missed
    d = roleplay.debrief(sc, session)
    assert d.ending.kind == "withdrawn" and all(d.moves_seen.values())
    line = summary.moves_line(d.moves_seen, rubric(sc), d.ending)
    assert "all three" in line and "Even so, the client pulled back" in line
    assert "Even so, the client pulled back" in terminal.debrief_text(sc, session)
    from framelab.views import roleplay_html

    assert "Even so, the client pulled back" in roleplay_html.debrief(sc, session)[0]
    opened = summary.moves_line(d.moves_seen, rubric(sc), roleplay.Ending("opened", "t", "n", "q"))
    assert opened == "made Validate the feeling, State the boundary, Re-center on the work; all three."


def test_framelab_roleplay_in_a_module_folder_saves_and_counts_what_it_finishes(folder, monkeypatch, capsys):
    where, sc = folder
    monkeypatch.setattr(terminal, "_detector", lambda: words("validate", "state_boundary", "recenter"))
    monkeypatch.setattr("builtins.input", asking(*[x for _ in range(8) for x in (FULL, "1 2 3")]))
    assert main(["roleplay", sc["id"], "--from", str(where)]) == 0
    assert "saved after every turn" in capsys.readouterr().out
    saved = roleplay.load(roleplay.transcript_path(where, sc["id"]), sc)
    assert saved.done and saved.turns[0].ticked == ["validate", "state_boundary", "recenter"]
    assert done_count(where) == 1 and f"roleplay:{sc['id']}" in __import__("framelab").learner.activity.finished(where)
