"""Practice logic as plain functions, and the widgets driven from Python (no browser)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from framelab.core.vocabulary import LABELS
from framelab.learner import practice
from framelab.roleplay import reactions
from framelab.views.lesson import Lesson

SCENARIO = {
    "id": "door",
    "title": "At the door",
    "context": {"stage": "Session 12.", "background": "A client."},
    "start": "bid",
    "nodes": {
        "bid": {
            "client": "Coffee?",
            "branches": {lab: {"reaction": f"reacts to {lab}", "next": "END"} for lab in LABELS},
        }
    },
    "sample_replies": [
        {"text": "My week is mad.", "labels": ["gentle_dodge"], "note": "A dodge."},
        {
            "text": "Glad you asked; no; what prompted it?",
            "labels": ["validate", "state_boundary", "recenter"],
            "note": "All three.",
        },
    ],
    "model_responses": [{"level": 1, "text": "x", "commentary": "y"}],
}

PRACTICE = [
    {
        "id": "p1",
        "situation": "coffee",
        "client": "Coffee?",
        "text": "Busy, sorry.",
        "labels": ["gentle_dodge"],
        "rationale": "Busy is temporary.",
        "difficulty": 1,
    },
    {
        "id": "p2",
        "situation": "gift",
        "client": "A gift!",
        "text": "Glad; no; why?",
        "labels": ["validate", "state_boundary", "recenter"],
        "rationale": "All three moves.",
        "difficulty": 2,
    },
]


def test_assess_reports_found_missed_and_extra():
    v = practice.assess(["validate", "gentle_dodge"], ["validate", "state_boundary"])
    assert not v.exact
    assert (v.found, v.missed, v.extra) == (["validate"], ["state_boundary"], ["gentle_dodge"])
    assert v.lines()[0] == "Not quite."
    assert practice.assess(["recenter"], ["recenter"]).lines() == [
        "Exactly right.",
        "You spotted: Re-center on the work.",
    ]
    assert practice.assess([], ["recenter"]).lines() == ["Choose at least one label first."]


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        (["validate", "state_boundary", "recenter"], "recenter"),
        (["validate", "state_boundary"], "state_boundary"),
        (["validate", "gentle_dodge"], "gentle_dodge"),
        (["gentle_dodge", "mixed_message"], "mixed_message"),
        (["validate", "collapse_frame"], "collapse_frame"),
        (["validate"], "validate"),
    ],
)
def test_the_dominant_label_decides_the_reaction(labels, expected):
    assert reactions.category(labels) == expected
    assert reactions.react(SCENARIO, "bid", labels).reaction == f"reacts to {expected}"


def test_category_needs_a_label():
    with pytest.raises(ValueError, match="at least one label"):
        reactions.category([])


def test_practice_deck_checks_and_explains():
    from framelab.views.widgets import PracticeDeck

    deck = PracticeDeck(PRACTICE)
    assert "Busy, sorry." in deck.prompt.value and deck.previous.disabled
    deck.boxes["gentle_dodge"].value = True
    deck.check.click()
    assert "Exactly right." in deck.feedback.value and "Busy is temporary." in deck.feedback.value
    deck.next.click()
    assert deck.index == 1 and deck.feedback.value == "" and not any(b.value for b in deck.boxes.values())
    deck.boxes["validate"].value = True
    assert deck.on_check() is False
    assert "Also there: State the boundary, Re-center on the work." in deck.feedback.value
    assert deck.next.disabled


def test_reply_picker_shows_the_reaction():
    from framelab.views.widgets import ReplyPicker

    picker = ReplyPicker(SCENARIO)
    picker.say.click()
    assert "Choose a reply first." in picker.reaction.value
    picker.choice.value = 0
    picker.say.click()
    assert (
        "reacts to “Gentle dodge”" in picker.reaction.value
    )  # the code, written as its name and "A dodge." in picker.reaction.value
    picker.choice.value = 1
    assert picker.on_say().category == "recenter"


def make_lesson(tmp_path) -> Lesson:
    content = {
        "format": "framelab-content/1",
        "module": {"id": "m9", "folder": "m9_test", "title": "Test", "minutes": 5},
        "exercises": {
            "quiz": {
                "kind": "single_label",
                "title": "Quiz",
                "items": [
                    {"id": "a1", "client": "Coffee?", "text": "Rules say no."},
                    {"id": "a2", "client": "Friends?", "text": "Maybe later!"},
                ],
            }
        },
        "practice": PRACTICE,
        "practice_vignettes": [],
        "scenarios": [SCENARIO],
    }
    (tmp_path / "content.json").write_text(json.dumps(content))
    return Lesson.here(tmp_path)


def test_exercise_menus_save_every_change_and_come_back(tmp_path, monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    lesson = make_lesson(tmp_path)
    ex = lesson.exercise("quiz")
    picks = ex.pick()
    assert picks == {}
    ex.view.menus["a1"].value = "vague_rule"
    ex.view.menus["a2"].value = "gentle_dodge"
    ex.view.menus["a2"].value = "mixed_message"
    assert picks == {"a1": "vague_rule", "a2": "mixed_message"}  # the returned dict stays current
    assert type(picks) is dict
    assert "Saved. 2 of 2 items answered." in ex.view.status.value
    # a new kernel: the saved file brings the choices back
    again = make_lesson(tmp_path).exercise("quiz")
    assert again.pick() == {"a1": "vague_rule", "a2": "mixed_message"}
    assert again.view.menus["a1"].value == "vague_rule"
    ex.view.menus["a1"].value = ""
    assert json.loads((tmp_path / "answers.json").read_text())["exercises"]["quiz"] == {"a2": "mixed_message"}


def test_instructor_solution_is_shown_but_never_saved(tmp_path, monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    ex = make_lesson(tmp_path).exercise("quiz")
    assert ex.pick({"a1": "vague_rule"}) == {"a1": "vague_rule"}
    assert ex.view.menus["a1"].disabled
    assert not (tmp_path / "answers.json").exists()


def test_a_broken_answers_file_is_kept_and_the_trainee_told(tmp_path, monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    lesson = make_lesson(tmp_path)
    (tmp_path / "answers.json").write_text("{oops")
    ex = lesson.exercise("quiz")
    assert ex.pick() == {}
    assert "kept as answers.broken-" in ex.view.status.value
    assert len(list(tmp_path.glob("answers.broken-*.json"))) == 1


def test_under_grading_nothing_is_displayed_and_files_are_left_alone(tmp_path, monkeypatch, capsys):
    lesson = make_lesson(tmp_path)
    (tmp_path / "answers.json").write_text("{oops")
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    ex = lesson.exercise("quiz")
    assert ex.pick() == {} and ex.view is None
    assert "could not be used" in capsys.readouterr().out
    assert (tmp_path / "answers.json").read_text() == "{oops"


def test_missing_content_file_says_what_to_do(tmp_path):
    from framelab.views.lesson import ContentError

    with pytest.raises(ContentError, match=r"content\.json is missing"):
        Lesson.here(tmp_path)


def test_unknown_exercise_and_scenario_name_the_choices(tmp_path):
    lesson = make_lesson(tmp_path)
    with pytest.raises(KeyError, match="there are: quiz"):
        lesson.exercise("nope")
    with pytest.raises(KeyError, match="there are: door"):
        lesson.scenario("nope")


def test_tick_box_exercise_saves_sets(tmp_path, monkeypatch):
    from framelab.core.vocabulary import OPTION_SETS

    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    lesson = make_lesson(tmp_path)
    options, multi = OPTION_SETS["moves"]
    lesson.content["exercises"]["moves"] = {
        "kind": "moves",
        "title": "Which moves?",
        "multi": multi,
        "options": [[v, t] for v, t in options.items()],
        "items": [{"id": "a1", "client": "Coffee?", "text": "Glad you asked; no; what prompted it?"}],
    }
    ex = lesson.exercise("moves")
    picks = ex.pick()
    ex.view.ticks["a1"]["validate"].value = True
    ex.view.ticks["a1"]["recenter"].value = True
    assert picks == {"a1": ["validate", "recenter"]}
    ex.view.ticks["a1"]["validate"].value = False
    ex.view.ticks["a1"]["recenter"].value = False
    assert picks == {}  # nothing ticked is no answer, not an empty answer
    ex.view.ticks["a1"]["none"].value = True
    again = Lesson.here(tmp_path)
    again.content["exercises"]["moves"] = lesson.content["exercises"]["moves"]
    ex2 = again.exercise("moves")
    assert ex2.pick() == {"a1": ["none"]} and ex2.view.ticks["a1"]["none"].value


def test_vignette_deck_asks_two_questions(tmp_path, monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    lesson = make_lesson(tmp_path)
    lesson.content["practice_vignettes"] = [
        {
            "id": "v1",
            "situation": "x",
            "text": "The client expects the therapist to leave, like her mother did.",
            "relation": "transference",
            "next_action": "explore_in_session",
            "rationale": "An old pattern.",
            "difficulty": 1,
        },
        {
            "id": "v2",
            "situation": "y",
            "text": "A boundary vignette.",
            "boundary_kind": "role",
            "crossing_or_violation": "violation",
            "rationale": "r",
            "difficulty": 1,
        },
        {
            "id": "v3",
            "situation": "z",
            "text": "The therapist apologises so much that the client comforts her.",
            "alliance_effect": "strains",
            "rationale": "The roles reverse.",
            "difficulty": 3,
        },
    ]
    assert lesson.practice_vignettes() is None  # nothing for the notebook to print
    deck = lesson.view
    assert len(deck.items) == 1 and "like her mother did" in deck.prompt.value
    deck.menus["relation"].value = "transference"
    deck.menus["next_action"].value = "respond_practically"
    assert deck.on_check() is False
    assert "Right: Transference" in deck.feedback.value and "The answer is: Explore it together" in deck.feedback.value
    assert "Why: An old pattern." in deck.feedback.value
    deck.menus["next_action"].value = "explore_in_session"
    assert deck.on_check() is True

    # the boundary deck takes the other vignettes, and asks which boundary and how serious
    assert lesson.practice_boundaries() is None  # nothing for the notebook to print
    boundaries = lesson.view
    assert len(boundaries.items) == 1 and "A boundary vignette." in boundaries.prompt.value
    boundaries.menus["boundary_kind"].value = "role"
    boundaries.menus["crossing_or_violation"].value = "crossing"
    assert boundaries.on_check() is False
    assert "Right: Role" in boundaries.feedback.value and "The answer is: A violation" in boundaries.feedback.value
    boundaries.menus["crossing_or_violation"].value = "violation"
    assert boundaries.on_check() is True

    # the alliance deck (Module 5) takes only alliance vignettes and asks one question
    assert lesson.practice_alliance() is None  # nothing for the notebook to print
    alliance = lesson.view
    assert len(alliance.items) == 1 and "comforts her" in alliance.prompt.value
    assert list(alliance.menus) == ["alliance_effect"]
    alliance.menus["alliance_effect"].value = "strengthens"
    assert alliance.on_check() is False
    assert (
        "The answer is: Strains the alliance" in alliance.feedback.value
        and "The roles reverse." in alliance.feedback.value
    )
    alliance.menus["alliance_effect"].value = "strains"
    assert alliance.on_check() is True
    with pytest.raises(ValueError, match="no practice items"):
        lesson.practice_alliance(max_difficulty=2)  # the one alliance vignette is harder than that


def test_a_choice_replaces_the_items_check_line(tmp_path, monkeypatch):
    """The check cell's 'not answered yet' line is replaced (same display id), not left stale."""
    import framelab.views.lesson as nbmod
    from framelab.scoring.checks import display_id

    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    shown: list[tuple[str, str, str]] = []
    monkeypatch.setattr(nbmod, "_update_check_line", lambda item, kind, line: shown.append((item, kind, line)))
    ex = make_lesson(tmp_path).exercise("quiz")
    ex.pick()
    ex.view.menus["a1"].value = "vague_rule"
    ex.view.menus["a1"].value = ""
    assert shown == [
        ("a1", "single_label", "Item 1: answered."),
        ("a1", "single_label", "Item 1: not answered yet. Choose in the menu above."),
    ]  # named by its place in the exercise, as its menu is, never by the bank's id
    assert display_id("a1") != display_id("a1", "relation")  # one vignette, two questions: two lines


