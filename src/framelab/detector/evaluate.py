"""Scoring a detector on a labelled set, with intervals that say how far the figure could move: plain
functions over plain data (label sets, booleans), used by ``tests/benchmarks/bench_heldout.py``.

* :func:`label_scores`: macro-F1, per-label F1 and exact-set match over replies, each label's F1 from its
  own counts (``2TP / (2TP + FP + FN)``), the macro over the labels that occur in the gold or the predictions.
* :func:`bootstrap`: a 95% percentile bootstrap interval of any statistic over items, seeded (2,000
  resamples by default), so the same data always gives the same interval.
* :func:`clopper_pearson`: the exact binomial interval for ``k`` of ``n``, for small counts where a
  bootstrap of 9 out of 9 cannot show any doubt.
* :func:`rate`, :func:`precision_recall`: the shares the guard and the risk reader are judged by.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from framelab.core.vocabulary import LABELS

T = TypeVar("T")
RESAMPLES = 2000
SEED = 30
_NAN_PAIR = (float("nan"), float("nan"))


@dataclass(frozen=True)
class LabelScores:
    macro_f1: float
    per_label: dict[str, float]  # only the labels that occur in the gold or the predictions
    exact: float
    n: int


def f1(tp: int, fp: int, fn: int) -> float:
    return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else float("nan")


def label_scores(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> LabelScores:
    """Macro-F1, per-label F1 and exact-set match of predicted label sets against gold ones."""
    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold label sets but {len(pred)} predictions")
    pairs = [(set(g), set(p)) for g, p in zip(gold, pred, strict=True)]
    per_label: dict[str, float] = {}
    for lab in LABELS:
        tp = sum(lab in g and lab in p for g, p in pairs)
        fp = sum(lab not in g and lab in p for g, p in pairs)
        fn = sum(lab in g and lab not in p for g, p in pairs)
        if tp + fp + fn:
            per_label[lab] = f1(tp, fp, fn)
    macro = sum(per_label.values()) / len(per_label) if per_label else float("nan")
    exact = sum(g == p for g, p in pairs) / len(pairs) if pairs else float("nan")
    return LabelScores(macro, per_label, exact, len(pairs))


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0-1) of ``values``, by linear interpolation (numpy's default)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    pos = q * (len(ordered) - 1)
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def bootstrap(
    items: Sequence[T],
    statistic: Callable[[Sequence[T]], float],
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> tuple[float, float]:
    """The 95% percentile bootstrap interval of ``statistic`` over ``items`` (resampled with replacement);
    resamples where the statistic is undefined (NaN: no positives drawn, say) are left out."""
    return bootstrap_many(items, lambda sample: {"": statistic(sample)}, resamples, seed).get("", _NAN_PAIR)


def bootstrap_many(
    items: Sequence[T],
    statistics: Callable[[Sequence[T]], Mapping[str, float]],
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> dict[str, tuple[float, float]]:
    """:func:`bootstrap` for several statistics of the same resamples at once (macro-F1 and each label's F1,
    say): one interval per name that was defined in at least one resample."""
    if not items:
        return {}
    rng = random.Random(seed)
    n = len(items)
    values: dict[str, list[float]] = {}
    for _ in range(resamples):
        for name, value in statistics([items[rng.randrange(n)] for _ in range(n)]).items():
            if value == value:
                values.setdefault(name, []).append(value)
    return {name: (percentile(v, 0.025), percentile(v, 0.975)) for name, v in values.items()}


def label_intervals(
    gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]], resamples: int = RESAMPLES, seed: int = SEED
) -> dict[str, tuple[float, float]]:
    """Bootstrap intervals over replies for ``macro_f1``, ``exact`` and each label's F1 (by label name)."""

    def stats(sample: Sequence[tuple[Sequence[str], Sequence[str]]]) -> dict[str, float]:
        s = label_scores([g for g, _ in sample], [p for _, p in sample])
        return {"macro_f1": s.macro_f1, "exact": s.exact, **s.per_label}

    return bootstrap_many(list(zip(gold, pred, strict=True)), stats, resamples, seed)


def clopper_pearson(k: int, n: int, alpha: float = 0.05) -> tuple[float, float]:
    """The exact (Clopper-Pearson) two-sided ``1 - alpha`` interval for a proportion of ``k`` in ``n``."""
    if n <= 0 or not 0 <= k <= n:
        return (float("nan"), float("nan"))
    from scipy.stats import beta

    low = 0.0 if k == 0 else float(beta.ppf(alpha / 2, k, n - k + 1))
    high = 1.0 if k == n else float(beta.ppf(1 - alpha / 2, k + 1, n - k))
    return low, high


def rate(flags: Sequence[bool]) -> float:
    return sum(flags) / len(flags) if flags else float("nan")


def precision_recall(pairs: Sequence[tuple[bool, bool]]) -> tuple[float, float]:
    """Precision and recall of (gold, predicted) pairs; NaN where undefined."""
    tp = sum(g and p for g, p in pairs)
    fp = sum(p and not g for g, p in pairs)
    fn = sum(g and not p for g, p in pairs)
    return (tp / (tp + fp) if tp + fp else float("nan")), (tp / (tp + fn) if tp + fn else float("nan"))


def is_risk_yes(value: object) -> bool:
    """A ``risk_check`` gold value as a yes or no: ``true`` or ``"yes"`` is yes; ``"partly"``, ``"no"`` are not."""
    return value is True or (isinstance(value, str) and value.strip().lower() == "yes")
