"""The role-play engine over every scenario in the bank, and its view, without a browser."""

from __future__ import annotations

import html
import json

import pytest
from conftest import ROOT

from framelab import roleplay
from framelab.cli import main
from framelab.vocabulary import LABELS


def scenarios(bank):
    return [s.model_dump() for s in bank.scenarios]


def test_there_are_scenarios_to_walk(bank):
    assert len(bank.scenarios) >= 3


def reachable(sc):
    seen, stack = [], [sc["start"]]
    while stack:
        node = stack.pop()
        if node == roleplay.END or node in seen:
            continue
        seen.append(node)
        stack += [b["next"] for b in sc["nodes"][node]["branches"].values()]
    return seen


def test_every_node_and_branch_of_every_scenario(bank):
    for sc in scenarios(bank):
        for node in reachable(sc):
            for label in LABELS:
                session = roleplay.Session(sc["id"], sc["title"], node)
                turn = roleplay.respond(sc, session, f"A reply that is mainly {label}.", [label])
                branch = sc["nodes"][node]["branches"][label]
                assert (turn.category, turn.reaction, session.node) == (label, branch["reaction"], branch["next"])
                assert turn.client == sc["nodes"][node]["client"]


def test_every_path_reaches_the_debrief_within_four_turns(bank):
    for sc in scenarios(bank):
        for label in LABELS:
            session = roleplay.start(sc)
            for _ in range(4):
                if session.done:
                    break
                roleplay.respond(sc, session, "my reply", [label])
            assert session.done, (sc["id"], label, session.node)


def test_a_full_reply_is_categorised_as_recentring(bank):
    sc = scenarios(bank)[0]
    session = roleplay.start(sc)
    turn = roleplay.respond(
        sc, session, "Glad you asked; no; what prompted it?", ["validate", "state_boundary", "recenter"]
    )
    assert turn.category == "recenter"


def test_the_transcript_saves_and_resumes(bank, tmp_path):
    sc = scenarios(bank)[0]
    session = roleplay.start(sc)
    roleplay.respond(sc, session, "My diary's full, sorry!", ["gentle_dodge"])
    path = roleplay.transcript_path(tmp_path, sc["id"])
    roleplay.save(session, path)
    again = roleplay.load(path, sc)
    assert again == session and again.turns[0].reply == "My diary's full, sorry!"
    assert json.loads(path.read_text())["format"] == roleplay.FORMAT


@pytest.mark.parametrize(
    ("reply", "ticked", "message"),
    [
        ("", ["validate"], "type your reply"),
        ("   ", ["validate"], "type your reply"),
        ("x" * 5001, ["validate"], "keep it under"),
        ("A reply.", [], "tick the moves"),
        ("A reply.", ["nonsense"], "unknown label"),
    ],
)
def test_bad_replies_get_a_plain_reason(bank, reply, ticked, message):
    sc = scenarios(bank)[0]
    session = roleplay.start(sc)
    with pytest.raises(roleplay.RolePlayError, match=message):
        roleplay.respond(sc, session, reply, ticked)
    assert session.turns == []


def test_an_ended_conversation_takes_no_more_replies(bank):
    sc = scenarios(bank)[0]
    session = roleplay.start(sc)
    roleplay.respond(sc, session, "Go on then, Saturday!", ["collapse_frame"])
    assert session.done
    with pytest.raises(roleplay.RolePlayError, match="has ended"):
        roleplay.respond(sc, session, "again", ["validate"])


def test_detector_disagreement_is_explained_in_the_debrief(bank):
    sc = scenarios(bank)[0]
    session = roleplay.start(sc)
    roleplay.respond(sc, session, "Busy month, sorry!", ["validate"], detector=lambda text, client: ["gentle_dodge"])
    d = roleplay.debrief(sc, session)
    assert "detector also heard Gentle dodge" in d.reviews[0].disagreement
    assert "did not hear Validate the feeling" in d.reviews[0].disagreement
    assert d.moves_seen == {"validate": True, "state_boundary": False, "recenter": False}
    assert [m["level"] for m in d.model_responses] == [1, 2, 3]
    # the trainee's ticks, not the detector, decide how the client reacts
    assert session.turns[0].category == "validate"


def test_a_detector_can_stand_in_for_missing_ticks(bank):
    sc = scenarios(bank)[0]
    session = roleplay.start(sc)
    turn = roleplay.respond(sc, session, "Busy month!", [], detector=lambda text, client: ["gentle_dodge"])
    assert turn.category == "gentle_dodge" and turn.ticked == []


