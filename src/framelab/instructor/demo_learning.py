"""Simulated trainees who learn, for the demo's pre/post diagnostic.

A deliberately simple model, deterministic for a seed. A trainee's mastery of each area (a label, a
relation, a boundary kind) is a logit that rises with practice: ``ability - 1 + rate * log(1 + exposure)``,
where ``exposure`` is how many practice items carrying that area the trainee has met in the modules done
so far (none before Module 0; replies to ruptures do not count, their labels mean other things), and
``rate`` is the trainee's learning rate (the demo's ``Trainee.learning``) times a seeded per-area factor
between 0.6 and 2, so some areas are learned faster than others. The chance of a right answer is the
demo's logistic curve against the item's difficulty. A misconception the trainee holds still pulls their
answer its way, less often after the course (85% before, 45% after). The forms are counterbalanced by
:func:`framelab.learner.diagnostic.form_for`.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from framelab.bank.diagnostic import Diagnostic, DiagnosticItem
from framelab.bank.loader import Bank
from framelab.learner import diagnostic as dx

PULL = {"pre": 0.85, "post": 0.45}


def exposure_after(bank: Bank, assignments: list[str]) -> list[Counter[str]]:
    """For each module index, how many practice items of each area a trainee has met once it is done."""
    seen: Counter[str] = Counter()
    out = []
    for a in assignments:
        module = bank.module(a)
        for r in module.responses:
            if r.split == "practice" and r.rubric != "repair":  # a reply to a rupture names its labels otherwise
                seen.update(r.labels)
        for v in module.vignettes:
            if v.split == "practice":
                seen.update(x for x in (v.relation, v.boundary_kind) if x)
        out.append(Counter(seen))
    return out


def mastery(ability: float, rate: float, exposure: int) -> float:
    """An area's mastery (a logit) after ``exposure`` practice items of it."""
    return ability - 1.0 + rate * math.log1p(exposure)


def p_right(logit: float, difficulty: int) -> float:
    return 1 / (1 + math.exp(-1.7 * (logit - (difficulty - 2))))


@dataclass(frozen=True)
class Errors:
    """The demo's ways of going wrong (``demo._misconceived`` and ``demo._wrong``), passed in so that this
    module does not import the demo that imports it."""

    misconceived: Callable[..., Any]
    wrong: Callable[..., Any]


def answer(
    t: Any, it: DiagnosticItem, stage: str, seen: Counter[str], rates: dict[str, float], rng: Any, err: Errors
) -> str:
    """One simulated choice on one diagnostic item."""
    forced = err.misconceived(t, it, it.kind, it.answer)
    if forced is not None and isinstance(forced, str) and rng.random() < PULL[stage]:
        return forced
    logit = mastery(t.ability, rates.get(it.answer, 0.0), seen.get(it.answer, 0))
    if rng.random() < p_right(logit, it.difficulty):
        return it.answer
    wrong = err.wrong(rng, it.kind, it.answer)
    return wrong if isinstance(wrong, str) else it.answer


def rates_for(t: Any, diag: Diagnostic, seed: int) -> dict[str, float]:
    rng = random.Random(f"{seed}-{t.id}-rates")
    return {a: t.learning * rng.uniform(0.6, 2.0) for a in sorted({it.answer for it in diag.items})}


def records_for(
    t: Any,
    diag: Diagnostic,
    seed: int,
    reached: int,
    exposures: list[Counter[str]],
    assignments: list[str],
    err: Errors,
) -> dict[str, dict[str, Any]]:
    """A trainee's diagnostic records by assignment folder: the pre-test if they start Module 0, the
    post-test if they finish Module 6 (``reached``: the index of the last module they submit)."""
    rng = random.Random(f"{seed}-{t.id}-diagnostic")
    rates = rates_for(t, diag, seed)
    out = {}
    for stage, folder in dx.STAGE_ASSIGNMENT.items():
        if folder not in assignments or assignments.index(folder) > reached:
            continue
        seen = Counter() if stage == "pre" else exposures[assignments.index(folder)]
        form = dx.form_for(t.id, stage, counterbalance=True, seed=str(seed))
        answers = {it.id: answer(t, it, stage, seen, rates, rng, err) for it in diag.form(form)}
        out[folder] = {"format": dx.RECORD_FORMAT, "stage": stage, "form": form, "answers": answers}
    return out


def cohort_records(
    cohort: Any, bank: Bank, diag: Diagnostic, assignments: list[str], seed: int, err: Errors
) -> dict[str, dict[str, dict[str, Any]]]:
    """Every simulated trainee's records: trainee -> assignment folder -> record."""
    if not diag.items:
        return {}
    exposures = exposure_after(bank, assignments)
    last = len(assignments) - 1
    out = {}
    for t in cohort.trainees:
        reached = last if t.dropout_after is None else min(last, t.dropout_after)
        out[t.id] = records_for(t, diag, seed, reached, exposures, assignments, err)
    return out


NOTE = (
    "The simulated trainees learn: each label's mastery rises with the logarithm of the practice items on it "
    "they have met, at a seeded rate of their own; they take Form A or B first by a seeded hash of their id "
    "(counterbalanced), and trainees who drop out take only the first."
)


def by_trainee(records: dict[str, dict[str, dict[str, Any]]]) -> dict[str, dict[str, dict[str, Any]]]:
    """trainee -> folder -> record, as trainee -> stage -> record (what :func:`instructor.diagnostic.results` takes)."""
    return {t: {r["stage"]: r for r in per.values()} for t, per in records.items()}


def results_of(records: dict[str, dict[str, dict[str, Any]]], bank: Bank) -> Any:
    """The simulated records' results (None when the course has no diagnostic)."""
    from framelab.bank.diagnostic import load_diagnostic
    from framelab.instructor.diagnostic import results

    diag = load_diagnostic(bank.root)
    return results(by_trainee(records), diag) if diag.items else None
