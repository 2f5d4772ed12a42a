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

The two levers that read the line sent are scored twice: with the course line nearest the graded bid, and with the
line, of all the course's, that scores lowest (an attacker who tries every line keeps the one that gets through).

Paraphrases: ``tests/data/tuning/heavy_guard_paraphrases.jsonl`` only (the first heavy set, a tuning set; the held-out
set is left alone). Honest replies: the tuning replies (``boundary_replies.jsonl``, ``repair_replies.jsonl`` in
``tests/data/tuning``) and the practice items, each with its own client line.

**Role-play only.** Where self-checking is off, only the role-plays need the detector, so a course could read
replies only with a role-play line. The honest replies are then the tuning set of role-play replies
(``tests/data/tuning/roleplay_replies.jsonl``, each with its scenario), and two more levers are scored:

* ``nearest``, as above, against these honest replies;
* ``foreign``: how much of the reply's rarer wording (words rare in the training corpus, weighted by that rarity)
  appears nowhere in the role-play it was sent in (its title, background and client lines), even as a word close
  in WordLlama vectors: a reworded graded reply keeps its own situation's specifics. The attacker sends each
  paraphrase in the role-play that suits it best.

    python tests/benchmarks/bench_guard_levers.py
"""

from __future__ import annotations

import json
from collections.abc import Callable
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
    with np.errstate(invalid="ignore"):  # an empty client line has no direction: 0, not NaN
        return np.nan_to_num(meaning.embed(texts))


def course_lines(data: dict, scenarios: list) -> list[str]:
    """Every client line a trainee meets in the course outside the graded items: practice and role-play."""
    lines = {r["client"] for r in data["practice"] + data["repair"] if r.get("client")}
    for sc in scenarios:
        lines |= {node.client for node in sc.nodes.values() if getattr(node, "client", "")}
    return sorted(lines)


def refused_at(attack: np.ndarray, honest: np.ndarray, honest_share: float) -> tuple[float, float]:
    """The threshold refusing ``honest_share`` of honest replies, and the share of attacks it refuses."""
    threshold = float(np.quantile(honest, 1 - honest_share))
    return threshold, float(np.mean(attack >= threshold))


def print_levers(levers: list[tuple[str, np.ndarray, np.ndarray]]) -> None:
    """One row a lever: the paraphrases it refuses where it refuses 5% and 10% of honest replies."""
    for name, attack, fair in levers:
        shown = [f"{share:.0%} (from {t:.2f})" for t, share in (refused_at(attack, fair, q) for q in (0.05, 0.10))]
        print(f"  {name:12}{shown[0]:>24}{shown[1]:>24}")


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
    scenarios = load_bank(ROOT / "modules").scenarios
    lines = course_lines(data, scenarios)
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

    def best_line(
        lever: Callable[[np.ndarray, np.ndarray], np.ndarray], t: np.ndarray
    ) -> np.ndarray:  # the attacker's best line for each paraphrase
        return np.array([lever(np.repeat(row[None, :], len(line_vec), axis=0), line_vec).min() for row in t])

    levers = [
        ("nearest", nearest(a_text), nearest(h_text)),
        ("gap", gap(a_text), gap(h_text)),
        ("bid gate", bid_gate(a_text, a_line), bid_gate(h_text, h_line)),
        ("  any line", best_line(bid_gate, a_text), bid_gate(h_text, h_line)),
        ("fit", fit(a_text, a_line), fit(h_text, h_line)),
        ("  any line", best_line(fit, a_text), fit(h_text, h_line)),
    ]
    print_levers(levers)
    print("  (the target: refuse at least 85% of heavy paraphrases, and at most 5% of honest replies)")
    roleplay_only(data, scenarios, attacks, a_text, nearest)


#: short words every reply uses, left out of the "foreign" lever's count
_STOP_WORDS = (
    "about all also and any are been but can could did does don't for from had has have here how i'd i'll i'm "
    "i've into it's its just let's more not one our out really should some than that that's the them then there "
    "these they this those very was were what when where which who why will with would you you're your"
)
_STOP = frozenset(_STOP_WORDS.split())


def _content_words(text: str) -> list[str]:
    import re

    words = re.findall(r"[a-z']+", text.lower())
    return [
        re.sub(r"(?:ing|ed|es|s|ly|'s)$", "", w) if len(w) > 4 else w for w in words if len(w) > 2 and w not in _STOP
    ]


def roleplay_only(data: dict, scenarios: list, attacks: list[dict], a_text: np.ndarray, nearest: Callable) -> None:
    """The levers open to a course that reads replies only in its role-plays (module docstring)."""
    import math
    from collections import Counter

    honest = jsonl(TUNING / "roleplay_replies.jsonl")
    corpus = [r["text"] for r in data["corpus"] + data["repair_corpus"] + data["practice"] + data["repair"]]
    df = Counter(w for text in corpus for w in set(_content_words(text)))
    rarity = {w: math.log((len(corpus) + 1) / (k + 1)) + 1 for w, k in df.items()}
    unseen = math.log(len(corpus) + 1) + 1
    vectors: dict[str, np.ndarray] = {}

    def vec(words: list[str]) -> np.ndarray:
        new = sorted({w for w in words if w not in vectors})
        vectors.update(zip(new, embed(new), strict=True) if new else ())
        return np.array([vectors[w] for w in words]).reshape(len(words), -1)

    scenes = {}
    for sc in scenarios:
        parts = [sc.title, sc.context.background if sc.context else ""] + [n.client for n in sc.nodes.values()]
        words = sorted(set(_content_words(" ".join(parts))))
        scenes[sc.id] = (set(words), vec(words))

    def foreign(text: str, scene: str) -> float:
        words = sorted({w for w in _content_words(text) if rarity.get(w, unseen) >= 5.0})
        if not words:
            return 0.0
        known, known_vec = scenes[scene]
        close = (vec(words) @ known_vec.T).max(axis=1) if len(known_vec) else np.zeros(len(words))
        return sum(rarity.get(w, unseen) for w, c in zip(words, close, strict=True) if w not in known and c < 0.6)

    h_text = embed([h["text"] for h in honest])
    levers = [
        ("nearest", nearest(a_text), nearest(h_text)),
        ("foreign", np.array([min(foreign(a["text"], s) for s in scenes) for a in attacks]),
         np.array([foreign(h["text"], h["scenario"]) for h in honest])),
    ]  # fmt: skip
    print(f"Role-play only: {len(honest)} honest role-play replies (tuning), {len(scenes)} role-plays")
    print_levers(levers)
    (_, a_near, h_near), (_, a_far, h_far) = levers
    shown = []
    for q in (0.05, 0.10):  # either lever, each at half the honest budget
        t_near, t_far = np.quantile(h_near, 1 - q / 2), np.quantile(h_far, 1 - q / 2)
        honest_refused = np.mean((h_near >= t_near) | (h_far >= t_far))
        shown.append(f"{np.mean((a_near >= t_near) | (a_far >= t_far)):.0%} ({honest_refused:.0%} honest)")
    print(f"  {'either':12}{shown[0]:>24}{shown[1]:>24}")


if __name__ == "__main__":
    main()
