"""The instructor's side after grading, on one graded module (Module 1, three simulated trainees):

* formgrader shows each classification item's response, the trainee's choice and the key, and no
  widget object text (rendered as formgrader renders it, and in Chromium through formgrader itself);
* feedback is held back while hand-grading is pending (``framelab feedback`` and stock
  ``nbgrader generate_feedback`` alike), or, with ``--allow-pending``, says "not marked yet";
* feedback names each item, carries no key table, no hidden test and no widget object text;
* ``framelab feedback`` writes exactly what ``nbgrader generate_feedback`` writes.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from conftest import BIN, ROOT, nbgrader, run

pytestmark = pytest.mark.slow

A = "m1_double_bind"
TRAINEES = 3


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """A course with Module 1 released, submitted by three simulated trainees and graded; the
    reflections are not hand-graded yet."""
    from framelab.grading import command as grading
    from framelab.instructor.demo import prepare_course

    course = tmp_path_factory.mktemp("feedback") / "course"
    prepared = prepare_course(course, root=ROOT, trainees=TRAINEES, assignments=[A], say=lambda *_: None)
    run_ = grading.grade(course, A, jobs=2, progress=False)
    assert len(run_.by_status("graded")) == TRAINEES, run_.summary()
    return course, prepared


def autograded_notebook(course: Path, student: str) -> Path:
    return course / "autograded" / student / A / f"{A}.ipynb"


def formgrade_html(course: Path, student: str) -> str:
    """The page formgrader serves for a submission: nbgrader's HTMLExporter with its 'formgrade' template."""
    from nbconvert.exporters import HTMLExporter
    from nbgrader.server_extensions.formgrader import handlers
    from traitlets.config import Config

    c = Config()
    c.HTMLExporter.template_name = "formgrade"
    c.HTMLExporter.extra_template_basedirs = [handlers.template_path]
    resources = {"assignment_id": A, "notebook_id": A, "submission_id": "x", "index": 0, "total": 1}
    resources |= {"base_url": "", "student": student, "last_name": "", "first_name": "", "notebook_path": ""}
    body, _ = HTMLExporter(config=c).from_filename(str(autograded_notebook(course, student)), resources=resources)
    return html.unescape(body)


def picks_and_items(prepared, student: str):
    from framelab.scoring import answers as store

    picks = store.read(prepared.course / "submitted" / student / A / store.FILENAME)
    module = prepared.bank.module(A)
    return picks, module, prepared.bank.items()


def test_formgrader_shows_response_choice_and_key_for_every_item(graded):
    from framelab.scoring.display import show as shown

    course, prepared = graded
    student = prepared.cohort.trainees[1].id
    page = re.sub(r' style="[^"]*"', "", formgrade_html(course, student))  # the table's inline styles aside
    picks, module, items = picks_and_items(prepared, student)
    ex = module.meta.exercises[0]
    for n, iid in enumerate(ex.items, 1):
        it = items[iid]
        row = (
            f"<tr><td>{n}</td><td><code>{iid}</code></td><td><i>{it.client}</i></td><td>{it.text}</td>"
            f"<td><b>{shown(picks.get(ex.id, {}).get(iid), ex.kind)}</b></td><td>{shown(it.labels[0], ex.kind)}</td>"
        )
        assert row in page, iid  # twice: the answer cell's table, and the item's own test cell
    assert "at 0x" not in page and "<framelab." not in page


def test_feedback_is_held_back_while_hand_grading_is_pending(graded, tmp_path):
    course, _ = graded
    proc = run([str(BIN / "framelab"), "feedback", A, "--jobs", "2", "--no-progress"], cwd=course, check=False)
    assert proc.returncode == 1
    assert f"held back for {TRAINEES} (hand-grading pending)" in proc.stdout
    assert "4 point(s) to hand-grade" in proc.stdout
    assert not list((course / "feedback").glob(f"*/{A}/*.html"))
    # stock nbgrader, with the course's config, refuses them too (and says why in its log)
    copy = tmp_path / "course"
    shutil.copytree(course, copy)
    proc = nbgrader("generate_feedback", A, cwd=copy, check=False)
    assert proc.returncode != 0 and "FeedbackRefused" in proc.stdout + proc.stderr
    assert not list((copy / "feedback").glob(f"*/{A}/*.html"))


def test_early_feedback_says_not_marked_yet_and_names_every_item(graded, tmp_path):
    course, prepared = graded
    copy = tmp_path / "course"
    shutil.copytree(course, copy)
    proc = run([str(BIN / "framelab"), "feedback", A, "--allow-pending", "--no-progress"], cwd=copy)
    assert f"feedback made for {TRAINEES}" in proc.stdout
    student = prepared.cohort.trainees[0].id
    page = html.unescape((copy / "feedback" / student / A / f"{A}.html").read_text(encoding="utf-8"))
    assert "Score so far:" in page and "point(s) not marked yet" in page
    assert "Written response</a> (not marked yet; 4.0 point(s))" in page
    assert "Test cell" not in page and "Item 1 of 16: \u201c" in page
    for leak in ("instructors only", "framelab-formgrade", "### BEGIN HIDDEN TESTS", "at 0x"):
        assert leak not in page, leak