def test_views_are_accessible_by_construction(tmp_path, monkeypatch):
    """Headings one level below the notebook's sections, feedback announced, one choice as a radio group,
    menus that read as instructions, and one shared style sheet in JupyterLab's type scale."""
    from framelab.views.choice import ChoiceGroup
    from framelab.views.widgets import PLACEHOLDER, STYLE, PracticeDeck, ReplyPicker

    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    ex = make_lesson(tmp_path).exercise("quiz")
    ex.pick()
    first = ex.view.widget.children[0].value
    assert "<h3 class='framelab-heading'>Item 1" in first and "<h4" not in first and STYLE in first
    assert ex.view.menus["a1"].options[0] == (PLACEHOLDER, "") and not PLACEHOLDER.startswith("(")
    assert "0 of 2 items answered in “Quiz”." in ex.view.status.value
    picker = ReplyPicker(SCENARIO)
    assert isinstance(picker.choice, ChoiceGroup) and picker.choice.horizontal and picker.choice.label == "Your reply"
    assert "<h3 class='framelab-heading'>" in picker.setting.value
    picker.choice.value = 0
    picker.on_say()
    assert picker.reaction.value.startswith("<div role='alert'>")
    deck = PracticeDeck(PRACTICE)
    deck.on_check()
    assert "role='alert'" in deck.feedback.value
    vignettes = PracticeDeck(
        [{"id": "v", "text": "x", "relation": "transference", "rationale": "r"}], practice.vignette_questions()
    )
    assert all(isinstance(m, ChoiceGroup) and m.label for m in vignettes.menus.values())  # named by the question
    assert "--jp-content-font-size1" in STYLE and "--jp-content-line-height" in STYLE
    assert "--jp-content-font-color2" not in STYLE + picker.setting.value  # grey text was barely 4.5:1


