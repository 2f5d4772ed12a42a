"""Blind double rating of the bank: the packet raters see, and the agreement figures from their answers.

A rater sees the codebook and, for each question, what a trainee sees (the client's line, the response or
vignette, the question and its options), never the key. Each graded question is asked exactly as its
exercise asks it; a sample of practice responses is asked as a full label set over the eight labels.
Ratings are JSON Lines, one ``{"qid": ..., "answer": ...}`` per question, kept in ``modules/_agreement/``.
The figures (Cohen's kappa between the raters, and each rater's agreement with the key) are computed here
from those files, so the table published in ``modules/README.md`` can be checked by a test.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from framelab.bank.loader import Bank, Response, Vignette, gold
from framelab.bank.variants import pool
from framelab.core import rubrics, safejson
from framelab.core.vocabulary import LABELS, OPTION_SETS, THREE_MOVES

QUESTIONS = {
    "single_label": "Which one label fits this response best?",
    "moves": "Which of the three moves does this response make? (Tick every one it makes, or 'none'.)",
    "missing_move": "This response makes two of the three moves. Which move is missing?",
    "relation": "What is going on here?",
    "next_action": "What fits best as the therapist's next step?",
    "boundary": "Which kind of boundary is this about?",
    "severity": "Is this a boundary crossing or a boundary violation?",
    "alliance": "Does the therapist's behaviour strengthen or strain the working alliance?",
    "risk_check": "Does this reply check for risk first? (Yes: it asks directly about suicide, self-harm, harm "
    "from or to others, or safety tonight; partly: only a vague check on how the client is; no: nothing.)",
    "label_set": "Which of the eight labels apply to this response? (Tick every label that clearly applies.)",
}
MAX_RATINGS_BYTES = 2 * 1024 * 1024

Answer = str | list[str]


def _item_text(item: Response | Vignette) -> dict[str, str]:
    if isinstance(item, Response):
        return {"client": item.client, "text": item.text}
    return {"text": item.text}


def graded_questions(bank: Bank) -> list[dict[str, Any]]:
    """Every graded question, as its exercise asks it, without the key: every item of the exercise's pool
    (framelab.bank.variants), since any of them may be asked of a trainee."""
    items = bank.items()
    out = []
    for module in bank.modules.values():
        for ex in module.meta.exercises:
            options, multi = rubrics.options(ex.kind, ex.rubric)  # replies to ruptures: the repair rubric's names
            question = QUESTIONS[ex.kind]
            if ex.rubric == rubrics.REPAIR:
                question = question.replace("three moves", "three repair moves")
            for iid in pool(ex):
                qid = f"{ex.id}:{iid}"
                q = {"qid": qid, "kind": ex.kind, "question": question, **_item_text(items[iid])}
                out.append({**q, "options": dict(options), "multi": multi})
    return out


def practice_sample(bank: Bank, n: int, seed: int = 2026) -> list[dict[str, Any]]:
    """A seeded sample of practice responses to boundary bids, each asked as a full label set (replies
    to ruptures are read with another rubric, and are rated through their graded exercise)."""
    pool = sorted(
        (r for r in bank.responses if r.split == "practice" and r.rubric == "three_moves"), key=lambda r: r.id
    )
    chosen = random.Random(seed).sample(pool, min(n, len(pool)))
    return _label_set_questions(chosen)


def _label_set_questions(responses: Iterable[Response]) -> list[dict[str, Any]]:
    options = {lab: lab for lab in LABELS}
    return [
        {"qid": f"practice:{r.id}", "kind": "label_set", "question": QUESTIONS["label_set"], **_item_text(r),
         "options": options, "multi": True}
        for r in sorted(responses, key=lambda r: r.id)
    ]  # fmt: skip


def rated_practice(bank: Bank, rated: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The practice questions of a rated packet, asked of the bank as it is now: a rating stays usable while
    the item is still a practice reply to a bid, even when the seeded sample has moved on (items added to or
    moved into practice reshuffle it); an item whose text changed shows as needing a rating again."""
    items = bank.items()
    ids = [q["qid"].split(":", 1)[1] for q in rated if q["qid"].startswith("practice:")]
    keep = [items[i] for i in ids if i in items]
    return _label_set_questions(
        r for r in keep if isinstance(r, Response) and r.split == "practice" and r.rubric == "three_moves"
    )


def key(bank: Bank, questions: Iterable[Mapping[str, Any]]) -> dict[str, Answer]:
    """The bank's answer to each question (for scoring only; never in a packet)."""
    items = bank.items()
    out: dict[str, Answer] = {}
    for q in questions:
        iid = q["qid"].split(":", 1)[1]
        item = items[iid]
        if q["kind"] == "label_set":
            assert isinstance(item, Response)
            out[q["qid"]] = sorted(item.labels)
        else:
            answer = gold(item, q["kind"])
            out[q["qid"]] = sorted(answer) if isinstance(answer, list) else answer
    return out


