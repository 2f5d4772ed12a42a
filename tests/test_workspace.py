"""The workspace copy: atomic, never overwrites the learner's work, updates what the learner never
touched, repairs copies cut short, and reports (then skips) what it cannot copy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from framelab.cli import main
from framelab.learner import workspace as ws
from framelab.learner.workspace import MANIFEST, populate

BIG = b'{"cells": [' + b'"x", ' * 20_000 + b'"end"]}\n'  # about 100 KB


@pytest.fixture
def release(tmp_path) -> Path:
    root = tmp_path / "release"
    for module in ("m1_a", "m2_b"):
        (root / module).mkdir(parents=True)
        (root / module / f"{module}.ipynb").write_bytes(BIG)
        (root / module / "content.json").write_text(json.dumps({"module": module}))
    (root / "m1_a" / ".ipynb_checkpoints").mkdir()
    (root / "m1_a" / ".ipynb_checkpoints" / "x.ipynb").write_text("clutter")
    return root


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_fresh_copy_is_complete_recorded_and_leaves_no_temporary_file(release, tmp_path):
    report = populate(release, tmp_path / "ws")
    assert report.ok and len(report.copied) == 4
    got = files(tmp_path / "ws")
    record = json.loads(got.pop(MANIFEST))["files"]
    assert got == {k: v for k, v in files(release).items() if ".ipynb_checkpoints" not in k}
    assert sorted(record) == sorted(got)
    assert not [p for p in (tmp_path / "ws").rglob("*.part")]


def test_the_learners_edit_is_kept_and_never_touched_by_a_later_release(release, tmp_path):
    work = tmp_path / "ws"
    populate(release, work)
    mine = work / "m1_a" / "m1_a.ipynb"
    mine.write_bytes(BIG + b"\n")
    report = populate(release, work)
    assert [str(p) for p in report.differ] == ["m1_a/m1_a.ipynb"] and mine.read_bytes() == BIG + b"\n"
    (release / "m1_a" / "m1_a.ipynb").write_bytes(b"a new release")
    report = populate(release, work)
    assert mine.read_bytes() == BIG + b"\n" and "m1_a/m1_a.ipynb" in map(str, report.differ)
    assert not report.updated


def test_a_file_the_learner_never_changed_is_updated_to_the_new_release(release, tmp_path):
    work = tmp_path / "ws"
    populate(release, work)
    (work / "m2_b" / "content.json").write_text('{"module": "mine"}')  # changed by the learner
    (release / "m1_a" / "content.json").write_text('{"module": "m1_a", "new": true}')
    (release / "m2_b" / "content.json").write_text('{"module": "m2_b", "new": true}')
    report = populate(release, work)
    assert [str(p) for p in report.updated] == ["m1_a/content.json"]
    assert json.loads((work / "m1_a" / "content.json").read_text())["new"] is True
    assert (work / "m2_b" / "content.json").read_text() == '{"module": "mine"}'
    assert "updated m1_a/content.json to this release (you had not changed it)" in report.lines()


def test_a_copy_cut_short_earlier_is_set_aside_and_copied_again(release, tmp_path):
    work = tmp_path / "ws"
    (work / "m1_a").mkdir(parents=True)
    (work / "m1_a" / "m1_a.ipynb").write_bytes(BIG[:5000])  # left by the old, non-atomic copy; no record
    report = populate(release, work)
    assert (work / "m1_a" / "m1_a.ipynb").read_bytes() == BIG
    ((rel, aside),) = report.replaced
    assert str(rel) == "m1_a/m1_a.ipynb" and aside.read_bytes() == BIG[:5000]
    assert not report.differ


FSIZE = """
import resource, sys
from pathlib import Path
from framelab.cli import main
resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))
sys.exit(main(["workspace", "--release", sys.argv[1], "--to", sys.argv[2]]))
"""


def test_a_file_size_limit_mid_copy_leaves_no_half_file_and_a_rerun_completes(release, tmp_path):
    work = tmp_path / "ws"
    proc = subprocess.run([sys.executable, "-c", FSIZE, str(release), str(work)], capture_output=True, text=True)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stdout.count("could not copy m") == 2 and "File too large" in proc.stdout
    assert not (work / "m1_a" / "m1_a.ipynb").exists() and not list(work.rglob("*.part"))
    assert (work / "m1_a" / "content.json").exists()  # the small files were copied
    report = populate(release, work)
    assert report.ok and sorted(map(str, report.copied)) == ["m1_a/m1_a.ipynb", "m2_b/m2_b.ipynb"]
    assert (work / "m1_a" / "m1_a.ipynb").read_bytes() == BIG


def test_a_dangling_link_and_a_module_path_that_is_a_file_are_reported_and_the_rest_copied(release, tmp_path):
    work = tmp_path / "ws"
    (work / "m1_a").mkdir(parents=True)
    (work / "m1_a" / "content.json").symlink_to(tmp_path / "gone.json")
    (work / "m2_b").write_text("a file where the module folder goes")
    report = populate(release, work)
    failed = {str(p): why for p, why in report.failed}
    assert sorted(failed) == ["m1_a/content.json", "m2_b/content.json", "m2_b/m2_b.ipynb"]
    assert "link to a missing file" in failed["m1_a/content.json"]
    assert "is a file where a folder should be" in failed["m2_b/m2_b.ipynb"]
    assert (work / "m1_a" / "m1_a.ipynb").read_bytes() == BIG
    assert (work / "m1_a" / "content.json").is_symlink()
    assert (work / "m2_b").read_text() == "a file where the module folder goes"


def test_a_folder_that_cannot_be_written_is_reported_and_the_rest_copied(release, tmp_path, monkeypatch):
    real = tempfile.mkstemp

    def read_only(*args, dir=None, **kwargs):
        if dir is not None and Path(dir).name == "m2_b":
            raise PermissionError(13, "Permission denied", str(dir))
        return real(*args, dir=dir, **kwargs)

    monkeypatch.setattr(ws.tempfile, "mkstemp", read_only)
    report = populate(release, tmp_path / "ws")
    assert sorted(str(p) for p, _ in report.failed) == ["m2_b/content.json", "m2_b/m2_b.ipynb"]
    assert all("Permission denied" in why and "make lab" in why for _, why in report.failed)
    assert sorted(map(str, report.copied)) == ["m1_a/content.json", "m1_a/m1_a.ipynb"]


@pytest.mark.parametrize("record", [b"[" * 5000, b"\xff\xfe", b'{"format": "other"}', b'{"format": "x", "files": 3}'])
def test_a_damaged_record_is_a_note_and_every_file_is_kept(release, tmp_path, record):
    work = tmp_path / "ws"
    populate(release, work)
    (work / "m1_a" / "content.json").write_text("changed")
    (work / MANIFEST).write_bytes(record)
    (release / "m1_a" / "content.json").write_text("new release")
    report = populate(release, work)
    assert (work / "m1_a" / "content.json").read_text() == "changed"
    assert report.ok and any(line.startswith("note: ") for line in report.lines())
    assert json.loads((work / MANIFEST).read_text())["format"] == ws.MANIFEST_FORMAT


def test_cli_refuses_a_workspace_that_is_a_file_in_one_line(release, tmp_path, capsys):
    (tmp_path / "ws").write_text("not a folder")
    assert main(["workspace", "--release", str(release), "--to", str(tmp_path / "ws")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is a file, not a folder" in err
    assert main(["workspace", "--release", str(tmp_path / "nope"), "--to", str(tmp_path / "w2")]) == 2
    assert "is not a folder" in capsys.readouterr().err and not os.path.exists(tmp_path / "w2")


def test_a_run_with_nothing_to_do_changes_no_file_not_even_the_record(release, tmp_path):
    work = tmp_path / "ws"
    populate(release, work)
    (work / "m1_a" / "m1_a.ipynb").write_bytes(b"mine")
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in work.rglob("*") if p.is_file()}
    report = populate(release, work)
    assert report.ok and not report.copied and [str(p) for p in report.differ] == ["m1_a/m1_a.ipynb"]
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in work.rglob("*") if p.is_file()} == before
