"""Which levers make the detectors hold on unseen text, by measurement. Prints figures; asserts nothing.

Cross-validation on the practice items and the training corpus only (``modules/_corpus/``, or with ``--corpus
FOLDER`` a writers' folder read with the writers' own labels, for a first look before rating), grouped by client
line so that replies to the same line never sit on both sides of a fold. Every lever is scored on the same test
folds; only what it trains on and how changes:

* ``practice``: the shipped features (word and character n-grams, cues), practice items only;
* ``+corpus``: the same, trained on practice and corpus;
* ``+meaning``: plus WordLlama sentence vectors (:mod:`framelab.detector.meaning`) at a few weights;
* ``+thresholds``: per-label thresholds chosen on the out-of-fold probabilities of the training data.

Then trained on everything and scored on the tuning sets (``tests/data/tuning/``).

    python tests/benchmarks/bench_levers.py [--rubric three_moves|repair] [--corpus FOLDER] [--folds 5]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.model_selection import GroupKFold

from framelab.core.vocabulary import LABELS
from framelab.detector import evaluate as ev
from framelab.detector import meaning, model
from framelab.detector import repair as repairdetect
from framelab.detector.cues import normalise
from framelab.detector.data import Example, load_data

ROOT = Path(__file__).resolve().parents[2]
TUNING = {"three_moves": "boundary_replies.jsonl", "repair": "repair_replies.jsonl"}


def corpus_from(folder: Path, rubric: str) -> list[Example]:
    """A writers' folder read with the writers' labels (for a first look only: not agreed by a rater)."""
    name = "boundary" if rubric == "three_moves" else "repair"
    out = []
    for path in sorted(folder.glob("*.jsonl")):
        if path.name.endswith(".rated.jsonl"):
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                r = json.loads(line)
            except json.JSONDecodeError:
                continue
            if r.get("rubric") == name and r.get("labels") and all(lab in LABELS for lab in r["labels"]):
                out.append(Example(r["id"], r["text"], r["client"], tuple(r["labels"])))
    return out


def features(rubric: str, weight: float) -> Any:
    cues = model._cue_features if rubric == "three_moves" else repairdetect.cue_features
    if not weight:
        return cues
    cache: dict[str, Any] = {}

    def both(texts: Any) -> Any:
        texts = list(texts)
        todo = [t for t in texts if t not in cache]
        for t, v in zip(todo, meaning.embed(todo), strict=True):
            cache[t] = v
        return np.hstack([cues(texts), weight * np.vstack([cache[t] for t in texts])])

    return both


def oof(train: list[Example], test: list[Example], feats: Any) -> np.ndarray:
    pipe = model.fit(train, feats)
    return pipe.predict_proba([e.text for e in test])


def cross_val(practice: list[Example], corpus: list[Example], folds: int, feats: Any, use_corpus: bool) -> np.ndarray:
    data = practice + corpus
    groups = [normalise(e.client) for e in data]
    probs = np.zeros((len(data), len(LABELS)))
    is_practice = np.array([i < len(practice) for i in range(len(data))])
    for train_idx, test_idx in GroupKFold(n_splits=folds).split(data, groups=groups):
        keep = [i for i in train_idx if use_corpus or is_practice[i]]
        probs[test_idx] = oof([data[i] for i in keep], [data[i] for i in test_idx], feats)
    return probs


def choose_thresholds(gold: list[tuple[str, ...]], probs: np.ndarray) -> dict[str, float]:
    """Per label, the threshold (0.2-0.7) that maximises that label's out-of-fold F1."""
    out = {}
    for k, lab in enumerate(LABELS):
        y = np.array([lab in g for g in gold])
        best = max(
            np.arange(0.2, 0.71, 0.05),
            key=lambda t: (
                ev.f1(
                    int((y & (probs[:, k] >= t)).sum()),
                    int((~y & (probs[:, k] >= t)).sum()),
                    int((y & (probs[:, k] < t)).sum()),
                ),
                -abs(t - 0.5),
            ),
        )
        out[lab] = round(float(best), 2)
    return out


def show(name: str, gold: list[tuple[str, ...]], probs: np.ndarray, thresholds: dict[str, float]) -> None:
    preds = [model.decide(list(row), per_label=thresholds) for row in probs]
    s = ev.label_scores(gold, preds)
    labs = " ".join(f"{lab[:8]} {s.per_label.get(lab, float('nan')):.2f}" for lab in LABELS)
    print(f"  {name:<28} macro {s.macro_f1:.3f} exact {s.exact:.3f} | {labs}", flush=True)


def tuning_set(rubric: str) -> list[Example]:
    path = ROOT / "tests" / "data" / "tuning" / TUNING[rubric]
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [Example(str(n), r["text"], r.get("client", ""), tuple(r["labels"])) for n, r in enumerate(rows)]


def run(rubric: str, corpus: list[Example], folds: int, weights: list[float]) -> None:
    data = load_data()
    practice = list(data.practice if rubric == "three_moves" else data.repair)
    gold = [e.labels for e in practice + corpus]
    base = model.LABEL_THRESHOLDS if rubric == "three_moves" else {}
    print(f"{rubric}: {len(practice)} practice + {len(corpus)} corpus replies, {folds}-fold grouped by client line")
    tuning = tuning_set(rubric)
    for use_corpus, weight in [(False, 0.0), *((True, w) for w in weights)]:
        feats = features(rubric, weight)
        t = time.perf_counter()
        probs = cross_val(practice, corpus, folds, feats, use_corpus)
        name = ("+corpus" if use_corpus else "practice") + (f" +meaning {weight}" if weight else "")
        show(name, gold, probs, base)
        chosen = choose_thresholds(gold, probs)
        show(name + " +thresholds", gold, probs, chosen)
        train = practice + (corpus if use_corpus else [])
        tprobs = oof(train, tuning, feats)
        show("  tuning set", [e.labels for e in tuning], tprobs, base)
        show("  tuning set +thresholds", [e.labels for e in tuning], tprobs, chosen)
        print(f"    thresholds {chosen}; {time.perf_counter() - t:.0f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rubric", choices=["three_moves", "repair"], default=None)
    parser.add_argument("--corpus", type=Path, default=None, help="a writers' folder, read with the writers' labels")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--weights", default="0,0.5,1,2", help="meaning weights to try with the corpus")
    args = parser.parse_args()
    weights = [float(w) for w in args.weights.split(",")]
    data = load_data()
    for rubric in [args.rubric] if args.rubric else ["three_moves", "repair"]:
        if args.corpus:
            corpus = corpus_from(args.corpus, rubric)
        else:
            corpus = list(data.corpus if rubric == "three_moves" else data.repair_corpus)
        run(rubric, corpus, args.folds, weights)


if __name__ == "__main__":
    main()
