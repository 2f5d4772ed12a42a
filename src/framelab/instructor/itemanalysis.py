"""Item analysis for every graded cell of an assignment: the autograded items and the hand-marked
criteria alike, read from nbgrader's gradebook.

Input is one plain table (a list of :class:`Mark`): one row per trainee and graded cell, with the
points given and the points possible. A cell still waiting for hand-grading has no mark yet and is
left out (a 0 there would be false). The statistics, per assignment, over the trainees with a mark:

* **difficulty** ``p``: the mean proportion of the points earned (for a 0/1 item, the proportion
  who got it right);
* **discrimination** ``r_rest``: the corrected point-biserial, the Pearson correlation between the
  item's points and the trainee's total on the assignment's *other* items (total minus the item),
  so that the item does not correlate with itself; blank when either side does not vary;
* **reliability** per assignment: KR-20 when every item is scored 0 or 1, Cronbach's alpha
  otherwise, both ``k / (k - 1) * (1 - sum of item variances / variance of totals)``, with
  population variances (for a 0/1 item its variance is ``p * q``, so KR-20 is alpha on 0/1 items).
  Only trainees with a mark on every item of the assignment count, and at least 2 items and 2
  trainees are needed. With per-trainee variants on, trainees answered different items, so no trainee
  has every item: reliability is then computed **over places** (each trainee's n-th item of each
  exercise, the test cell it was asked in; a fixed-form exercise's places are its items), and its
  words say so. Difficulty and discrimination stay per item, gathered across variants.

Items to review get one plain sentence each: negative discrimination (check the key or the mark
scheme), everyone right (it does not tell trainees apart), everyone wrong (flagged at any cohort
size: check the key, the scheme or the teaching).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

COLUMNS = ["assignment", "item", "manual", "n", "max_score", "p", "r_rest", "review"]


@dataclass(frozen=True)
class Mark:
    """One trainee's points on one graded cell."""

    trainee: str
    assignment: str
    item: str  # the cell's grade id
    score: float
    max_score: float
    manual: bool = False  # marked by a person (a written answer or a criterion), not the autograder
    #: the test cell (place) the item was asked in, when it is not named by the item: with variants on,
    #: ``<exercise>__<n>`` (set by :func:`by_item`); "" when the cell is named by its item
    place: str = ""


@dataclass
class ItemRow:
    assignment: str
    item: str
    manual: bool
    n: int
    max_score: float
    p: float
    r_rest: float
    review: str


@dataclass
class Reliability:
    assignment: str
    method: str  # "KR-20" or "Cronbach's alpha"
    k: int  # items
    n: int  # trainees with a mark on every item
    value: float  # nan when it cannot be computed
    words: str


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs)


def pvariance(xs: list[float]) -> float:
    """The population variance (divided by n)."""
    m = _mean(xs)
    return sum((x - m) ** 2 for x in xs) / len(xs)


def pearson(x: list[float], y: list[float]) -> float:
    """Pearson's r; nan when fewer than 2 pairs or either side is constant."""
    if len(x) < 2:
        return math.nan
    mx, my = _mean(x), _mean(y)
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y, strict=True))
    sxx = sum((a - mx) ** 2 for a in x)
    syy = sum((b - my) ** 2 for b in y)
    if sxx == 0 or syy == 0:
        return math.nan
    return sxy / math.sqrt(sxx * syy)


def _by_assignment(marks: Iterable[Mark]) -> dict[str, dict[str, dict[str, Mark]]]:
    """assignment -> item -> trainee -> mark, in the order first seen."""
    out: dict[str, dict[str, dict[str, Mark]]] = {}
    for m in marks:
        out.setdefault(m.assignment, {}).setdefault(m.item, {})[m.trainee] = m
    return out


def review_sentence(p: float, r_rest: float, n: int) -> str:
    """What to look at on an item, in one plain sentence ("" when nothing)."""
    if n == 0:
        return ""
    if p <= 0:
        return f"Every trainee ({n}) scored 0 here: check the key or the mark scheme first, then whether it was taught."
    if p >= 1:
        return f"Every trainee ({n}) earned full marks: it does not tell trainees apart; keep it as a warm-up only."
    if not math.isnan(r_rest) and r_rest < 0:
        return (
            f"Trainees who did well elsewhere did worse here (discrimination {r_rest:.2f}): check the key or "
            "the mark scheme for an error or a second defensible answer."
        )
    return ""


def item_rows(marks: Iterable[Mark]) -> list[ItemRow]:
    """Difficulty, corrected discrimination and a review sentence for every item."""
    rows = []
    for a, items in _by_assignment(marks).items():
        totals: dict[str, float] = {}
        for per in items.values():
            for t, m in per.items():
                totals[t] = totals.get(t, 0.0) + m.score
        for item, per in items.items():
            trainees = sorted(per)
            x = [per[t].score for t in trainees]
            rest = [totals[t] - per[t].score for t in trainees]
            top = max(m.max_score for m in per.values())
            p = _mean([per[t].score / per[t].max_score if per[t].max_score else 0.0 for t in trainees])
            r = pearson(x, rest)
            manual = any(m.manual for m in per.values())
            rows.append(ItemRow(a, item, manual, len(x), top, p, r, review_sentence(p, r, len(x))))
    return rows


def _by_place(marks: Iterable[Mark]) -> tuple[list[Mark], set[str]]:
    """The marks named by the test cell they were asked in, and the assignments where that differs from
    the item (variants on: trainees answered different items at each place)."""
    out, over_places = [], set()
    for m in marks:
        if m.place and m.place != m.item:
            over_places.add(m.assignment)
            m = replace(m, item=m.place)
        out.append(m)
    return out, over_places


