"""The PostgreSQL gradebook (nbgrader's ``CourseDirectory.db_url``): ``framelab grade`` writes the
same grades to a real PostgreSQL server as to SQLite, for the same submissions; with a server
database the grading workers write to it directly, several at once."""

from __future__ import annotations

import os
import shutil

import pytest
from conftest import BIN, ROOT, nbgrader, run
from pgserver import postgres

from framelab.grading.command import gradebook_rows
from framelab.instructor.demo import prepare_course

pytestmark = pytest.mark.slow

ASSIGNMENT = "m1_double_bind"


def test_postgres_and_sqlite_gradebooks_agree(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")  # nbgrader runs `alembic`
    course = prepare_course(tmp_path / "base", root=ROOT, trainees=6, assignments=[ASSIGNMENT], say=lambda *_: None)
    lite = shutil.copytree(course.course, tmp_path / "sqlite")
    server = shutil.copytree(course.course, tmp_path / "postgres")
    (server / "gradebook.db").unlink()  # this course keeps its grades on the server
    with postgres() as url:
        with (server / "nbgrader_config.py").open("a", encoding="utf-8") as fh:
            fh.write(f'\nc.CourseDirectory.db_url = "{url}"\n')
        # what the instructor does first on a new gradebook: the assignment goes into it
        nbgrader("generate_assignment", ASSIGNMENT, "--force", cwd=server)
        for folder in (lite, server):
            proc = run([str(BIN / "framelab"), "grade", ASSIGNMENT, "--jobs", "2", "--no-progress"], cwd=folder)
            assert "6 graded, 0 failed" in proc.stdout, proc.stdout + proc.stderr
        on_server = gradebook_rows(url, ASSIGNMENT, "framelab")
    on_file = gradebook_rows(f"sqlite:///{lite / 'gradebook.db'}", ASSIGNMENT, "framelab")
    assert not (server / "gradebook.db").exists(), "the server course wrote a SQLite gradebook too"
    scores = {k: v for k, v in on_file.items() if len(k) == 4 and k[2] == "grade"}
    assert len(scores) == 6 * 16 + 6  # 16 items and the reflection, per trainee (reflection not yet graded)
    assert on_server == on_file
