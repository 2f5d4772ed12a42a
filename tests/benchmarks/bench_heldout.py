"""The figures that count: the detectors on held-out sets written apart from them. Prints figures; asserts nothing.

Held-out sets are written by writers who never saw the training data, the detectors, their errors or the
tuning, labelled blind by two raters, and added to ``tests/data/heldout/`` by the lead after the detector is
fixed; they are scored once per release. Nothing may be tuned on them: once looked at while tuning, a set
becomes a tuning set (``tests/data/tuning/``). The sets, each optional:

* ``boundary.jsonl``, ``repair.jsonl``: ``{"client", "text", "labels", "writer", "rubric"}``, replies to boundary
  bids and to ruptures, read by the boundary and the repair detector: macro-F1, per-label F1 and exact-set match;
* ``guard_paraphrases.jsonl``: ``{"client", "text", "labels", "source_item"}``, heavy paraphrases of graded items
  (``labels`` the key's): the share a course deployment (``FRAMELAB_SELF_CHECK=0``) answers with exactly the key's
  labels; with the texts of ``boundary.jsonl`` and ``repair.jsonl``, the share of honest replies it refuses;
* ``risk.jsonl``: ``{"client", "text", "risk_check"}``: precision and recall of ``checks_safety``.

Every figure with a 95% percentile bootstrap interval over replies (seeded, 2,000 resamples); the risk reader's
also with the exact Clopper-Pearson interval. The computations are :mod:`framelab.detector.evaluate`.

    python tests/benchmarks/bench_heldout.py [--folder tests/data/heldout]
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from framelab.core.vocabulary import LABELS
from framelab.detector import evaluate as ev

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / "tests" / "data" / "heldout"
NEEDS = {
    "boundary.jsonl": ("text", "labels"),
    "repair.jsonl": ("text", "labels"),
    "guard_paraphrases.jsonl": ("text", "labels", "source_item"),
    "risk.jsonl": ("text", "risk_check"),
    "roleplay_replies.jsonl": ("text", "client", "rubric"),
}


def read_set(path: Path) -> list[dict[str, Any]]:
    """The rows of one set; a line that is not a usable row is reported in one line and left out."""
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            print(f"  {path.name} line {n}: not valid JSON ({exc.msg}); fix the line. Left out.")
            continue
        missing = [k for k in NEEDS[path.name] if not isinstance(row, dict) or k not in row]
        unknown = [lab for lab in (row.get("labels") or []) if lab not in LABELS] if not missing else []
        empty = "labels" in NEEDS[path.name] and "labels" in row and not row["labels"]  # risk rows need no labels
        if missing or unknown or empty:
            why = (
                f"missing {', '.join(missing)}" if missing else f"unknown labels {unknown}" if unknown else "no labels"
            )
            print(f"  {path.name} line {n}: {why}; labels come from: {', '.join(LABELS)}. Left out.")
            continue
        rows.append(row)
    return rows


def _iv(pair: tuple[float, float] | None) -> str:
    return "n/a" if pair is None else f"{pair[0]:.3f} to {pair[1]:.3f}"


def labels_report(name: str, rows: list[dict[str, Any]], detector: Any) -> None:
    """Macro-F1, exact set and per-label F1 of the detector's reading (the model's, no guard), with intervals."""
    preds = [d.labels for d in detector.detect_many([r["text"] for r in rows])]
    gold = [r["labels"] for r in rows]
    s = ev.label_scores(gold, preds)
    iv = ev.label_intervals(gold, preds)
    writers = Counter(str(r.get("writer", "?")) for r in rows)
    print(f"{name}: {s.n} replies; writers {', '.join(f'{w} ({k})' for w, k in sorted(writers.items()))}")
    print(f"  macro-F1  {s.macro_f1:.3f} (95% bootstrap {_iv(iv.get('macro_f1'))})")
    print(f"  exact set {s.exact:.3f} (95% bootstrap {_iv(iv.get('exact'))})")
    for lab, value in s.per_label.items():
        support = sum(lab in g for g in gold)
        print(f"  {lab:<16} F1 {value:.3f} (95% bootstrap {_iv(iv.get(lab))}; {support} in gold)")


def _share(name: str, flags: list[bool], limit: str) -> None:
    k, n = sum(flags), len(flags)
    low, high = ev.bootstrap(flags, ev.rate)
    cp = ev.clopper_pearson(k, n)
    print(
        f"  {name}: {k} of {n} ({ev.rate(flags):.1%}; 95% bootstrap {low:.1%} to {high:.1%}, "
        f"exact {cp[0]:.1%} to {cp[1]:.1%}; {limit})"
    )


def guard_report(
    paraphrases: list[dict[str, Any]],
    honest: list[tuple[str, str]],
    detectors: dict[str, Any],
    roleplay: Sequence[dict[str, Any]] = (),
) -> None:
    """In a course deployment: paraphrases of graded items answered with the key's labels; honest replies refused
    (sent alone, and typed in a role-play with its line)."""
    from framelab.bank.loader import load_bank
    from framelab.detector.boundary import Refused

    items = load_bank().items()

    def answered(row: dict[str, Any], client: str = "") -> bool:
        rubric = "repair" if getattr(items.get(row["source_item"]), "rubric", "") == "repair" else "three_moves"
        try:
            return set(detectors[rubric](row["text"], client).labels) == set(row["labels"])
        except Refused:
            return False

    def refused(rubric: str, text: str, client: str = "") -> bool:
        try:
            detectors[rubric].check(text, client)
        except Refused:
            return True
        return False

    print("The guard, as in a course deployment (FRAMELAB_SELF_CHECK=0)")
    if paraphrases:
        _share("paraphrases of graded items answered with the key", [answered(r) for r in paraphrases], "target <= 15%")
        with_client = [r for r in paraphrases if isinstance(r.get("client"), str) and r["client"].strip()]
        if with_client:  # the same paraphrases sent with the graded item's client line (Guard.graded_client)
            flags = [answered(r, r["client"]) for r in with_client]
            _share("  the same, sent with the item's client line", flags, "target <= 15%")
    if honest:
        _share("honest replies refused", [refused(rubric, text) for rubric, text in honest], "target <= 5%")
    if roleplay:
        flags = [refused(_rubric(r), r["text"], r["client"]) for r in roleplay]
        _share("honest role-play replies refused (with their role-play line)", flags, "target <= 5%")


def _rubric(row: dict[str, Any]) -> str:
    return "repair" if row.get("rubric") == "repair" else "three_moves"


def risk_report(rows: list[dict[str, Any]]) -> None:
    from framelab.detector.safety import checks_safety

    pairs = [(ev.is_risk_yes(r["risk_check"]), checks_safety(r["text"])) for r in rows]
    p, r = ev.precision_recall(pairs)
    p_iv = ev.bootstrap(pairs, lambda s: ev.precision_recall(s)[0])
    r_iv = ev.bootstrap(pairs, lambda s: ev.precision_recall(s)[1])
    tp = sum(g and q for g, q in pairs)
    flagged, positives = sum(q for _, q in pairs), sum(g for g, _ in pairs)
    print(f"checks_safety: {len(pairs)} replies, {positives} ask directly about risk, {flagged} flagged")
    print(f"  precision {p:.3f} (95% bootstrap {_iv(p_iv)}; exact {_iv(ev.clopper_pearson(tp, flagged))})")
    print(f"  recall    {r:.3f} (95% bootstrap {_iv(r_iv)}; exact {_iv(ev.clopper_pearson(tp, positives))})")


def run(folder: Path) -> None:
    present = {name: folder / name for name in NEEDS if (folder / name).is_file()}
    if not folder.is_dir() or not present:
        print(f"no held-out set here ({folder}): the lead adds the separately written sets after merging.")
        return
    from framelab.detector.boundary import load_detector
    from framelab.detector.repair import load_repair_detector

    sets = {name: read_set(path) for name, path in present.items()}
    plain = {"three_moves": load_detector(deployment=False), "repair": load_repair_detector(deployment=False)}
    for name, rubric in (("boundary.jsonl", "three_moves"), ("repair.jsonl", "repair")):
        if sets.get(name):
            labels_report(name, sets[name], plain[rubric])
    honest = [
        (rubric, r["text"])
        for name, rubric in (("boundary.jsonl", "three_moves"), ("repair.jsonl", "repair"))
        for r in sets.get(name, [])
    ]
    if sets.get("guard_paraphrases.jsonl") or honest or sets.get("roleplay_replies.jsonl"):
        course = {"three_moves": load_detector(deployment=True), "repair": load_repair_detector(deployment=True)}
        guard_report(sets.get("guard_paraphrases.jsonl", []), honest, course, sets.get("roleplay_replies.jsonl", []))
    if sets.get("risk.jsonl"):
        risk_report(sets["risk.jsonl"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, default=FOLDER, help="where the held-out sets are")
    run(parser.parse_args(argv).folder)


if __name__ == "__main__":
    main()
