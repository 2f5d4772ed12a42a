"""The role-play engine over every scenario in the bank, and its view, without a browser."""

from __future__ import annotations

import html
import json
import re

import pytest
from conftest import ROOT

from framelab.cli import main
from framelab.core.vocabulary import LABELS
from framelab.roleplay import engine as roleplay
from framelab.roleplay import repair
from framelab.roleplay.reactions import UNCLEAR
from framelab.roleplay.words import fit_offers


def words(*labels):
    """A stand-in detector that reads every reply as these labels (sure of it)."""
    return lambda text, client: list(labels)


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
                turn = roleplay.respond(sc, session, f"A reply that is mainly {label}.", [], words(label))
                branch = sc["nodes"][node]["branches"][label]
                assert turn.client == sc["nodes"][node]["client"]
                if repair.is_rupture(sc, node, label):  # the client reacts in the moment and waits for a repair
                    said = fit_offers(branch["reaction"], f"A reply that is mainly {label}.")  # no offer was made
                    now = repair.in_the_moment(said)[0]
                    assert (turn.category, turn.reaction, session.node, turn.rupture) == (label, now, node, True)
                    continue
                reaction = turn.reaction if label == "recenter" else branch["reaction"]  # a question's answer fits it
                assert (turn.category, turn.reaction, session.node) == (label, reaction, branch["next"])


def test_every_path_reaches_the_debrief_within_six_turns(bank):
    for sc in scenarios(bank):
        for label in LABELS:
            session = roleplay.start(sc)
            for _ in range(6):
                if session.done:
                    break
                roleplay.respond(sc, session, "my reply", [], words(label))
            assert session.done, (sc["id"], label, session.node)


def test_a_full_reply_is_categorised_as_recentring(bank):
    sc = scenarios(bank)[0]
    session = roleplay.start(sc)
    turn = roleplay.respond(
        sc, session, "Glad you asked; no; what prompted it?", [], words("validate", "state_boundary", "recenter")
    )
    assert turn.category == "recenter"


def test_the_transcript_saves_and_resumes(bank, tmp_path):
    sc = scenarios(bank)[0]
    session = roleplay.start(sc)
    roleplay.respond(sc, session, "My diary's full, sorry!", ["gentle_dodge"], words("gentle_dodge"))
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
    roleplay.respond(sc, session, "Go on then, Saturday!", ["validate"], words("collapse_frame"))
    assert not session.done  # a rupture: the client waits for a repair
    roleplay.respond(sc, session, "Anyway, your sister.", [], words("ignore_redirect"))  # the repair is missed
    assert session.done
    with pytest.raises(roleplay.RolePlayError, match="has ended"):
        roleplay.respond(sc, session, "again", ["validate"])


def test_the_client_follows_the_words_not_the_ticks(bank):
    sc = scenarios(bank)[0]
    session = roleplay.start(sc)
    turn = roleplay.respond(
        sc, session, "Busy month, sorry!", ["validate", "state_boundary", "recenter"], words("gentle_dodge")
    )
    branch = sc["nodes"][sc["start"]]["branches"]["gentle_dodge"]
    assert (turn.category, turn.reaction, session.node) == ("gentle_dodge", branch["reaction"], branch["next"])
    d = roleplay.debrief(sc, session)
    r = d.reviews[0]
    assert r.meant == "What you meant: Validate the feeling, State the boundary, Re-center on the work."
    assert r.words_did == "What your words did: Gentle dodge."
    assert "your words also carried Gentle dodge" in r.disagreement and "did not carry Validate" in r.disagreement
    assert d.moves_meant == {"validate": True, "state_boundary": True, "recenter": True}
    assert d.moves_seen == {"validate": False, "state_boundary": False, "recenter": False}
    assert [m["level"] for m in d.model_responses] == [1, 2, 3]


def test_without_a_detector_the_cue_rules_read_the_words(bank):
    """The fallback when the detector cannot load (None, or a detector that returns None) is the cue
    patterns as rules: still the words, never the ticks."""
    sc = scenarios(bank)[0]
    reply = "I'm snowed under at the moment, sorry. Maybe once we've finished?"
    for detector in (None, lambda text, client: None):
        session = roleplay.start(sc)
        turn = roleplay.respond(sc, session, reply, ["validate", "state_boundary", "recenter"], detector)
        assert turn.source == "cue rules" and turn.category in ("gentle_dodge", "mixed_message")
        assert "snowed under" in turn.evidence["gentle_dodge"]["cues"]


