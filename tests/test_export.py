"""Grades out of the gradebook: the LMS files' formats, the Canvas roster, and pending hand-grading.

The formats checked here (see ``framelab.instructor.export``'s docstring for the sources):

* Canvas gradebook import: header ``Student, ID, SIS User ID, SIS Login ID, Section`` then one
  column per assignment; an optional second row ``Points Possible``. Canvas matches a person by
  ``ID`` (its own user id), else ``SIS User ID``, else ``SIS Login ID``.
* Moodle CSV grade import: any columns; at import one column is mapped to a user field ("ID
  number" or "Email address" here) and each grade column to a grade item.
"""

from __future__ import annotations

import csv
import datetime
import os
import shutil

import pytest
from conftest import BIN, ROOT, run

from framelab.instructor import export
from framelab.instructor.course import CourseError, pending

#: each test builds a gradebook with nbgrader (about 4 s): out of make test-fast
pytestmark = pytest.mark.slow

A1, A2 = "m1_double_bind", "m2_transference"


@pytest.fixture
def small_gradebook(tmp_path, monkeypatch):
    """A course whose gradebook nbgrader's API fills by hand: ana fully graded, ben's reflection
    waiting for hand-grading (nbgrader's needs_manual_grade), cat absent."""
    from nbgrader.api import Gradebook

    # nbgrader runs `alembic` by name when it creates a gradebook
    monkeypatch.setenv("PATH", f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course)
    due = datetime.datetime(2030, 1, 10, 12, 0)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "framelab") as gb:
        for a in (A1, A2):
            gb.add_assignment(a, duedate=due)
            gb.add_notebook(a, a)
            gb.add_grade_cell("items", a, a, max_score=16, cell_type="code")
            gb.add_grade_cell("reflection", a, a, max_score=4, cell_type="markdown")
        gb.add_student("ana", first_name="Ana", last_name="Silva", email="ana@example.org", lms_user_id="1001")
        gb.add_student("ben")
        gb.add_student("cat", first_name="Cat", last_name="Ng")
        for student, a, auto, manual in (("ana", A1, 14, 3), ("ben", A1, 9, None), ("ana", A2, 12, 4)):
            gb.add_submission(a, student, timestamp=due - datetime.timedelta(hours=1))
            nb = gb.find_submission_notebook(a, a, student)
            for g in nb.grades:
                if g.name == "items":
                    g.auto_score, g.needs_manual_grade = auto, False
                else:  # as autograde leaves a written answer, and formgrader once it is scored
                    g.manual_score, g.needs_manual_grade = manual, manual is None
        gb.db.commit()
    return course


def read_csv(path):
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def test_pending_lists_exactly_the_submissions_waiting_for_a_human(small_gradebook):
    waiting = pending(small_gradebook)
    assert [(p.assignment, p.student, p.cells, p.points) for p in waiting] == [(A1, "ben", ("reflection",), 4.0)]
    assert pending(small_gradebook, [A2]) == []


def test_export_refuses_while_hand_grading_is_pending_and_writes_nothing(tmp_path, small_gradebook):
    with pytest.raises(export.PendingGrades) as err:
        export.export_all(small_gradebook, tmp_path / "out")
    assert "m1_double_bind/ben: 4 point(s) to hand-grade (reflection)" in str(err.value)
    assert "--allow-pending" in str(err.value)
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_export_command_refuses_in_one_plain_paragraph(tmp_path, small_gradebook):
    proc = run([str(BIN / "framelab"), "export", "--out", str(tmp_path / "out")], cwd=small_gradebook, check=False)
    assert proc.returncode == 1
    assert "nothing written" in proc.stderr and "ben" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()


def test_an_early_export_leaves_a_pending_total_blank_never_a_false_number(tmp_path, small_gradebook):
    done = export.export_all(small_gradebook, tmp_path, allow_pending=True)
    assert [p.student for p in done.pending] == ["ben"]
    assert any("left blank" in w and "m1_double_bind/ben" in w for w in done.warnings)
    canvas = read_csv(tmp_path / "grades_canvas.csv")
    rows = {r[3]: r for r in canvas[2:]}
    assert rows["ana"][5:] == ["17", "16"]
    assert rows["ben"][5:] == ["", ""]  # 9 of 20 would look final: blank until the reflection is marked
    moodle = {r[2]: r for r in read_csv(tmp_path / "grades_moodle.csv")[1:]}
    assert moodle["ben"][4:] == ["", ""] and moodle["ana"][4:] == ["17", "16"]
    own = {(r["assignment"], r["student_id"]): r for r in csv.DictReader((tmp_path / "grades.csv").open())}
    assert own[(A1, "ben")]["score"] == "" and own[(A1, "ben")]["needs_manual_grade"] == "True"
    assert float(own[(A1, "ana")]["score"]) == 17 and own[(A1, "ana")]["needs_manual_grade"] == "False"
    assert float(own[(A2, "cat")]["score"]) == 0  # nbgrader's own rule for no submission, kept


