"""What a cohort learned, from the pre/post diagnostic: plain statistics over plain data.

Scores are proportions (0 to 1) of a form's items answered as the key says; a blank counts as wrong.
Only trainees with both a pre and a post record count in a gain (the others are listed).

* **Normalised gain** (Hake 1998): ``g = (post - pre) / (1 - pre)``, the share of what there was to
  gain that was gained (a loss is negative, and can fall below -1 when little was left to gain). A
  trainee with a perfect pre-score has nothing to gain: their ``g`` is undefined (blank), and they are
  left out of the mean of the trainees' ``g`` (and counted, so the reader knows). The cohort's ``<g>``
  is Hake's: the gain of the class averages, ``(mean post - mean pre) / (1 - mean pre)``; the mean of
  the trainees' ``g`` is given beside it.
* **Cohen's d for paired scores, d_z**: the mean of the post-minus-pre differences over their standard
  deviation (n - 1). Its 95% confidence interval uses the normal approximation to its standard error,
  ``SE = sqrt(1/n + d_z^2 / (2n))``, so ``d_z +/- 1.96 SE`` (good for cohorts of 20 or more; wider in
  truth for small ones). **d_av** (Lakens 2013), the mean difference over the average of the pre and
  post standard deviations, is given beside it because it ignores the pre/post correlation and so reads
  on the same scale as a between-groups d; d_z is usually larger when pre and post correlate.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

Z975 = 1.959963984540054  # the normal distribution's 97.5th percentile

#: What a gain does and does not show, in plain sentences for the report and the README.
CAVEATS = (
    "There is no control group: some of the change would have come with time, supervision or other "
    "teaching, so a gain is not proof that this course caused it.",
    "Taking a test twice helps by itself (practice effects), even with different questions: a small gain "
    "can be no more than that.",
    "The two forms are matched for what they cover and for rated difficulty, but not equated on real "
    "cohorts' scores: one form may still be a little easier, which counterbalancing (half the cohort "
    "starting on each form) cancels out on average.",
    "With a small cohort the confidence interval is wide, and with one item per label on each form a "
    "per-label gain rests on a single question: read it as a hint of where to teach, never as a verdict "
    "on a trainee.",
)


@dataclass(frozen=True)
class Effect:
    """A paired effect size with its 95% interval (nan where it cannot be computed)."""

    d_z: float
    low: float
    high: float
    d_av: float


@dataclass(frozen=True)
class TraineeGain:
    trainee: str
    pre_form: str
    post_form: str
    pre: float
    post: float
    change: float
    g: float | None  # None: a perfect pre-score, nothing left to gain


@dataclass(frozen=True)
class CohortGain:
    area: str  # "overall", a label, a relation or a boundary kind
    n: int
    mean_pre: float
    mean_post: float
    g_class: float | None  # Hake's <g>: the gain of the class averages
    g_mean: float | None  # the mean of the trainees' g (perfect pre-scores left out)
    perfect_pre: int
    effect: Effect


def normalised_gain(pre: float, post: float) -> float | None:
    """Hake's g for one pair of proportions; None when the pre-score is perfect (nothing to gain)."""
    if pre >= 1:
        return None
    return (post - pre) / (1 - pre)


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs) if xs else math.nan


def sample_sd(xs: list[float]) -> float:
    """The standard deviation with n - 1 (nan for fewer than 2 values)."""
    if len(xs) < 2:
        return math.nan
    m = _mean(xs)
    return math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1))


def paired_effect(pre: list[float], post: list[float]) -> Effect:
    """Cohen's d_z with its 95% interval (normal approximation), and d_av, for paired scores."""
    n = len(pre)
    diffs = [b - a for a, b in zip(pre, post, strict=True)]
    sd = sample_sd(diffs)
    if n < 2 or not sd > 0:
        return Effect(math.nan, math.nan, math.nan, math.nan)
    d = _mean(diffs) / sd
    se = math.sqrt(1 / n + d * d / (2 * n))
    sd_av = (sample_sd(pre) + sample_sd(post)) / 2
    d_av = _mean(diffs) / sd_av if sd_av > 0 else math.nan
    return Effect(d, d - Z975 * se, d + Z975 * se, d_av)


def cohort_gain(area: str, pairs: Iterable[tuple[float, float]]) -> CohortGain:
    """The cohort's gain on one area (or overall) from each trainee's (pre, post) proportions."""
    pairs = list(pairs)
    pre = [a for a, _ in pairs]
    post = [b for _, b in pairs]
    mean_pre, mean_post = _mean(pre), _mean(post)
    g_class = normalised_gain(mean_pre, mean_post) if pairs else None
    gs = [g for a, b in pairs if (g := normalised_gain(a, b)) is not None]
    return CohortGain(
        area,
        len(pairs),
        mean_pre,
        mean_post,
        g_class,
        _mean(gs) if gs else None,
        sum(a >= 1 for a in pre),
        paired_effect(pre, post),
    )


def trainee_gain(trainee: str, pre_form: str, post_form: str, pre: float, post: float) -> TraineeGain:
    return TraineeGain(trainee, pre_form, post_form, pre, post, post - pre, normalised_gain(pre, post))


def words(c: CohortGain) -> str:
    """One plain sentence on a cohort's gain."""
    if c.n == 0:
        return "No trainee has taken both forms yet."
    g = "undefined (every trainee began at full marks)" if c.g_class is None else f"{c.g_class:.2f}"
    e = c.effect
    d = (
        "d_z cannot be computed (fewer than 2 trainees, or every change the same)"
        if math.isnan(e.d_z)
        else f"d_z = {e.d_z:.2f} (95% CI {e.low:.2f} to {e.high:.2f}), d_av = {e.d_av:.2f}"
    )
    return (
        f"Over {c.n} trainees who took both forms, the mean score went from {c.mean_pre:.0%} to {c.mean_post:.0%}: "
        f"a normalised gain <g> of {g}; {d}."
    )


def as_json(value: Any) -> Any:
    """A gain as plain JSON (nan becomes null)."""
    if isinstance(value, (TraineeGain, CohortGain, Effect)):
        return as_json(asdict(value))
    if isinstance(value, dict):
        return {k: as_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [as_json(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return None
    return value
