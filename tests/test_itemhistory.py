"""Item statistics kept across cohorts, and the flags framelab validate reports from them."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path

import pytest

from framelab.instructor import itemhistory as ih
from framelab.instructor.itemanalysis import ItemRow, Mark, item_rows

WHEN = datetime(2026, 12, 5, tzinfo=UTC)


def row(item: str, p: float, r: float, n: int = 12, assignment: str = "m1_double_bind") -> ItemRow:
    return ItemRow(assignment, item, False, n, 1.0, p, r, "")


def test_a_cohort_reported_again_replaces_its_entry(tmp_path):
    path = tmp_path / ih.HISTORY_FILE
    cohort = ih.cohort_name(["t2", "t1", "t1"])
    assert cohort == ih.cohort_name(["t1", "t2"]) != ih.cohort_name(["t1", "t3"])
    ih.record(path, cohort, [row("a", 0.5, -0.2)], when=WHEN)
    ih.record(path, cohort, [row("a", 0.6, 0.3)], when=WHEN)  # the same cohort re-run
    data = json.loads(path.read_text())
    assert list(data["cohorts"]) == [cohort]
    assert data["cohorts"][cohort]["items"] == [
        {"assignment": "m1_double_bind", "item": "a", "n": 12, "p": 0.6, "r_rest": 0.3}
    ]
    assert data["cohorts"][cohort]["recorded"] == "2026-12-05T00:00:00+00:00"
    assert [p.name for p in tmp_path.iterdir()] == [ih.HISTORY_FILE]  # no temporary file left behind


def test_flags_need_several_cohorts(tmp_path):
    path = tmp_path / ih.HISTORY_FILE
    # item "neg": r_rest < 0 in cohorts 1 and 2 -> flagged (2 of 3); "once": negative in one cohort only -> not
    # item "easy": p = 1 in all three -> flagged; "hard": p = 0 in two only -> not; "nan": r_rest blank -> not
    cohorts = [
        [row("neg", 0.5, -0.1, 10), row("once", 0.5, -0.4), row("easy", 1.0, math.nan), row("hard", 0.0, math.nan)],
        [row("neg", 0.4, -0.3, 14), row("once", 0.5, 0.2), row("easy", 1.0, math.nan), row("hard", 0.0, math.nan)],
        [row("neg", 0.5, 0.1, 9), row("once", 0.5, 0.3), row("easy", 1.0, math.nan), row("hard", 0.2, 0.1)],
    ]
    for n, rows in enumerate(cohorts):
        history = ih.record(path, f"cohort-{n}", [*rows, row("nan", 0.5, math.nan)], when=WHEN)
    found = ih.flags(history)
    assert [(f.item, f.cohorts, f.of) for f in found] == [("easy", 3, 3), ("neg", 2, 3)]
    assert "negative discrimination in 2 of 3 cohorts (n = 10, 14)" in found[1].why
    assert "everyone right in 3 of 3 cohorts" in found[0].why


def test_everyone_wrong_in_three_cohorts_is_flagged(tmp_path):
    path = tmp_path / ih.HISTORY_FILE
    for n in range(3):
        history = ih.record(path, f"c{n}", [row("x", 0.0, math.nan, 5 + n)], when=WHEN)
    (flag,) = ih.flags(history)
    assert "everyone wrong in 3 of 3 cohorts (n = 5, 6, 7): check the key" in flag.why


def test_rows_come_from_the_item_analysis():
    # two trainees, two items: t1 gets both, t2 neither -> p = .5 each; r_rest = 1 each (a perfect rank match)
    marks = [Mark(t, "m1", i, float(t == "t1"), 1.0) for t in ("t1", "t2") for i in ("a", "b")]
    entry = ih.entry(item_rows(marks))
    assert entry == [
        {"assignment": "m1", "item": "a", "n": 2, "p": 0.5, "r_rest": 1.0},
        {"assignment": "m1", "item": "b", "n": 2, "p": 0.5, "r_rest": 1.0},
    ]


def test_a_broken_history_is_one_line_and_is_not_overwritten(tmp_path):
    path = tmp_path / ih.HISTORY_FILE
    path.write_text('{"format": "something else", "cohorts": {}}')
    with pytest.raises(ih.HistoryError, match="is not an item history") as err:
        ih.record(path, "c", [row("a", 0.5, 0.1)])
    assert "\n" not in str(err.value) and "Fix: move it aside" in str(err.value)
    assert path.read_text() == '{"format": "something else", "cohorts": {}}'
    path.write_text("[" * 50_000)
    with pytest.raises(ih.HistoryError, match="cannot be read"):
        ih.read(path)


def test_validate_reports_the_flags(tmp_path, capsys):
    from framelab.cli.main import main

    root = Path(__file__).resolve().parents[1]
    path = tmp_path / "history.json"
    for n in range(2):
        ih.record(path, f"c{n}", [row("first_try__m0-r006", 0.5, -0.2, assignment="m0_orientation")], when=WHEN)
    assert main(["validate", "--modules", str(root / "modules"), "--history", str(path)]) == 0
    out = capsys.readouterr().out
    assert "2 cohort(s) recorded; 1 item(s) to review." in out
    assert "review m0_orientation / first_try__m0-r006: negative discrimination in 2 of 2 cohorts" in out
    assert main(["validate", "--modules", str(root / "modules"), "--history", str(tmp_path / "none.json")]) == 1
    assert "no such item history" in capsys.readouterr().out


def test_a_report_on_other_modules_keeps_the_cohorts_figures_for_the_first(tmp_path):
    path = tmp_path / ih.HISTORY_FILE
    ih.record(path, "c", [row("a", 0.5, 0.1, assignment="m1")], when=WHEN)
    ih.record(path, "c", [row("b", 0.7, 0.2, assignment="m2")], when=WHEN)
    history = ih.record(path, "c", [row("a", 0.9, 0.3, assignment="m1")], when=WHEN)
    items = {(r["assignment"], r["item"]): r["p"] for r in history["cohorts"]["c"]["items"]}
    assert items == {("m1", "a"): 0.9, ("m2", "b"): 0.7}
