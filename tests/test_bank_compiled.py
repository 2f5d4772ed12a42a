"""The bank for use is read from a compiled copy: never stale, never required, never the only check."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from test_bank_validation import GOOD, MODULE, item, make_bank

from framelab.bank import loader as bankmod
from framelab.bank import store as bankstore
from framelab.bank.loader import load_bank, validate_bank
from framelab.cli import main


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("FRAMELAB_CACHE", str(folder))
    return folder / "framelab"


def compiled_files(cache: Path) -> list[Path]:
    return sorted(cache.glob("bank-*.json"))


def texts(bank) -> list[str]:
    return [r.text for r in bank.responses]


def test_the_second_load_reads_the_compiled_copy_not_the_yaml(tmp_path, cache, monkeypatch):
    root = make_bank(tmp_path, GOOD)
    first = load_bank(root)
    assert len(compiled_files(cache)) == 1

    def no_yaml(*args, **kwargs):
        raise AssertionError("the YAML was read again")

    monkeypatch.setattr(bankmod, "_read_bank", no_yaml)
    second = load_bank(root)
    assert second.modules == first.modules and second.problems == []
    assert second.root == root


def test_an_edited_file_is_never_read_stale_even_with_the_same_size_and_time(tmp_path, cache):
    root = make_bank(tmp_path, GOOD)
    path = root / "m9_test" / "responses.yaml"
    assert "My diary is packed this month, sorry." in texts(load_bank(root))
    stat = path.stat()
    path.write_text(path.read_text().replace("packed this month", "packed this weeks"))  # same length
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size and path.stat().st_mtime_ns == stat.st_mtime_ns
    assert "My diary is packed this weeks, sorry." in texts(load_bank(root))
    assert len(compiled_files(cache)) == 2


def test_a_new_module_folder_is_seen(tmp_path):
    root = make_bank(tmp_path, GOOD)
    assert list(load_bank(root).modules) == ["m9"]
    other = root / "m8_other"
    other.mkdir()
    (other / "module.yaml").write_text(MODULE.replace("id: m9", "id: m8").split("exercises:")[0])
    again = load_bank(root)
    assert sorted(again.modules) == ["m8", "m9"] and again.problems == []


def test_an_unwritable_cache_still_loads(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would be")
    monkeypatch.setenv("FRAMELAB_CACHE", str(blocker))
    root = make_bank(tmp_path, GOOD)
    bank = load_bank(root)
    assert bank.problems == [] and texts(bank)[0] == "My diary is packed this month, sorry."
    assert load_bank(root).modules == bank.modules
    assert blocker.read_text().startswith("a file")


def test_a_damaged_compiled_copy_is_read_again_from_the_yaml(tmp_path, cache):
    root = make_bank(tmp_path, GOOD)
    good = load_bank(root)
    (path,) = compiled_files(cache)
    path.write_bytes(path.read_bytes()[:200])  # cut short, as a full disk would leave it
    again = load_bank(root)
    assert again.modules == good.modules and again.problems == []
    assert path.read_bytes().endswith(b"}")  # rewritten whole


def test_use_skips_the_collection_checks_that_validate_makes(tmp_path, cache):
    root = make_bank(tmp_path, GOOD + item("m9-r003", "My diary is packed this week, sorry."))
    assert load_bank(root).problems == []
    (problem,) = validate_bank(root).problems
    assert problem.item == "m9-r003" and "near-duplicate of m9-r001" in problem.message
    assert load_bank(root, validate=True).problems == [problem]


def test_use_still_reports_item_problems_with_their_line_and_caches_nothing(tmp_path, cache):
    root = make_bank(tmp_path, GOOD + item("m9-r003", "Nope.", "[bogus]"))
    problems = load_bank(root).problems
    assert [(p.file, p.line, p.item, p.field) for p in problems] == [
        ("modules/m9_test/responses.yaml", 25, "m9-r003", "labels")
    ]
    assert compiled_files(cache) == []
    assert load_bank(root).problems == problems


def test_use_still_refuses_an_exercise_pointing_at_a_missing_item(tmp_path):
    root = make_bank(tmp_path, GOOD, MODULE.replace("items: [m9-r002]", "items: [m9-r404]"))
    (problem,) = load_bank(root).problems
    assert problem.item == "m9-r404" and "no such item" in problem.message


def test_cli_validate_makes_every_check(tmp_path, capsys):
    root = make_bank(tmp_path, GOOD + item("m9-r003", "My diary is packed this week, sorry."))
    load_bank(root)  # a compiled copy exists: validate must not stop at it
    assert main(["validate", "--modules", str(root)]) == 1
    assert "near-duplicate of m9-r001" in capsys.readouterr().out


def test_a_folder_named_like_a_content_file_is_one_problem(tmp_path, capsys):
    root = make_bank(tmp_path, GOOD)
    (root / "m9_test" / "vignettes.yaml").mkdir()
    (problem,) = validate_bank(root).problems
    assert problem.file == "modules/m9_test/vignettes.yaml" and "is a folder" in problem.message
    assert problem.fix
    assert main(["validate", "--modules", str(root)]) == 1
    out = capsys.readouterr()
    assert "vignettes.yaml: is a folder" in out.out and "Traceback" not in out.err


@pytest.mark.parametrize(
    ("text", "message", "fix"),
    [
        ("- id: m9\n- title: x\n", "must be a mapping", "'key: value' lines"),
        ("just words\n", "must be a mapping", "'key: value' lines"),
        ("", "is empty", "the module's id"),
    ],
)
def test_a_module_file_that_is_not_a_mapping_says_how_to_write_it(tmp_path, text, message, fix):
    root = make_bank(tmp_path, GOOD, module=text)
    problems = validate_bank(root).problems
    (problem,) = [p for p in problems if p.file.endswith("module.yaml")]
    assert message in problem.message and fix in problem.fix


def test_the_compiled_copy_keeps_only_the_newest_banks(tmp_path, cache):
    root = make_bank(tmp_path, GOOD)
    path = root / "m9_test" / "responses.yaml"
    for n in range(bankstore.KEEP + 3):
        path.write_text(GOOD.replace("sorry.", f"sorry {n}."))
        load_bank(root)
    assert len(compiled_files(cache)) == bankstore.KEEP
    assert not list(cache.glob("*.tmp"))
