"""Privacy: trainees' work and grades readable by the grader account only, and ``framelab purge``, which
lists every place a cohort's personal data is kept and removes it only when told to."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from conftest import copy_shared
from test_grading import tree_hash

from framelab.cli.main import main
from framelab.core.privacy import make_private, privacy_problems
from framelab.instructor import purge

A = "m1_double_bind"


def test_the_places_with_personal_data_are_closed_to_others_and_nothing_inside_changes(tmp_path):
    course = tmp_path / "course"
    for name in ("submitted/t1/m1", "autograded/t1/m1", "feedback/t1/m1", ".framelab/snapshots", "source"):
        (course / name).mkdir(parents=True)
        (course / name).chmod(0o755)
    answer = course / "submitted" / "t1" / "m1" / "answers.json"
    answer.write_text("{}")
    answer.chmod(0o644)
    (course / "gradebook.db").write_text("")
    (course / "gradebook.db").chmod(0o644)
    before = tree_hash(course / "submitted")
    assert len(privacy_problems(course)) == 5
    assert make_private(course) == [] and privacy_problems(course) == []
    for name in ("submitted", "autograded", "feedback", ".framelab"):
        assert stat.S_IMODE((course / name).stat().st_mode) == 0o700
    assert stat.S_IMODE((course / "gradebook.db").stat().st_mode) == 0o600
    assert stat.S_IMODE((course / "source").stat().st_mode) == 0o755  # the course's own folders stay as they were
    assert tree_hash(course / "submitted") == before  # nothing inside submitted/ changed, modes included


def fill(course: Path, exchange: Path) -> dict[str, list[Path]]:
    """Every place a graded, reported and returned assignment keeps personal data (files stand in for the
    real ones), for each trainee of the shared cohort; and what belongs to another assignment."""
    from nbgrader.api import Gradebook
    from nbgrader.utils import notebook_hash

    trainees = sorted(p.name for p in (course / "submitted").iterdir())
    mine, others = [], []
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "framelab") as gb:
        for t in trainees:
            gb.update_or_create_student(t)
            gb.add_submission(A, t)
    for t in trainees:
        for top in ("autograded", "feedback"):
            (course / top / t / A).mkdir(parents=True)
            (course / top / t / A / f"{A}.html").write_text("my reflection")
            mine.append(course / top / t / A)
        (course / "feedback" / t / A / "submission_secret.txt").write_text(f"secret-{t}")
        (course / ".framelab" / "snapshots" / A / t).mkdir(parents=True)
        inbound = exchange / "framelab" / "inbound" / f"{t}+{A}+2026-01-01 10:00:00+ab12"
        inbound.mkdir(parents=True)
        returned = exchange / "framelab" / "feedback" / f"{notebook_hash(secret=f'secret-{t}', notebook_id=A)}.html"
        returned.parent.mkdir(parents=True, exist_ok=True)
        returned.write_text("feedback")
        mine += [course / "submitted" / t / A, inbound, returned]
        other = course / "submitted" / t / "m2_transference"
        other.mkdir()
        others.append(other)
        later = exchange / "framelab" / "inbound" / f"{t}+m2_transference+2026-02-01 10:00:00+cd34"
        later.mkdir()
        others.append(later)
    others.append(exchange / "framelab" / "feedback" / "somebody-else.html")
    others[-1].write_text("another assignment's feedback")
    (course / "reports").mkdir()
    for name in ("report.html", "item_stats.csv", "scores.png", "confusion_single_label.png"):
        (course / "reports" / name).write_text("scores")
        mine.append(course / "reports" / name)
    (course / "grades.csv").write_text("scores")
    mine += [course / ".framelab" / "snapshots" / A, course / "grades.csv"]
    return {"mine": mine, "others": others}


@pytest.fixture()
def course(cohort_of_six, tmp_path):
    course = copy_shared(cohort_of_six, tmp_path / "course")
    return course, tmp_path / "exchange", fill(course, tmp_path / "exchange")


def submissions(course: Path) -> list[str]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "framelab") as gb:
        return [s.student.id for s in gb.find_assignment(A).submissions]


def test_purge_lists_every_place_and_removes_nothing_without_yes(course, capsys):
    course, exchange, made = course
    listed = purge.plan(course, A, exchange)
    places = {p.path for p in listed}
    assert set(made["mine"]) <= places and not set(made["others"]) & places
    before = tree_hash(course), tree_hash(exchange)
    assert main(["purge", A, "--course", str(course), "--exchange", str(exchange)]) == 0
    out = capsys.readouterr().out
    assert f"in {len(listed)} place(s)" in out and "gradebook: m1_double_bind's submissions (6 trainee(s)" in out
    assert "Nothing was removed" in out and "framelab purge m1_double_bind --yes" in out
    assert (tree_hash(course), tree_hash(exchange)) == before and len(submissions(course)) == 6


def test_purge_of_an_assignment_removes_it_everywhere_and_nothing_else(course, capsys):
    course, exchange, made = course
    assert main(["purge", A, "--yes", "--course", str(course), "--exchange", str(exchange)]) == 0
    assert "Removed" in capsys.readouterr().out
    assert not [p for p in made["mine"] if p.exists()] and all(p.exists() for p in made["others"])
    assert submissions(course) == [] and not list(course.glob(f"*/*/{A}"))
    assert main(["purge", A, "--course", str(course), "--exchange", str(exchange)]) == 0
    assert "nothing of assignment m1_double_bind is kept" in capsys.readouterr().out


def test_purge_of_the_cohort_leaves_no_trainee_anywhere(course, capsys):
    from nbgrader.api import Gradebook

    course, exchange, _ = course
    assert main(["purge", "--cohort", "--yes", "--course", str(course), "--exchange", str(exchange)]) == 0
    for top in ("submitted", "autograded", "feedback", ".framelab/snapshots"):
        assert not list((course / top).iterdir()), top
    assert not list((exchange / "framelab" / "inbound").iterdir()) and not list(
        (exchange / "framelab" / "feedback").iterdir()
    )
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "framelab") as gb:
        assert gb.students == [] and [a.name for a in gb.assignments] == [A]  # the course itself stays


def test_purge_says_what_it_could_not_remove_and_removes_the_rest(course, capsys, monkeypatch):
    course, exchange, made = course
    real = purge.shutil.rmtree

    def refuse_inbound(path, *args, **kwargs):  # as a folder another account owns would be
        if "inbound" in str(path):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(purge.shutil, "rmtree", refuse_inbound)
    assert main(["purge", A, "--yes", "--course", str(course), "--exchange", str(exchange)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 6 and all(line.startswith("framelab purge: not removed: exchange, handed in") for line in err)
    assert not (course / "submitted" / made["mine"][0].parent.name / A).exists() and submissions(course) == []