def test_damaged_or_foreign_transcripts_are_refused(bank, tmp_path):
    sc, other = scenarios(bank)[0], scenarios(bank)[1]
    path = tmp_path / "t.json"
    path.write_text("{nope")
    with pytest.raises(roleplay.RolePlayError, match="damaged"):
        roleplay.load(path, sc)
    session = roleplay.start(other)
    roleplay.save(session, path)
    with pytest.raises(roleplay.RolePlayError, match="is for scenario"):
        roleplay.load(path, sc)


def test_transcript_export_writes_markdown(bank, tmp_path, capsys):
    sc = scenarios(bank)[0]
    session = roleplay.start(sc)
    roleplay.respond(sc, session, "Not this month, sorry.", ["gentle_dodge"])
    path = roleplay.transcript_path(tmp_path, sc["id"])
    roleplay.save(session, path)
    (tmp_path / "content.json").write_text(json.dumps({"scenarios": [sc]}))
    assert main(["transcript", "export", str(path), "--out", str(tmp_path / "t.md")]) == 0
    md = (tmp_path / "t.md").read_text()
    assert f"# Role-play: {sc['title']}" in md and "**Me:** Not this month, sorry." in md
    assert "*Moves I ticked:* Gentle dodge." in md and "## Model responses" in md and "Level 3." in md
    assert main(["transcript", "export", str(tmp_path / "missing.json")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_the_view_drives_a_whole_conversation(bank, tmp_path):
    from framelab.widgets import RolePlayView

    sc = scenarios(bank)[0]
    view = RolePlayView(sc, tmp_path)
    assert sc["nodes"][sc["start"]]["client"][:40] in view.client.value.replace("&#x27;", "'")
    view.respond.click()
    assert "Type your reply" in view.feedback.value
    view.reply.value = "I'd love to, honestly, maybe after the summer?"
    view.ticks["gentle_dodge"].value = True
    view.ticks["mixed_message"].value = True
    view.respond.click()
    first = sc["nodes"][sc["start"]]["branches"]["mixed_message"]
    assert view.session.node == first["next"] and view.reply.value == ""
    assert (
        json.loads(roleplay.transcript_path(tmp_path, sc["id"]).read_text())["turns"][0]["category"] == "mixed_message"
    )
    # a new kernel picks the conversation up where it was
    again = RolePlayView(sc, tmp_path)
    assert len(again.session.turns) == 1 and again.session.node == first["next"]
    while not again.session.done:
        again.reply.value = "I'm glad you asked. I won't, because this room keeps it safe for you. What prompted it?"
        for lab in ("validate", "state_boundary", "recenter"):
            again.ticks[lab].value = True
        again.respond.click()
    assert again.respond.disabled and "Debrief" in again.debrief.value and "Model responses" in again.debrief.value
    for title in sc.get("see", []):
        assert html.escape(title) in again.debrief.value  # the debrief points back to the module text
    again.restart.click()
    assert again.session.turns == [] and not again.respond.disabled


def test_a_damaged_saved_conversation_is_kept_and_restarted(bank, tmp_path):
    from framelab.widgets import RolePlayView

    sc = scenarios(bank)[0]
    roleplay.transcript_path(tmp_path, sc["id"]).write_text("{broken")
    view = RolePlayView(sc, tmp_path)
    assert view.session.turns == [] and "could not be read" in view.feedback.value
    assert len(list(tmp_path.glob("roleplay-*.broken-*.json"))) == 1


def test_every_reading_link_names_a_section_of_its_module_notebook(bank):
    """A scenario's `see` points the debrief back to the module text: each must be a real heading."""
    linked = 0
    for mod in bank.modules.values():
        notebook = ROOT / "source" / mod.folder / f"{mod.folder}.ipynb"
        for sc in mod.scenarios:
            if not sc.see:
                continue
            assert notebook.exists(), f"{sc.id} links to sections of {notebook.name}, which does not exist yet"
            cells = json.loads(notebook.read_text())["cells"]
            headings = {
                line[3:].strip()
                for c in cells
                if c["cell_type"] == "markdown"
                for line in "".join(c["source"]).splitlines()
                if line.startswith("## ")
            }
            for title in sc.see:
                assert title in headings, f"{sc.id}: no section '{title}' in {notebook.name}"
                linked += 1
    assert linked >= 3
