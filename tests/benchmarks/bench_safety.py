"""How well ``checks_safety`` (framelab.detector.safety) reads whether a reply asks directly about risk,
on replies its author did not write and did not read while writing the cues. Prints figures; asserts nothing.

The held-out set: every labelled response in the bank and every scenario reply (model and sample), written
by the bank's drafters, the course engineer and the assistant that wrote the first safety items, less the
replies read while the cues were written (the Module 4 items with a ``risk_check`` field) and less everything
the cues' author wrote (the three new safety role-plays and the rewritten model replies of
``a-bad-night-ahead``); plus the 94 trainee-style replies of ``tests/data/tuning/boundary_replies.jsonl`` (written by
another hand for the boundary detector; none asks about risk). Gold: "asks directly about suicide,
self-harm, harm from or to others, or safety now" (the codebook's *yes*), labelled by the cues' author from
the codebook: :data:`GOLD_YES` below; every other reply is *no* or *partly* (false). Not blind: the labeller
had seen which replies the cues flag. Precision and recall with a 95% percentile bootstrap (2,000 resamples).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from framelab.bank.loader import load_bank
from framelab.detector.safety import checks_safety

ROOT = Path(__file__).resolve().parents[2]
#: replies that ask directly about risk (the codebook's "yes"), by the labeller named above
GOLD_YES = {
    "m3-r020",
    "m3-r148",
    "m4-r019",
    "m4-r065",
    "m4-r077",
    "m4-r079",
    "evening-texts/model/2",
    "a-bad-night-ahead/sample/0",
    "a-bad-night-ahead/sample/4",
}
#: written by the cues' author, so left out
OWN_SCENARIOS = {"a-message-on-sunday", "at-the-door", "camera-in-the-car"}


def held_out() -> list[tuple[str, str, bool]]:
    """(id, text, gold) for every held-out reply."""
    bank = load_bank(ROOT / "modules")
    rows = [(r.id, r.text) for r in bank.responses if r.risk_check is None]
    for sc in bank.scenarios:
        if sc.id in OWN_SCENARIOS:
            continue
        if sc.id != "a-bad-night-ahead":
            rows += [(f"{sc.id}/model/{m.level}", m.text) for m in sc.model_responses]
        rows += [(f"{sc.id}/sample/{i}", m.text) for i, m in enumerate(sc.sample_replies)]
    lines = (ROOT / "tests" / "data" / "tuning/boundary_replies.jsonl").read_text(encoding="utf-8").splitlines()
    rows += [(f"heldout/{n}", json.loads(line)["text"]) for n, line in enumerate(lines, 1) if line.strip()]
    return [(rid, text, rid in GOLD_YES) for rid, text in rows]


def precision_recall(pairs: list[tuple[bool, bool]]) -> tuple[float, float]:
    tp = sum(g and p for g, p in pairs)
    fp = sum(p and not g for g, p in pairs)
    fn = sum(g and not p for g, p in pairs)
    return (tp / (tp + fp) if tp + fp else float("nan")), (tp / (tp + fn) if tp + fn else float("nan"))


def bootstrap(pairs: list[tuple[bool, bool]], n: int = 2000, seed: int = 29) -> tuple[tuple[float, float], ...]:
    rng = random.Random(seed)
    ps, rs = [], []
    for _ in range(n):
        sample = [pairs[rng.randrange(len(pairs))] for _ in pairs]
        p, r = precision_recall(sample)
        if p == p:
            ps.append(p)
        if r == r:
            rs.append(r)
    return _interval(ps), _interval(rs)


def _interval(values: list[float]) -> tuple[float, float]:
    values = sorted(values)
    return values[int(0.025 * len(values))], values[int(0.975 * len(values)) - 1]


def main() -> None:
    rows = held_out()
    pairs = [(gold, checks_safety(text)) for _, text, gold in rows]
    p, r = precision_recall(pairs)
    (p_lo, p_hi), (r_lo, r_hi) = bootstrap(pairs)
    print(f"checks_safety on {len(rows)} held-out replies ({sum(g for g, _ in pairs)} ask directly about risk)")
    print(f"  precision {p:.2f} (95% bootstrap {p_lo:.2f} to {p_hi:.2f})")
    print(f"  recall    {r:.2f} (95% bootstrap {r_lo:.2f} to {r_hi:.2f})")
    wrong = [(rid, gold) for (rid, _, gold), (_, pred) in zip(rows, pairs, strict=True) if gold != pred]
    print("  disagreements: " + (", ".join(f"{rid} (gold {'yes' if g else 'no'})" for rid, g in wrong) or "none"))


if __name__ == "__main__":
    main()
