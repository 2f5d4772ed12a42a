"""Blind double rating: the packet carries no key, and the agreement figures are computed correctly."""

from __future__ import annotations

import json

import pytest

from framelab.bank import agreement
from framelab.bank.variants import pool
from framelab.cli import main


def test_the_packet_asks_every_graded_question_and_carries_no_key(bank, tmp_path):
    out = tmp_path / "packet.jsonl"
    assert main(["agreement", "packet", "--out", str(out), "--practice", "10"]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    # every item a trainee may be asked: each exercise's pool
    graded = sum(len(pool(ex)) for m in bank.modules.values() for ex in m.meta.exercises)
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
    graded_stale = {q for q in stale if not q.startswith("practice:")}
    declared = agreement.awaiting(root / "modules")
    assert graded_stale <= declared, (
        f"graded questions changed or added since the blind rating; rate them again, or declare them in "
        f"modules/_agreement/awaiting-rating.txt: {sorted(graded_stale - declared)}"
    )
    assert declared <= graded_stale, f"rated again, or gone: take out of awaiting-rating.txt: {declared - graded_stale}"
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


def test_a_practice_rating_counts_while_its_item_reads_the_same_and_is_still_practice(bank):
    practice = [r for r in bank.responses if r.split == "practice" and r.rubric == "three_moves"][:3]
    graded = next(r for r in bank.responses if r.split == "assessment")
    rated = agreement._label_set_questions(practice)
    rated[0] = {**rated[0], "text": "an older wording"}
    rated += [{"qid": f"practice:{graded.id}"}, {"qid": "practice:m9-r999"}]
    now = agreement.rated_practice(bank, rated)
    assert [q["qid"] for q in now] == sorted(f"practice:{r.id}" for r in practice)
    same, stale = agreement.rated_and_current(rated, now)
    assert stale == [rated[0]["qid"]] and len(same) == 2


# --------------------------------------------------------------------------- human raters' sheets


def _fill(sheet: str, answers: dict, out):
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(sheet.lstrip("\ufeff"))))
    for row in rows:
        answer = answers[row["qid"]]
        row["answer"] = "; ".join(answer) if isinstance(answer, list) else answer
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    out.write_text(buf.getvalue(), encoding="utf-8")


def test_the_rating_sheet_asks_every_graded_question_with_an_empty_answer_and_no_key(bank, tmp_path):
    import csv

    out = tmp_path / "sheet.csv"
    assert main(["agreement", "sheet", "--out", str(out), "--practice", "5"]) == 0
    rows = list(csv.DictReader(out.read_text(encoding="utf-8-sig").splitlines()))
    # every item a trainee may be asked: each exercise's pool
    graded = sum(len(pool(ex)) for m in bank.modules.values() for ex in m.meta.exercises)
    assert len(rows) == graded + 5
    items = bank.items()
    for row in rows:
        assert row["answer"] == "" and row["allowed"]
        assert items[row["qid"].split(":", 1)[1]].rationale not in out.read_text(encoding="utf-8-sig")


def test_two_filled_sheets_give_kappa_and_the_splits_to_adjudicate(bank, tmp_path, capsys):
    from framelab.bank import sheets

    questions = agreement.all_questions(bank, 0)
    text = sheets.sheet_text(questions)
    key = agreement.key(bank, questions)
    flipped = next(q["qid"] for q in questions if q["kind"] == "severity")
    other = dict(key, **{flipped: "violation" if key[flipped] == "crossing" else "crossing"})
    _fill(text, key, tmp_path / "a.csv")
    _fill(text, other, tmp_path / "b.csv")
    rows, splits, notes = sheets.compare(tmp_path / "a.csv", tmp_path / "b.csv", bank.root)
    severity = next(r for r in rows if r.what == "severity")
    assert severity.a_key == 1.0 and severity.b_key == severity.agree == (severity.n - 1) / severity.n
    assert severity.kappa is not None and 0 < severity.kappa < 1
    assert [s[0] for s in splits] == [flipped] and not notes
    out = tmp_path / "splits.csv"
    argv = ["agreement", "compare", str(tmp_path / "a.csv"), str(tmp_path / "b.csv"), "--splits", str(out)]
    assert main([*argv, "--modules", str(bank.root)]) == 0
    assert flipped in out.read_text(encoding="utf-8-sig") and "Cohen's kappa" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "message"),
    [("", "no answer"), ("valdiate", "'valdiate' is not an allowed answer"), ("crossing; violation", "one answer")],
)
def test_a_bad_answer_on_a_sheet_names_the_file_and_row(bank, tmp_path, answer, message):
    from framelab.bank import sheets

    questions = [q for q in agreement.all_questions(bank, 0) if q["kind"] == "severity"][:3]
    answers = {q["qid"]: "crossing" for q in questions}
    answers[questions[1]["qid"]] = answer
    _fill(sheets.sheet_text(questions), answers, tmp_path / "a.csv")
    with pytest.raises(ValueError, match=rf"a\.csv row 3 \({questions[1]['qid']}\): .*{message}"):
        sheets.read_sheet(tmp_path / "a.csv")
