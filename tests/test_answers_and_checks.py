"""The saved-answers file and the checks the notebooks' test cells call."""

from __future__ import annotations

import json

import pytest

from framelab.scoring import answers as store
from framelab.scoring.checks import AnswerProblem, check_answer, grade_answer, status_line


def test_write_then_read_round_trip(tmp_path):
    path = tmp_path / store.FILENAME
    store.write(path, "quiz", {"a": "validate", "b": "recenter"})
    store.write(path, "other", {"c": ["validate", "recenter"]})
    assert store.read(path) == {"quiz": {"a": "validate", "b": "recenter"}, "other": {"c": ["validate", "recenter"]}}


def test_missing_file_means_no_answers_yet(tmp_path):
    assert store.read(tmp_path / "nope.json") == {}


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ('{"format": "framelab-answers/1", "exercises": {"quiz": {"a": "valid', "not readable JSON"),
        ('["not", "a", "mapping"]', "not a Frame Lab answers file"),
        ('{"format": "framelab-answers/1", "exercises": {"quiz": {"a": 7}}}', "not a label"),
        ('{"format": "framelab-answers/1", "exercises": {"quiz": {"a": {"x": 1}}}}', "not a label"),
        ('{"format": "framelab-answers/1", "exercises": {"quiz": ["a"]}}', "not a mapping"),
    ],
)
def test_bad_answer_files_get_a_plain_reason(tmp_path, content, reason):
    path = tmp_path / store.FILENAME
    path.write_text(content)
    with pytest.raises(store.AnswerFileError, match=reason):
        store.read(path)


def test_huge_answer_file_is_refused_unread(tmp_path):
    path = tmp_path / store.FILENAME
    path.write_text(" " * (store.MAX_BYTES + 1))
    with pytest.raises(store.AnswerFileError, match="far larger"):
        store.read(path)


def test_a_broken_file_is_set_aside_not_overwritten(tmp_path):
    path = tmp_path / store.FILENAME
    path.write_text("{broken")
    store.write(path, "quiz", {"a": "validate"})
    kept = list(tmp_path.glob("answers.broken-*.json"))
    assert len(kept) == 1 and kept[0].read_text() == "{broken"
    assert store.read(path) == {"quiz": {"a": "validate"}}


def test_blank_choices_are_not_saved(tmp_path):
    path = tmp_path / store.FILENAME
    store.write(path, "quiz", {"a": "", "b": "validate"})
    assert json.loads(path.read_text())["exercises"]["quiz"] == {"b": "validate"}


class RiggedStr(str):
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = str.__hash__


class RiggedDict(dict):
    def get(self, key, default=None):
        return "gentle_dodge"


def test_grade_answer_passes_only_the_gold_label():
    grade_answer({"i1": "gentle_dodge"}, "i1", "gentle_dodge")
    with pytest.raises(AnswerProblem, match="you chose 'vague_rule'; the expected answer is 'gentle_dodge'"):
        grade_answer({"i1": "vague_rule"}, "i1", "gentle_dodge")
    with pytest.raises(AnswerProblem, match="no answer was chosen"):
        grade_answer({}, "i1", "gentle_dodge")


@pytest.mark.parametrize(
    "answers",
    [
        {"i1": RiggedStr("vague_rule")},
        RiggedDict({"i1": "vague_rule"}),
        {"i1": ["gentle_dodge"]},
        None,
        "gentle_dodge",
    ],
)
def test_grade_answer_does_not_trust_the_answer_object(answers):
    with pytest.raises(AnswerProblem):
        grade_answer(answers, "i1", "gentle_dodge")


def test_check_answer_reports_missing_without_failing(capsys):
    assert check_answer({}, "i1") is None  # nothing for the notebook to echo a second time
    check_answer({"i1": "validate"}, "i1")
    assert capsys.readouterr().out == "Item i1: not answered yet. Choose in the menu above.\nItem i1: answered.\n"


def test_check_answer_names_the_nearest_label():
    with pytest.raises(
        AnswerProblem, match=r"'gental_dodge' is not one of the eight labels\. Did you mean 'gentle_dodge'"
    ):
        check_answer({"i1": "gental_dodge"}, "i1")


def test_check_answer_rejects_subclasses():
    with pytest.raises(AnswerProblem, match="not one of the choices"):
        check_answer({"i1": RiggedStr("validate")}, "i1")
    with pytest.raises(AnswerProblem, match="not read from the menus"):
        check_answer(RiggedDict(), "i1")


def test_moves_items_need_exactly_the_right_set():
    grade_answer({"i1": ["validate", "recenter"]}, "i1", ["validate", "recenter"], kind="moves")
    grade_answer({"i1": ["recenter", "validate"]}, "i1", ["validate", "recenter"], kind="moves")
    grade_answer({"i1": ["none"]}, "i1", ["none"], kind="moves")
    # claiming every move earns nothing unless every move is there
    with pytest.raises(AnswerProblem, match="expected answer is 'validate, recenter'"):
        grade_answer({"i1": ["validate", "state_boundary", "recenter"]}, "i1", ["validate", "recenter"], kind="moves")
    with pytest.raises(AnswerProblem, match="cannot be ticked together"):
        grade_answer({"i1": ["none", "validate"]}, "i1", ["validate"], kind="moves")
    with pytest.raises(AnswerProblem, match="ticked twice"):
        grade_answer({"i1": ["validate", "validate"]}, "i1", ["validate"], kind="moves")
    with pytest.raises(AnswerProblem, match="tick the boxes"):
        grade_answer({"i1": "validate"}, "i1", ["validate"], kind="moves")
    with pytest.raises(AnswerProblem, match="not one of the choices"):
        grade_answer({"i1": [RiggedStr("validate")]}, "i1", ["validate"], kind="moves")


def test_vignette_kinds_check_their_own_choices():
    grade_answer({"v1": "transference"}, "v1", "transference", kind="relation")
    with pytest.raises(AnswerProblem, match=r"Did you mean 'transference'"):
        check_answer({"v1": "transferance"}, "v1", kind="relation")
    with pytest.raises(AnswerProblem, match="'validate' is not one of the choices"):
        check_answer({"v1": "validate"}, "v1", kind="next_action")
    assert status_line({"v1": "reflect_and_supervise"}, "v1", kind="next_action") == "Item v1: answered."


def test_check_lines_name_items_by_their_place_once_the_exercise_is_shown():
    """A trainee sees "Item 2", as the menus say, never the bank's id; a script without the
    exercise shown still gets the id, so its output can be traced."""
    from framelab.scoring.checks import name_items

    assert status_line({}, "m9-r002") == "Item m9-r002: not answered yet. Choose in the menu above."
    name_items(["m9-r001", "m9-r002"])
    assert status_line({"m9-r002": "validate"}, "m9-r002") == "Item 2: answered."
    with pytest.raises(AnswerProblem, match=r"^Item 1: 'valdate' is not one of the eight labels"):
        status_line({"m9-r001": "valdate"}, "m9-r001")
