"""Item analysis against values worked by hand on tiny tables (the working is in the comments).

Table 1, four trainees and three 0/1 items (totals 3, 2, 2, 0):

    item   t1 t2 t3 t4   p
    A       1  1  1  0   0.75
    B       1  1  0  0   0.50
    C       1  0  1  0   0.50

A against the rest (2, 1, 1, 0): deviations (.25, .25, .25, -.75) and (1, 0, 0, -1), sum of products
1, sums of squares .75 and 2: r = 1 / sqrt(1.5) = 0.8165. B against (2, 1, 2, 0): products sum .5,
squares 1 and 2.75: r = .5 / sqrt(2.75) = 0.3015; C likewise. KR-20: sum pq = .1875 + .25 + .25 =
.6875, population variance of totals 4.75 / 4 = 1.1875, so 3/2 * (1 - 11/19) = 12/19 = 0.6316.

Table 2, two items worth 2 points: X (2, 1, 0, 1), Y (2, 2, 1, 0), totals (4, 3, 1, 1). Variances .5
and .6875, of totals 6.75 / 4 = 1.6875: alpha = 2 * (1 - 1.1875 / 1.6875) = 16/27 = 0.5926.
"""

from __future__ import annotations

import csv
import math

import pytest

from framelab.instructor import itemanalysis as ia
from framelab.instructor.itemanalysis import Mark

T = ["t1", "t2", "t3", "t4"]


def marks(assignment: str, items: dict[str, list[float]], max_score: float = 1, manual: bool = False) -> list[Mark]:
    return [
        Mark(t, assignment, item, float(s), max_score, manual)
        for item, scores in items.items()
        for t, s in zip(T, scores, strict=True)
    ]


TABLE1 = marks("a1", {"A": [1, 1, 1, 0], "B": [1, 1, 0, 0], "C": [1, 0, 1, 0]})
TABLE2 = marks("a2", {"X": [2, 1, 0, 1], "Y": [2, 2, 1, 0]}, max_score=2, manual=True)


def test_difficulty_and_corrected_discrimination_match_the_hand_working():
    rows = {r.item: r for r in ia.item_rows(TABLE1)}
    assert [rows[i].p for i in "ABC"] == [0.75, 0.5, 0.5]
    assert rows["A"].r_rest == pytest.approx(1 / math.sqrt(1.5))
    assert rows["B"].r_rest == pytest.approx(0.5 / math.sqrt(2.75))
    assert rows["C"].r_rest == pytest.approx(0.5 / math.sqrt(2.75))
    assert all(r.n == 4 and r.review == "" for r in rows.values())


def test_kr20_on_zero_one_items():
    (rel,) = ia.reliability(TABLE1)
    assert rel.method == "KR-20" and (rel.k, rel.n) == (3, 4)
    assert rel.value == pytest.approx(12 / 19)
    assert "KR-20 0.63 over 3 items and 4 trainees" in rel.words


def test_cronbach_alpha_on_items_worth_more_than_one_point():
    (rel,) = ia.reliability(TABLE2)
    assert rel.method == "Cronbach's alpha"
    assert rel.value == pytest.approx(16 / 27)
    rows = {r.item: r for r in ia.item_rows(TABLE2)}
    assert rows["X"].p == pytest.approx((1 + 0.5 + 0 + 0.5) / 4)  # proportion of the points, averaged
    assert rows["X"].manual and rows["X"].max_score == 2


def test_reliability_counts_only_trainees_marked_on_every_item():
    # t4's B is still waiting for hand-grading: KR-20 over t1..t3 only (totals 3, 2, 2)
    partial = [m for m in TABLE1 if not (m.trainee == "t4" and m.item == "B")]
    (rel,) = ia.reliability(partial)
    assert rel.n == 3
    # p = 1, 2/3, 2/3: sum pq = 0 + 2/9 + 2/9 = 4/9; variance of (3, 2, 2) = 2/9: 1.5 * (1 - 2) = -1.5
    assert rel.value == pytest.approx(-1.5)
    assert "low" in rel.words