class Unsure:
    """A detector that is not sure: mostly a validation, with a fair chance of a mixed message."""

    def __init__(self):
        self.labels = ["validate"]
        self.scores = {lab: 0.0 for lab in LABELS} | {"validate": 0.6, "mixed_message": 0.45}
        self.cues = {"validate": ["i hear you"]}


def test_an_unsure_reading_makes_the_client_ask_and_hides_the_label(bank):
    sc = scenarios(bank)[0]
    session = roleplay.start(sc)
    turn = roleplay.respond(sc, session, "I hear you, it's... hm.", ["validate"], lambda t, c: Unsure())
    assert turn.unsure and turn.category == UNCLEAR and session.node == sc["start"]
    assert turn.confidence == pytest.approx(0.6 * 0.55, abs=0.001)
    assert turn.reaction == (sc["nodes"][sc["start"]].get("unclear") or roleplay.UNCLEAR_REACTION)
    r = roleplay.review(turn)
    assert "Validate" not in r.words_did and "not sure what you meant" in r.words_did and r.disagreement is None
    md = roleplay.transcript_markdown(session, sc)
    assert "*What your words did: they could be heard more than one way" in md and "Validate the feeling (" not in md
    # asked twice in a row, the client goes with the likeliest reading
    turn = roleplay.respond(sc, session, "I hear you.", ["validate"], lambda t, c: Unsure())
    assert turn.category == "validate" and turn.unsure and session.node != sc["start"]
    assert "likeliest" in roleplay.review(turn).words_did
    assert any("could not tell what you meant" in p for p in roleplay.debrief(sc, session).prompts)


def test_a_reply_the_guard_refuses_is_not_taken(bank):
    from framelab.detector.boundary import Refused

    def refusing(text, client):
        raise Refused("This text is very close (91%) to a response in a graded exercise (m1-a01).")

    sc = scenarios(bank)[0]
    session = roleplay.start(sc)
    with pytest.raises(roleplay.RolePlayError, match="graded exercise"):
        roleplay.respond(sc, session, "copied", [], refusing)
    assert session.turns == [] and session.node == sc["start"]


