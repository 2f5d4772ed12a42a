"""Which text-level levers could let the deployment guard refuse reworded graded items it now lets through, by
measurement. Prints figures; asserts nothing; adopts nothing.

The guard refuses a reworded graded item sent *with* its client line (``Guard.graded_client``); sent as text alone,
only the meaning guard stands in the way, and it lets most heavy paraphrases through (README, "What it cannot
stop"). Each lever below is a score over WordLlama sentence vectors (:mod:`framelab.detector.meaning`); for each we
print how many paraphrases it would refuse at the threshold where it refuses 5% (and 10%) of honest replies:

* ``nearest``: cosine to the nearest graded reply (what the meaning guard blends with TF-IDF);
* ``gap``: that cosine less the mean of the next ten (a paraphrase should sit near *one* item, an honest reply
  near many alike);
* ``bid gate``: the course accepts only its own client lines (practice and role-play); the attacker sends the
  course line nearest the graded bid, and the reply is refused when it is close to a graded reply whose bid is
  close to that line (the threshold on the reply, with the bid gate at 0.6);
* ``fit``: how much better the reply fits some graded client line than the line it was sent with.

Paraphrases: ``tests/data/tuning/heavy_guard_paraphrases.jsonl`` only (the first heavy set, a tuning set; the held-out
set is left alone). Honest replies: the tuning replies (``tests/data/tuning/*_replies.jsonl``) and the practice
items, each with its own client line.

    python tests/benchmarks/bench_guard_levers.py
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from framelab.bank.loader import load_bank
from framelab.detector import meaning
from framelab.detector.data import DATA_FILE

ROOT = Path(__file__).resolve().parents[2]
TUNING = ROOT / "tests" / "data" / "tuning"


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def embed(texts: list[str]) -> np.ndarray:
    return np.nan_to_num(meaning.embed(texts))  # an empty client line has no direction: 0, not NaN


def course_lines(data: dict) -> list[str]:
    """Every client line a trainee meets in the course outside the graded items: practice and role-play."""
    lines = {r["client"] for r in data["practice"] + data["repair"] if r.get("client")}
    for sc in load_bank(ROOT / "modules").scenarios:
        lines |= {node.client for node in sc.nodes.values() if getattr(node, "client", "")}
    return sorted(lines)


def refused_at(attack: np.ndarray, honest: np.ndarray, honest_share: float) -> tuple[float, float]:
    """The threshold refusing ``honest_share`` of honest replies, and the share of attacks it refuses."""
    threshold = float(np.quantile(honest, 1 - honest_share))
    return threshold, float(np.mean(attack >= threshold))


def main() -> None:
    if not meaning.available():
        print("bench_guard_levers: the wordllama package is not installed; nothing to measure.")
        return
    data = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    graded = data["guard"]
    g_text, g_client = embed([g["text"] for g in graded]), embed([g.get("client", "") for g in graded])
    by_id = {g["id"]: i for i, g in enumerate(graded)}
    attacks = [a for a in jsonl(TUNING / "heavy_guard_paraphrases.jsonl") if a["source_item"] in by_id]
    honest = jsonl(TUNING / "boundary_replies.jsonl") + jsonl(TUNING / "repair_replies.jsonl")
    honest += [r for r in data["practice"] + data["repair"] if r.get("client")]
    lines = course_lines(data)
    line_vec = embed(lines)
    a_text, h_text = embed([a["text"] for a in attacks]), embed([h["text"] for h in honest])
    h_line = embed([h["client"] for h in honest])
    # the attacker's best disguise: the course line nearest the graded item's own bid
    a_line = line_vec[[int(np.argmax(line_vec @ g_client[by_id[a["source_item"]]])) for a in attacks]]

    def nearest(t: np.ndarray) -> np.ndarray:
        return (t @ g_text.T).max(axis=1)

    def gap(t: np.ndarray) -> np.ndarray:
        s = np.sort(t @ g_text.T, axis=1)
        return s[:, -1] - s[:, -11:-1].mean(axis=1)

    def bid_gate(t: np.ndarray, line: np.ndarray, gate: float = 0.6) -> np.ndarray:
        near = (line @ g_client.T) >= gate
        return np.where(near, t @ g_text.T, -1.0).max(axis=1)

    def fit(t: np.ndarray, line: np.ndarray) -> np.ndarray:
        return (t @ g_client.T).max(axis=1) - (t * line).sum(axis=1)

    print(f"bench_guard_levers: {len(attacks)} heavy paraphrases (tuning), {len(honest)} honest replies,")
    print(f"  {len(lines)} course client lines, {len(graded)} graded texts")
    print(f"  {'lever':12}{'refused at 5% honest':>24}{'refused at 10% honest':>24}")
    levers = {
        "nearest": (nearest(a_text), nearest(h_text)),
        "gap": (gap(a_text), gap(h_text)),
        "bid gate": (bid_gate(a_text, a_line), bid_gate(h_text, h_line)),
        "fit": (fit(a_text, a_line), fit(h_text, h_line)),
    }
    for name, (attack, fair) in levers.items():
        shown = [f"{share:.0%} (from {t:.2f})" for t, share in (refused_at(attack, fair, q) for q in (0.05, 0.10))]
        print(f"  {name:12}{shown[0]:>24}{shown[1]:>24}")
    print("  (the target: refuse at least 85% of heavy paraphrases, and at most 5% of honest replies)")


if __name__ == "__main__":
    main()
