"""Item statistics kept across cohorts, so that an item that misbehaves again and again is reviewed.

One small file per course, ``item-history.json`` in the course folder (written atomically each time a
report is made): for each cohort, each item's difficulty ``p`` and corrected discrimination ``r_rest``
(:mod:`framelab.instructor.itemanalysis`) with the number of trainees behind them. A cohort is named by
a hash of its roster, so that reporting on the same cohort again replaces its items' figures rather
than counting them twice (a report on some modules keeps the cohort's figures for the others).

An item is flagged for review (``framelab validate --history``) when, over the cohorts recorded,

* its discrimination was negative in :data:`NEGATIVE_COHORTS` (2) or more cohorts: trainees who did well
  elsewhere did worse on it, again, which points at the key or a second defensible answer; or
* everyone was right, or everyone wrong, in :data:`EXTREME_COHORTS` (3) or more cohorts: it tells no one
  apart (everyone right), or it is miskeyed or untaught (everyone wrong).

One cohort's figures are noisy, small cohorts more so; the flags ask for a second look, never for an
item to be dropped unread.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from framelab.core import safejson
from framelab.core.files import write_text_atomically

HISTORY_FILE = "item-history.json"
FORMAT = "framelab-item-history/1"
MAX_BYTES = 8 * 1024 * 1024
NEGATIVE_COHORTS = 2
EXTREME_COHORTS = 3


class HistoryError(ValueError):
    """A history file that cannot be used; the message names the file and the fix."""


@dataclass(frozen=True)
class Flag:
    assignment: str
    item: str
    cohorts: int  # how many cohorts show the problem
    of: int  # how many cohorts recorded the item
    why: str

    def __str__(self) -> str:
        return f"{self.assignment} / {self.item}: {self.why}"


def cohort_name(trainees: Iterable[str]) -> str:
    """A cohort's name from its roster: the same trainees give the same name."""
    ids = sorted(set(trainees))
    return "cohort-" + hashlib.sha256("\n".join(ids).encode()).hexdigest()[:12]


def read(path: Path) -> dict[str, Any]:
    """The history (an empty one when the file does not exist yet)."""
    if not path.exists():
        return {"format": FORMAT, "cohorts": {}}
    try:
        data = safejson.load(path, max_bytes=MAX_BYTES, what=HISTORY_FILE)
    except (OSError, ValueError) as exc:
        raise HistoryError(
            f"{path}: cannot be read ({exc}). Fix: move it aside; the next report starts a new one"
        ) from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("cohorts"), dict):
        raise HistoryError(
            f"{path}: is not an item history ({FORMAT}). Fix: move it aside; the next report starts a new one"
        )
    return data


def entry(rows: Iterable[Any]) -> list[dict[str, Any]]:
    """One cohort's figures from item rows (``itemanalysis.ItemRow``): nan kept as null."""
    return [
        {
            "assignment": r.assignment,
            "item": r.item,
            "n": r.n,
            "p": round(r.p, 4),
            "r_rest": None if math.isnan(r.r_rest) else round(r.r_rest, 4),
        }
        for r in rows
    ]


def record(path: Path, cohort: str, rows: Iterable[Any], when: datetime | None = None) -> dict[str, Any]:
    """Put one cohort's figures into the history, atomically. An item this cohort already has is replaced,
    never counted twice; its other items (from a report on other modules) are kept."""
    history = read(path)
    stamp = (when or datetime.now(UTC)).isoformat(timespec="seconds")
    old = history["cohorts"].get(cohort)
    kept = old.get("items", []) if isinstance(old, dict) and isinstance(old.get("items"), list) else []
    new = entry(rows)
    fresh = {(r["assignment"], r["item"]) for r in new}
    others = [r for r in kept if isinstance(r, dict) and (r.get("assignment"), r.get("item")) not in fresh]
    history["cohorts"][cohort] = {"recorded": stamp, "items": [*others, *new]}
    write_text_atomically(path, json.dumps(history, indent=1, sort_keys=True) + "\n")
    return history


def _negative(row: dict[str, Any]) -> bool:
    r = row.get("r_rest")
    return isinstance(r, (int, float)) and r < 0


#: (at least this many cohorts, the row shows it, what it is, what to do)
RULES = (
    (
        NEGATIVE_COHORTS,
        _negative,
        "negative discrimination",
        "check the key for an error or a second defensible answer",
    ),
    (
        EXTREME_COHORTS,
        lambda row: row.get("p") == 1,
        "everyone right",
        "it tells no one apart; make it harder or keep it as a warm-up",
    ),
    (EXTREME_COHORTS, lambda row: row.get("p") == 0, "everyone wrong", "check the key, then whether it is taught"),
)


def flags(history: dict[str, Any]) -> list[Flag]:
    """The items to review, with why: see the module docstring."""
    per: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for cohort in history["cohorts"].values():
        for row in cohort.get("items", []) if isinstance(cohort, dict) else []:
            if isinstance(row, dict):
                per.setdefault((str(row.get("assignment")), str(row.get("item"))), []).append(row)
    out = []
    for (assignment, item), rows in sorted(per.items()):
        for least, shows, what, fix in RULES:
            hit = [r for r in rows if shows(r)]
            if len(hit) >= least:
                sizes = ", ".join(str(r.get("n")) for r in hit)
                why = f"{what} in {len(hit)} of {len(rows)} cohorts (n = {sizes}): {fix}"
                out.append(Flag(assignment, item, len(hit), len(rows), why))
    return out


def report_lines(path: Path) -> list[str]:
    """What ``framelab validate --history`` prints: how many cohorts, then one line per flag."""
    history = read(path)
    found = flags(history)
    head = f"{path}: {len(history['cohorts'])} cohort(s) recorded; {len(found)} item(s) to review."
    return [head, *(f"  review {f}" for f in found)]
