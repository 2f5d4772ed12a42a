"""Time spent on a module, measured from the learner's own actions, kept beside the notebook.

Every action that means "working on this module" (saving a graded choice, checking a practice
item, a role-play turn, checking graded answers) calls :func:`touch`. Actions less than
:data:`IDLE_GAP` apart belong to one stretch of work; a longer pause starts a new one. Time spent
is the sum of the stretches: an honest lower bound that does not count a tab left open overnight.

The file is the learner's: nbgrader's ``CourseDirectory.ignore`` keeps it out of submissions, and
a file that cannot be read is set aside (never deleted) and a new one started.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from framelab.core import safejson
from framelab.core.files import write_text_atomically

FILENAME = "activity.json"
FORMAT = "framelab-activity/1"
#: Two actions further apart than this are two stretches of work (seconds).
IDLE_GAP = 10 * 60
#: More stretches than this are merged from the oldest; a year of daily study fits.
MAX_SPANS = 2000
#: Far larger than MAX_SPANS stretches take.
MAX_BYTES = 512 * 1024


def _load(path: Path) -> dict[str, Any]:
    """The saved record: ``spans`` (oldest first) and ``finished`` (one-turn exercises done).
    Raises FileNotFoundError for no file, ValueError for a file that is not ours."""
    if not path.exists():
        raise FileNotFoundError(path)
    data = safejson.load(path, max_bytes=MAX_BYTES, what=path.name)
    spans = data.get("spans") if type(data) is dict and data.get("format") == FORMAT else None
    if type(spans) is not list or not all(
        type(s) is list and len(s) == 2 and all(type(t) in (int, float) for t in s) and s[0] <= s[1] for s in spans
    ):
        raise ValueError(f"{path.name} is not a Frame Lab activity file")
    done = data.get("finished", [])
    if type(done) is not list or not all(type(x) is str for x in done):
        raise ValueError(f"{path.name} is not a Frame Lab activity file")
    return {"spans": spans, "finished": done}


def _spans(path: Path) -> list[list[float]]:
    return _load(path)["spans"]


def reply_key(scenario_id: str) -> str:
    """How a one-turn reply exercise, once a reply was said, is named in ``finished``."""
    return f"try_reply:{scenario_id}"


def roleplay_key(scenario_id: str) -> str:
    """How a role-play played to its end (in a notebook or a terminal) is named in ``finished``: it stays
    counted when the learner starts it again."""
    return f"roleplay:{scenario_id}"


def finished(folder: str | Path) -> set[str]:
    """The one-turn exercises done in a module folder (see :func:`reply_key`)."""
    try:
        return set(_load(Path(folder) / FILENAME)["finished"])
    except (OSError, ValueError):
        return set()


def read(folder: str | Path) -> list[list[float]]:
    """Stretches of work in a module folder ([start, end] in epoch seconds); none if no file."""
    path = Path(folder) / FILENAME
    try:
        return _spans(path)
    except (OSError, ValueError):  # missing, or not ours (touch sets such a file aside)
        return []


def total(spans: list[list[float]]) -> float:
    """The time the stretches add up to, in seconds."""
    return float(sum(end - start for start, end in spans))


def seconds(folder: str | Path) -> float:
    """Time spent in a module folder, in seconds."""
    return total(read(folder))


def touch(folder: str | Path, now: float | None = None, done: str | None = None) -> None:
    """Record an action now (and, with ``done``, that a one-turn exercise was finished).
    Never raises: time-keeping must not get in the way of the work."""
    path = Path(folder) / FILENAME
    now = time.time() if now is None else now
    try:
        try:
            record = _load(path)
        except FileNotFoundError:
            record = {"spans": [], "finished": []}
        except ValueError:
            from framelab.scoring.answers import set_aside

            set_aside(path)
            record = {"spans": [], "finished": []}
        spans, ended = record["spans"], record["finished"]
        if done is not None and done not in ended:
            ended.append(done)
        if spans and spans[-1][0] <= now <= spans[-1][1] + IDLE_GAP:
            spans[-1][1] = max(spans[-1][1], now)
        else:
            spans.append([now, now])
        if len(spans) > MAX_SPANS:  # merge the two oldest, keeping their total
            (s0, e0), (s1, e1) = spans[0], spans[1]
            spans = [[s0, s0 + (e0 - s0) + (e1 - s1)], *spans[2:]]
        write_text_atomically(path, json.dumps({"format": FORMAT, "spans": spans, "finished": ended}))
    except OSError:
        pass  # a read-only folder: the work goes on, untimed


def describe(secs: float) -> str:
    """'1 h 05 min', '12 min', 'under a minute', for the progress view."""
    minutes = int(secs // 60)
    if secs and minutes == 0:
        return "under a minute"
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"
