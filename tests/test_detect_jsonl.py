"""The JSON Lines reader of ``framelab detect``: any input gives one reply per non-blank line, in order;
a bad line is its own plain error and never costs another line its answer. A stand-in detector keeps
these tests to the reader (the real model is tested in test_detect.py)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from framelab.detector.boundary import Detection, Refused
from framelab.detector.jsonl import MAX_LINE_BYTES, parse_request, read_lines, run_jsonl

BIN = Path(sys.executable).parent


class StandIn:
    """Labels every text 'validate'; refuses texts that say 'refuse'."""

    def check(self, text):
        if not isinstance(text, str) or "refuse" in text:
            raise Refused("not this one.")
        return text

    def detect_many(self, texts):
        return [Detection(["validate"], {"validate": 1.0}, {"validate": [t[:5]]}) for t in texts]


def run(data: bytes) -> tuple[list[dict], int]:
    return run_jsonl(read_lines(io.BytesIO(data)), StandIn())


GOOD = json.dumps({"id": "ok", "text": "I can hear that."}).encode()

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=10,
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=200).map(lambda b: b.replace(b"\n", b" ")), max_size=8))
def test_any_bytes_give_one_reply_per_line_and_keep_the_good_ones(lines):
    """Whatever comes before and after it, a good line is answered, and every line gets exactly one reply."""
    data = b"\n".join([*lines, GOOD, *lines]) + b"\n"
    replies, failed = run(data)
    expected = [line for line in [*lines, GOOD, *lines] if line.strip()]
    assert len(replies) == len(expected)
    assert failed == sum("error" in r for r in replies)
    good = {"id": "ok", "labels": ["validate"], "scores": {"validate": 1.0}, "cues": {"validate": ["I can"]}}
    assert good | {"checks_safety": False} in replies
    for r in replies:
        assert set(r) in ({"id", "labels", "scores", "cues", "checks_safety"}, {"id", "line", "error"})
        if "error" in r:
            assert r["error"].startswith(f"line {r['line']}: ") and "\n" not in r["error"]
        json.dumps(r, allow_nan=False)  # every reply is plain JSON


@settings(max_examples=200, deadline=None)
@given(json_values, st.text(min_size=1).filter(lambda t: t.strip() and "refuse" not in t))
def test_any_json_id_is_echoed_exactly(item_id, text):
    replies, failed = run(json.dumps({"id": item_id, "text": text}).encode() + b"\n")
    assert failed == 0 and replies[0]["id"] == item_id


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=65, max_value=5000), st.sampled_from(["[", '{"a":']))
def test_deep_nesting_is_one_plain_error(depth, opener):
    replies, failed = run(opener.encode() * depth + b"\n" + GOOD + b"\n")
    assert failed == 1
    assert replies[0]["line"] == 1 and "nested more than 64 levels" in replies[0]["error"]
    assert replies[1]["id"] == "ok"


@given(st.sampled_from(["1e999", "-1e999", "NaN", "Infinity", "-Infinity"]))
def test_numbers_json_cannot_hold_are_refused_never_echoed(number):
    replies, failed = run(f'{{"id": {number}, "text": "I can hear that."}}\n'.encode() + GOOD + b"\n")
    assert failed == 1 and replies[0]["id"] is None and "not valid JSON" in replies[0]["error"]
    assert "Infinity" not in json.dumps(replies[0]["id"]) and replies[1]["id"] == "ok"


@settings(max_examples=100, deadline=None)
@given(st.binary(min_size=1, max_size=30).filter(lambda b: not _utf8(b)))
def test_bytes_that_are_not_utf8_are_an_error_not_replaced(junk):
    line = b'{"id": 1, "text": "' + junk.replace(b"\n", b"\xff") + b'"}'
    replies, failed = run(line + b"\n" + GOOD + b"\n")
    assert failed == 1 and "not UTF-8 text" in replies[0]["error"]
    assert "\ufffd" not in json.dumps(replies, ensure_ascii=False)


def _utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def test_an_over_long_line_is_cut_unread_and_the_next_line_still_answered():
    long = b'{"id": 1, "text": "' + b"a" * (MAX_LINE_BYTES * 3) + b'"}'
    lines = list(read_lines(io.BytesIO(long + b"\n" + GOOD + b"\n")))
    assert len(lines) == 2 and len(lines[0]) == MAX_LINE_BYTES + 1 and lines[1] == GOOD + b"\n"
    replies, failed = run(long + b"\n" + GOOD + b"\n")
    assert failed == 1 and "longer than" in replies[0]["error"] and replies[1]["id"] == "ok"


def test_parse_request_says_what_is_missing():
    assert parse_request('{"text": "x"}', 3) == (None, "line 3: no 'id'; give each line an id to match replies")
    assert parse_request('{"id": 7}', 4) == (7, "line 4: no 'text' to label")
    assert parse_request('{"id": 7, "text": "x"}', 5) == ({"id": 7, "text": "x"}, None)


def test_the_command_keeps_every_line_when_one_is_hostile(tmp_path, warm_cache):
    """End to end: nested, non-UTF-8 and 1e999 lines among good ones (the real detector)."""
    good = json.dumps({"id": "fine", "text": "I can hear how much this matters to you."}).encode()
    data = b"\n".join([good, b"[" * 10_000, b'{"id": 2, "text": "caf\xe9"}', b'{"id": 1e999, "text": "x"}', good])
    env = {"FRAMELAB_CACHE": str(warm_cache(tmp_path / "cache")), "PATH": str(BIN), "HOME": str(tmp_path)}
    proc = subprocess.run([str(BIN / "framelab"), "detect"], input=data + b"\n", capture_output=True, env=env)
    assert proc.returncode == 1 and b"Traceback" not in proc.stderr
    out = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert [o["id"] for o in out] == ["fine", None, None, None, "fine"]
    assert [o.get("line") for o in out[1:4]] == [2, 3, 4]
    assert "nested more than" in out[1]["error"] and "not UTF-8" in out[2]["error"] and "1e999" in out[3]["error"]
    assert "Infinity" not in proc.stdout.decode()


def test_each_line_says_whether_the_text_checks_for_risk():
    """``checks_safety``: true only for a direct question about suicide, self-harm, harm or safety now; a
    vague "are you okay?", a crisis line given without a question, or no question at all is false."""
    texts = {
        "direct": "I'm glad you told me. Are you having thoughts of ending your life?",
        "safe-now": "Before anything else: are you safe right now?",
        "harm": "When you say you can't face him, are you afraid he'll hurt you?",
        "vague": "Sorry today was so hard. Are you okay? See you Thursday.",
        "tells": "If you're thinking of suicide, ring 988. I don't take calls between sessions.",
        "none": "I'm not going to text you back at night; let's talk about it on Thursday.",
    }
    data = b"".join(json.dumps({"id": k, "text": t}).encode() + b"\n" for k, t in texts.items())
    replies, failed = run(data)
    assert failed == 0
    assert {r["id"]: r["checks_safety"] for r in replies} == {
        "direct": True, "safe-now": True, "harm": True, "vague": False, "tells": False, "none": False,
    }  # fmt: skip