def test_an_older_transcript_without_the_new_fields_still_loads(bank, tmp_path):
    sc = scenarios(bank)[0]
    node = sc["start"]
    old = {
        "format": roleplay.FORMAT,
        "scenario_id": sc["id"],
        "title": sc["title"],
        "node": sc["nodes"][node]["branches"]["validate"]["next"],
        "turns": [
            {
                "node": node,
                "client": "c",
                "reply": "r",
                "ticked": ["validate"],
                "detected": None,
                "category": "validate",
                "reaction": "x",
                "next": "retry",
                "evidence": None,
            }
        ],
    }
    path = tmp_path / "t.json"
    path.write_text(json.dumps(old))
    session = roleplay.load(path, sc)
    assert session.turns[0].source == "given" and session.turns[0].unsure is False


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
    assert "*What you meant: Gentle dodge.*" in md and "*What your words did: Gentle dodge (" in md
    assert "## Model responses" in md and "Level 3." in md
    assert main(["transcript", "export", str(tmp_path / "missing.json")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_the_view_drives_a_whole_conversation(bank, tmp_path):
    from framelab.views.roleplay import RolePlayView

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
    again.restart.click()  # asks first
    assert again.session.done and again.confirm.layout.display != "none"
    again.confirm_yes.click()
    assert again.session.turns == [] and not again.respond.disabled


def test_a_damaged_saved_conversation_is_kept_and_restarted(bank, tmp_path):
    from framelab.views.roleplay import RolePlayView

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


def test_the_view_reads_in_order_and_closes_when_it_ends(bank, tmp_path):
    from framelab.views.roleplay import RolePlayView

    sc = scenarios(bank)[0]
    start = sc["nodes"][sc["start"]]
    view = RolePlayView(sc, tmp_path, words("gentle_dodge"))
    view.reply.value = "My diary is packed just now."
    view.ticks["state_boundary"].value = True  # what the trainee meant; the words say otherwise
    view.respond.click()
    dodge = start["branches"]["gentle_dodge"]
    page = html.unescape(view.log.value + view.reaction.value + view.client.value)
    # the client's line, the reply, the reaction, then the next line, in that order
    order = [start["client"][:30], "My diary is packed just now.", dodge["reaction"][:30]]
    nxt = sc["nodes"][dodge["next"]]["client"][:30]
    assert [page.index(x) for x in [*order, nxt]] == sorted(page.index(x) for x in [*order, nxt])
    assert "role='alert'" in view.reaction.value and html.escape(dodge["reaction"][:20]) in view.reaction.value
    note = html.unescape(view.feedback.value)
    assert "What you meant: State the boundary." in note and "What your words did: Gentle dodge." in note
    view.detector = words("collapse_frame")
    view.reply.value = "Oh go on then, Saturday it is."
    view.respond.click()
    assert not view.session.done and not view.reply.disabled  # a rupture: there is a turn to repair it
    assert html.escape(repair.pause(sc)[:20]) in view.client.value
    view.detector = words("ignore_redirect")
    view.reply.value = "Anyway, how is your sister?"
    view.respond.click()
    assert view.session.done and view.respond.disabled and view.reply.disabled
    assert all(box.disabled for box in view.ticks.values())
    assert "Debrief:" in view.debrief.value and view.show_debrief.disabled
    assert "debrief is below" in view.progress.value and "Press Debrief" not in view.progress.value
    # earlier replies stay on screen
    assert "My diary is packed just now." in html.unescape(view.log.value)
    assert "What you meant: State the boundary" in html.unescape(view.debrief.value)
    assert "What your words did: Gentle dodge" in html.unescape(view.debrief.value)


class SlowDetector:
    """A detector that loads in the background, as framelab.detector.boundary.LazyDetector does."""

    def __init__(self):
        self.ready, self.started = False, []

    def start(self, on_ready=None):
        self.started.append(on_ready)

    def finish(self):
        self.ready = True
        self.started[0]()

    def __call__(self, text, client):
        return ["recenter"]


def test_the_view_starts_loading_the_detector_at_once_and_shows_it_is_busy(bank, tmp_path):
    from framelab.views.roleplay import RolePlayView

    detector = SlowDetector()
    view = RolePlayView(scenarios(bank)[0], tmp_path, detector)
    assert detector.started == []  # nothing loads until the view is on screen (never under nbgrader)
    view.widget._repr_mimebundle_()  # what JupyterLab does to show it
    view.widget._repr_mimebundle_()
    assert len(detector.started) == 1 and "Getting the client ready" in view.busy.value
    detector.finish()
    assert view.busy.value == ""


# --------------------------------------------------------------------------- framelab roleplay


def play(args, capsys):
    code = main(["roleplay", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_roleplay_from_a_file_prints_one_json_line_per_turn(tmp_path, capsys):
    replies = tmp_path / "replies.jsonl"
    lines = [
        {"reply": "Honestly I'd love to stay in touch, but I don't think I'm allowed... "
         "maybe we'll bump into each other", "ticked": ["validate"]},
        {"reply": "I can hear how much these sessions have meant to you. I won't become friends after we finish; "
         "keeping this a counseling relationship protects the work you've done. What makes you ask now?",
         "ticked": ["validate", "state_boundary", "recenter"]},
    ]  # fmt: skip
    replies.write_text("\n".join(json.dumps(x) for x in lines) + "\n\n")
    code, out, err = play(["friends-when-we-finish", "--from", str(ROOT), "--replies", str(replies), "--json"], capsys)
    assert code == 0, err
    turns = [json.loads(line) for line in out.splitlines()]
    assert [t["turn"] for t in turns] == [1, 2]
    for key in ("turn", "client", "reply", "ticked", "read_as", "category", "reaction", "next"):
        assert all(key in t for t in turns), key
    # the words lead: the first reply was ticked as Validate but read, and reacted to, as a mixed message
    assert turns[0]["ticked"] == ["validate"] and turns[0]["category"] == "mixed_message"
    assert "mixed_message" in turns[0]["read_as"] and turns[0]["cues"]["mixed_message"]
    # the same replies from a workspace module folder (content.json) give the same turns
    code, again, _ = play(
        [
            "friends-when-we-finish",
            "--from",
            str(ROOT / "release" / "m1_double_bind"),
            "--replies",
            str(replies),
            "--json",
        ],
        capsys,
    )
    assert code == 0 and again == out


def test_roleplay_names_each_bad_line_and_plays_nothing(tmp_path, capsys):
    replies = tmp_path / "replies.jsonl"
    replies.write_text('{"reply": "fine", "ticked": []}\n{not json\n[1, 2]\n{"reply": "x", "ticked": 3}\n' + "[" * 200)
    code, out, err = play(["coffee-at-the-door", "--from", str(ROOT), "--replies", str(replies), "--json"], capsys)
    assert code == 2 and out == ""
    named = [re.match(rf"{re.escape(str(replies))} line (\d+)\b", line) for line in err.splitlines()]
    assert [m and m.group(1) for m in named] == ["2", "3", "4", "5"]
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no-such-scenario"], "no scenario 'no-such-scenario'"),
        (["coffee-at-the-door", "--json"], "--json needs --replies"),
        (["coffee-at-the-door", "--replies", "/nonexistent/replies.jsonl"], "cannot be read"),
    ],
)
def test_roleplay_bad_arguments_get_one_plain_line(args, message, capsys):
    code, _, err = play([*args, "--from", str(ROOT)], capsys)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_roleplay_outside_a_course_says_where_to_run_it(tmp_path, capsys):
    code, _, err = play(["coffee-at-the-door", "--from", str(tmp_path)], capsys)
    assert code == 2 and "no content.json and no modules/" in err


def test_roleplay_interactive_plays_to_a_debrief(monkeypatch, capsys):
    from framelab.roleplay import terminal

    answers = iter(["Sure, Saturday at ten sounds lovely, count me in!", "1 2 3"])

    def ask(prompt):
        try:
            return next(answers)
        except StopIteration:
            raise EOFError from None  # the trainee stops at the rupture

    code = terminal.play_interactive(terminal.find_scenario(ROOT, "coffee-at-the-door"), ask, __import__("sys").stdout)
    out = capsys.readouterr().out
    assert code == 0 and "Client: (beaming) Grand!" in out
    assert "(What you meant: Validate the feeling, State the boundary, Re-center on the work. What your words" in out
    assert "What you meant: Validate the feeling, State the boundary, Re-center on the work." in out
    assert "What your words did: Collapse the frame" in out


# --------------------------------------------------------------------------- transcript export, bad input


@pytest.fixture
def saved(bank, tmp_path):
    sc = scenarios(bank)[0]
    session = roleplay.start(sc)
    roleplay.respond(sc, session, "Not this month, sorry.", ["gentle_dodge"])
    path = roleplay.transcript_path(tmp_path, sc["id"])
    roleplay.save(session, path)
    (tmp_path / "content.json").write_text(json.dumps({"scenarios": [sc]}))
    return path


def export(args, capsys):
    code = main(["transcript", "export", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda t: [t], "expected an object, found a list"),
        (lambda t: {**t, "node": ["bid"]}, "stops at"),
        (lambda t: {**t, "turns": 3}, "list of turns is damaged"),
        (lambda t: {**t, "turns": [{**t["turns"][0], "ticked": 3}]}, "damaged"),
        (lambda t: {**t, "turns": [{**t["turns"][0], "evidence": {"gentle_dodge": {"cues": 5}}}]}, "damaged"),
        (lambda t: {**t, "turns": [{**t["turns"][0], "hacked": 1}]}, "damaged"),
    ],
)
def test_export_refuses_a_damaged_transcript_in_one_line(saved, capsys, damage, message):
    saved.write_text(json.dumps(damage(json.loads(saved.read_text()))))
    code, out, err = export([saved], capsys)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1 and out == ""


def test_export_refuses_deep_nesting_and_damaged_content(saved, capsys):
    before = saved.read_text()
    saved.write_text("[" * 100_000 + "]" * 100_000)
    code, _, err = export([saved], capsys)
    assert code == 2 and "nested more than" in err and len(err.strip().splitlines()) == 1
    saved.write_text(before)
    content = saved.with_name("content.json")
    for bad, message in [("{oops", "not valid JSON"), ('{"scenarios": [{"title": "x"}]}', "needs an 'id'")]:
        content.write_text(bad)
        code, _, err = export([saved], capsys)
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_export_never_overwrites_without_force_and_never_the_input(saved, tmp_path, capsys):
    before = saved.read_text()
    code, _, err = export([saved, "--out", tmp_path / "missing" / "t.md"], capsys)
    assert code == 2 and "does not exist" in err
    out = tmp_path / "t.md"
    out.write_text("my notes")
    code, _, err = export([saved, "--out", out], capsys)
    assert code == 2 and "already exists" in err and out.read_text() == "my notes"
    assert export([saved, "--out", out, "--force"], capsys)[0] == 0 and "# Role-play:" in out.read_text()
    for target in (saved, saved.with_name("content.json")):
        code, _, err = export([saved, "--out", target, "--force"], capsys)
        assert code == 2 and "never overwritten" in err
    assert saved.read_text() == before
    assert not list(tmp_path.glob(".*.tmp"))


# --------------------------------------------------------------------------- rubrics, arcs, memory


def by_id(bank, sid):
    return next(s for s in scenarios(bank) if s["id"] == sid)


def test_a_rupture_scenario_is_read_and_debriefed_with_the_repair_rubric(bank, tmp_path):
    from framelab.views.roleplay import RolePlayView

    sc = by_id(bank, "you-misunderstood-me")
    assert sc["rubric"] == "repair"
    view = RolePlayView(sc, tmp_path, None)
    assert "Own your part" in view.ticks["state_boundary"].description
    from framelab.core.rubrics import REPAIR, RUBRICS

    # every tick box carries its gloss: what the move means in a repair
    assert view.ticks["state_boundary"].description == RUBRICS[REPAIR].menu_text("state_boundary")
    assert all(": " in box.description for box in view.ticks.values())
    view.reply.value = "Thank you for telling me, Jordan. I got that wrong, and I'm sorry. What was it like to hear it?"
    view.ticks["validate"].value = True
    view.respond.click()
    turn = view.session.turns[0]
    assert turn.source == "repair cues" and turn.category == "recenter"
    assert turn.detected == ["validate", "state_boundary", "recenter"]
    view.on_debrief()
    page = re.sub(r"<[^>]+>", "", html.unescape(view.debrief.value))
    assert "The three repair moves, by what your words did: made Thank them for saying it, Own your part" in page
    assert "State the boundary" not in page and "boundary" not in page.split("Model responses")[0].lower()


@pytest.mark.parametrize(
    ("reply", "category"),
    [
        ("I only meant it as one idea; it's a standard approach to wonder about family.", "vague_rule"),
        ("I'm sorry if it came across that way, but I still think it's worth looking at.", "mixed_message"),
        ("Oh god, I'm so, so sorry, I feel terrible. Have a free session on me.", "collapse_frame"),
        ("Let's park that for now and come back to it later.", "gentle_dodge"),
        ("Don't worry about it. Anyway, how was your week?", "ignore_redirect"),
        ("You're right, that was my mistake.", "state_boundary"),
    ],
)
def test_the_repair_cues_hear_the_backfires(reply, category):
    from framelab.roleplay.reading import by_repair_cues

    assert by_repair_cues(reply).category == category


def test_the_client_remembers_an_earlier_maybe(bank):
    sc = by_id(bank, "friends-when-we-finish")
    session = roleplay.start(sc)
    roleplay.respond(sc, session, "Maybe after we finish!", [], words("gentle_dodge"))
    assert session.node == "retry"
    line = roleplay.client_line(sc, session)
    stage, words_ = sc["nodes"]["retry"]["client"].split(") ", 1)  # the memory comes after the stage direction
    assert line == f"{stage}) {sc['nodes']['retry']['remember']['gentle_dodge']} {words_}"
    turn = roleplay.respond(sc, session, "Again, maybe.", [], words("recenter"))
    assert turn.client == line  # the transcript keeps what the client actually said


def test_good_moves_earn_trust_but_the_client_tests_again(bank):
    """The fullest reply every time takes four turns or more: the client comes back and tests again
    (tests/test_roleplay_arcs.py walks every scenario's arc in detail)."""
    arcs = ["friends-when-we-finish", "you-misunderstood-me", "graduation-day", "coffee-at-the-door"]
    more = ["after-the-final-session", "wanting-to-stop", "follow-request", "supermarket-meeting", "your-private-life"]
    more += ["evening-texts", "questions-about-you", "attraction-disclosure"]
    for sid in [*arcs, *more]:
        sc = by_id(bank, sid)
        session = roleplay.start(sc)
        while not session.done:
            roleplay.respond(sc, session, "A full reply.", [], words("validate", "state_boundary", "recenter"))
        assert len(session.turns) >= 4, sid
        assert any(t.node == "test" and sc["nodes"]["test"]["retest"] for t in session.turns), sid
        endings = {b["reaction"] for n in sc["nodes"].values() for b in n["branches"].values() if b["next"] == "END"}
        assert len(endings) >= 8, sid


def test_the_view_does_not_name_a_label_when_the_reading_was_unsure(bank, tmp_path):
    from framelab.views.roleplay import RolePlayView

    sc = scenarios(bank)[0]
    view = RolePlayView(sc, tmp_path, lambda t, c: Unsure())
    view.reply.value = "I hear you, it's... hm."
    view.respond.click()
    shown = html.unescape(view.feedback.value + view.reaction.value + view.client.value)
    assert "not sure what you meant" in shown and "Validate the feeling" not in shown
    assert view.client.value == ""  # the client's question is the prompt; the line is not repeated


# --------------------------------------------------------------------------- property-based: any saved JSON


def _json_values():
    from hypothesis import strategies as st

    scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
    return st.recursive(
        scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    )


def _transcripts():
    """Transcript-shaped objects with any field swapped for any JSON value."""
    from hypothesis import strategies as st

    turn = st.fixed_dictionaries(
        {
            "node": st.sampled_from(["bid", "retry", "END"]) | _json_values(),
            "client": st.text(max_size=10) | _json_values(),
            "reply": st.text(max_size=10) | _json_values(),
            "ticked": st.lists(st.sampled_from(LABELS), max_size=3) | _json_values(),
            "detected": st.none() | st.lists(st.sampled_from(LABELS), max_size=3) | _json_values(),
            "category": st.sampled_from([*LABELS, UNCLEAR]) | _json_values(),
            "reaction": st.text(max_size=10),
            "next": st.sampled_from(["retry", "END"]),
            "evidence": st.none() | _json_values(),
        },
        optional={"unsure": st.booleans() | _json_values(), "confidence": _json_values(), "source": _json_values()},
    )
    return (
        st.fixed_dictionaries(
            {
                "format": st.just(roleplay.FORMAT),
                "scenario_id": st.just("coffee-at-the-door"),
                "title": _json_values(),
                "node": st.sampled_from(["bid", "retry", "END"]) | _json_values(),
                "turns": st.lists(turn, max_size=3) | _json_values(),
            }
        )
        | _json_values()
    )


def test_any_saved_json_is_read_or_refused_in_one_plain_line(bank, tmp_path):
    from hypothesis import HealthCheck, given, settings

    sc = by_id(bank, "coffee-at-the-door")
    (tmp_path / "content.json").write_text(json.dumps({"scenarios": [sc]}))
    path = tmp_path / "roleplay-coffee-at-the-door.json"

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(_transcripts())
    def check(data):
        path.write_text(json.dumps(data))
        try:
            session = roleplay.load(path, sc)
        except roleplay.RolePlayError:
            session = None
        if session is not None:
            roleplay.transcript_markdown(session, sc)  # whatever loads also renders
            roleplay.debrief(sc, session)
        code = main(["transcript", "export", str(path)])
        assert code in (0, 2)

    check()


def test_any_replies_file_is_read_or_named_line_by_line(tmp_path):
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from framelab.roleplay import terminal

    path = tmp_path / "replies.jsonl"
    line = st.text(max_size=30) | _json_values().map(json.dumps)

    @settings(max_examples=150, deadline=None)
    @given(st.lists(line, max_size=5))
    def check(lines):
        path.write_text("\n".join(x.replace("\n", " ") for x in lines), encoding="utf-8", errors="surrogatepass")
        try:
            replies = terminal.read_replies(path)
        except terminal.TerminalError as exc:
            assert all(f"{path} line " in problem for problem in str(exc).splitlines())
        else:
            assert all(isinstance(r, str) and set(t) <= set(LABELS) for _, r, t in replies)

    check()
