"""Benchmark and honest evaluation of ``framelab detect``. Prints figures; asserts nothing.

* Repeated stratified 5-fold cross-validation on the practice split (the only data it learns from).
* The assessment split as a held-out test, never trained on.
* Per-label precision, recall and F1; macro-F1; exact-set match. Against two baselines: the most
  frequent label set, and the keyword rule list alone (a label wherever one of its cues matches).
* Calibration: out-of-fold confidences in bins against how often the label was really there.
* Timing: cold start (import and load from the cache; training afresh), one response at a time,
  and 1,000 responses in one batch. The oracle guard: refusals on assessment items, on lightly
  edited copies of them, and (wrongly) on practice items.
* The repair detector (replies to ruptures): the same figures on its own practice split and held-out
  sets, against the repair cue rules, how often the role-play's client reacts to the right move, the
  guard on paraphrases of the graded repair items, and the first reply to a rupture.
* The course-deployment guard (self-checking off): of 44 heavier paraphrases of graded items
  (``tests/data/tuning/guard_paraphrases.jsonl``), how many the detector answers with the key's labels; of 94
  trainee-style replies to new client lines (``tests/data/tuning/boundary_replies.jsonl``), how many it refuses.
  The same replies, labelled from the codebook, give a macro-F1 on a **tuning set** (looked at while tuning,
  so flattering; the figures that count are ``bench_heldout.py``'s, on sets written apart).

    python tests/benchmarks/bench_detect.py [--repeats 5] [--guard-only] [--repair-only]
"""

from __future__ import annotations

import argparse
import itertools
import random
import statistics
import subprocess
import sys
import time
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score, precision_recall_fscore_support
from sklearn.model_selection import RepeatedStratifiedKFold

from framelab.bank.loader import load_bank
from framelab.core.vocabulary import LABELS
from framelab.detector.boundary import Detector, Refused, default_detector, load_detector
from framelab.detector.cues import cue_matches, normalise
from framelab.detector.data import load_data
from framelab.detector.guard import BLEND_THRESHOLD, MEANING_THRESHOLD
from framelab.detector.jsonl import run_jsonl
from framelab.detector.model import decide, fit, label_matrix

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def as_matrix(label_sets) -> np.ndarray:
    return label_matrix(label_sets)


def scores(gold: np.ndarray, pred: np.ndarray) -> dict:
    p, r, f, _ = precision_recall_fscore_support(gold, pred, average=None, zero_division=0)
    return {
        "p": p,
        "r": r,
        "f": f,
        "macro": f1_score(gold, pred, average="macro", zero_division=0),
        "exact": float((gold == pred).all(axis=1).mean()),
    }


def decide_all(probs: np.ndarray, decide=decide) -> np.ndarray:
    return as_matrix([decide(list(row)) for row in probs])


def keyword(texts) -> np.ndarray:
    return as_matrix([list(cue_matches(t)) or ["validate"] for t in texts])