def read_ratings(path: Path) -> dict[str, Answer]:
    """One rater's answers; a bad line is a plain error naming the file and line."""
    out: dict[str, Answer] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = safejson.loads(line, what=f"{path.name} line {n}", max_bytes=MAX_RATINGS_BYTES)
        answer = row.get("answer") if isinstance(row, dict) else None
        if not isinstance(row, dict) or not isinstance(row.get("qid"), str) or not isinstance(answer, str | list):
            raise ValueError(f"{path.name} line {n}: expected {{'qid': ..., 'answer': ...}}; fix or remove the line")
        out[row["qid"]] = sorted(answer) if isinstance(answer, list) else answer
    return out


def rated_and_current(rated: list[Mapping[str, Any]], now: list[Mapping[str, Any]]) -> tuple[list[Any], list[str]]:
    """The questions as rated that still read the same today, and the ids of those that changed or are new
    since (each needs rating again before its agreement can be claimed)."""
    before = {q["qid"]: q for q in rated}
    same, stale = [], []
    for q in now:
        old = before.get(q["qid"])
        if old is not None and all(old.get(k) == q.get(k) for k in ("kind", "client", "text", "options")):
            same.append(q)
        else:
            stale.append(q["qid"])
    return same, stale


def _kappa(a: list[Any], b: list[Any]) -> float | None:
    from sklearn.metrics import cohen_kappa_score

    if not a or (len(set(a)) == 1 and set(a) == set(b)):
        return None  # no variation: kappa is undefined (both raters gave one answer throughout)
    return float(cohen_kappa_score(a, b))


@dataclass(frozen=True)
class Row:
    """Agreement on one kind of question (or one label of the label sets)."""

    what: str
    n: int
    agree: float  # raters agreeing, as a proportion
    kappa: float | None  # Cohen's kappa between the raters
    a_key: float  # rater A agreeing with the key
    b_key: float


def _row(what: str, a: list[Any], b: list[Any], k: list[Any]) -> Row:
    n = len(a)

    def same(x: list[Any], y: list[Any]) -> float:
        return sum(p == q for p, q in zip(x, y, strict=True)) / n

    return Row(what, n, same(a, b), _kappa(a, b), same(a, k), same(b, k))


def table(
    questions: list[Mapping[str, Any]], a: Mapping[str, Answer], b: Mapping[str, Answer], gold_: Mapping[str, Answer]
) -> list[Row]:
    """Per question kind (exact answers) and, for multi-answer kinds, per label (present or not)."""
    rows = []
    kinds = sorted({q["kind"] for q in questions}, key=list(QUESTIONS).index)
    for kind in kinds:
        qids = [q["qid"] for q in questions if q["kind"] == kind and q["qid"] in a and q["qid"] in b]
        if not qids:
            continue
        col = [(_hashable(a[q]), _hashable(b[q]), _hashable(gold_[q])) for q in qids]
        rows.append(_row(kind, *map(list, zip(*col, strict=True))))
        if OPTION_SETS.get(kind, (None, True))[1]:
            labels = LABELS if kind == "label_set" else THREE_MOVES
            for lab in labels:
                has = [(lab in a[q], lab in b[q], lab in gold_[q]) for q in qids]
                rows.append(_row(f"{kind}: {lab}", *map(list, zip(*has, strict=True))))
    return rows


def _hashable(answer: Answer) -> str:
    return "+".join(answer) if isinstance(answer, list) else answer


def splits(
    questions: list[Mapping[str, Any]], a: Mapping[str, Answer], b: Mapping[str, Answer], gold_: Mapping[str, Answer]
) -> list[tuple[str, Answer, Answer, Answer]]:
    """Questions where the raters differ from each other or from the key: (qid, A, B, key)."""
    out = []
    for q in questions:
        qid = q["qid"]
        if qid in a and qid in b and not (a[qid] == b[qid] == gold_[qid]):
            out.append((qid, a[qid], b[qid], gold_[qid]))
    return out


