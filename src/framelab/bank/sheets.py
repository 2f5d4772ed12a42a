"""Human blind rating: a rating sheet (CSV) a supervisor fills in, and agreement from two filled sheets.

``framelab agreement sheet`` writes the same blind questions as the JSON Lines packet (no key, no
rationale), one row each, with an empty ``answer`` column and the allowed answers beside it, so a rater
can work in any spreadsheet. ``framelab agreement compare A.csv B.csv`` reads two filled sheets, checks
every answer against the row's allowed answers, and prints Cohen's kappa between the raters, each rater's
agreement with the bank's key, and every question where they differ (written as a CSV for adjudication
with ``--splits``). A bad row is one plain line naming the file, the row and the fix.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from framelab.bank import agreement
from framelab.bank.agreement import Answer

COLUMNS = ("qid", "kind", "question", "client", "text", "options", "allowed", "multi", "answer", "note")
SEPARATORS = (";", ",", "+")
MAX_SHEET_BYTES = 4 * 1024 * 1024


def sheet_text(questions: Sequence[Mapping[str, Any]]) -> str:
    """The rating sheet as CSV text (UTF-8 with a byte-order mark when written, so spreadsheets read it)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for q in questions:
        options = q["options"]
        described = " | ".join(f"{code} = {text}" for code, text in options.items() if text != code)
        writer.writerow([
            q["qid"], q["kind"], q["question"], q.get("client", ""), q["text"], described,
            "; ".join(options), "yes" if q["multi"] else "no", "", "",
        ])  # fmt: skip
    return out.getvalue()


def _split(raw: str) -> list[str]:
    for sep in SEPARATORS[1:]:
        raw = raw.replace(sep, SEPARATORS[0])
    return [part.strip() for part in raw.split(SEPARATORS[0]) if part.strip()]


def _answer(row: Mapping[str, str], where: str) -> Answer:
    allowed = _split(row.get("allowed") or "")
    chosen = _split(row.get("answer") or "")
    if not chosen:
        raise ValueError(f"{where}: no answer; write one of {'; '.join(allowed)} in the answer column")
    unknown = [c for c in chosen if c not in allowed]
    if unknown:
        raise ValueError(f"{where}: '{unknown[0]}' is not an allowed answer; use {'; '.join(allowed)}")
    if row.get("multi", "").strip().lower() == "yes":
        return sorted(set(chosen))
    if len(chosen) != 1:
        raise ValueError(f"{where}: this question takes one answer, not {len(chosen)}; keep the one that fits best")
    return chosen[0]


def read_sheet(path: Path) -> tuple[list[dict[str, Any]], dict[str, Answer]]:
    """A filled sheet: its questions (qid and kind, in order) and the rater's answers."""
    data = path.read_bytes()
    if len(data) > MAX_SHEET_BYTES:
        raise ValueError(f"{path.name}: larger than {MAX_SHEET_BYTES // 1024 // 1024} MB; is it a rating sheet?")
    try:
        rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ValueError(f"{path.name}: not a readable CSV ({exc}); save it as CSV (UTF-8) and try again") from None
    missing = [c for c in ("qid", "kind", "allowed", "multi", "answer") if rows and c not in rows[0]]
    if not rows or missing:
        fix = "start from a sheet written by `framelab agreement sheet`"
        raise ValueError(f"{path.name}: no rating rows or missing column(s) {missing}; {fix}")
    questions, answers = [], {}
    for n, row in enumerate(rows, 2):  # row 1 is the header
        qid = (row.get("qid") or "").strip()
        where = f"{path.name} row {n} ({qid or 'no qid'})"
        if not qid or qid in answers:
            raise ValueError(f"{where}: a missing or repeated qid; restore the row as the sheet was written")
        answers[qid] = _answer(row, where)
        questions.append({"qid": qid, "kind": (row.get("kind") or "").strip()})
    return questions, answers


def compare(
    a_path: Path, b_path: Path, modules: Path
) -> tuple[list[agreement.Row], list[tuple[str, Answer, Answer, Answer]], list[str]]:
    """Agreement between two filled sheets and with the bank's key, the splits, and notes on rows left out."""
    from framelab.bank.loader import load_bank

    questions, a = read_sheet(a_path)
    b_questions, b = read_sheet(b_path)
    if [q["qid"] for q in questions] != [q["qid"] for q in b_questions]:
        raise ValueError(f"{a_path.name} and {b_path.name} ask different questions; both raters need the same sheet")
    bank = load_bank(modules)
    items = bank.items()
    known = [q for q in questions if q["qid"].split(":", 1)[-1] in items and q["kind"] in agreement.QUESTIONS]
    notes = [f"{q['qid']}: not in the bank any more, left out" for q in questions if q not in known]
    gold = agreement.key(bank, known)
    rows = agreement.table(known, a, b, gold)
    return rows, agreement.splits(known, a, b, gold), notes


def splits_csv(splits: Sequence[tuple[str, Answer, Answer, Answer]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("qid", "rater_a", "rater_b", "key", "decision", "why"))
    for qid, ra, rb, k in splits:
        writer.writerow((qid, _show(ra), _show(rb), _show(k), "", ""))
    return out.getvalue()


def _show(answer: Answer) -> str:
    return "; ".join(answer) if isinstance(answer, list) else answer


# --------------------------------------------------------------------------- command line


def cmd_sheet(args: Any) -> int:
    from framelab.bank.loader import load_bank
    from framelab.core.files import write_text_atomically

    questions = agreement.all_questions(load_bank(args.modules), args.practice)
    write_text_atomically(Path(args.out), "\ufeff" + sheet_text(questions))
    print(f"Wrote a rating sheet of {len(questions)} blind questions (no key) to {args.out}.")
    return 0


def cmd_compare(args: Any) -> int:
    from framelab.core.files import write_text_atomically

    try:
        rows, disputed, notes = compare(Path(args.rater_a), Path(args.rater_b), Path(args.modules))
    except (OSError, ValueError) as exc:
        print(f"framelab agreement compare: {exc}")
        return 2
    print(agreement.markdown(rows))
    print(f"\n{len(disputed)} question(s) where a rater differs from the other or from the key (adjudicate these):")
    for qid, ra, rb, k in disputed:
        print(f"  {qid}: A {_show(ra)}, B {_show(rb)}, key {_show(k)}")
    for note in notes:
        print(f"  note: {note}")
    if args.splits:
        write_text_atomically(Path(args.splits), "\ufeff" + splits_csv(disputed))
        print(f"\nWrote the {len(disputed)} split(s) to {args.splits} for adjudication.")
    return 0
