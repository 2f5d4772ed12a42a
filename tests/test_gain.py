"""The pre/post gain: every figure checked against values worked by hand (the arithmetic is in the comments)."""

from __future__ import annotations

import json
import math

import pytest

from framelab.bank.diagnostic import Diagnostic, DiagnosticItem
from framelab.instructor import diagnostic as idx
from framelab.instructor import gain
from framelab.learner import diagnostic as dx

# Four trainees, four items a form. Pre: 1, 2, 2, 4 right; post: 3, 3, 2, 3 right.
PAIRS = [(0.25, 0.75), (0.50, 0.75), (0.50, 0.50), (1.00, 0.75)]


def test_normalised_gain_by_hand():
    assert gain.normalised_gain(0.25, 0.75) == pytest.approx(0.5 / 0.75)  # (.75 - .25) / (1 - .25) = 0.6667
    assert gain.normalised_gain(0.50, 0.50) == 0  # no change
    assert gain.normalised_gain(0.50, 0.25) == pytest.approx(-0.5)  # (.25 - .5) / .5: a loss is negative
    assert gain.normalised_gain(1.0, 0.75) is None  # a perfect pre-score: nothing to gain, g undefined


def test_cohort_gain_by_hand():
    c = gain.cohort_gain("overall", PAIRS)
    assert c.n == 4 and c.perfect_pre == 1
    # mean pre = (.25 + .5 + .5 + 1) / 4 = 2.25 / 4 = .5625; mean post = (.75 + .75 + .5 + .75) / 4 = .6875
    assert c.mean_pre == pytest.approx(0.5625) and c.mean_post == pytest.approx(0.6875)
    # Hake's <g> = (.6875 - .5625) / (1 - .5625) = .125 / .4375 = 0.285714
    assert c.g_class == pytest.approx(0.285714, abs=1e-6)
    # mean of the trainees' g, the perfect pre-score left out: (.666667 + .5 + 0) / 3 = 0.388889
    assert c.g_mean == pytest.approx(0.388889, abs=1e-6)


def test_paired_d_and_its_interval_by_hand():
    e = gain.cohort_gain("overall", PAIRS).effect
    # differences .5, .25, 0, -.25: mean .125; squared deviations .140625 + .015625 + .015625 + .140625
    # = .3125; / 3 = .104167; sd = .322749; d_z = .125 / .322749 = 0.387298 (d_z^2 = .15 exactly)
    assert e.d_z == pytest.approx(0.387298, abs=1e-6)
    # SE = sqrt(1/4 + .15 / 8) = sqrt(.26875) = .518411; 1.959964 * .518411 = 1.016067
    assert e.low == pytest.approx(0.387298 - 1.016067, abs=1e-5)  # -0.628769
    assert e.high == pytest.approx(0.387298 + 1.016067, abs=1e-5)  # 1.403365
    # sd pre: deviations -.3125, -.0625, -.0625, .4375; squares sum .296875; / 3 = .098958; sd .314576
    # sd post: deviations .0625 x3, -.1875; squares sum .046875; / 3 = .015625; sd .125
    # d_av = .125 / ((.314576 + .125) / 2) = .125 / .219788 = 0.568729
    assert e.d_av == pytest.approx(0.568729, abs=1e-5)


def test_what_cannot_be_computed_is_blank_not_a_crash():
    one = gain.cohort_gain("overall", [(0.5, 0.75)])
    assert math.isnan(one.effect.d_z) and one.g_class == pytest.approx(0.5)  # (.75 - .5) / .5
    same = gain.cohort_gain("x", [(0.5, 0.75), (0.25, 0.5)])  # both changes +.25: sd 0, d undefined
    assert math.isnan(same.effect.d_z)
    perfect = gain.cohort_gain("x", [(1.0, 1.0), (1.0, 0.5)])
    assert perfect.g_class is None and perfect.g_mean is None and perfect.perfect_pre == 2
    empty = gain.cohort_gain("x", [])
    assert empty.n == 0 and empty.g_class is None
    assert "No trainee has taken both forms" in gain.words(empty)
    assert json.dumps(gain.as_json(one))  # nan is written as null, not NaN
    assert gain.as_json(one)["effect"]["d_z"] is None


