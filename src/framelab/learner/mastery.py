"""Mastery practice, as plain functions: a running tally per practice deck, when to suggest stopping,
and the learner's own confusions to practise.

An answer to a practice item is two sets of **keys**: what the item is (its gold labels, or for a
single-choice question ``"field:value"``) and what the learner chose. Each key of the item is *right*
when the learner chose it; each key chosen that the item does not have is a false alarm. A key's
**run** is how many of its items in a row were right on it (a miss or a false alarm starts it again).
Stopping is suggested once every key the deck holds has a run of :data:`RUN`. A **confusion** is a
key the item had that was missed, paired with a key chosen instead (or "" when nothing was chosen
in its place); the items to practise are those holding either key of the learner's commonest pairs.

The tally is kept in ``practice.json`` beside the notebook, one record per deck, written atomically;
an unreadable file is set aside, never deleted. Only the first check of an item each time it is shown
counts, so checking again after reading the answer does not inflate the tally.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from framelab.core import safejson
from framelab.core.files import write_text_atomically

FILENAME = "practice.json"
FORMAT = "framelab-practice/1"
#: Right answers in a row, on every key of the deck, before stopping is suggested.
RUN = 3
MAX_BYTES = 512 * 1024


@dataclass
class Tally:
    """One deck's record: items checked, items wholly right, runs per key, confusions by pair."""

    checked: int = 0
    right: int = 0
    runs: dict[str, int] = field(default_factory=dict)
    confusions: dict[str, int] = field(default_factory=dict)  # "missed|chosen instead" -> count

    def to_json(self) -> dict[str, Any]:
        return {"checked": self.checked, "right": self.right, "runs": self.runs, "confusions": self.confusions}

    @classmethod
    def from_json(cls, data: Any) -> Tally:
        """A tally from its saved form; anything malformed reads as a fresh tally."""
        if type(data) is not dict:
            return cls()

        def counts(value: Any) -> dict[str, int]:
            ok = type(value) is dict and all(type(k) is str and type(v) is int and v >= 0 for k, v in value.items())
            return dict(value) if ok else {}

        checked, right = data.get("checked"), data.get("right")
        if type(checked) is not int or type(right) is not int or not 0 <= right <= checked:
            return cls()
        return cls(checked, right, counts(data.get("runs")), counts(data.get("confusions")))

    @property
    def accuracy(self) -> float | None:
        return self.right / self.checked if self.checked else None


def keys(item: Mapping[str, Any], field_name: str, multi: bool, chosen: Any) -> tuple[set[str], set[str]]:
    """(the item's keys, the chosen keys) for one question of a practice item."""
    if multi:
        return set(item.get(field_name) or []), set(chosen or [])
    gold = {f"{field_name}:{item[field_name]}"} if item.get(field_name) is not None else set()
    return gold, ({f"{field_name}:{chosen}"} if chosen else set())


def record(tally: Tally, gold: set[str], chosen: set[str]) -> Tally:
    """Count one checked item (in place; returned for convenience)."""
    tally.checked += 1
    tally.right += gold == chosen
    for key in gold | chosen:
        good = key in gold and key in chosen
        tally.runs[key] = tally.runs.get(key, 0) + 1 if good else 0
    missed, extra = sorted(gold - chosen), sorted(chosen - gold)
    for m in missed:
        for e in extra or [""]:
            pair = f"{m}|{e}"
            tally.confusions[pair] = tally.confusions.get(pair, 0) + 1
    return tally


def deck_keys(items: Iterable[Mapping[str, Any]], questions: Sequence[tuple[str, bool]]) -> set[str]:
    """Every key the deck's items hold, for questions given as (field, multi)."""
    out: set[str] = set()
    for item in items:
        for name, multi in questions:
            out |= keys(item, name, multi, None)[0]
    return out


def still_to_master(tally: Tally, every: set[str], run: int = RUN) -> list[str]:
    """The deck's keys without a run of ``run`` right answers yet, sorted."""
    return sorted(k for k in every if tally.runs.get(k, 0) < run)


def ready_to_stop(tally: Tally, every: set[str], run: int = RUN) -> bool:
    return bool(every) and not still_to_master(tally, every, run)


def top_confusions(tally: Tally, n: int = 3) -> list[tuple[str, str, int]]:
    """The learner's commonest confusions: (missed key, key chosen instead or "", times), commonest first."""
    pairs = sorted(tally.confusions.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
    return [(*pair.split("|", 1), count) for pair, count in pairs]  # type: ignore[misc]


def confusion_items(
    items: Sequence[Mapping[str, Any]], tally: Tally, questions: Sequence[tuple[str, bool]], n: int = 3
) -> list[int]:
    """Indexes of the deck's items holding a key of the learner's commonest confusions."""
    wanted = {k for m, e, _ in top_confusions(tally, n) for k in (m, e) if k}
    return [i for i, item in enumerate(items) if deck_keys([item], questions) & wanted]


def summary(tally: Tally, every: set[str], name: Callable[[str], str], run: int = RUN) -> str:
    """The tally in one or two plain sentences."""
    if not tally.checked:
        return "Your tally starts with your first Check."
    text = f"Your tally: {tally.right} of {tally.checked} checked items exactly right."
    left = still_to_master(tally, every, run)
    if not left:
        return (
            f"{text} You have had {run} right in a row on every label in this deck: a good place to stop, "
            "or carry on if you would like more practice."
        )
    mastered = len(every) - len(left)
    return (
        f"{text} {mastered} of {len(every)} labels have {run} right in a row; still to go: "
        + ", ".join(name(k) for k in left[:4])
        + (" and more." if len(left) > 4 else ".")
    )


# --------------------------------------------------------------------------- the file


def _decks(path: Path) -> dict[str, Any] | None:
    """The saved decks; {} for no file; None for a file that is not a Frame Lab practice file."""
    if not path.exists():
        return {}
    try:
        data = safejson.load(path, max_bytes=MAX_BYTES, what=FILENAME)
    except (OSError, safejson.UnsafeJSON):
        return None
    decks = data.get("decks") if type(data) is dict and data.get("format") == FORMAT else None
    return {k: v for k, v in decks.items() if type(k) is str} if type(decks) is dict else None


def load_all(folder: Path) -> dict[str, Tally]:
    """Every deck's tally in a module folder (none if no file, or if unreadable)."""
    return {k: Tally.from_json(v) for k, v in (_decks(Path(folder) / FILENAME) or {}).items()}


def load(folder: Path, deck: str) -> Tally:
    """The saved tally of one deck in a module folder (a fresh one if none)."""
    return load_all(folder).get(deck, Tally())


def save(folder: Path, deck: str, tally: Tally) -> None:
    """Write one deck's tally, keeping the others; a file that is not ours is set aside first, never
    overwritten. Never raises: practice goes on, untallied."""
    path = Path(folder) / FILENAME
    try:
        decks = _decks(path)
        if decks is None:
            from framelab.scoring.answers import set_aside

            set_aside(path)
            decks = {}
        decks[deck] = tally.to_json()
        write_text_atomically(path, json.dumps({"format": FORMAT, "decks": decks}))
    except OSError:
        pass
