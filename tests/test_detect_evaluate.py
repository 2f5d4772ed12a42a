"""Scoring on held-out sets (framelab.detector.evaluate) on small hand-worked examples, and the held-out bench
run on a tiny fixture of its own (tests/fixtures/heldout), never on a real held-out set."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest

from framelab.detector import evaluate as ev

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "tests" / "benchmarks" / "bench_heldout.py"


def test_label_scores_by_hand():
    gold = [["validate", "state_boundary"], ["recenter"]]
    pred = [["validate"], ["recenter", "gentle_dodge"]]
    s = ev.label_scores(gold, pred)
    # validate 1 TP -> 1; state_boundary 1 FN -> 0; recenter 1 TP -> 1; gentle_dodge 1 FP -> 0; others absent
    assert s.per_label == {"validate": 1.0, "state_boundary": 0.0, "recenter": 1.0, "gentle_dodge": 0.0}
    assert s.macro_f1 == pytest.approx(0.5)
    assert s.exact == 0.0
    assert s.n == 2


def test_label_scores_partial_counts():
    gold = [["mixed_message"], ["mixed_message"], ["gentle_dodge"]]
    pred = [["mixed_message"], ["gentle_dodge"], ["gentle_dodge"]]
    s = ev.label_scores(gold, pred)
    # mixed: TP 1, FN 1 -> 2/3; dodge: TP 1, FP 1 -> 2/3
    assert s.per_label["mixed_message"] == pytest.approx(2 / 3)
    assert s.per_label["gentle_dodge"] == pytest.approx(2 / 3)
    assert s.exact == pytest.approx(2 / 3)


def test_label_scores_refuses_unequal_lengths():
    with pytest.raises(ValueError, match="2 gold label sets but 1"):
        ev.label_scores([["validate"], ["recenter"]], [["validate"]])


def test_percentile_interpolates_like_numpy():
    assert ev.percentile([4, 1, 3, 2], 0.5) == pytest.approx(2.5)
    assert ev.percentile([1, 2, 3, 4, 5], 0.025) == pytest.approx(1.1)
    assert math.isnan(ev.percentile([], 0.5))


def test_bootstrap_is_seeded_and_brackets_the_share():
    flags = [True] * 6 + [False] * 14
    first = ev.bootstrap(flags, ev.rate)
    assert first == ev.bootstrap(flags, ev.rate)  # same seed, same interval
    low, high = first
    assert 0.05 < low < 0.3 < high < 0.55
    assert ev.bootstrap([True] * 5, ev.rate) == (1.0, 1.0)  # no variation to show


def test_bootstrap_leaves_out_undefined_resamples():
    # precision is undefined when no prediction is positive; those resamples drop out rather than count as 0
    pairs = [(True, True)] + [(False, False)] * 3
    low, high = ev.bootstrap(pairs, lambda s: ev.precision_recall(s)[0])
    assert (low, high) == (1.0, 1.0)


def test_label_intervals_name_each_label():
    gold = [["validate"], ["recenter"], ["validate", "recenter"], ["gentle_dodge"]] * 3
    pred = [["validate"], ["validate"], ["validate", "recenter"], ["gentle_dodge"]] * 3
    iv = ev.label_intervals(gold, pred, resamples=200)
    assert set(iv) == {"macro_f1", "exact", "validate", "recenter", "gentle_dodge"}
    assert iv["gentle_dodge"] == (1.0, 1.0)
    low, high = iv["exact"]
    assert low < 0.75 < high


def test_clopper_pearson_exact_values():
    low, high = ev.clopper_pearson(9, 9)
    assert low == pytest.approx(0.025 ** (1 / 9), abs=1e-9)  # 0.664: the bound the README quotes as 0.66
    assert high == 1.0
    low, high = ev.clopper_pearson(0, 10)
    assert (low, high) == (0.0, pytest.approx(1 - 0.025 ** (1 / 10), abs=1e-9))
    low, high = ev.clopper_pearson(5, 10)
    assert low == pytest.approx(0.1871, abs=1e-4) and high == pytest.approx(0.8129, abs=1e-4)
    assert all(math.isnan(x) for x in ev.clopper_pearson(1, 0))


def test_precision_recall_and_risk_values():
    pairs = [(True, True), (True, False), (False, True), (False, False)]
    assert ev.precision_recall(pairs) == (0.5, 0.5)
    assert all(math.isnan(x) for x in ev.precision_recall([(False, False)]))
    assert ev.is_risk_yes("yes") and ev.is_risk_yes(" Yes ") and ev.is_risk_yes(True)
    assert not any(ev.is_risk_yes(v) for v in ("partly", "no", False, None, 1))


def _bench(*args: str) -> str:
    done = subprocess.run([sys.executable, str(BENCH), *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return done.stdout


def test_heldout_bench_on_its_fixture():
    out = _bench("--folder", str(ROOT / "tests" / "fixtures" / "heldout"))
    # the bad line is named with its file, line and fix, and the rest still run
    assert "boundary.jsonl line 5: unknown labels ['polite_no']; labels come from: validate" in out
    assert "boundary.jsonl: 4 replies; writers fixture (4)" in out
    assert "repair.jsonl: 3 replies" in out
    assert "macro-F1" in out and "95% bootstrap" in out and "exact set" in out
    # the fixture's paraphrases are copies of graded items: the guard refuses both
    assert "paraphrases of graded items answered with the key: 0 of 2" in out
    assert "the same, sent with the item's client line: 0 of 2" in out
    assert "honest replies refused:" in out and " of 7 " in out
    # two honest role-play replies are read with their role-play line; the third copies a graded item
    assert "honest role-play replies refused (with their role-play line): 1 of 3" in out
    assert "checks_safety: 4 replies, 2 ask directly about risk" in out
    assert "exact 0.158 to 1.000" in out  # Clopper-Pearson for 2 of 2


def test_heldout_bench_without_a_set(tmp_path):
    assert _bench("--folder", str(tmp_path / "absent")).startswith("no held-out set here")
