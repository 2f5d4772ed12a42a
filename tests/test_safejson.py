"""The bounded JSON reader that every reader of trainee-controlled JSON uses."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from framelab.core import safejson
from framelab.core.safejson import UnsafeJSON

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(_json)
def test_round_trips_ordinary_json(value):
    assert safejson.loads(json.dumps(value), what="x") == value


@given(st.binary(max_size=200))
def test_any_bytes_give_a_value_or_a_plain_error(raw):
    try:
        safejson.loads(raw, what="answers.json", max_bytes=100)
    except UnsafeJSON as exc:
        assert "answers.json" in str(exc)


@given(st.integers(min_value=65, max_value=50_000), st.sampled_from(["[", '{"a":']))
def test_deep_nesting_is_refused_before_parsing(depth, opener):
    text = opener * depth
    with pytest.raises(UnsafeJSON, match="nested more than 64 levels"):
        safejson.loads(text, what="nb.ipynb")


def test_brackets_inside_strings_do_not_count():
    text = json.dumps({"source": "[" * 10_000 + '\\"' + "{" * 10_000})
    assert safejson.loads(text)["source"].startswith("[[[")


@pytest.mark.parametrize("text", ["NaN", "[Infinity]", '{"id": 1e999}', "-Infinity"])
def test_values_json_does_not_have_are_refused(text):
    with pytest.raises(UnsafeJSON, match="not valid JSON"):
        safejson.loads(text, what="line 3")


def test_not_utf8_names_the_line(tmp_path):
    path = tmp_path / "a.json"
    path.write_bytes(b'{"a":\n"\xff"}')
    with pytest.raises(UnsafeJSON, match=r"not UTF-8 text \(byte 8, line 2\)"):
        safejson.load(path, max_bytes=100)


def test_size_is_checked_before_reading(tmp_path):
    path = tmp_path / "big.json"
    path.write_text("[" + "1," * 1000 + "1]")
    with pytest.raises(UnsafeJSON, match="more than the 100 allowed"):
        safejson.load(path, max_bytes=100)


def test_a_folder_or_missing_file_is_a_plain_error(tmp_path):
    with pytest.raises(UnsafeJSON, match="cannot be read"):
        safejson.load(tmp_path / "missing.json", max_bytes=100)