def test_items_to_review_get_a_plain_sentence_at_any_cohort_size():
    table = marks("a3", {"all_wrong": [0, 0, 0, 0], "all_right": [1, 1, 1, 1], "P": [1, 1, 0, 0], "Q": [0, 0, 1, 1]})
    rows = {r.item: r for r in ia.item_rows(table)}
    assert rows["all_wrong"].review.startswith("Every trainee (4) scored 0 here")
    assert rows["all_right"].review.startswith("Every trainee (4) earned full marks")
    # P against the rest (1, 1, 2, 2): perfectly opposite, r = -1; Q likewise
    assert rows["P"].r_rest == pytest.approx(-1.0)
    assert "did worse here (discrimination -1.00)" in rows["P"].review
    assert math.isnan(rows["all_wrong"].r_rest)  # no spread: blank, never 0


def test_a_two_trainee_cohort_that_all_missed_an_item_is_flagged():
    table = [Mark("t1", "a", "I", 0, 1), Mark("t2", "a", "I", 0, 1)]
    table += [Mark("t1", "a", "J", 1, 1), Mark("t2", "a", "J", 0, 1)]
    rows = {r.item: r for r in ia.item_rows(table)}
    assert rows["I"].review and "Every trainee (2)" in rows["I"].review


def test_csv_and_json_carry_items_and_reliability(tmp_path):
    rows, rel = ia.item_rows(TABLE1 + TABLE2), ia.reliability(TABLE1 + TABLE2)
    path = ia.write_csv(rows, rel, tmp_path / "item_analysis.csv")
    got = list(csv.DictReader(path.open()))
    assert [r["item"] for r in got] == ["A", "B", "C", "X", "Y", "", ""]
    assert float(got[0]["r_rest"]) == pytest.approx(0.8165, abs=1e-4)
    assert got[5]["reliability_method"] == "KR-20" and float(got[5]["reliability"]) == pytest.approx(12 / 19, abs=1e-4)
    data = ia.as_json(rows, rel)
    assert data["reliability"][1]["value"] == pytest.approx(16 / 27)
    nan_rows = ia.as_json(ia.item_rows(marks("z", {"all": [1, 1, 1, 1]})), [])
    assert nan_rows["items"][0]["r_rest"] is None and len(nan_rows["to_review"]) == 1


def test_the_criteria_a_cohort_misses_come_least_earned_first():
    table = marks(
        "m6_capstone", {"m6_reply_voucher__boundary": [0, 0, 1, 0], "m6_reply_voucher__validate": [1, 1, 1, 0]}
    )
    table += marks("m6_capstone", {"rosa_replies__m6-r003": [0, 0, 0, 0]})  # autograded: not a criterion
    assert ia.missed_criteria(ia.item_rows(table)) == []  # nothing marked by hand
    hand = [Mark(m.trainee, m.assignment, m.item, m.score, 1, manual=True) for m in table[:8]] + table[8:]
    missed = ia.missed_criteria(ia.item_rows(hand))
    assert [(r.item, r.p) for r in missed] == [
        ("m6_reply_voucher__boundary", 0.25),
        ("m6_reply_voucher__validate", 0.75),
    ]
    assert ia.criterion_name("m6_reply_voucher__boundary") == "reply voucher: boundary"
    assert ia.criterion_name("m6_supervision_pulls__cost") == "supervision pulls: cost"


# Table 3, per-trainee variants: one exercise of three places (A, B, C) drawn from a pool of four
# items (P, Q, R, S), each trainee asked a different item at each place. The places score as Table 1:
#
#    place   t1   t2   t3   t4
#    A       P 1  Q 1  R 1  S 0
#    B       Q 1  R 1  S 0  P 0
#    C       R 1  S 0  P 1  Q 0
#
# No trainee was asked every item, so over items no trainee is complete and reliability cannot be
# computed; over places it is Table 1's KR-20, 12/19. Per item: P (t1 1, t3 1, t4 0) p = 2/3, against
# the rest (2, 1, 0): deviations (1/3, 1/3, -2/3) and (1, 0, -1), products sum 1, squares 2/3 and 2,
# r = 1 / sqrt(4/3) = 0.8660; Q (t1 1, t2 1, t4 0) against (2, 1, 0) likewise; R (3 of 3) p = 1 and S
# (0 of 3) p = 0, both to review.
ASKED = {"t1": "PQR", "t2": "QRS", "t3": "RSP", "t4": "SPQ"}
PLACE_SCORES = {"t1": [1, 1, 1], "t2": [1, 1, 0], "t3": [1, 0, 1], "t4": [0, 0, 0]}
TABLE3 = [
    Mark(t, "v", f"ex__{item}", float(PLACE_SCORES[t][n]), 1.0, place=f"ex__{n + 1}")
    for t, items in ASKED.items()
    for n, item in enumerate(items)
]


