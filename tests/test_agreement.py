"""Blind double rating: the packet carries no key, and the agreement figures are computed correctly."""

from __future__ import annotations

import json

import pytest

from framelab.bank import agreement
from framelab.cli import main


def test_the_packet_asks_every_graded_question_and_carries_no_key(bank, tmp_path):
    out = tmp_path / "packet.jsonl"
    assert main(["agreement", "packet", "--out", str(out), "--practice", "10"]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    graded = sum(len(ex.items) for m in bank.modules.values() for ex in m.meta.exercises)
    assert len(rows) == graded + 10
    items = bank.items()
    for row in rows:
        assert set(row) <= {"qid", "kind", "question", "client", "text", "options", "multi"}
        item = items[row["qid"].split(":", 1)[1]]
        assert item.rationale not in json.dumps(row)


def test_kappa_and_agreement_against_a_hand_computed_case():
    questions = [{"qid": f"q{i}", "kind": "severity"} for i in range(4)]
    a = {"q0": "crossing", "q1": "crossing", "q2": "violation", "q3": "violation"}
    b = {"q0": "crossing", "q1": "violation", "q2": "violation", "q3": "violation"}
    key = {"q0": "crossing", "q1": "crossing", "q2": "violation", "q3": "crossing"}
    (row,) = agreement.table(questions, a, b, key)
    # observed 3/4; chance (2/4 * 1/4) + (2/4 * 3/4) = 0.5; kappa (0.75 - 0.5) / 0.5 = 0.5
    assert (row.n, row.agree, row.kappa, row.a_key, row.b_key) == (4, 0.75, pytest.approx(0.5), 0.75, 0.5)
    assert [s[0] for s in agreement.splits(questions, a, b, key)] == ["q1", "q3"]


def test_multi_answer_questions_get_a_row_per_move():
    questions = [{"qid": "q0", "kind": "moves"}, {"qid": "q1", "kind": "moves"}]
    a = {"q0": ["recenter", "validate"], "q1": ["none"]}
    b = {"q0": ["validate"], "q1": ["none"]}
    rows = {r.what: r for r in agreement.table(questions, a, b, a)}
    assert rows["moves"].agree == 0.5 and rows["moves: recenter"].agree == 0.5
    assert rows["moves: validate"].agree == 1.0 and rows["moves: validate"].kappa == pytest.approx(1.0)
    assert rows["moves: state_boundary"].kappa is None  # never ticked by either: kappa is undefined


def test_a_bad_ratings_line_names_the_file_and_line(tmp_path):
    path = tmp_path / "rater-a.jsonl"
    path.write_text('{"qid": "q0", "answer": "crossing"}\n[' + "[" * 100 + "\n")
    with pytest.raises(ValueError, match=r"rater-a.jsonl line 2"):
        agreement.read_ratings(path)


def test_the_published_agreement_is_what_the_ratings_give_on_the_bank_as_it_reads_today(root):
    """modules/README.md publishes the blind double rating; it must be recomputable from modules/_agreement,
    and every graded question must have been rated as it reads now (edit an item: rate it again)."""
    table, _, stale = agreement.published(root / "modules")
    readme = (root / "modules" / "README.md").read_text(encoding="utf-8")
    # graded questions added since the last rating and named as awaiting it, beside the table; only while unrated
    listed = root / "modules" / "_agreement" / "awaiting-rating.txt"
    lines = [line.strip() for line in listed.read_text().splitlines()] if listed.exists() else []
    awaiting = [q for q in lines if q and not q.startswith("#")]
    assert set(awaiting) <= set(stale), "a question listed as awaiting rating has been rated: take it off the list"
    assert not awaiting or (f"The {len(awaiting)} questions" in readme and "**Awaiting blind rating.**" in readme)
    graded_stale = [q for q in stale if not q.startswith("practice:") and q not in awaiting]
    assert not graded_stale, f"graded questions changed or added since the blind rating; rate them again: {stale}"
    shown = readme.split("<!-- agreement:start -->", 1)[1].split("<!-- agreement:end -->", 1)[0].strip()
    assert shown == table.strip(), "the agreement table in modules/README.md is out of date: paste the report"