def test_parallel_feedback_is_what_nbgrader_writes(graded, tmp_path):
    from framelab.instructor.demo import hand_grade

    course, prepared = graded
    ours, stock = tmp_path / "ours", tmp_path / "stock"
    shutil.copytree(course, ours)
    hand_grade(ours, A, prepared.cohort, 2024)  # as formgrader does: scores saved, nothing pending
    shutil.copytree(ours, stock)
    run([str(BIN / "framelab"), "feedback", A, "--jobs", "2", "--no-progress"], cwd=ours)
    nbgrader("generate_feedback", A, "--force", cwd=stock)
    made = sorted(p.relative_to(ours) for p in (ours / "feedback").rglob("*") if p.is_file())
    assert len([p for p in made if p.suffix == ".html"]) == TRAINEES
    assert made == sorted(p.relative_to(stock) for p in (stock / "feedback").rglob("*") if p.is_file())
    for rel in made:
        assert (ours / rel).read_bytes() == (stock / rel).read_bytes(), rel


def test_autograded_notebooks_carry_no_widget_object_text(graded):
    course, prepared = graded
    for t in prepared.cohort.trainees:
        nb = nbformat.read(autograded_notebook(course, t.id), as_version=4)
        text = nbformat.writes(nb)
        assert "<framelab." not in text and "at 0x" not in text


@pytest.mark.browser
def test_formgrader_in_chromium_shows_the_response_and_the_choice(graded):
    """Formgrader itself (nbgrader's server extension on a Jupyter server in the course root), in Chromium."""
    from nbgrader.api import Gradebook
    from playwright.sync_api import sync_playwright
    from test_lab import free_port

    from framelab.scoring.display import show as shown

    chromium = Path("/usr/bin/chromium")
    assert chromium.exists(), f"{chromium} is missing: install Debian's chromium (apt-get install chromium)"
    course, prepared = graded
    student = prepared.cohort.trainees[1].id
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "framelab") as gb:
        sid = gb.find_submission_notebook(A, A, student).id
    port, token = free_port(), "framelab-formgrader-test"
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    cmd = [str(BIN / "jupyter"), "server", "--no-browser", "--ip=127.0.0.1", f"--port={port}"]
    cmd += [f"--ServerApp.token={token}", f"--ServerApp.root_dir={course}", "--ServerApp.port_retries=0"]
    if os.getuid() == 0:
        cmd.append("--allow-root")
    server = subprocess.Popen(
        cmd, cwd=course, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(240):
            try:
                urllib.request.urlopen(f"{base}/api", timeout=1)
                break
            except OSError:
                assert server.poll() is None, "jupyter server exited before serving"
                time.sleep(0.5)
        picks, module, items = picks_and_items(prepared, student)
        ex = module.meta.exercises[0]
        iid = next(i for i in ex.items if picks[ex.id].get(i))
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(chromium), args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{base}/formgrader/submissions/{sid}/?token={token}")
            table = page.locator(".framelab-formgrade").filter(has_text=items[iid].text).first
            table.wait_for(timeout=60_000)
            text = table.inner_text()
            assert items[iid].text in text and shown(picks[ex.id][iid], ex.kind) in text
            assert "at 0x" not in page.content()
            out = ROOT / "test-output" / "browser"
            out.mkdir(parents=True, exist_ok=True)
            table.scroll_into_view_if_needed()
            page.screenshot(path=str(out / "formgrader.png"))
            browser.close()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def test_a_graded_notebook_past_the_bound_is_that_trainees_line_and_the_rest_get_feedback(graded, tmp_path):
    from framelab.grading.worker import MAX_GRADED_BYTES

    course, prepared = graded
    copy = tmp_path / "course"
    shutil.copytree(course, copy)
    big, *rest = [t.id for t in prepared.cohort.trainees]
    path = autograded_notebook(copy, big)
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "code")
    blob = {"text/plain": "x" * 18_000}
    cell.outputs += [nbformat.v4.new_output("display_data", data=blob) for _ in range(MAX_GRADED_BYTES // 18_000 + 10)]
    nbformat.write(nb, path)
    proc = run([str(BIN / "framelab"), "feedback", A, "--allow-pending", "--no-progress"], cwd=copy, check=False)
    line = next(line for line in proc.stdout.splitlines() if line.startswith(big))
    assert "failed" in line and "MB in size" in line, proc.stdout
    assert not (copy / "feedback" / big).exists()
    for other in rest:
        assert (copy / "feedback" / other / A / f"{A}.html").is_file(), proc.stdout