def table(title: str, rows: dict[str, dict]) -> None:
    print(f"\n{title}")
    names = list(rows)
    print(f"  {'label':<16}" + "".join(f"{n:>28}" for n in names))
    print(f"  {'':<16}" + "".join(f"{'P     R     F1':>28}" for _ in names))
    for i, lab in enumerate(LABELS):
        cells = "".join(f"{r['p'][i]:>16.2f}{r['r'][i]:>6.2f}{r['f'][i]:>6.2f}" for r in rows.values())
        print(f"  {lab:<16}{cells}")
    print(f"  {'macro-F1':<16}" + "".join(f"{r['macro']:>28.3f}" for r in rows.values()))
    print(f"  {'exact set':<16}" + "".join(f"{r['exact']:>28.3f}" for r in rows.values()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--guard-only", action="store_true", help="only the deployment guard and the tuning replies")
    parser.add_argument("--repair-only", action="store_true", help="only the repair detector's figures")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=UserWarning)
    if args.guard_only:
        deployment_guard()
        return
    if args.repair_only:
        repair_detector(args.repeats)
        return

    data = load_data()
    practice = list(data.practice)
    y = as_matrix([e.labels for e in practice])
    prevalence = y.mean(axis=0)
    # stratify on each item's rarest label, so every fold sees every backfiring pattern
    strata = [min(e.labels, key=lambda lab: prevalence[LABELS.index(lab)]) for e in practice]
    print(
        f"practice split: {len(practice)} responses; "
        + ", ".join(f"{lab} {int(y[:, i].sum())}" for i, lab in enumerate(LABELS))
    )

    cv = RepeatedStratifiedKFold(n_splits=5, n_repeats=args.repeats, random_state=0)
    oof_probs, oof_gold, per_repeat = [], [], []
    rep_gold, rep_pred = [], []
    for fold, (train, test) in enumerate(cv.split(practice, strata)):
        model = fit([practice[i] for i in train])
        probs = model.predict_proba([practice[i].text for i in test])
        oof_probs.append(probs)
        oof_gold.append(y[test])
        rep_gold.append(y[test])
        rep_pred.append(decide_all(probs))
        if (fold + 1) % 5 == 0:
            per_repeat.append(scores(np.vstack(rep_gold), np.vstack(rep_pred)))
            rep_gold, rep_pred = [], []
    probs_all, gold_all = np.vstack(oof_probs), np.vstack(oof_gold)
    cv_scores = scores(gold_all, decide_all(probs_all))
    texts = [e.text for e in practice]
    common = Counter(tuple(e.labels) for e in practice).most_common(1)[0][0]
    table(
        f"Cross-validation on the practice split ({args.repeats} x 5 folds, out-of-fold predictions pooled)",
        {"detector": cv_scores, "keyword rules": scores(y, keyword(texts))},
    )
    macros = [s["macro"] for s in per_repeat]
    print(
        f"  macro-F1 per repeat: mean {statistics.mean(macros):.3f}, sd {statistics.pstdev(macros):.3f} "
        f"(min {min(macros):.3f}, max {max(macros):.3f})"
    )

    bank = load_bank(ROOT / "modules")
    held = [r for r in bank.responses if r.split == "assessment" and r.rubric == "three_moves"]
    gold = as_matrix([r.labels for r in held])
    model = fit(practice)
    pred = decide_all(model.predict_proba([r.text for r in held]))
    print(f"\n(the most frequent label set in the practice split: {' + '.join(common)})")
    table(
        f"Held-out assessment split ({len(held)} responses, never trained on)",
        {
            "detector": scores(gold, pred),
            "keyword rules": scores(gold, keyword([r.text for r in held])),
            "most frequent set": scores(gold, as_matrix([common] * len(held))),
        },
    )

    print("\nCalibration (out-of-fold, every label's confidence pooled)")
    flat_p, flat_y = probs_all.ravel(), gold_all.ravel()
    edges = np.linspace(0, 1, 11)
    ece = 0.0
    print(f"  {'confidence':<12}{'n':>6}{'mean shown':>12}{'right':>8}")
    for lo, hi in itertools.pairwise(edges):
        mask = (flat_p >= lo) & ((flat_p < hi) if hi < 1 else (flat_p <= hi))
        if mask.sum():
            shown, right = flat_p[mask].mean(), flat_y[mask].mean()
            ece += mask.sum() / len(flat_p) * abs(shown - right)
            print(f"  {lo:.1f}-{hi:.1f}{'':<5}{mask.sum():>6}{shown:>12.2f}{right:>8.2f}")
    print(f"  expected calibration error: {ece:.3f}")

    print("\nTiming (this machine)")
    cold = []
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run([str(BIN / "framelab"), "detect", "--train"], check=True, capture_output=True)
        cold.append(time.perf_counter() - start)
    print(
        "  cold start, 'framelab detect --train' from the cache (process start, imports, load): "
        f"{statistics.median(cold):.2f} s"
    )
    start = time.perf_counter()
    det = load_detector(use_cache=False)
    print(f"  training afresh (in process, imports already done): {time.perf_counter() - start:.2f} s")
    rng = random.Random(0)
    pool = [e.text for e in practice] + [
        "I hear how much you want this, and my answer is no; what's it like to hear that?",
        "Anyway! How's work?",
    ]
    singles = []
    for text in rng.choices(pool, k=300):
        start = time.perf_counter()
        det.detect(text)
        singles.append((time.perf_counter() - start) * 1000)
    singles.sort()
    print(
        f"  one response (guard, model, cues): median {statistics.median(singles):.1f} ms, "
        f"p95 {singles[int(0.95 * len(singles))]:.1f} ms, max {singles[-1]:.1f} ms"
    )
    batch = [json_line(i, rng.choice(pool)) for i in range(1000)]
    start = time.perf_counter()
    _, failed = run_jsonl(batch, det)
    took = time.perf_counter() - start
    print(f"  1,000 responses as JSON Lines (guard, model, cues): {took:.2f} s ({failed} refused)")

    print("\nOracle guard")
    refused = sum(det.guard.match(t) is not None for _, t in data.guard)
    print(f"  assessment items refused: {refused} of {len(data.guard)}")
    edited = 0
    for _, text in data.guard:
        words = text.split()
        words[len(words) // 2] = "really"
        edited += det.guard.match(" ".join(words[1:]).upper()) is not None
    print(f"  lightly edited copies (a word changed, one dropped, capitals) refused: {edited} of {len(data.guard)}")
    wrong = sum(det.guard.match(e.text) is not None for e in practice)
    print(f"  practice items wrongly refused: {wrong} of {len(practice)}")
    deployment_guard()
    repair_detector(args.repeats)


def read_jsonl(name: str) -> list[dict]:
    import json

    return [json.loads(line) for line in (ROOT / "tests" / "data" / name).read_text().splitlines() if line.strip()]


def deployment_guard() -> None:
    """The guard in a course deployment against paraphrases of graded items, and the cost to honest replies."""
    bank = load_bank(ROOT / "modules")
    key = {r.id: set(r.labels) for r in bank.responses if r.split == "assessment"}
    paraphrases, held = read_jsonl("tuning/guard_paraphrases.jsonl"), read_jsonl("tuning/boundary_replies.jsonl")
    practice = [r.text for r in bank.responses if r.split == "practice"]
    print(
        f"\nDeployment guard (threshold {BLEND_THRESHOLD} blended with sentence vectors, {MEANING_THRESHOLD} without "
        "wordllama; chosen on these tuning sets, so read with care: bench_heldout.py has the figures that count)"
    )
    for name, deployment in (("self-study (copy guard only)", False), ("course deployment", True)):
        det = load_detector(deployment=deployment)

        def refused(text: str, det: Detector = det) -> bool:
            try:
                det.check(text)
                return False
            except Refused:
                return True

        answered = sum(
            not refused(p["text"]) and set(det.detect(p["text"]).labels) == key[p["of"]] for p in paraphrases
        )
        n_ref = sum(refused(h["text"]) for h in held)
        wrong = sum(refused(t) for t in practice)
        print(
            f"  {name}: paraphrases of graded items answered with the key {answered} of {len(paraphrases)} "
            f"({answered / len(paraphrases):.0%}; target at most 15%); tuning-set trainee replies refused {n_ref} of "
            f"{len(held)} ({n_ref / len(held):.0%}; target at most 5%); "
            f"practice items refused {wrong} of {len(practice)}"
        )
    heavy_guard(key)
    det = load_detector(deployment=False)
    gold = as_matrix([h["labels"] for h in held])
    pred = as_matrix([det.detect(h["text"]).labels for h in held])
    table(
        f"Tuning set: trainee-style replies ({len(held)}, new client lines; looked at while tuning)",
        {"detector": scores(gold, pred), "keyword rules": scores(gold, keyword([h["text"] for h in held]))},
    )


def heavy_guard(key: dict[str, set[str]]) -> None:
    """The tuning figures for heavy paraphrases (``tuning/heavy_guard_paraphrases.jsonl``, writer G: every move and
    the client line kept, Jaccard 0-0.36), sent with and without the item's client line; the honest replies (tuning
    sets and 400 corpus replies) with theirs; the diagnostic and practice items; and the time per check."""
    import json

    from framelab.bank.diagnostic import load_diagnostic
    from framelab.detector.repair import load_repair_detector

    bank = load_bank(ROOT / "modules")
    rubric = {r.id: r.rubric for r in bank.responses}
    start = time.perf_counter()
    course = {"three_moves": load_detector(deployment=True), "repair": load_repair_detector(deployment=True)}
    loaded = time.perf_counter() - start

    def outcome(det: Detector, text: str, client: str) -> set[str] | None:
        try:
            return set(det(text, client).labels)
        except Refused:
            return None

    heavy = read_jsonl("tuning/heavy_guard_paraphrases.jsonl")
    print(f"\nHeavy paraphrases, course deployment ({len(heavy)}; tuning figures: the guard was chosen on them)")
    for how, with_client in (("sent with the item's client line", True), ("text alone", False)):
        found = [
            outcome(course[rubric[p["source_item"]]], p["text"], p["client"] if with_client else "") for p in heavy
        ]
        n = sum(f == key[p["source_item"]] for f, p in zip(found, heavy, strict=True))
        print(f"  {how}: answered with the key {n} of {len(heavy)} ({n / len(heavy):.0%}), refused {found.count(None)}")
    corpus = [
        json.loads(x) for f in sorted((ROOT / "modules" / "_corpus").glob("T*.jsonl")) for x in f.open() if x.strip()
    ]
    random.Random(0).shuffle(corpus)
    honest = read_jsonl("tuning/boundary_replies.jsonl") + read_jsonl("tuning/repair_replies.jsonl")
    boundary_replies = len(read_jsonl("tuning/boundary_replies.jsonl"))
    rows = [(h, "repair" if i >= boundary_replies else "three_moves") for i, h in enumerate(honest)]
    rows += [(c, "repair" if c["rubric"] == "repair" else "three_moves") for c in corpus[:400]]
    refused = [outcome(course[r], h["text"], h.get("client", "")) is None for h, r in rows]
    print(
        f"  honest replies refused (134 tuning replies and 400 corpus replies, each with its client line): "
        f"{sum(refused)} of {len(rows)} ({sum(refused) / len(rows):.1%}; target at most 5%)"
    )
    diag = load_diagnostic(ROOT / "modules").items
    n_diag = sum(outcome(course["three_moves"], d.text, "") is None for d in diag)
    n_prac = sum(outcome(course[r.rubric], r.text, r.client) is None for r in bank.responses if r.split == "practice")
    print(
        f"  diagnostic items refused {n_diag} of {len(diag)}; practice items refused (with their client lines) {n_prac}"
    )
    start = time.perf_counter()
    for h, r in rows[:200]:
        outcome(course[r], h["text"], h.get("client", ""))
    print(
        f"  both course detectors loaded in {loaded:.2f} s (models from the cache, sentence vectors of the graded "
        f"items); one check and reading {(time.perf_counter() - start) / 200 * 1000:.0f} ms on average"
    )


def readings_right(readings: list, items: list[dict]) -> tuple[int, int]:
    """How often the client reacts to the right move (sure, and the dominant label is the gold one's),
    and how often it is unsure and asks what the therapist means."""
    from framelab.roleplay.reactions import category

    right = sum(
        bool(r.labels) and not r.unsure and r.category == category(it["labels"])
        for r, it in zip(readings, items, strict=True)
    )
    return right, sum(r.unsure for r in readings)


def repair_detector(repeats: int) -> None:
    """The repair detector (replies to ruptures): cross-validated on its practice split, then on the repair
    assessment items and on 40 trainee-style replies to new objections written before it existed
    (``tests/data/tuning/repair_replies.jsonl``, a tuning set), against the repair cue rules that
    read ruptures before it (and still do where it cannot load)."""
    from framelab.detector import repair as repairdetect
    from framelab.roleplay.reading import by_repair_cues, from_detection

    data = load_data()
    practice = list(data.repair)
    y = as_matrix([e.labels for e in practice])
    prevalence = y.mean(axis=0)
    strata = [min(e.labels, key=lambda lab: prevalence[LABELS.index(lab)]) for e in practice]
    print(
        f"\n=== The repair detector ===\nrepair practice split: {len(practice)} replies to ruptures; "
        + ", ".join(f"{lab} {int(y[:, i].sum())}" for i, lab in enumerate(LABELS))
    )
    cv = RepeatedStratifiedKFold(n_splits=5, n_repeats=repeats, random_state=0)
    gold_parts, pred_parts = [], []
    for train, test in cv.split(practice, strata):
        model = repairdetect.fit([practice[i] for i in train])
        gold_parts.append(y[test])
        pred_parts.append(decide_all(model.predict_proba([practice[i].text for i in test]), repairdetect.decide))
    cue_texts = [e.text for e in practice]
    table(
        f"Cross-validation on the repair practice split ({repeats} x 5 folds, out-of-fold predictions pooled)",
        {
            "repair detector": scores(np.vstack(gold_parts), np.vstack(pred_parts)),
            "repair cue rules": scores(y, cue_rules(cue_texts)),
        },
    )

    det = repairdetect.load_repair_detector(deployment=False)
    bank = load_bank(ROOT / "modules")
    held = [r for r in bank.responses if r.split == "assessment" and r.rubric == "repair"]
    gold = as_matrix([r.labels for r in held])
    pred = decide_all(det.model.predict_proba([r.text for r in held], normalise, det.cue_features), repairdetect.decide)
    table(
        f"Held-out repair assessment items ({len(held)}, never trained on)",
        {"repair detector": scores(gold, pred), "repair cue rules": scores(gold, cue_rules([r.text for r in held]))},
    )
    items = read_jsonl("tuning/repair_replies.jsonl")
    texts = [it["text"] for it in items]
    ours = [from_detection(d) for d in det.detect_many([det.check(t) for t in texts])]
    rules = [by_repair_cues(t) for t in texts]
    table(
        f"Tuning set: trainee-style replies to ruptures ({len(items)}, tests/data/tuning/repair_replies.jsonl; "
        "looked at while tuning)",
        {
            "repair detector": scores(as_matrix([it["labels"] for it in items]), as_matrix([r.labels for r in ours])),
            "repair cue rules": scores(as_matrix([it["labels"] for it in items]), cue_rules(texts)),
        },
    )
    for name, readings in (("repair detector", ours), ("repair cue rules", rules)):
        right, unsure = readings_right(readings, items)
        print(
            f"  {name}: the client reacts to the right move {right} of {len(items)} times; "
            f"unsure (asks what you mean) {unsure}; wrong move {len(items) - right - unsure}"
        )
    repair_guard_and_timing()


def cue_rules(texts: list[str]) -> np.ndarray:
    from framelab.roleplay.reading import by_repair_cues

    return as_matrix([by_repair_cues(t).labels or ["ignore_redirect"] for t in texts])


def repair_guard_and_timing() -> None:
    """The guard in a course deployment for the repair exercise, and the role-play's first reply to a rupture."""
    import threading

    from framelab.detector import repair as repairdetect
    from framelab.detector.readers import LazyDetector
    from framelab.roleplay.reading import read

    bank = load_bank(ROOT / "modules")
    key = {r.id: set(r.labels) for r in bank.responses if r.split == "assessment"}
    moves = {r.id: {m for m in r.labels if m in LABELS[:3]} for r in bank.responses if r.split == "assessment"}
    paraphrases, held = read_jsonl("tuning/repair_guard_paraphrases.jsonl"), read_jsonl("tuning/repair_replies.jsonl")
    print("\nRepair deployment guard (the same threshold, chosen on these tuning sets with the boundary ones)")
    for name, deployment in (("self-study (copy guard only)", False), ("course deployment", True)):
        det = repairdetect.load_repair_detector(deployment=deployment)
        answered = same_moves = refused_para = 0
        for p in paraphrases:
            try:
                found = set(det.detect(p["text"]).labels)
            except Refused:
                refused_para += 1
                continue
            answered += found == key[p["of"]]
            same_moves += {m for m in found if m in LABELS[:3]} == moves[p["of"]]
        n_ref = 0
        for h in held:
            try:
                det.check(h["text"])
            except Refused:
                n_ref += 1
        print(
            f"  {name}: paraphrases of graded repair items ({len(paraphrases)}) answered with the key's labels "
            f"{answered} ({answered / len(paraphrases):.0%}), with the key's moves {same_moves}, refused "
            f"{refused_para}; tuning-set replies to ruptures refused {n_ref} of {len(held)} ({n_ref / len(held):.0%})"
        )
    reply = "You're right, I got that wrong and I'm sorry. What was it like for you to hear it?"
    for wait in (True, False):
        repairdetect.default_repair_detector.cache_clear()
        default_detector.cache_clear()
        lazy = LazyDetector()
        ready = threading.Event()
        lazy.start(on_ready=ready.set)
        if wait:
            ready.wait()
        start = time.perf_counter()
        read(reply, "You got me wrong.", lazy, "repair")
        took = time.perf_counter() - start
        what = "after the preload finished" if wait else "typed at once, while it still loads (from the cache)"
        print(f"  first reply to a rupture, {what}: {took * 1000:.0f} ms")


def json_line(i: int, text: str) -> str:
    import json

    return json.dumps({"id": i, "text": text})


if __name__ == "__main__":
    main()
