"""Rosters: trainees imported from Canvas's or Moodle's own files into nbgrader's gradebook, so that
a trainee who never submits exists and is named as not submitted."""

from __future__ import annotations

import os
import shutil

import pytest
from conftest import BIN, ROOT

from framelab.instructor.course import CourseError, open_gradebook
from framelab.instructor.roster import import_people, not_submitted, read_people

CANVAS = (
    "Student,ID,SIS User ID,SIS Login ID,Section,M1 double bind (4051),nbgrader_id\n"
    "    Points Possible,,,,,20,\n"
    '"Silva, Ana",52311,S0042,asilva,A,,ana\n'
    '"Ng, Cat",52312,S0043,cng,A,,cat\n'
)
MOODLE = (
    "First name,Last name,ID number,Institution,Department,Email address,Username\n"
    "Ana,Silva,70001,,,ana@uni.example,ana\n"
    "Dev,Rao,70004,,,dev@uni.example,dev\n"
)


@pytest.fixture
def course(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")  # nbgrader runs alembic
    folder = tmp_path / "course"
    folder.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", folder)
    return folder


def test_canvas_roster_gives_names_and_canvas_ids(tmp_path):
    path = tmp_path / "canvas.csv"
    path.write_text(CANVAS)
    people = read_people(path)
    assert [(p.id, p.first_name, p.last_name, p.lms_user_id) for p in people] == [
        ("ana", "Ana", "Silva", "52311"),
        ("cat", "Cat", "Ng", "52312"),
    ]
    assert [p.id for p in read_people(path, "SIS Login ID")] == ["asilva", "cng"]


def test_moodle_roster_reads_the_username_by_default(tmp_path):
    path = tmp_path / "moodle.csv"
    path.write_text(MOODLE)
    assert [(p.id, p.email) for p in read_people(path)] == [("ana", "ana@uni.example"), ("dev", "dev@uni.example")]
    path.write_text(MOODLE.replace(",Username", "").replace(",ana\n", "\n").replace(",dev\n", "\n"))
    assert [p.id for p in read_people(path)] == ["70001", "70004"]  # no Username: ID number


def test_bad_rosters_get_one_line_naming_the_line_and_the_fix(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("name,mail\nAna,a@x\n")
    with pytest.raises(CourseError, match=r"r\.csv line 1: not a roster this command knows"):
        read_people(path)
    path.write_text(CANVAS + '"Silva, Ana",1,2,3,A,,ana\n')
    with pytest.raises(CourseError, match=r"r\.csv line 5: 'ana' appears twice"):
        read_people(path)
    path.write_text(CANVAS + '"Who, Nobody",1,2,3,A,,\n')
    with pytest.raises(CourseError, match=r"line 5: column 'nbgrader_id' is empty"):
        read_people(path)
    with pytest.raises(CourseError, match=r"no column 'Login'.*--id-column"):
        read_people(tmp_path / "r.csv", "Login")
    with pytest.raises(CourseError, match="no such roster file"):
        read_people(tmp_path / "missing.csv")


def test_import_adds_then_updates_and_names_who_did_not_submit(tmp_path, course):
    path = tmp_path / "canvas.csv"
    path.write_text(CANVAS)
    first = import_people(course, read_people(path))
    assert (first.added, first.updated) == (["ana", "cat"], [])
    moodle = tmp_path / "moodle.csv"
    moodle.write_text(MOODLE)
    second = import_people(course, read_people(moodle))
    assert (second.added, second.updated) == (["dev"], ["ana"])
    assert second.summary() == "1 trainee(s) added, 1 updated (2 in the roster)."
    with open_gradebook(course) as gb:
        ana = gb.find_student("ana")
        assert (ana.first_name, ana.email, ana.lms_user_id) == ("Ana", "ana@uni.example", "52311")
        gb.add_assignment("m1_double_bind")
        gb.add_submission("m1_double_bind", "cat")
        assert not_submitted(gb, "m1_double_bind") == ["ana", "dev"]