def test_each_modules_time_has_one_source():
    """module.yaml's minutes is what each notebook's top line and Module 0's course table say."""
    import re

    import yaml
    from conftest import ROOT

    minutes = {}
    for meta in sorted((ROOT / "modules").glob("*/module.yaml")):
        data = yaml.safe_load(meta.read_text(encoding="utf-8"))
        minutes[data["id"][1:]] = data["minutes"]
    table: dict[str, int] = {}
    for nb_path in sorted((ROOT / "source").glob("m*/m*.ipynb")):
        nb = json.loads(nb_path.read_text(encoding="utf-8"))
        cells = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"]
        number = nb_path.stem[1:].split("_")[0]
        assert f"*About {minutes[number]} minutes." in cells[0], nb_path.name
        for cell in cells:
            table.update({n: int(t) for n, t in re.findall(r"^\| (\d)\. .*\| (\d+) min \|$", cell, re.M)})
    assert table == minutes  # Module 0's table lists every module, with the same times


def test_a_choice_group_reads_like_radio_buttons_and_refuses_other_values():
    from framelab.views import choice
    from framelab.views.choice import ChoiceGroup

    group = ChoiceGroup([("A", 2), ("B", 0)], "Your reply", horizontal=True)
    assert group.value is None and group.index == -1 and group.options == [("A", 2), ("B", 0)]
    group.value = 0
    assert group.index == 1 and group.value == 0
    group.index = 0  # what the page sends when A is chosen
    assert group.value == 2
    group.index = 9  # an index the page should never send is no choice, not a crash
    assert group.value is None
    with pytest.raises(ValueError, match="not one of"):
        group.value = 5
    state = group.get_state()
    assert state["labels"] == ["A", "B"] and state["label"] == "Your reply" and state["horizontal"] is True
    script = (Path(choice.__file__).parent / "static" / "choice.js").read_text(encoding="utf-8")
    assert 'input.type = "radio"' in script and "input.name = name" in script  # one native group
    assert '"radiogroup"' in script and "aria-labelledby" in script and "stopPropagation" in script