def markdown(rows: list[Row]) -> str:
    """The agreement table as published in modules/README.md."""

    def pct(x: float) -> str:
        return f"{100 * x:.0f}%"

    lines = [
        "| question | n | raters agree | Cohen's kappa | rater A = key | rater B = key |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        kappa = "n/a" if r.kappa is None else f"{r.kappa:.2f}"
        lines.append(f"| {r.what} | {r.n} | {pct(r.agree)} | {kappa} | {pct(r.a_key)} | {pct(r.b_key)} |")
    return "\n".join(lines)


# --------------------------------------------------------------------------- command line


def _write_jsonl(path: Path, rows: Iterable[Mapping[str, Any]]) -> None:
    import json

    from framelab.core.files import write_text_atomically

    write_text_atomically(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def all_questions(bank: Bank, practice: int) -> list[dict[str, Any]]:
    return graded_questions(bank) + practice_sample(bank, practice)


def cmd_packet(args: Any) -> int:
    from framelab.bank.loader import load_bank

    questions = all_questions(load_bank(args.modules), args.practice)
    _write_jsonl(Path(args.out), questions)
    print(f"Wrote {len(questions)} blind questions (no key) to {args.out}.")
    return 0


def read_questions(path: Path) -> list[dict[str, Any]]:
    """The packet the raters were given (JSON Lines)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [safejson.loads(line, what=f"{path.name} line {n}") for n, line in enumerate(lines, 1) if line.strip()]


def published(modules: Path) -> tuple[str, list[tuple[str, Answer, Answer, Answer]], list[str]]:
    """From ``modules/_agreement/`` (the packet as rated and both raters' answers): the agreement table on the
    questions that read today as they were rated, the splits among them, and the questions needing a rating."""
    from framelab.bank.loader import load_bank

    folder = modules / "_agreement"
    bank = load_bank(modules)
    rated = read_questions(folder / "packet.jsonl")
    same, stale = rated_and_current(rated, graded_questions(bank) + rated_practice(bank, rated))
    a, b = read_ratings(folder / "rater-a.jsonl"), read_ratings(folder / "rater-b.jsonl")
    gold_ = key(bank, same)
    rows, split = table(same, a, b, gold_), splits(same, a, b, gold_)
    d_rows, d_split, d_stale = diagnostic_agreement(modules)
    return markdown(rows + d_rows), split + d_split, stale + d_stale


DIAGNOSTIC_FILES = (
    "diagnostic-packet.jsonl",
    "diagnostic-key.jsonl",
    "diagnostic-rater-a.jsonl",
    "diagnostic-rater-b.jsonl",
)


def diagnostic_agreement(modules: Path) -> tuple[list[Row], list[tuple[str, Answer, Answer, Answer]], list[str]]:
    """The pre/post diagnostic's blind rating (``modules/_agreement/diagnostic-*.jsonl``: the packet as rated,
    which item each number was, and the two raters' ``{"n", "answer"}``): rows per kind, named "diagnostic: ...",
    the splits, and the items needing a rating (new, or changed since they were rated)."""
    from dataclasses import replace

    from framelab.bank.diagnostic import as_rated, load_diagnostic

    folder = modules / "_agreement"
    diag = load_diagnostic(modules)
    if not diag.items or not (folder / DIAGNOSTIC_FILES[0]).exists():
        return [], [], [f"diagnostic:{it.id}" for it in diag.items]
    packet, ids, ra, rb = (read_questions(folder / name) for name in DIAGNOSTIC_FILES)
    number = {row["n"]: row["id"] for row in ids}
    items = diag.by_id()
    questions = []
    for q in packet:
        it = items.get(number.get(q["n"], ""))
        if it is not None and as_rated(it) == (q["client_or_vignette"], q["text"]):
            questions.append({"qid": f"diagnostic:{it.id}", "kind": it.kind})
    rated = {q["qid"] for q in questions}
    stale = [f"diagnostic:{it.id}" for it in diag.items if f"diagnostic:{it.id}" not in rated]
    a, b = ({f"diagnostic:{number[r['n']]}": r["answer"] for r in rows if r.get("n") in number} for rows in (ra, rb))
    gold_: dict[str, Answer] = {f"diagnostic:{it.id}": it.answer for it in diag.items}
    rows = [replace(r, what=f"diagnostic: {r.what}") for r in table(questions, a, b, gold_)]
    return rows, splits(questions, a, b, gold_), stale


def awaiting(modules: Path) -> set[str]:
    """Graded questions declared as changed or added since the blind rating and not yet rated again
    (``modules/_agreement/awaiting-rating.txt``, one qid a line, ``#`` for comments); the README lists them."""
    path = modules / "_agreement" / "awaiting-rating.txt"
    if not path.exists():
        return set()
    lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return {line for line in lines if line}


def cmd_report(args: Any) -> int:
    try:
        text, disputed, stale = published(Path(args.modules))
    except (OSError, ValueError) as exc:
        print(f"framelab agreement: {exc}")
        return 2
    print(text)
    print(f"\n{len(disputed)} question(s) where a rater differs from the other or from the key:")
    for qid, ra, rb, k in disputed:
        print(f"  {qid}: A {_hashable(ra)}, B {_hashable(rb)}, key {_hashable(k)}")
    if stale:
        print(f"\n{len(stale)} question(s) changed or added since they were rated; rate them again:", ", ".join(stale))
    return 1 if stale else 0
