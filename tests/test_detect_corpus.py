"""The detectors' training corpus (framelab.bank.corpus): only replies on which writer and a blind rater agree
go in, never a copy of an assessment item; agreement is recorded per writer and per label; validate names
each bad line; the build hands the corpus to the detectors, which learn from it beside the practice items."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from framelab.bank import corpus
from framelab.bank.build import build
from framelab.detector.data import data_from_bank, load_data
from framelab.detector.guard import Guard

CLIENT = "Would you come to my cousin's wedding? You'd love the band."


def row(rid: str, text: str, labels: list[str], rubric: str = "boundary") -> dict:
    return {"id": rid, "rubric": rubric, "client": CLIENT, "text": text, "labels": labels, "rationale": "r"}


def write(path: Path, rows: list) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return path


def test_agreement_by_hand():
    pairs = [
        (["validate", "recenter"], ["validate", "recenter"]),
        (["validate"], ["recenter"]),
        (["vague_rule"], ["vague_rule"]),
    ]
    a = corpus.agreement("W", pairs)
    assert (a.rated, a.exact) == (3, 2)
    assert a.per_label["validate"] == {"both": 1, "either": 2, "kappa": pytest.approx(0.4)}  # po 2/3, pe 5/9
    assert a.per_label["vague_rule"]["kappa"] == 1.0
    assert a.per_label["collapse_frame"] == {"both": 0, "either": 0, "kappa": None}
    assert a.to_json()["share"] == pytest.approx(0.667)


def test_only_agreed_replies_that_copy_no_assessment_item_are_kept(bank):
    item = next(r for r in bank.responses if r.split == "assessment")
    guard = Guard(((item.id, item.text),))
    written = [
        row(
            "W-1",
            "Thank you for asking, it sounds like a lovely day. I won't come; keeping our work here keeps it yours.",
            ["validate", "state_boundary"],
        ),
        row("W-2", "Oh I'd love to, maybe once we've finished!", ["gentle_dodge", "mixed_message"]),
        row("W-3", item.text, list(item.labels)),
        row("W-4", "Not rated by anyone.", ["ignore_redirect"]),
        row("W-5", "Bad label here.", ["polite_no"]),
    ]
    rated = {"W-1": ["validate", "state_boundary"], "W-2": ["gentle_dodge"], "W-3": list(item.labels)}
    kept, pairs, out = corpus.agreed_rows(written, rated, guard)
    assert [r["id"] for r in kept] == ["W-1"]
    assert out == {"unusable": ["W-5"], "unrated": ["W-4"], "disagreed": ["W-2"], "copies an assessment item": ["W-3"]}
    assert len(pairs) == 3


def test_import_writes_the_agreed_replies_and_the_agreement(tmp_path, bank):
    src, modules = tmp_path / "in", tmp_path / "modules"
    src.mkdir()
    write(
        src / "W.jsonl",
        [
            row(
                "W-1",
                "I hear how much it means. I won't be there; this room is for you. What made you ask?",
                ["validate", "state_boundary", "recenter"],
            ),
            row("W-2", "Sure, text me the address.", ["collapse_frame"]),
            "not json",
        ],
    )
    write(
        src / "W.rated.jsonl",
        [
            {"id": "W-1", "labels": ["validate", "state_boundary", "recenter"]},
            {"id": "W-2", "labels": ["gentle_dodge"]},
        ],
    )
    write(src / "V.jsonl", [row("V-1", "Ask me again later.", ["gentle_dodge"])])  # not rated yet
    lines = corpus.import_corpus(src, modules, [])
    assert lines == ["V.jsonl: not rated yet; left for now.", "W: 1 of 2 rated replies agreed exactly; 1 disagreed"]
    (kept,) = [json.loads(x) for x in (modules / "_corpus" / "W.jsonl").read_text().splitlines()]
    assert kept["id"] == "W-1" and kept["writer"] == "W" and kept["agreed"] is True
    record = json.loads((modules / "_corpus" / "agreement.json").read_text())
    assert record["W"]["exact"] == 1 and record["W"]["rated"] == 2 and record["W"]["left_out"]["disagreed"] == 1
    assert record["W"]["per_label"]["collapse_frame"]["either"] == 1
    (loaded,) = corpus.load_corpus(modules)
    assert loaded["rubric"] == "three_moves" and "_line" not in loaded


def test_validate_names_each_bad_corpus_line(tmp_path, bank):
    item = next(r for r in bank.responses if r.split == "assessment")
    folder = tmp_path / "modules" / "_corpus"
    folder.mkdir(parents=True)
    write(
        folder / "W.jsonl",
        [
            row("W-1", "Fine words of my own, nothing copied.", ["validate"]),
            row("W-2", "Another reply.", ["polite_no"]),
            row("W-1", "Same id again.", ["validate"]),
            row("W-4", item.text, ["validate"], "repair"),
            "{broken",
        ],
    )
    problems = [str(p) for p in corpus.corpus_problems(tmp_path / "modules", [(item.id, item.text)])]
    assert any(p.startswith("modules/_corpus/W.jsonl:2: item W-2: unknown label(s) polite_no") for p in problems)
    assert any(p.startswith("modules/_corpus/W.jsonl:3: item W-1: repeats an id") for p in problems)
    assert any(f"W.jsonl:4: item W-4: copies assessment item {item.id}" in p for p in problems)
    assert any("not valid JSON" in p for p in problems)
    assert len(problems) == 4


def test_the_build_hands_the_corpus_to_the_detectors(tmp_path, bank, monkeypatch):
    rows = [
        {**row("W-1", "I won't be coming, but thank you.", ["state_boundary"]), "rubric": "three_moves"},
        {**row("W-2", "You're right, I was late, and I'm sorry.", ["validate", "state_boundary"]), "rubric": "repair"},
    ]
    data = data_from_bank(bank, rows)
    assert [r["id"] for r in data["corpus"]] == ["W-1"] and [r["id"] for r in data["repair_corpus"]] == ["W-2"]
    monkeypatch.setattr(corpus, "load_corpus", lambda root: rows)
    out = tmp_path / "detect.json"
    build(bank, tmp_path / "source", detect_data=out)
    loaded = load_data(out)
    assert [e.id for e in loaded.training] == [e.id for e in loaded.practice] + ["W-1"]
    assert [e.id for e in loaded.repair_training][-1] == "W-2"


def test_the_shipped_data_learns_from_the_corpus_in_modules(bank):
    shipped = load_data()
    in_repo = corpus.load_corpus(Path(bank.root))
    assert {e.id for e in shipped.corpus} | {e.id for e in shipped.repair_corpus} == {r["id"] for r in in_repo}
    assessment = {r.id for r in bank.responses if r.split == "assessment"}
    assert not assessment & {e.id for e in shipped.training + shipped.repair_training}
