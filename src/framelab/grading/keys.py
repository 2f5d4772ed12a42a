"""Which key each autograded score was made with, so that a corrected key is noticed.

When ``framelab grade`` records a trainee it writes, beside their snapshot of record, the hash of each
classification item's key (:func:`framelab.scoring.record.key_hashes`):
``.framelab/snapshots/<assignment>/<student>.keys.json``. It lives there, not in the gradebook,
because nbgrader's gradebook has no field for it (its comments reach the trainee's feedback), and
because it belongs to the score of record, which is made from that snapshot and is remade from it by
a rescore (:mod:`framelab.grading.rescore`). The folder is the instructor's alone (mode 0700).
"""

from __future__ import annotations

from pathlib import Path

from framelab.core import safejson
from framelab.core.files import write_text_atomically
from framelab.grading import snapshot as snapshots

#: A key record holds one short hash per item; a real one is a few KB.
MAX_BYTES = 1_000_000


def path(course: Path, assignment: str, student: str) -> Path:
    return snapshots.of_record(course, assignment, student).with_name(f"{student}.keys.json")


def write(course: Path, assignment: str, student: str, hashes: dict[str, str]) -> None:
    """Record the keys a trainee's scores were just made with (atomically)."""
    import json

    write_text_atomically(path(course, assignment, student), json.dumps(hashes, indent=1, sort_keys=True) + "\n")


def recorded(course: Path, assignment: str, student: str) -> dict[str, str] | None:
    """The keys a trainee was scored against, or None when none were recorded (graded before keys were
    kept, or by stock nbgrader)."""
    try:
        data = safejson.load(path(course, assignment, student), max_bytes=MAX_BYTES)
    except safejson.UnsafeJSON:
        return None
    if type(data) is not dict:
        return None
    return {str(k): str(v) for k, v in data.items()}


def stale(course: Path, assignment: str, student: str, current: dict[str, str]) -> list[str]:
    """The grade ids this trainee was scored against a key that has since changed (none if unknown)."""
    old = recorded(course, assignment, student)
    if old is None:
        return []
    return sorted(g for g, h in current.items() if g in old and old[g] != h)


def current(course: Path, assignment: str, student: str = "") -> dict[str, str]:
    """The hashes of the bank's keys now for one trainee's items, for an assignment with classification
    exercises (else none); with variants on, each place's item is the trainee's."""
    from framelab.bank.loader import cached_bank
    from framelab.bank.variants import course_setting
    from framelab.scoring.record import key_hashes

    modules = course / "modules"
    if not modules.is_dir():
        return {}
    bank = cached_bank(modules)
    try:
        module = bank.module(assignment)
    except KeyError:
        return {}
    if bank.problems:
        return {}
    return key_hashes(module, bank, student, course_setting(course))


#: How a trainee's line in grade's table begins when their score was made with an old key.
STALE = "scored against an old key"


def stale_line(ids: list[str], assignment: str) -> str:
    """One line for grade's table naming the items whose key changed since the trainee was scored ("" if none)."""
    if not ids:
        return ""
    shown = ", ".join(ids[:3]) + (f" and {len(ids) - 3} more" if len(ids) > 3 else "")
    return f"{STALE} for {len(ids)} item(s) ({shown}): 'framelab grade {assignment} --rescore'"
