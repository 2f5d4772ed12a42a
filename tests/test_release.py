"""release/ is exactly what nbgrader generates from source/, and gives away no answer."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import nbformat
import pytest
from conftest import BIN, ROOT, copy_course, nbgrader, run

DELIMITED = re.compile(r"### BEGIN (SOLUTION|HIDDEN TESTS|MARK SCHEME)\n(.*?)### END \1", re.S)


def secret_lines() -> set[str]:
    """Every meaningful line inside a solution, hidden-test or mark-scheme region of source/."""
    out = set()
    for nb_path in (ROOT / "source").glob("*/*.ipynb"):
        nb = nbformat.read(nb_path, as_version=4)
        for cell in nb.cells:
            for _, body in DELIMITED.findall(cell.source):
                for line in body.splitlines():
                    line = line.strip().rstrip(",")
                    if len(line) > 8 and line not in ("{", "}"):
                        out.add(line)
    return out


def gold_patterns(bank) -> list[tuple[str, re.Pattern[str]]]:
    """An assessment item's id near its gold label, in either order, is a leak."""
    pats = []
    for it in bank.responses:
        if it.split != "assessment":
            continue
        gold = "|".join(re.escape(lab) for lab in it.labels)
        pats.append(
            (
                it.id,
                re.compile(rf"{re.escape(it.id)}.{{0,60}}\b({gold})\b|\b({gold})\b.{{0,60}}{re.escape(it.id)}", re.S),
            )
        )
    for v in bank.vignettes:
        if v.split != "assessment":
            continue
        gold = "|".join(re.escape(x) for x in (v.relation, v.next_action, v.boundary_kind, v.alliance_effect) if x)
        pats.append((v.id, re.compile(rf"{re.escape(v.id)}.{{0,60}}\b({gold})\b", re.S)))
    return pats


def assessment_rationales(bank) -> list[str]:
    return [i.rationale for i in [*bank.responses, *bank.vignettes] if i.split == "assessment"]


def assert_no_leak(files: dict[str, str], bank) -> None:
    secrets = secret_lines()
    assert secrets, "found no solution or hidden-test lines in source/: the leak check would prove nothing"
    rationales = assessment_rationales(bank)
    patterns = gold_patterns(bank)
    assert patterns, "no assessment items: the leak check would prove nothing"
    for name, text in files.items():
        flat = json.dumps(text) if name.endswith(".ipynb") else text
        for line in secrets:
            assert line not in text and json.dumps(line)[1:-1] not in flat, f"{name} contains the secret line {line!r}"
        for r in rationales:
            assert r not in text, f"{name} contains an assessment rationale: {r[:60]!r}"
        for iid, pat in patterns:
            m = pat.search(text)
            assert m is None, f"{name} reveals the gold label of {iid}: {m.group(0)[:120]!r}"


@pytest.mark.slow  # nbgrader generate_assignment for all seven modules: about 23 s
def test_release_matches_a_fresh_generate_assignment(tmp_path, assignments):
    course = copy_course(tmp_path / "course")
    run([str(BIN / "framelab"), "build", "--check"], cwd=course)
    for a in assignments:
        nbgrader("generate_assignment", a, "--force", "--log-level=WARN", cwd=course)
    fresh = {p.relative_to(course / "release"): p for p in (course / "release").rglob("*") if p.is_file()}
    committed = {p.relative_to(ROOT / "release"): p for p in (ROOT / "release").rglob("*") if p.is_file()}
    assert sorted(map(str, fresh)) == sorted(map(str, committed)), (
        "release/ has missing or extra files: run make release"
    )
    for rel, path in fresh.items():
        if path.suffix == ".ipynb":
            a, b = json.loads(path.read_text()), json.loads(committed[rel].read_text())
            assert a == b, f"release/{rel} differs from a fresh generate_assignment: run make release"
        else:
            assert path.read_bytes() == committed[rel].read_bytes(), f"release/{rel} is out of date: run make release"


def test_source_is_in_sync_with_the_bank(root):
    proc = run([str(BIN / "framelab"), "build", "--check"], cwd=root, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.slow  # reads every released notebook and builds the wheel: about 7 s
def test_release_has_no_answer_key(bank):
    files = {
        str(p.relative_to(ROOT)): p.read_text(encoding="utf-8") for p in (ROOT / "release").rglob("*") if p.is_file()
    }
    assert any(n.endswith(".ipynb") for n in files) and any(n.endswith("content.json") for n in files)
    assert_no_leak(files, bank)
    for name, text in files.items():
        if name.endswith("content.json"):
            data = json.loads(text)
            for ex in data["exercises"].values():
                for row in ex["items"]:
                    assert set(row) <= {"id", "text", "client"}, f"{name}: exercise item {row['id']} carries {set(row)}"


def test_the_leak_check_catches_a_leak(bank):
    """The check above must be able to fail: plant each kind of leak and see it caught."""
    item = next(r for r in bank.responses if r.split == "assessment")
    for planted in (
        f'{{"{item.id}": "{item.labels[0]}"}}',
        f"Why: {item.rationale}",
        next(iter(secret_lines())),
    ):
        with pytest.raises(AssertionError):
            assert_no_leak({"planted.txt": planted}, bank)


@pytest.mark.slow
def test_built_wheel_has_no_answer_key(tmp_path, bank):
    run([str(BIN / "uv"), "build", "--wheel", "--out-dir", str(tmp_path), str(ROOT)], cwd=tmp_path)
    (wheel,) = tmp_path.glob("framelab-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        files = {n: zf.read(n).decode("utf-8", "replace") for n in names}
    assert any(n.startswith("framelab/") for n in names)
    assert not any(n.startswith(("modules/", "source/")) or n.endswith((".yaml", ".ipynb")) for n in names), names
    assert_no_leak(files, bank)


def quoted_passages(notebook: Path) -> list[str]:
    nb = nbformat.read(notebook, as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    return [q for q in re.findall(r'"([^"\n]{30,})"', text.replace("\n> ", " ").replace("*", ""))]


def test_narrative_does_not_analyse_assessment_items(bank):
    """A worked example that paraphrases an assessment item would give its answer away."""
    from framelab.bank.loader import jaccard, tokens

    held_out = [(i.id, tokens(i.text)) for i in [*bank.responses, *bank.vignettes] if i.split == "assessment"]
    notebooks = sorted((ROOT / "source").glob("*/*.ipynb"))
    quotes = [(nb.name, q) for nb in notebooks for q in quoted_passages(nb)]
    assert len(quotes) > 10, "found too few quoted examples: the check would prove nothing"
    for name, quote in quotes:
        words = tokens(quote)
        for iid, item_words in held_out:
            assert jaccard(words, item_words) < 0.5, f"{name} quotes assessment item {iid}: {quote[:80]!r}"