def test_with_variants_reliability_is_over_places_and_says_so():
    (rel,) = ia.reliability(TABLE3)
    assert rel.method == "KR-20" and (rel.k, rel.n) == (3, 4)
    assert rel.value == pytest.approx(12 / 19)
    assert "over places: trainees answered different items at each place" in rel.words
    assert "(3 places, 4 trainees)" in rel.words
    # the same marks named by item alone: nobody has every item, so it cannot be computed
    (by_items,) = ia.reliability([Mark(m.trainee, m.assignment, m.item, m.score, m.max_score) for m in TABLE3])
    assert math.isnan(by_items.value) and by_items.n == 0 and "places" not in by_items.words


def test_with_variants_difficulty_and_discrimination_stay_per_item():
    rows = {r.item: r for r in ia.item_rows(TABLE3)}
    assert sorted(rows) == ["ex__P", "ex__Q", "ex__R", "ex__S"]
    assert all(r.n == 3 for r in rows.values())
    assert rows["ex__P"].p == pytest.approx(2 / 3) and rows["ex__Q"].p == pytest.approx(2 / 3)
    assert rows["ex__P"].r_rest == pytest.approx(math.sqrt(3) / 2)
    assert rows["ex__Q"].r_rest == pytest.approx(math.sqrt(3) / 2)
    assert rows["ex__R"].review.startswith("Every trainee (3) earned full marks")
    assert rows["ex__S"].review.startswith("Every trainee (3) scored 0 here")


def test_reliability_with_nobody_complete_over_places_says_places():
    # t1 and t2 only, and t2 not yet marked at place C: one trainee complete, too few to compute
    few = [m for m in TABLE3 if m.trainee in ("t1", "t2") and not (m.trainee == "t2" and m.place == "ex__3")]
    (rel,) = ia.reliability(few)
    assert math.isnan(rel.value) and rel.n == 1
    assert rel.words.startswith("KR-20 cannot be computed yet (3 places, 1 trainees with every place marked")
    assert rel.words.endswith("over places: trainees answered different items at each place.")


def test_by_item_names_items_and_keeps_places_for_a_real_pooled_module(bank):
    """A bank module with variants on: marks named by place in the gradebook become per item (each trainee's
    own), keep their place, and reliability over them is reliability over the places themselves."""
    from framelab.bank.variants import Setting, place_index

    module = bank.module("m3_three_moves")
    setting = Setting(on=True)
    trainees = [f"trainee{n}" for n in range(6)]
    raw = [
        Mark(t, module.folder, gid, float((n + k) % 3 != 0), 1.0)
        for k, t in enumerate(trainees)
        for n, gid in enumerate(place_index(module, bank, t, setting))
    ]
    named = ia.by_item(raw, module, bank, setting)
    for m, before in zip(named, raw, strict=True):
        ex, _, iid = place_index(module, bank, m.trainee, setting)[before.item]
        assert (m.item, m.place) == (f"{ex.id}__{iid}", before.item)
    assert len({m.item for m in named}) > len({m.item for m in raw})  # different items at the same places
    (over_places,), (direct,) = ia.reliability(named), ia.reliability(raw)
    assert (over_places.k, over_places.n) == (direct.k, direct.n) == (len(named) // 6, 6)
    assert over_places.value == pytest.approx(direct.value)
    assert ia.OVER_PLACES in over_places.words and ia.OVER_PLACES not in direct.words
