"""A misspelt assignment name is an error in every instructor command: exit 2, one line naming the
assignments that exist, and nothing written (issue 28, item 7)."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from framelab.cli import main
from framelab.grading.gradebookcheck import assignment_problem

ROOT = Path(__file__).resolve().parent.parent
GOOD, TYPO = "m1_double_bind", "m1_doble_bind"


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """A course root whose gradebook holds Module 1 (nbgrader's ``assignment`` table, as the checks read
    it) and whose source/ also has Module 2, never generated. Every test checks that nothing was written."""
    folder = tmp_path_factory.mktemp("names") / "course"
    folder.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", folder)
    for a in (GOOD, "m2_transference"):
        (folder / "source" / a).mkdir(parents=True)
    con = sqlite3.connect(folder / "gradebook.db")
    con.execute("CREATE TABLE assignment (id TEXT PRIMARY KEY, name TEXT)")
    con.execute("INSERT INTO assignment VALUES ('1', ?)", (GOOD,))
    con.commit()
    con.close()
    return folder


def test_the_problem_lists_what_exists_and_a_known_name_passes(course):
    assert assignment_problem(course, [GOOD]) is None
    line = assignment_problem(course, [GOOD, TYPO])
    assert line == f"no assignment named '{TYPO}' in this course: the assignments are {GOOD}, m2_transference"
    assert "generate_assignment m2_transference" in assignment_problem(course, ["m2_transference"])


@pytest.mark.parametrize(
    "argv",
    [
        ["grade", TYPO, "--no-progress"],
        ["feedback", TYPO, "--no-progress"],
        ["export", TYPO, "--out", "OUT"],
        ["report", TYPO, "--out", "OUT"],
        ["export", GOOD, TYPO, "--out", "OUT"],
    ],
    ids=["grade", "feedback", "export", "report", "export-two"],
)
def test_every_command_refuses_a_misspelt_name_in_one_line(course, tmp_path, capsys, argv):
    out = tmp_path / "out"
    argv = [str(out) if a == "OUT" else a for a in argv] + ["--course", str(course)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and f"'{TYPO}'" in err and f"the assignments are {GOOD}" in err, err
    assert not out.exists() and not (course / "feedback").exists()


def test_demo_refuses_a_misspelt_name_before_building_anything(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--root", str(ROOT), "--assignment", TYPO]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"framelab demo: no assignment named '{TYPO}'") and GOOD in err
    assert not out.exists()


def test_audit_refuses_a_misspelt_name_in_one_line(course, capsys):
    assert main(["audit", TYPO, "--course", str(course), "--modules", str(ROOT / "modules")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and TYPO in err and GOOD in err, err