def test_words_say_which_d_and_the_interval():
    text = gain.words(gain.cohort_gain("overall", PAIRS))
    assert "from 56% to 69%" in text and "<g> of 0.29" in text
    assert "d_z = 0.39 (95% CI -0.63 to 1.40), d_av = 0.57" in text


def item(iid: str, form: str, answer: str, kind: str = "single_label") -> DiagnosticItem:
    return DiagnosticItem(iid, form, kind, "t", answer, "r", 1, "british", "casual", client="c")


# Two items a form: one validate, one transference.
DIAG = Diagnostic(
    [
        item("dx-a01", "A", "validate"),
        item("dx-a02", "A", "transference", "relation"),
        item("dx-b01", "B", "validate"),
        item("dx-b02", "B", "transference", "relation"),
    ]
)


def rec(stage: str, form: str, answers: dict[str, str]) -> dict:
    return {"format": dx.RECORD_FORMAT, "stage": stage, "form": form, "answers": answers}


def test_results_per_trainee_and_per_label_by_hand():
    records = {
        # t1: pre A 0/2, post B 2/2 -> g = (1 - 0) / 1 = 1
        "t1": {"pre": rec("pre", "A", {}), "post": rec("post", "B", {"dx-b01": "validate", "dx-b02": "transference"})},
        # t2 (counterbalanced): pre B 1/2, post A 1/2 -> g = 0
        "t2": {
            "pre": rec("pre", "B", {"dx-b01": "validate", "dx-b02": "neither"}),
            "post": rec("post", "A", {"dx-a01": "recenter", "dx-a02": "transference"}),
        },
        "t3": {"pre": rec("pre", "A", {"dx-a01": "validate"})},  # no post: left out of the gain
    }
    r = idx.results(records, DIAG)
    assert [(t.trainee, t.pre, t.post, t.g) for t in r.trainees] == [("t1", 0.0, 1.0, 1.0), ("t2", 0.5, 0.5, 0.0)]
    assert r.incomplete == {"t3": "pre only"}
    assert r.first_forms == {"A": 1, "B": 1}
    # overall: pre (0 + .5) / 2 = .25, post (1 + .5) / 2 = .75; <g> = .5 / .75 = .666667
    assert r.overall.g_class == pytest.approx(0.666667, abs=1e-6)
    by = {a.area: a for a in r.areas}
    # validate: t1 0 -> 1, t2 1 -> 0: means .5 -> .5, <g> 0; transference: t1 0 -> 1, t2 0 -> 1: .0 -> 1, <g> 1
    assert by["validate"].mean_pre == 0.5 and by["validate"].g_class == 0
    assert by["transference"].mean_post == 1 and by["transference"].g_class == 1
    assert [a.area for a in r.areas] == ["validate", "transference"]  # teaching order
    # item marks for the item analysis: one per trainee and item taken (t1 4, t2 4, t3 2)
    assert len(r.marks) == 10 and {m.assignment for m in r.marks} == {"diagnostic form A", "diagnostic form B"}


def test_records_are_read_from_the_course_and_bad_ones_are_notes(tmp_path):
    def put(top: str, trainee: str, assignment: str, text: str) -> None:
        folder = tmp_path / top / trainee / assignment
        folder.mkdir(parents=True)
        (folder / dx.RECORD_FILE).write_text(text, encoding="utf-8")

    put("autograded", "t1", "m0_orientation", json.dumps(rec("pre", "A", {"dx-a01": "validate"})))
    put("submitted", "t1", "m6_capstone", json.dumps(rec("post", "B", {"dx-b01": "validate"})))
    put("submitted", "t2", "m0_orientation", "[" * 100_000)  # hostile
    put("submitted", "t3", "m6_capstone", json.dumps(rec("pre", "A", {"dx-a01": "validate"})))  # wrong stage
    before = sorted((p, p.read_bytes()) for p in (tmp_path / "submitted").rglob("*.json"))
    records, notes = idx.load_records(tmp_path, DIAG)
    assert set(records) == {"t1"} and set(records["t1"]) == {"pre", "post"}
    assert any("t2/m0_orientation/diagnostic-answers.json: cannot be read" in n for n in notes)
    assert any("t3/m6_capstone" in n and "holds the pre answers" in n for n in notes)
    assert sorted((p, p.read_bytes()) for p in (tmp_path / "submitted").rglob("*.json")) == before
