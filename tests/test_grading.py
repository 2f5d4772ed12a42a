"""``framelab grade``: parallel, sandboxed autograding gives exactly stock nbgrader's results for
every gradable submission, records nothing for one it cannot grade, survives a broken submission,
never writes to ``submitted/``, keeps the graded folders to what the course made, and resumes
after an interrupt."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from conftest import BIN, ROOT, copy_shared, nbgrader, run

from framelab.grading.command import gradebook_rows

pytestmark = pytest.mark.slow

ASSIGNMENT = "m1_double_bind"


def tree_hash(folder: Path) -> str:
    """Every path, mode and byte under a folder; a symbolic link by where it points, never followed
    (a link to /etc/passwd must not make the folder look changed when another test adds a user)."""
    h = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        h.update(os.fsencode(path.relative_to(folder)))  # a name need not be UTF-8
        h.update(oct(path.lstat().st_mode).encode())
        if path.is_symlink():
            h.update(os.readlink(path).encode())
        elif path.is_file():
            h.update(path.read_bytes())
    return h.hexdigest()


def framelab(*args: str, cwd: Path, check: bool = True):
    return run([str(BIN / "framelab"), *args], cwd=cwd, check=check)


def outputs(nb: dict) -> list:
    """Per cell: its printed text and its errors (how the kernel chunks a stream varies)."""
    return [
        (
            "".join("".join(o.get("text", "")) for o in c.get("outputs", []) if o["output_type"] == "stream"),
            [o["ename"] for o in c.get("outputs", []) if o["output_type"] == "error"],
        )
        for c in nb["cells"]
    ]


def rows(course: Path) -> dict:
    return gradebook_rows(f"sqlite:///{course / 'gradebook.db'}", ASSIGNMENT, "framelab")


@pytest.fixture
def cohort_course(tmp_path, monkeypatch, cohort_of_six) -> Path:
    """Six simulated trainees submitted through a temporary exchange, one of them a broken notebook
    (a private copy of the course the session built once)."""
    monkeypatch.setenv("PATH", f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")  # nbgrader runs `alembic`
    course = copy_shared(cohort_of_six, tmp_path / "base")
    broken = course / "submitted" / "trainee003" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    broken.write_text('{"cells": [', encoding="utf-8")  # a truncated upload
    return course


def test_parallel_grading_matches_stock_nbgrader(tmp_path, cohort_course):
    stock = shutil.copytree(cohort_course, tmp_path / "stock")
    ours = shutil.copytree(cohort_course, tmp_path / "ours")

    proc = nbgrader("autograde", ASSIGNMENT, cwd=stock, check=False)
    assert proc.returncode == 1  # stock reports the broken one too, and grades the rest

    before = tree_hash(ours / "submitted")
    proc = framelab("grade", ASSIGNMENT, "--jobs", "2", "--no-progress", cwd=ours, check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert tree_hash(ours / "submitted") == before, "submitted/ was modified"

    out = proc.stdout
    assert "5 graded, 1 failed" in out, out
    broken_line = next(line for line in out.splitlines() if line.startswith("trainee003"))
    assert "failed" in broken_line and "JSON" in broken_line, out

    got, want = rows(ours), rows(stock)
    # stock nbgrader records the broken submission (with nothing graded); framelab grade records nothing
    # for a submission it could not grade, so that a rerun grades it again
    assert got == {k: v for k, v in want.items() if k[0] != "trainee003"}
    assert sum(1 for k in got if len(k) == 1) == 5 and sum(1 for k in want if len(k) == 1) == 6
    assert "autograded " in out and "points to hand-grade" in out, out
    graded = sorted(p.parent.name for p in (ours / "autograded").glob(f"*/{ASSIGNMENT}"))
    assert graded == sorted(p.parent.name for p in (stock / "autograded").glob(f"*/{ASSIGNMENT}"))
    assert "trainee003" not in graded
    for trainee in graded:
        ours_nb = json.loads((ours / "autograded" / trainee / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text())
        stock_nb = json.loads((stock / "autograded" / trainee / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text())
        assert [c["source"] for c in ours_nb["cells"]] == [c["source"] for c in stock_nb["cells"]]
        assert outputs(ours_nb) == outputs(stock_nb)
    assert not list(ours.glob(".framelab-grade-*")), "temporary folders left behind"


def test_resume_after_interrupt(tmp_path, cohort_course):
    # six good submissions this time
    shutil.copy(
        ROOT / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", cohort_course / "submitted" / "trainee003" / ASSIGNMENT
    )
    course = shutil.copytree(cohort_course, tmp_path / "course")
    reference = shutil.copytree(cohort_course, tmp_path / "reference")

    cmd = [str(BIN / "framelab"), "grade", ASSIGNMENT, "--jobs", "1", "--no-progress"]
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    proc = subprocess.Popen(
        cmd,
        cwd=course,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        # as from a terminal: a test run started in the background inherits Ctrl+C ignored
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    autograded = course / "autograded"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        done = [p for p in autograded.iterdir() if p.is_dir()] if autograded.exists() else []
        if len(done) >= 2 or proc.poll() is not None:
            break
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)  # what Ctrl+C sends
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, out + err
    assert "Interrupted" in out
    finished = sorted(p.name for p in autograded.iterdir() if p.is_dir())
    assert 2 <= len(finished) < 6, finished
    assert not list(course.glob(".framelab-grade-*"))

    again = framelab("grade", ASSIGNMENT, "--jobs", "2", "--no-progress", cwd=course)
    assert f"{6 - len(finished)} graded, 0 failed, {len(finished)} already graded (skipped)" in again.stdout

    nbgrader("autograde", ASSIGNMENT, cwd=reference)
    assert rows(course) == rows(reference)

    # a third run grades nothing; --force grades everyone again, with the same result
    assert "0 graded, 0 failed, 6 already graded" in framelab("grade", ASSIGNMENT, "--no-progress", cwd=course).stdout
    forced = framelab("grade", ASSIGNMENT, "--force", "--student", "trainee001", "--no-progress", cwd=course)
    assert "1 graded, 0 failed, 0 already graded" in forced.stdout
    assert rows(course) == rows(reference)


def test_grade_reports_a_missing_assignment(tmp_path):
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course)
    (course / "submitted" / "someone" / ASSIGNMENT).mkdir(parents=True)
    proc = framelab("grade", ASSIGNMENT, "--no-progress", cwd=course, check=False)
    assert proc.returncode == 2 and "no assignment named 'm1_double_bind'" in proc.stderr
    assert "generate_assignment" not in proc.stderr  # there is nothing to generate it from
    shutil.copytree(ROOT / "source" / ASSIGNMENT, course / "source" / ASSIGNMENT)
    proc = framelab("grade", ASSIGNMENT, "--no-progress", cwd=course, check=False)
    assert proc.returncode == 2 and "generate_assignment" in proc.stderr  # source notebooks, never generated


def test_a_submission_that_kills_its_worker_does_not_stop_the_rest(tmp_path, cohort_course):
    # the answer cell is the trainee's own: this one kills the process that runs its kernel
    import nbformat

    path = cohort_course / "submitted" / "trainee003" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    nb = nbformat.read(ROOT / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "backfires")
    cell.source = "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)"
    nbformat.write(nb, path)
    for trainee in ("trainee005", "trainee006"):
        shutil.rmtree(cohort_course / "submitted" / trainee)

    # in the sandbox the kernel's parent is the sandbox's own first process, which it cannot kill:
    # that trainee is graded like anyone else
    proc = framelab("grade", ASSIGNMENT, "--jobs", "2", "--no-progress", "--student", "trainee003", cwd=cohort_course)
    assert "1 graded, 0 failed" in proc.stdout, proc.stdout
    # unsandboxed (as stock nbgrader runs), it kills its worker: the rest are still graded
    proc = framelab(
        "grade", ASSIGNMENT, "--jobs", "2", "--no-progress", "--force", "--no-sandbox", cwd=cohort_course, check=False
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "3 graded, 1 failed" in proc.stdout, proc.stdout
    assert "WITHOUT the sandbox" in proc.stdout
    line = next(line for line in proc.stdout.splitlines() if line.startswith("trainee003"))
    assert "its worker process died, also when graded on its own" in line
    graded = sorted(p.parent.name for p in (cohort_course / "autograded").glob(f"*/{ASSIGNMENT}"))
    # trainee003 keeps the grade of its sandboxed run: a failed regrade records nothing
    assert graded == ["trainee001", "trainee002", "trainee003", "trainee004"]


def test_files_a_trainee_placed_never_reach_the_graded_folder(tmp_path, cohort_course):
    """What a trainee put beside the notebook, or their code wrote there while graded, stays out of
    autograded/ (and so out of feedback/); the saved answers there are the snapshot's."""
    import nbformat

    folder = cohort_course / "submitted" / "trainee001" / ASSIGNMENT
    (folder / "key.txt").write_text("planted")
    (folder / "notes").mkdir()
    (folder / "notes" / "more.txt").write_text("planted")
    path = folder / f"{ASSIGNMENT}.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(
        1, nbformat.v4.new_code_cell("open('written.txt', 'w').write('x')\nopen('answers.json', 'w').write('{}')")
    )
    nbformat.write(nb, path)
    saved = (folder / "answers.json").read_text()
    framelab("grade", ASSIGNMENT, "--no-progress", "--student", "trainee001", cwd=cohort_course)
    graded = cohort_course / "autograded" / "trainee001" / ASSIGNMENT
    release = {p.name for p in (ROOT / "release" / ASSIGNMENT).iterdir()}
    assert {p.name for p in graded.iterdir()} == release | {"answers.json", "timestamp.txt", "submission_secret.txt"}
    assert (graded / "answers.json").read_text() == saved
