"""The training corpus: replies written for the detectors by writers of their own, each labelled from the
codebook by its writer and again, blind, by a rater. Training-only: never shown in a practice deck, never graded.

Writers deliver ``<writer>.jsonl`` (``{"id", "rubric": "boundary"|"repair", "client", "text", "labels",
"rationale", "difficulty", "english", "register"}``) and the rater ``<writer>.rated.jsonl`` (the same ids with
the rater's ``labels``). :func:`import_corpus` brings a rated writer into ``modules/_corpus/<writer>.jsonl``,
keeping only the replies on which writer and rater chose exactly the same labels (no adjudication: a
disagreement leaves the reply out) and none that copies an assessment item, and records the agreement, per
writer and per label, in ``modules/_corpus/agreement.json``. ``framelab build`` hands the kept replies to the
detectors (:func:`load_corpus`); ``framelab validate`` checks them (:func:`corpus_problems`).

    python -m framelab.bank.corpus /work/corpus        # import every rated writer found there
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from framelab.bank.models import Problem
from framelab.core.files import write_text_atomically
from framelab.core.vocabulary import LABELS
from framelab.detector.guard import Guard

FOLDER = "_corpus"
AGREEMENT_FILE = "agreement.json"
#: the corpus's rubric names, as the bank's (framelab.core.rubrics)
RUBRICS = {"boundary": "three_moves", "repair": "repair"}
KEEP = ("id", "rubric", "client", "text", "labels", "rationale", "difficulty", "english", "register")


@dataclass
class Agreement:
    writer: str
    rated: int  # replies both labelled
    exact: int  # of which the same label set
    per_label: dict[str, dict[str, float | int | None]]  # label -> both, either, agreement, kappa

    def to_json(self) -> dict[str, Any]:
        share = round(self.exact / self.rated, 3) if self.rated else None
        return {
            "writer": self.writer,
            "rated": self.rated,
            "exact": self.exact,
            "share": share,
            "per_label": self.per_label,
        }


def read_rows(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """The JSON objects of a JSON Lines file, and one message per line that is not one."""
    rows, problems = [], []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        return [], [f"{path}: cannot be read ({exc.__class__.__name__}); write it as UTF-8 JSON Lines."]
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{path}:{n}: not valid JSON ({exc.msg}); write one JSON object a line.")
            continue
        if not isinstance(row, dict):
            problems.append(f"{path}:{n}: not a JSON object; write one object a line.")
            continue
        rows.append({**row, "_line": n})
    return rows, problems


def row_problem(row: Mapping[str, Any]) -> str | None:
    """What makes a corpus row unusable (as ``field: why; fix``), or None."""
    for name in ("id", "client", "text"):
        if not isinstance(row.get(name), str) or not row[name].strip():
            return f"field '{name}' is missing or empty; give it as text"
    if row.get("rubric") not in RUBRICS:
        return f"rubric {row.get('rubric')!r} is not one of {', '.join(RUBRICS)}; use one of those"
    labels = row.get("labels")
    if not isinstance(labels, list) or not labels or not all(isinstance(x, str) for x in labels):
        return "field 'labels' must be a non-empty list of labels"
    unknown = [x for x in labels if x not in LABELS]
    if unknown:
        return f"unknown label(s) {', '.join(unknown)}; labels come from: {', '.join(LABELS)}"
    return None


def _kappa(a: Sequence[bool], b: Sequence[bool]) -> float | None:
    n = len(a)
    if not n:
        return None
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / n
    pa, pb = sum(a) / n, sum(b) / n
    expected = pa * pb + (1 - pa) * (1 - pb)
    return None if expected == 1 else round((observed - expected) / (1 - expected), 3)


def agreement(writer: str, pairs: Sequence[tuple[Sequence[str], Sequence[str]]]) -> Agreement:
    """How far the writer's and the rater's label sets agree: exactly, and per label (Cohen's kappa)."""
    per_label: dict[str, dict[str, float | int | None]] = {}
    for lab in LABELS:
        a = [lab in w for w, _ in pairs]
        b = [lab in r for _, r in pairs]
        both, either = sum(x and y for x, y in zip(a, b, strict=True)), sum(x or y for x, y in zip(a, b, strict=True))
        per_label[lab] = {"both": both, "either": either, "kappa": _kappa(a, b)}
    exact = sum(set(w) == set(r) for w, r in pairs)
    return Agreement(writer, len(pairs), exact, per_label)


def agreed_rows(
    written: Iterable[Mapping[str, Any]], rated: Mapping[str, Sequence[str]], guard: Guard
) -> tuple[list[dict[str, Any]], list[tuple[Sequence[str], Sequence[str]]], dict[str, list[str]]]:
    """The rows to keep (rated, the same labels, no copy of an assessment item), the (writer, rater) label
    pairs, and the ids left out by reason."""
    kept, pairs = [], []
    out: dict[str, list[str]] = {"unusable": [], "unrated": [], "disagreed": [], "copies an assessment item": []}
    for row in written:
        if row_problem(row) is not None:
            out["unusable"].append(str(row.get("id")))
            continue
        second = rated.get(row["id"])
        if second is None:
            out["unrated"].append(row["id"])
            continue
        pairs.append((row["labels"], second))
        if set(row["labels"]) != set(second):
            out["disagreed"].append(row["id"])
        elif guard.match(row["text"]) is not None:
            out["copies an assessment item"].append(row["id"])
        else:
            kept.append({k: row[k] for k in KEEP if k in row})
    return kept, pairs, out


def _rater_labels(rows: Iterable[Mapping[str, Any]]) -> dict[str, list[str]]:
    return {
        r["id"]: r["labels"]
        for r in rows
        if isinstance(r.get("id"), str) and isinstance(r.get("labels"), list) and r["labels"]
    }


def import_writer(written: Path, rated: Path, dest: Path, guard: Guard) -> tuple[Agreement, dict[str, list[str]]]:
    """Bring one rated writer into ``dest`` (``<writer>.jsonl``, atomically); the agreement and what was left out."""
    writer = written.name.removesuffix(".jsonl")
    rows, problems = read_rows(written)
    second, more = read_rows(rated)
    for message in problems + more:
        print(message, file=sys.stderr)
    kept, pairs, left_out = agreed_rows(rows, _rater_labels(second), guard)
    text = "".join(json.dumps({**r, "writer": writer, "agreed": True}, ensure_ascii=False) + "\n" for r in kept)
    dest.mkdir(parents=True, exist_ok=True)
    write_text_atomically(dest / f"{writer}.jsonl", text)
    return agreement(writer, pairs), left_out


def import_corpus(source: Path, modules: Path, assessment: Sequence[tuple[str, str]]) -> list[str]:
    """Import every writer in ``source`` that has a ``.rated.jsonl``; lines for people about each writer."""
    dest = modules / FOLDER
    guard = Guard(tuple(assessment))
    path = dest / AGREEMENT_FILE
    record: dict[str, Any] = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    lines = []
    for written in sorted(source.glob("*.jsonl")):
        if written.name.endswith(".rated.jsonl"):
            continue
        rated = written.with_name(written.name.removesuffix(".jsonl") + ".rated.jsonl")
        if not rated.exists():
            lines.append(f"{written.name}: not rated yet; left for now.")
            continue
        agreed, left_out = import_writer(written, rated, dest, guard)
        record[agreed.writer] = {**agreed.to_json(), "left_out": {k: len(v) for k, v in left_out.items()}}
        lines.append(
            f"{agreed.writer}: {agreed.exact} of {agreed.rated} rated replies agreed exactly; "
            + ", ".join(f"{len(v)} {k}" for k, v in left_out.items() if v)
        )
    if record:
        dest.mkdir(parents=True, exist_ok=True)
        write_text_atomically(path, json.dumps(record, indent=1, sort_keys=True) + "\n")
    return lines


def load_corpus(modules: Path) -> list[dict[str, Any]]:
    """The usable replies of ``modules/_corpus/*.jsonl`` (the bank's rubric names), for the detectors."""
    out = []
    for path in sorted((Path(modules) / FOLDER).glob("*.jsonl")):
        rows, _ = read_rows(path)
        out += [{**r, "rubric": RUBRICS[r["rubric"]]} for r in rows if row_problem(r) is None]
    for r in out:
        r.pop("_line", None)
    return out


def corpus_problems(modules: Path, assessment: Sequence[tuple[str, str]]) -> list[Problem]:
    """For ``framelab validate``: every corpus line that cannot be used, repeats an id, or copies an assessment item."""
    guard, seen, out = Guard(tuple(assessment)), set(), []
    for path in sorted((Path(modules) / FOLDER).glob("*.jsonl")):
        rel = f"{Path(modules).name}/{FOLDER}/{path.name}"
        rows, problems = read_rows(path)
        out += [
            Problem(rel, None, None, None, p.split(": ", 1)[-1], "fix the line or import it again") for p in problems
        ]
        for row in rows:
            why = row_problem(row)
            if why is None and row["id"] in seen:
                why = "repeats an id already used in the corpus; give each reply its own id"
            elif why is None and (hit := guard.match(row["text"])) is not None:
                why = f"copies assessment item {hit[0]} ({hit[1]:.0%}); drop it, the detectors must not learn the key"
            if why is not None:
                message, _, fix = why.partition("; ")
                out.append(Problem(rel, row["_line"], str(row.get("id")), None, message, fix or "fix it"))
            seen.add(row.get("id"))
    return out


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not Path(args[0]).is_dir():
        print("usage: python -m framelab.bank.corpus FOLDER  (the writers' <writer>.jsonl and <writer>.rated.jsonl)")
        return 2
    from framelab.detector.data import load_data

    # the assessment texts as the detectors' guard holds them (written by 'framelab build' from the bank)
    for line in import_corpus(Path(args[0]), Path("modules"), load_data().guard):
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