def test_canvas_file_matches_canvas_gradebook_import_format(tmp_path, small_gradebook):
    rows = export.scores(small_gradebook)
    table, unknown = export.canvas_rows(rows)
    assert table[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", A1, A2]
    assert table[1] == ["    Points Possible", "", "", "", "", "20", "20"]
    by_login = {r[3]: r for r in table[2:]}
    # no roster: ID is nbgrader's lms_user_id where set, SIS Login ID the nbgrader id, SIS User ID unknown
    assert by_login["ana"][:5] == ["Silva, Ana", "1001", "", "ana", ""]
    assert by_login["cat"][5:] == ["", ""] and unknown == []


def test_moodle_file_matches_moodle_csv_import(tmp_path, small_gradebook):
    path = export.write_moodle(export.scores(small_gradebook, [A1]), tmp_path / "m.csv")
    table = read_csv(path)
    assert table[0] == ["First name", "Last name", "ID number", "Email address", A1]
    assert ["Ana", "Silva", "ana", "ana@example.org", "17"] in table


def write_roster(path, rows, header=("Student", "ID", "SIS User ID", "SIS Login ID", "Section", "nbgrader_id")):
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerow(["    Points Possible", "", "", "", "", ""])
        w.writerows(rows)
    return path


def test_a_canvas_roster_fills_id_and_sis_columns(tmp_path, small_gradebook):
    roster_file = write_roster(
        tmp_path / "canvas_export.csv",
        [
            ["Silva, Ana", "52311", "S0042", "asilva", "Group A", "ana"],
            ["Ng, Cat", "52312", "S0043", "cng", "Group A", "cat"],
        ],
    )
    roster = export.read_roster(roster_file)
    table, unknown = export.canvas_rows(export.scores(small_gradebook), roster)
    people = {r[1]: r for r in table[2:]}
    assert people["52311"] == ["Silva, Ana", "52311", "S0042", "asilva", "Group A", "17", "16"]
    assert people["52312"][5:] == ["", ""]
    assert unknown == ["ben"]  # not in Canvas's roster: left out, and named
    done = export.export_all(small_gradebook, tmp_path / "o", roster=roster, allow_pending=True)
    assert any("'ben' is not in the roster" in w for w in done.warnings)


def test_a_roster_can_name_the_canvas_column_holding_the_nbgrader_id(tmp_path, small_gradebook):
    header = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
    roster_file = write_roster(tmp_path / "r.csv", [["Silva, Ana", "52311", "S0042", "ana", "A"]], header)
    roster = export.read_roster(roster_file, match="SIS Login ID")
    assert roster.people["ana"]["ID"] == "52311"
    with pytest.raises(CourseError, match=r"r.csv line 1: the roster has no column 'nbgrader_id'"):
        export.read_roster(roster_file)
    roster_file.write_text(roster_file.read_text() + "Ana again,1,2,ana,A\n")
    with pytest.raises(CourseError, match=r"line 4: 'ana' appears twice"):
        export.read_roster(roster_file, match="SIS Login ID")


def test_no_gradebook_is_one_plain_line(tmp_path):
    shutil.copy(ROOT / "nbgrader_config.py", tmp_path)
    with pytest.raises(CourseError, match=r"no gradebook at .*nothing has been graded yet"):
        export.scores(tmp_path)
    with pytest.raises(
        CourseError,
        match=r"is not a folder: pass --course with the course folder \(the one holding nbgrader_config\.py\)",
    ):
        export.scores(tmp_path / "elsewhere")


# --------------------------------------------------------------------------- per assignment, mapping, rosters


def canvas_export_with_assignments(path):
    """Canvas's gradebook export as it comes (Grades > Export): each assignment's header carries its
    Canvas id, and a nbgrader_id column added by the instructor."""
    header = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section", "M1 double bind (4051)", "Essay (4099)")
    header += ("nbgrader_id",)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerow(["    Points Possible", "", "", "", "", "20", "10", ""])
        w.writerow(["Silva, Ana", "52311", "S0042", "asilva", "A", "", "", "ana"])
        w.writerow(["Bell, Ben", "52313", "S0044", "bbell", "A", "", "", "ben"])
        w.writerow(["Ng, Cat", "52312", "S0043", "cng", "A", "", "", "cat"])
    return path


def test_export_for_one_assignment_writes_only_its_column(tmp_path, small_gradebook):
    done = export.export_all(small_gradebook, tmp_path, [A2])
    assert read_csv(tmp_path / "grades_canvas.csv")[0][5:] == [A2]
    assert read_csv(tmp_path / "grades_moodle.csv")[0][4:] == [A2]
    own = list(csv.DictReader((tmp_path / "grades.csv").open()))
    assert {r["assignment"] for r in own} == {A2}
    assert done.pending == []  # ben's pending reflection is on A1: it does not hold back A2


def test_canvas_columns_match_the_existing_assignments_of_a_canvas_export(tmp_path, small_gradebook):
    roster = export.read_roster(canvas_export_with_assignments(tmp_path / "canvas.csv"))
    assert roster.headers == ("M1 double bind (4051)", "Essay (4099)")
    done = export.export_all(small_gradebook, tmp_path / "o", [A1, A2], roster=roster, allow_pending=True)
    head = read_csv(tmp_path / "o" / "grades_canvas.csv")[0]
    assert head[5:] == ["M1 double bind (4051)", A2]  # A1 found by its module name; A2 has no column yet
    assert any(f"no single column of canvas.csv is '{A2}'" in w and "--canvas-column" in w for w in done.warnings)
    export.export_all(small_gradebook, tmp_path / "p", [A2], roster=roster, canvas_columns={A2: "Essay (4099)"})
    table = read_csv(tmp_path / "p" / "grades_canvas.csv")
    assert table[0][5:] == ["Essay (4099)"]
    assert {r[1]: r[5] for r in table[2:]} == {"52311": "16", "52313": "", "52312": ""}


def test_moodle_roster_gives_each_row_moodles_own_identity(tmp_path, small_gradebook):
    path = tmp_path / "moodle.csv"
    path.write_text(
        "First name,Last name,ID number,Institution,Email address,Username\n"
        "Ana,Silva,70001,,ana.silva@uni.example,ana\n"
        "Cat,Ng,70003,,cat.ng@uni.example,cat\n"
    )
    with pytest.raises(CourseError, match=r"moodle\.csv line 1: the roster has no column 'Login'"):
        export.read_roster(path, match="Login")
    roster = export.read_roster(path, match="Username")
    assert roster.kind == "moodle"
    done = export.export_all(small_gradebook, tmp_path / "o", [A2], moodle_roster=roster)
    table = read_csv(tmp_path / "o" / "grades_moodle.csv")
    assert table == [
        ["First name", "Last name", "ID number", "Email address", A2],
        ["Ana", "Silva", "70001", "ana.silva@uni.example", "16"],
        ["Cat", "Ng", "70003", "cat.ng@uni.example", ""],
    ]
    assert any("'ben' is not in the roster" in w and "grades_moodle.csv" in w for w in done.warnings)


def test_a_trainee_with_no_submission_is_blank_or_zero_by_option(tmp_path, small_gradebook):
    export.export_all(small_gradebook, tmp_path / "b", [A2])
    export.export_all(small_gradebook, tmp_path / "z", [A2], missing="zero")
    blank = {r[3]: r[5] for r in read_csv(tmp_path / "b" / "grades_canvas.csv")[2:]}
    zero = {r[3]: r[5] for r in read_csv(tmp_path / "z" / "grades_canvas.csv")[2:]}
    assert blank == {"ana": "16", "ben": "", "cat": ""}
    assert zero == {"ana": "16", "ben": "0", "cat": "0"}
    own = {r["student_id"]: r for r in csv.DictReader((tmp_path / "b" / "grades.csv").open())}
    assert own["cat"]["submitted"] == "False" and own["ana"]["submitted"] == "True"


def test_pass_marks_come_from_the_course_config_into_the_export(tmp_path, small_gradebook):
    config = small_gradebook / "nbgrader_config.py"
    config.write_text(config.read_text() + f"\nc.FrameLab.pass_marks = {{'{A1}': 80, '{A2}': 80}}\n")
    done = export.export_all(small_gradebook, tmp_path, allow_pending=True)
    own = {(r["assignment"], r["student_id"]): r for r in csv.DictReader((tmp_path / "grades.csv").open())}
    # ana: 17 of 20 (85%) passes A1 and 16 of 20 (80%) just reaches A2; ben pending: not known; cat absent
    assert [own[(A1, s)]["passed"] for s in ("ana", "ben", "cat")] == ["True", "", "False"]
    assert own[(A2, "ana")]["passed"] == "True" and own[(A2, "ana")]["pass_mark"] == "80"
    assert done.passes[0] == f"{A1}: pass mark 80% (16 of 20 points); 1 of 1 final totals reach it; 1 not submitted"
    config.write_text(config.read_text() + f"\nc.FrameLab.pass_marks = {{'{A1}': 'sixty'}}\n")
    from framelab.core.settings import SettingsError

    with pytest.raises(
        SettingsError, match=r"nbgrader_config.py: c.FrameLab.pass_marks\['m1_double_bind'\] is 'sixty'"
    ):
        export.export_all(small_gradebook, tmp_path, allow_pending=True)


def test_a_bad_pass_mark_is_one_line_from_export_and_report(tmp_path, small_gradebook, capsys):
    from framelab.cli.main import main

    config = small_gradebook / "nbgrader_config.py"
    config.write_text(config.read_text() + "\nc.FrameLab.pass_marks = {'m1_double_bind': 160}\n")
    for command, more in (("export", ["--allow-pending"]), ("report", [])):
        assert main([command, "--course", str(small_gradebook), "--out", str(tmp_path / command), *more]) == 2
        err = capsys.readouterr().err
        assert f"framelab {command}: " in err and "pass_marks['m1_double_bind'] is 160" in err
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1
