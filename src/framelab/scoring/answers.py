"""Saved answers: the JSON file beside a notebook that holds a trainee's menu choices.

The widgets write it on every change, so choices survive kernel restarts, page reloads and
an unsaved notebook; at grading time the same file is read back, so what the trainee picked
is exactly what is graded. A broken file is never overwritten: it is set aside under a new
name and the trainee is told.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from framelab.core.files import write_text_atomically

FORMAT = "framelab-answers/1"
FILENAME = "answers.json"
#: Far larger than any honest answer file (a few KB); anything bigger is refused unread.
MAX_BYTES = 256 * 1024

Answer = str | list[str]


class AnswerFileError(Exception):
    """The answers file exists but cannot be used; the message says why and what to do."""


def _plain(value: Any) -> Answer | None:
    """Accept only plain ``str`` or a plain ``list`` of plain ``str``."""
    if type(value) is str:
        return value
    if type(value) is list and all(type(v) is str for v in value):
        return list(value)
    return None


def read(path: str | Path) -> dict[str, dict[str, Answer]]:
    """Read an answers file strictly. A missing file is no answers yet."""
    path = Path(path)
    if not path.exists():
        return {}
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise AnswerFileError(
            f"{path.name} is {size:,} bytes, far larger than any real answers file "
            f"({MAX_BYTES:,} at most). Rename or delete it and pick your answers again."
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AnswerFileError(
            f"{path.name} is not readable JSON ({exc}). It may have been edited by hand. "
            "Rename or delete it and pick your answers again."
        ) from None
    if type(data) is not dict or data.get("format") != FORMAT or type(data.get("exercises")) is not dict:
        raise AnswerFileError(
            f"{path.name} is not a Frame Lab answers file (expected format '{FORMAT}'). "
            "Rename or delete it and pick your answers again."
        )
    out: dict[str, dict[str, Answer]] = {}
    for ex_id, picks in data["exercises"].items():
        if type(ex_id) is not str or type(picks) is not dict:
            raise AnswerFileError(f"{path.name}: exercise '{ex_id}' is not a mapping of items to answers.")
        clean: dict[str, Answer] = {}
        for item, value in picks.items():
            plain = _plain(value)
            if type(item) is not str or plain is None:
                raise AnswerFileError(
                    f"{path.name}: the answer for item '{item}' in exercise '{ex_id}' is not a label "
                    "or a list of labels. Pick it again in the menu."
                )
            clean[item] = plain
        out[ex_id] = clean
    return out


def write(path: str | Path, exercise: str, picks: dict[str, Answer]) -> None:
    """Save one exercise's picks, keeping the others, atomically (never a half-written file)."""
    path = Path(path)
    try:
        current = read(path)
    except AnswerFileError:
        set_aside(path)
        current = {}
    current[exercise] = {k: v for k, v in picks.items() if _plain(v) is not None and v not in ("", [])}
    payload = json.dumps({"format": FORMAT, "exercises": current}, indent=1, sort_keys=True) + "\n"
    write_text_atomically(path, payload)


def set_aside(path: str | Path) -> Path:
    """Move a broken answers file out of the way under a dated name; return the new path."""
    path = Path(path)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.stem}.broken-{stamp}{path.suffix}")
    n = 1
    while target.exists():
        target = path.with_name(f"{path.stem}.broken-{stamp}-{n}{path.suffix}")
        n += 1
    path.rename(target)
    return target