def reliability(marks: Iterable[Mark]) -> list[Reliability]:
    """KR-20 (every item 0/1) or Cronbach's alpha, per assignment, over complete trainees; over places
    where the marks carry them (variants on), since then no trainee has every item."""
    out = []
    placed, over_places = _by_place(marks)
    for a, items in _by_assignment(placed).items():
        complete = sorted(set.intersection(*(set(per) for per in items.values())))
        k, n = len(items), len(complete)
        binary = all(m.max_score == 1 and m.score in (0, 1) for per in items.values() for m in per.values())
        method = "KR-20" if binary else "Cronbach's alpha"
        value = math.nan
        if k >= 2 and n >= 2:
            totals = [sum(per[t].score for per in items.values()) for t in complete]
            var_total = pvariance(totals)
            var_items = sum(pvariance([per[t].score for t in complete]) for per in items.values())
            if var_total > 0:
                value = k / (k - 1) * (1 - var_items / var_total)
        words = reliability_words(method, value, k, n, a in over_places)
        out.append(Reliability(a, method, k, n, value, words))
    return out


#: What the words add when reliability is computed over places (variants on).
OVER_PLACES = "over places: trainees answered different items at each place"


def reliability_words(method: str, value: float, k: int, n: int, places: bool = False) -> str:
    what = "places" if places else "items"
    if math.isnan(value):
        why = f"{k} {what}, {n} trainees with every {what[:-1]} marked, or no spread"
        return f"{method} cannot be computed yet ({why})" + (f"; {OVER_PLACES}." if places else ".")
    if value >= 0.8:
        judged = "high: the items hang together well"
    elif value >= 0.7:
        judged = "acceptable for a course assignment"
    elif value >= 0.5:
        judged = "modest: read single scores with care"
    else:
        judged = "low: the total mixes things that do not go together, or the cohort is small"
    if places:
        return f"{method} {value:.2f} {OVER_PLACES} ({k} places, {n} trainees): {judged}."
    return f"{method} {value:.2f} over {k} items and {n} trainees: {judged}."


def marks_from_gradebook(gb: Any, assignment: str) -> list[Mark]:
    """Every marked grade of an assignment's submissions in an open nbgrader gradebook
    (a grade waiting for hand-grading has no mark yet and is left out)."""
    out = []
    for sub in gb.assignment_submissions(assignment):
        for nb in sub.notebooks:
            for g in nb.grades:
                if g.needs_manual_grade or g.score is None:
                    continue
                manual = g.manual_score is not None or g.cell_type == "markdown"
                out.append(
                    Mark(sub.student.id, assignment, g.name, float(g.score), float(g.max_score or 0), bool(manual))
                )
    return out


def by_item(marks: Iterable[Mark], module: Any, bank: Any, setting: Any) -> list[Mark]:
    """Marks named by item (``<exercise>__<item>``), not by place: with variants on, place n asks each
    trainee a different item, and an item's statistics gather every trainee who was asked it."""
    from framelab.bank.variants import place_index

    index: dict[str, dict[str, Any]] = {}
    out = []
    for m in marks:
        if setting.on and m.trainee not in index:
            index[m.trainee] = place_index(module, bank, m.trainee, setting)
        place = index.get(m.trainee, {}).get(m.item)
        out.append(replace(m, item=f"{place[0].id}__{place[2]}", place=m.item) if place else m)
    return out


def criterion_name(item: str) -> str:
    """A hand-marked cell's grade id read as words: ``m6_reply_voucher__boundary`` -> ``reply voucher: boundary``."""
    head, _, criterion = item.partition("__")
    words = " ".join(head.split("_")[1:]) or head
    return f"{words}: {criterion.replace('_', ' ')}" if criterion else words


def missed_criteria(rows: list[ItemRow]) -> list[ItemRow]:
    """The hand-marked criteria, the least earned first: which ones a cohort misses."""
    return sorted((r for r in rows if r.manual), key=lambda r: (r.p, r.assignment, r.item))


def table(rows: list[ItemRow]) -> Any:
    """The rows as a pandas table, in :data:`COLUMNS` order."""
    import pandas as pd

    return pd.DataFrame([asdict(r) for r in rows], columns=COLUMNS)


def write_csv(rows: list[ItemRow], rel: list[Reliability], path: Path) -> Path:
    """``item_analysis.csv``: one row per item, then one per assignment's reliability (item blank)."""
    import csv
    import io

    from framelab.core.files import write_text_atomically

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([*COLUMNS, "reliability_method", "reliability"])
    for r in rows:
        numbers = [f"{r.max_score:g}", _num(r.p), _num(r.r_rest)]
        w.writerow([r.assignment, r.item, r.manual, r.n, *numbers, r.review, "", ""])
    for x in rel:
        w.writerow([x.assignment, "", "", x.n, "", "", "", x.words, x.method, _num(x.value)])
    write_text_atomically(path, buf.getvalue(), newline="")
    return path


def _num(x: float) -> str:
    return "" if math.isnan(x) else f"{x:.4f}"


def as_json(rows: list[ItemRow], rel: list[Reliability]) -> dict[str, Any]:
    """For ``report.json`` (nan becomes null)."""

    def clean(d: dict[str, Any]) -> dict[str, Any]:
        return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in d.items()}

    return {
        "items": [clean(asdict(r)) for r in rows],
        "reliability": [clean(asdict(x)) for x in rel],
        "to_review": [clean(asdict(r)) for r in rows if r.review],
    }