def test_quotes_and_notes_come_from_one_place_and_keep_the_trainees_words():
    from framelab.views import roleplay_html as roleplay_view
    from framelab.views import widgets
    from framelab.views.parts import note, quote

    assert widgets.quote is quote and roleplay_view.quote is quote and roleplay_view.note is note
    assert "“Collapse the frame”" in quote("Client", "that would be collapse_frame")  # course text: names
    assert "that would be collapse_frame" in quote("You", "that would be collapse_frame", you=True)  # as typed
    assert "framelab-you" in quote("You", "x", you=True) and "framelab-you" in widgets.STYLE
    assert note(["x"], announce=True).startswith("<div role='alert' ")
    assert "aria-live='polite'" in note(["x"]) and "role=" not in note(["x"], live=False)


def test_the_installed_jupyterlab_extension_is_the_one_in_the_source_tree():
    """make install copies src/framelab/labextension into the environment, where JupyterLab finds it."""
    import sys

    import framelab

    source = Path(framelab.__file__).parent / "labextension"
    installed = Path(sys.prefix) / "share" / "jupyter" / "labextensions" / "framelab"
    for name in ("package.json", "static/remoteEntry.js"):
        assert (installed / name).read_bytes() == (source / name).read_bytes(), f"run make install again ({name})"
    meta = json.loads((source / "package.json").read_text(encoding="utf-8"))
    assert meta["name"] == installed.name and (source / meta["jupyterlab"]["_build"]["load"]).exists()


