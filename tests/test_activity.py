"""Time spent: stretches of work recorded beside a module notebook (framelab.learner.activity)."""

from __future__ import annotations

import fnmatch
import json

from conftest import ROOT
from traitlets.config.loader import PyFileConfigLoader

from framelab.learner import activity
from framelab.views.lesson import Lesson

T0 = 1_800_000_000


def test_actions_close_together_make_one_stretch(tmp_path):
    for seconds in (0, 30, 400, 400 + activity.IDLE_GAP):  # each within the gap of the one before
        activity.touch(tmp_path, now=T0 + seconds)
    assert activity.read(tmp_path) == [[T0, T0 + 400 + activity.IDLE_GAP]]
    activity.touch(tmp_path, now=T0 + 400 + 2 * activity.IDLE_GAP + 1)  # a longer pause: a new stretch
    assert len(activity.read(tmp_path)) == 2
    assert activity.seconds(tmp_path) == 400 + activity.IDLE_GAP


def test_a_clock_that_went_backwards_starts_a_new_stretch(tmp_path):
    activity.touch(tmp_path, now=T0)
    activity.touch(tmp_path, now=T0 + 100)
    activity.touch(tmp_path, now=T0 - 5000)
    assert activity.seconds(tmp_path) == 100 and len(activity.read(tmp_path)) == 2


def test_a_damaged_file_is_set_aside_not_lost(tmp_path):
    (tmp_path / activity.FILENAME).write_text("{not json", encoding="utf-8")
    assert activity.seconds(tmp_path) == 0
    activity.touch(tmp_path, now=T0)
    kept = list(tmp_path.glob("activity.broken-*.json"))
    assert len(kept) == 1 and kept[0].read_text(encoding="utf-8") == "{not json"
    assert activity.read(tmp_path) == [[T0, T0]]


def test_many_stretches_are_merged_keeping_the_total(tmp_path, monkeypatch):
    monkeypatch.setattr(activity, "MAX_SPANS", 3)
    for day in range(5):
        activity.touch(tmp_path, now=T0 + day * 86400)
        activity.touch(tmp_path, now=T0 + day * 86400 + 60)
    assert len(activity.read(tmp_path)) == 3 and activity.seconds(tmp_path) == 5 * 60


def test_a_folder_that_cannot_be_written_never_stops_the_work(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    from framelab.core import files

    monkeypatch.setattr(files.tempfile, "mkstemp", refuse)  # as in a read-only folder (root ignores modes)
    activity.touch(tmp_path, now=T0)  # no exception
    assert not (tmp_path / activity.FILENAME).exists()


def test_the_record_is_written_whole_or_not_at_all(tmp_path, monkeypatch):
    """The write goes through framelab.core.files (temporary name, then rename): a failure leaves the old record."""
    from framelab.core import files

    activity.touch(tmp_path, now=T0)
    before = (tmp_path / activity.FILENAME).read_text(encoding="utf-8")

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "replace", fail)
    activity.touch(tmp_path, now=T0 + 60)  # no exception
    assert (tmp_path / activity.FILENAME).read_text(encoding="utf-8") == before
    assert [p.name for p in tmp_path.iterdir()] == [activity.FILENAME]  # no temporary file left behind


def test_describe():
    assert [activity.describe(s) for s in (0, 20, 60, 17 * 60, 3900)] == [
        "0 min",
        "under a minute",
        "1 min",
        "17 min",
        "1 h 05 min",
    ]


def test_practice_and_graded_choices_count_as_work(tmp_path, monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    release = ROOT / "release" / "m1_double_bind"
    (tmp_path / "content.json").write_text((release / "content.json").read_text(encoding="utf-8"), encoding="utf-8")
    lesson = Lesson.here(tmp_path)
    assert not (tmp_path / activity.FILENAME).exists()  # opening a notebook is not work yet
    assert lesson.practice() is None  # nothing for the notebook to print
    deck = lesson.view
    deck.on_check()
    assert len(activity.read(tmp_path)) == 1
    ex = lesson.exercise("backfires")
    ex.pick()
    first = ex.item_ids[0]
    ex.view.menus[first].value = "validate"
    spans = activity.read(tmp_path)
    assert len(spans) == 1 and json.loads((tmp_path / "answers.json").read_text())["exercises"]["backfires"]


def test_time_records_stay_out_of_submissions():
    """nbgrader's own ignore list (used by generate_assignment, submit and collect) names the file."""
    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    patterns = config["CourseDirectory"]["ignore"]
    assert any(fnmatch.fnmatch(activity.FILENAME, p) for p in patterns), patterns
    assert not any(fnmatch.fnmatch("answers.json", p) for p in patterns)
