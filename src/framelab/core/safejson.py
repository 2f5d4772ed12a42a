"""Bounded JSON reading for anything a trainee controls (answers, notebooks, transcripts, JSON Lines).

Every reader of trainee-controlled JSON goes through here, so that a file that is too big, too deeply
nested, not UTF-8, or carries values JSON does not have (``NaN``, ``Infinity``, ``1e999``) becomes one
plain sentence naming the file and the fix, never a ``RecursionError`` or a silently altered value.
The size and the nesting depth are checked *before* the parser sees the text.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

#: Deeper than any honest notebook (about 6 levels), answers file (3) or transcript (4).
MAX_DEPTH = 64
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")


class UnsafeJSON(ValueError):
    """The text cannot be read safely; ``str(exc)`` is a plain sentence that names what and why."""


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _check_depth(text: str, max_depth: int, what: str) -> None:
    depth = 0
    stripped = _STRINGS.sub('""', text)
    for match in _BRACKETS.finditer(stripped):
        depth += 1 if match.group() in "[{" else -1
        if depth > max_depth:
            line = _line_of(stripped, match.start())
            raise UnsafeJSON(f"{what} is nested more than {max_depth} levels deep (line {line}); no real file is.")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text} is too large for JSON")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _decode(raw: bytes, what: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise UnsafeJSON(f"{what} is not UTF-8 text (byte {exc.start + 1}, line {line}).") from None


def loads(
    text: str | bytes, *, what: str = "the text", max_bytes: int | None = None, max_depth: int = MAX_DEPTH
) -> Any:
    """Parse JSON after bounding its size and depth; numbers must be finite, and NaN or Infinity are refused."""
    size = len(text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text)
    if max_bytes is not None and size > max_bytes:
        raise UnsafeJSON(f"{what} is {size:,} bytes, more than the {max_bytes:,} allowed.")
    if isinstance(text, bytes):
        text = _decode(text, what)
    _check_depth(text, max_depth, what)
    try:
        return json.loads(text, parse_float=_finite, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise UnsafeJSON(f"{what} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}).") from None
    except ValueError as exc:
        raise UnsafeJSON(f"{what} is not valid JSON: {exc}.") from None
    except RecursionError:  # a backstop: the depth check above should make this unreachable
        raise UnsafeJSON(f"{what} is nested too deeply to read.") from None


def load(path: str | Path, *, max_bytes: int, max_depth: int = MAX_DEPTH, what: str | None = None) -> Any:
    """Read and parse a JSON file with the bounds of :func:`loads`; the size is checked before reading."""
    path = Path(path)
    what = what or str(path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise UnsafeJSON(f"{what} is {size:,} bytes, more than the {max_bytes:,} allowed.")
        with path.open("rb") as fh:
            raw = fh.read(max_bytes + 1)
    except OSError as exc:
        raise UnsafeJSON(f"{what} cannot be read ({exc.strerror or exc}).") from None
    return loads(raw, what=what, max_bytes=max_bytes, max_depth=max_depth)