def test_busy_disables_the_button_at_once_and_restores_it():
    import ipywidgets as w

    from framelab.views.parts import busy

    button, status = w.Button(description="Check"), w.HTML()
    with pytest.raises(RuntimeError), busy(button, "Checking...", status):
        assert button.disabled and button.description == "Checking..." and "Checking..." in status.value
        raise RuntimeError("the work failed")
    assert not button.disabled and button.description == "Check"  # put back, whatever happened


def test_repair_deck_asks_and_answers_in_the_repair_rubrics_names(tmp_path, monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    lesson = make_lesson(tmp_path)
    rupture = {
        "id": "r1",
        "situation": "late-start",
        "client": "You were twenty minutes late and said nothing.",
        "text": "You're right, and thank you for saying it. I was late, and that's on me.",
        "labels": ["validate", "state_boundary"],
        "rationale": "Thanks, then owns it.",
        "difficulty": 1,
        "rubric": "repair",
    }
    bid = {**rupture, "id": "b1", "rubric": "three_moves", "labels": ["validate"]}
    lesson.content["practice"] = [bid, rupture]
    lesson.practice_repair()
    deck = lesson.view
    assert [it["id"] for it in deck.items] == ["r1"]  # replies to ruptures only
    assert "Own your part" in deck.boxes["state_boundary"].description
    deck.boxes["validate"].value = True
    assert deck.on_check() is False
    assert "Thank them for saying it" in deck.feedback.value and "Own your part" in deck.feedback.value
    assert "Validate the feeling" not in deck.feedback.value
    lesson.practice()  # the boundary deck leaves the ruptures out
    assert [it["id"] for it in lesson.view.items] == ["b1"]
