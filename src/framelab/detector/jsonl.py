"""``framelab detect``'s JSON Lines protocol: one request a line in, one reply a line out; a bad line is
its own error reply, bounded in size, and never stops the rest. Each reply carries the labels, their scores
and cues, and ``checks_safety``: whether the text asks directly about risk (:mod:`framelab.detector.safety`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from framelab.detector.boundary import MAX_CHARS, Detector, Refused
from framelab.detector.safety import checks_safety

#: A request line longer than this is refused unread (a reply is at most MAX_CHARS characters).
MAX_LINE_BYTES = 64 * 1024


def read_lines(stream: Any, max_bytes: int = MAX_LINE_BYTES) -> Iterator[bytes | str]:
    """The lines of a binary stream, each at most ``max_bytes`` long: a longer line is cut there
    (the rest of it skipped) and comes out with nothing after the cut, so that it fails to parse
    on its own and never costs more memory than that."""
    while True:
        line = stream.readline(max_bytes + 1)
        if not line:
            return
        if len(line) > max_bytes and not line.endswith(b"\n"):
            while True:  # skip to the end of this line
                rest = stream.readline(max_bytes)
                if not rest or rest.endswith(b"\n"):
                    break
            yield line[: max_bytes + 1]
            continue
        yield line


def parse_request(line: bytes | str, n: int, max_bytes: int = MAX_LINE_BYTES) -> tuple[Any, str | None]:
    """One JSON Lines request: ``({"id": ..., "text": ...}, None)``, or ``(id or None, error)`` where
    the error is one plain sentence starting ``line N:``. Bytes must be UTF-8; nothing is replaced."""
    from framelab.core.safejson import UnsafeJSON, loads

    if len(line) > max_bytes:
        return None, f"line {n}: longer than {max_bytes:,} bytes; send one reply of up to {MAX_CHARS:,} characters"
    if isinstance(line, bytes):
        try:
            line = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            return None, f"line {n}: not UTF-8 text (byte {exc.start + 1} of the line); send the input as UTF-8"
    try:
        req = loads(line, what="this line", max_bytes=max_bytes)
    except UnsafeJSON as exc:
        return None, f'line {n}: {exc} Send one JSON object per line, like {{"id": 1, "text": "..."}}.'
    if not isinstance(req, dict):
        return None, f'line {n}: expected an object like {{"id": ..., "text": ...}}'
    if "id" not in req:
        return None, f"line {n}: no 'id'; give each line an id to match replies"
    if "text" not in req:
        return req["id"], f"line {n}: no 'text' to label"
    return req, None


def run_jsonl(lines: Iterable[bytes | str], detector: Detector) -> tuple[list[dict[str, Any]], int]:
    """Process JSON Lines requests; returns the reply objects (one per non-blank line) and how many failed.
    A bad line (not JSON, not UTF-8, nested too deeply, a number JSON cannot hold) is its own error
    reply; every other line is still labelled."""
    out: list[dict[str, Any]] = []
    failed = 0
    batch: list[tuple[int, Any, str]] = []  # (position in out, id, text)
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        req, error = parse_request(line, n)
        if error is None:
            try:
                # a request may name the client line it answers: a graded item's is refused in a course deployment
                text = detector.check(req["text"], req["client"]) if "client" in req else detector.check(req["text"])
                batch.append((len(out), req["id"], text))
                out.append({})
                continue
            except Refused as exc:
                req, error = req["id"], f"line {n}: {exc}"
        out.append({"id": req, "line": n, "error": error})
        failed += 1
    for (pos, item_id, text), det in zip(batch, detector.detect_many([t for _, _, t in batch]), strict=True):
        out[pos] = {**det.to_json(item_id), "checks_safety": checks_safety(text)}
    return out, failed
