"""Per-trainee variants of a graded exercise: which of its pool's items each trainee is asked.

An exercise in ``module.yaml`` either lists a fixed form (``items:``, everyone answers the same) or
also names a ``pool:`` (more assessment items of its kind) and a ``draw:`` (how many each trainee is
asked). A trainee's variant is a pure, seeded function of the course's salt, the assignment, the
exercise and the trainee's id, so the grader can always recompute it from the id alone:

1. the pool is split into strata by difficulty, so that every variant has the same mix of levels (a
   stratified draw);
2. the strata are laid end to end, each in an order seeded by the trainee, and every (pool / draw)-th
   place is taken from a seeded start (a systematic draw): each item is asked of a share draw / pool
   of trainees, and each level gives every trainee its proportional share, rounded down or up.

The draw reads only public facts (the pool's ids, each item's difficulty, the draw's size), never an
answer, so it may run in the trainee's kernel. It is balanced on difficulty only, by the lead's decision:
a draw stratified by answer would have to publish which items share an answer, and beside one peer's
feedback that tells a trainee the key. Answers are therefore balanced only on average: every item is
asked of the same share of trainees, so each answer's expected count in a variant is its share of the
pool, but one trainee may get one more or one fewer of an answer than another.

Two trainees share about draw * draw / pool items on average; :func:`overlap_profile` measures it over
many ids and ``framelab variant --overlap`` prints it per exercise. No function of the id alone can keep *every*
pair of ids at half or less (there are more ids than variants), so a pool is judged by how rarely a
pair shares more than half.

Off unless a course sets ``c.FrameLab.variants = True`` (:class:`Setting`); off, every exercise asks its
fixed form (``items``) under test cells ``<exercise>__<item>``. On, a pooled exercise has one test cell per
place (``<exercise>__<n>``, one point each, so every variant is worth the same); ``content.json`` lists its
pool with each item's difficulty (never a key), and the kernel draws its trainee's items with
:func:`shown_items` and :func:`trainee_id`; the score of record (:mod:`framelab.scoring.record`) scores place
n against the n-th item of the variant drawn from the gradebook's student id (:func:`places`), never from an
id read from the submission, so an answer to an item outside the variant scores nothing. Feedback,
formgrader, the audit and the report name each place's item per trainee through :func:`place_index`.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from framelab.bank.models import Bank, Exercise, Module

#: The salt used when a course sets none (``c.FrameLab.variant_salt`` in ``nbgrader_config.py``).
DEFAULT_SALT = "framelab"


def _hash(*parts: str) -> int:
    data = "\x1f".join(parts).encode("utf-8")
    return int.from_bytes(hashlib.sha256(data).digest()[:8], "big")


def pool(ex: Exercise) -> tuple[str, ...]:
    """Every item an exercise may ask: its fixed form's items, then its pool's others, each once."""
    return tuple(dict.fromkeys([*ex.items, *ex.pool]))


def draw_size(ex: Exercise) -> int:
    """How many items each trainee is asked (the fixed form's length when the exercise has no draw)."""
    return ex.draw if ex.draw is not None else len(ex.items)


def has_variants(ex: Exercise) -> bool:
    """True when trainees may be asked different items."""
    return draw_size(ex) < len(pool(ex))


def strata(ids: Sequence[str], difficulty: Mapping[str, int]) -> list[list[str]]:
    """The pool split by difficulty (sorted by level), each stratum in pool order. Public facts only."""
    levels: dict[int, list[str]] = {}
    for iid in ids:
        levels.setdefault(difficulty[iid], []).append(iid)
    return [levels[d] for d in sorted(levels)]


@dataclass(frozen=True)
class Plan:
    """What a variant is drawn from: one exercise's pool as difficulty strata, and how many items each
    trainee is asked."""

    exercise: str
    strata: tuple[tuple[str, ...], ...]
    draw: int

    @property
    def size(self) -> int:
        return sum(len(s) for s in self.strata)


def plan(ex: Exercise, bank: Bank, module: Module) -> Plan:
    """The draw of an exercise. An exercise with ``same_draw_as`` (a vignette asked two ways) draws
    with the other exercise's plan, so a trainee is asked about the same vignettes in both."""
    source = source_of(ex, module)
    items = bank.items()
    ids = pool(source)
    return public_plan(source.id, ids, {i: items[i].difficulty for i in ids}, draw_size(source))


def public_plan(exercise: str, ids: Sequence[str], difficulty: Mapping[str, int], size: int) -> Plan:
    """The draw from public facts alone (what a kernel has in ``content.json``): the pool's ids in order,
    each item's difficulty, and how many each trainee is asked."""
    return Plan(exercise, tuple(tuple(s) for s in strata(ids, difficulty)), size)


def draw(p: Plan, salt: str, assignment: str, student: str) -> list[str]:
    """One trainee's items, by a systematic draw over the stratified pool. The pool is laid out in a
    line seeded by the trainee: the difficulty strata in a seeded order, each stratum's items in a seeded
    order; then every (pool / draw)-th place is taken from a seeded start. Each item is asked of the same
    share of trainees (draw / pool), and since every stratum lies in one piece, each gives every trainee
    its proportional share rounded down or up. The items come back in a seeded order of their own, so
    strata do not show as runs."""
    if not 0 < p.draw <= p.size:
        raise ValueError(f"cannot draw {p.draw} items from a pool of {p.size}")

    def seeded(*parts: str) -> int:
        return _hash(salt, assignment, p.exercise, student, *parts)

    laid = [
        iid
        for stratum in sorted(p.strata, key=lambda s: seeded("stratum", s[0]))
        for iid in sorted(stratum, key=lambda i: seeded("place", i))
    ]
    start = seeded("start") % p.size  # the k-th place is floor((start + k * size) / draw)
    chosen = [laid[(start + k * p.size) // p.draw] for k in range(p.draw)]
    return sorted(chosen, key=lambda iid: seeded("order", iid))


def variant(module: Module, bank: Bank, student: str, salt: str = DEFAULT_SALT) -> dict[str, list[str]]:
    """exercise id -> the items this trainee is asked, in order. A fixed form is its items as listed."""
    out: dict[str, list[str]] = {}
    for ex in module.meta.exercises:
        source = source_of(ex, module)
        if has_variants(source):
            out[ex.id] = draw(plan(ex, bank, module), salt, module.folder, student)
        else:
            out[ex.id] = list(ex.items)
    return out


def source_of(ex: Exercise, module: Module) -> Exercise:
    """The exercise whose draw ``ex`` uses: itself, or the one it names in ``same_draw_as``."""
    if ex.same_draw_as:
        return next(e for e in module.meta.exercises if e.id == ex.same_draw_as)
    return ex


def shared(a: Iterable[str], b: Iterable[str]) -> int:
    return len(set(a) & set(b))


@dataclass(frozen=True)
class Overlap:
    """How much pairs of trainees share in one exercise, over a set of ids."""

    exercise: str
    pool: int
    draw: int
    pairs: int
    mean: float
    most: int
    over_half: int  # pairs sharing more than half of the draw

    @property
    def over_half_rate(self) -> float:
        return self.over_half / self.pairs if self.pairs else 0.0


def overlap_profile(
    module: Module, bank: Bank, students: Sequence[str], salt: str = DEFAULT_SALT
) -> dict[str, Overlap]:
    """exercise id -> how many items pairs of these trainees share (every pair counted)."""
    forms = [variant(module, bank, s, salt) for s in students]
    out: dict[str, Overlap] = {}
    for ex in module.meta.exercises:
        counts = [shared(a[ex.id], b[ex.id]) for a, b in itertools.combinations(forms, 2)]
        n = draw_size(ex)
        out[ex.id] = Overlap(
            ex.id,
            len(pool(ex)),
            n,
            len(counts),
            sum(counts) / len(counts) if counts else 0.0,
            max(counts, default=0),
            sum(c * 2 > n for c in counts),
        )
    return out


def variants_json(module: Module, bank: Bank, student: str, salt: str = DEFAULT_SALT) -> dict[str, object]:
    """What ``framelab variant --json`` prints: every item in exercise order, and per exercise."""
    per = variant(module, bank, student, salt)
    return {"items": list(dict.fromkeys(i for ids in per.values() for i in ids)), "exercises": per}


def salt_of(config: Mapping[str, object]) -> str:
    """The course's salt from its nbgrader config (``c.FrameLab.variant_salt``), or the default."""
    section = config.get("FrameLab", {})
    value = section.get("variant_salt") if isinstance(section, Mapping) else None
    return value if isinstance(value, str) and value else DEFAULT_SALT


# --------------------------------------------------------------------------- switched on or off


@dataclass(frozen=True)
class Setting:
    """Whether a course asks per-trainee variants (``c.FrameLab.variants = True``; off by default, when
    every exercise asks its fixed form) and the salt its draws use."""

    on: bool = False
    salt: str = DEFAULT_SALT


OFF = Setting()


def setting_of(config: Mapping[str, object]) -> Setting:
    """The course's setting from its nbgrader config: ``c.FrameLab.variants`` and ``variant_salt``."""
    section = config.get("FrameLab", {})
    on = section.get("variants") if isinstance(section, Mapping) else None
    return Setting(on is True, salt_of(config))


def course_setting(course: Path) -> Setting:
    """The setting of the course at ``course`` (off when it has no readable ``nbgrader_config.py``)."""
    from framelab.core.settings import CONFIG, read_config

    if not (course / CONFIG).is_file():
        return OFF
    try:
        return setting_of(read_config(course))
    except Exception:  # a config nbgrader cannot read is nbgrader's to report; fixed forms stand
        return OFF


def by_place(module: Module, ex: Exercise, setting: Setting) -> bool:
    """True when ``ex``'s test cells are per place (``<exercise>__<n>``): variants are on and it has them."""
    return setting.on and has_variants(source_of(ex, module))


def grade_ids(module: Module, ex: Exercise, setting: Setting = OFF) -> list[str]:
    """The grade ids of an exercise's test cells, the same for every trainee: ``<exercise>__<n>`` per place
    when it asks variants, else ``<exercise>__<item>`` per item of its fixed form."""
    if by_place(module, ex, setting):
        return [f"{ex.id}__{n}" for n in range(1, draw_size(source_of(ex, module)) + 1)]
    return [f"{ex.id}__{iid}" for iid in ex.items]


def places(module: Module, bank: Bank, student: str, setting: Setting = OFF) -> dict[str, list[tuple[str, str]]]:
    """exercise id -> (grade id, item id) for each item this trainee is asked, in order. With variants
    on, place n of a pooled exercise is the n-th item of the variant drawn from ``student``, which the
    grader takes from its gradebook, never from a submission."""
    drawn = variant(module, bank, student, setting.salt) if setting.on else {}
    out: dict[str, list[tuple[str, str]]] = {}
    for ex in module.meta.exercises:
        ids = grade_ids(module, ex, setting)
        items = drawn[ex.id] if by_place(module, ex, setting) else list(ex.items)
        out[ex.id] = list(zip(ids, items, strict=True))
    return out


# --------------------------------------------------------------------------- in the trainee's kernel

#: Where a kernel finds its trainee's id, the first set wins: the grader's (``framelab grade`` sets it for
#: the notebook it runs), then JupyterHub's user name. Either can be changed in a cell, which changes only
#: what the notebook shows: the score of record draws from the gradebook's id.
TRAINEE_ENV = ("FRAMELAB_STUDENT", "JUPYTERHUB_USER")
#: The id a self-study learner's notebook draws with, outside a hub.
SELF_STUDY_ID = "self-study"


def trainee_id(environ: Mapping[str, str]) -> str:
    """The id a notebook draws its variants with (see :data:`TRAINEE_ENV`)."""
    for name in TRAINEE_ENV:
        value = (environ.get(name) or "").strip()
        if value:
            return value
    return SELF_STUDY_ID


def shown_items(spec: Mapping[str, Any], assignment: str, student: str) -> list[dict[str, Any]]:
    """The item rows an exercise of ``content.json`` shows a trainee: its items as listed, or, when it asks
    variants (a ``variant`` entry: the plan's exercise, the draw, the salt), the trainee's draw from its
    pool by the same function the grader uses, from public facts only (ids and difficulties)."""
    rows = list(spec["items"])
    how = spec.get("variant")
    if not how:
        return rows
    by_id = {r["id"]: r for r in rows}
    p = public_plan(how["plan"], list(by_id), {i: int(r["difficulty"]) for i, r in by_id.items()}, int(how["draw"]))
    return [by_id[i] for i in draw(p, str(how["salt"]), assignment, student)]


def public_spec(module: Module, ex: Exercise, setting: Setting) -> dict[str, Any] | None:
    """What ``content.json`` says of an exercise's draw (None for a fixed form): all public."""
    if not by_place(module, ex, setting):
        return None
    source = source_of(ex, module)
    return {"plan": source.id, "draw": draw_size(source), "salt": setting.salt}


def place_index(
    module: Module, bank: Bank, student: str, setting: Setting = OFF
) -> dict[str, tuple[Exercise, int, str]]:
    """grade id -> (exercise, place from 1, item id) for one trainee: how feedback, formgrader and the
    report name each test cell's item (per trainee with variants on, the same for all with them off)."""
    exercises = {ex.id: ex for ex in module.meta.exercises}
    return {
        grade_id: (exercises[ex_id], n, iid)
        for ex_id, rows in places(module, bank, student, setting).items()
        for n, (grade_id, iid) in enumerate(rows, 1)
    }
