"""A missing, damaged or locked gradebook, and a folder that is no course root: one plain line, nothing created."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from framelab.cli import main
from framelab.core.settings import course_root_problem
from framelab.grading import gradebookcheck
from framelab.grading.gradebookcheck import gradebook_problem

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def course(tmp_path) -> Path:
    folder = tmp_path / "course"
    folder.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", folder)
    return folder


def nbgrader_like(path: Path, rows: int = 2000) -> None:
    """A SQLite file with nbgrader's table names and enough rows to span many pages."""
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE assignment (id TEXT PRIMARY KEY, name TEXT)")
    con.execute("CREATE TABLE student (id TEXT PRIMARY KEY, note TEXT)")
    con.executemany("INSERT INTO student VALUES (?, ?)", [(f"s{i}", "x" * 200) for i in range(rows)])
    con.commit()
    con.close()


def test_a_readable_gradebook_passes(course):
    nbgrader_like(course / "gradebook.db")
    assert gradebook_problem(course) is None and course_root_problem(course) is None


def test_a_missing_gradebook_is_named_and_not_created(course):
    problem = gradebook_problem(course)
    assert problem and "no gradebook at" in problem and "framelab grade" in problem
    assert gradebook_problem(course, must_exist=False) is None
    assert not (course / "gradebook.db").exists()


@pytest.mark.parametrize(
    "damage",
    [
        lambda p: p.write_text("not a database at all\n"),
        lambda p: (nbgrader_like(p), p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 3])),
        lambda p: (nbgrader_like(p), p.write_bytes(p.read_bytes()[:4096] + b"\x00" * 8192 + p.read_bytes()[12288:])),
        lambda p: sqlite3.connect(p).execute("CREATE TABLE other (x)").connection.commit(),
    ],
    ids=["text", "truncated", "zeroed-pages", "not-nbgrader"],
)
def test_a_damaged_gradebook_is_one_sentence_with_the_fix(course, damage):
    path = course / "gradebook.db"
    damage(path)
    before = path.read_bytes()
    problem = gradebook_problem(course)
    assert problem and str(path.resolve()) in problem and "damaged" in problem and "move it aside" in problem
    assert "\n" not in problem and path.read_bytes() == before


def test_a_locked_gradebook_is_waited_for_then_named(course, monkeypatch):
    path = course / "gradebook.db"
    nbgrader_like(path)
    monkeypatch.setattr(gradebookcheck, "LOCK_WAIT", 0.2)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        problem = gradebook_problem(course)
    finally:
        holder.rollback()
        holder.close()
    assert problem and "locked by another program" in problem
    assert gradebook_problem(course) is None


def test_the_gradebook_url_comes_from_the_config(course, tmp_path):
    elsewhere = tmp_path / "books" / "book.db"
    (course / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.db_url = 'sqlite:///{elsewhere}'\n"
    )
    assert gradebookcheck.db_url(course) == f"sqlite:///{elsewhere}"
    assert str(elsewhere) in (gradebook_problem(course) or "")
    (course / "nbgrader_config.py").write_text("c = get_config()\nc.CourseDirectory.db_url = 'postgresql://h/db'\n")
    assert gradebook_problem(course) is None  # left to nbgrader


@pytest.mark.parametrize(
    "command", [["report", "--out", "out"], ["export", "--out", "out"], ["audit", "m1_double_bind"]]
)
@pytest.mark.parametrize("state", ["missing", "damaged"])
def test_commands_say_one_line_and_write_nothing(course, monkeypatch, capsys, command, state):
    monkeypatch.chdir(course)
    if state == "damaged":
        (course / "gradebook.db").write_text("garbage")
    assert main(command) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"framelab {command[0]}: ") and len(err.splitlines()) == 1
    assert ("no gradebook" if state == "missing" else "damaged") in err
    assert not (course / "out").exists()
    assert (course / "gradebook.db").exists() == (state == "damaged")


def test_grade_outside_a_course_root_creates_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["grade", "m1_double_bind", "--no-progress"]) == 2
    assert "is not a course root (no nbgrader_config.py there)" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("jobs", ["0", "-3"])
def test_grade_refuses_jobs_below_one(course, monkeypatch, capsys, jobs):
    monkeypatch.chdir(course)
    assert main(["grade", "m1_double_bind", "--jobs", jobs]) == 2
    assert f"--jobs must be 1 or more (got {jobs})" in capsys.readouterr().err
    assert not (course / "gradebook.db").exists()
